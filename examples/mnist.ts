/**
 * Example 5: an MLP classifier on real MNIST digits.
 *
 *   npm run example:mnist                 full run (>= 90% test accuracy)
 *   npm run example:mnist -- --fast       a few steps, for CI
 *   npm run demo                          a short run that prints the test accuracy
 *   add --no-jit to run the training step eagerly
 *
 * The digits come from the `mnist` npm package (10,000 28x28 images with values in
 * [0, 1]); they are split into 8,000 training and 2,000 held-out test images. The
 * model is a 784-128-10 ReLU network trained with Adam on softmax cross-entropy.
 * The whole training step (forward, backward, optimizer) is one function compiled
 * once with `jit`. A progress bar shows the loss and accuracy, and the loss curve is
 * written as an SVG plot to examples/out/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Array as NDArray, jit, losses, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";

/** How much to train. */
export interface Budget {
  /** Hidden layer width. */
  hidden: number;
  /** Passes over the training set. */
  epochs: number;
  /** Training images used (at most 8,000). */
  trainSize: number;
  batchSize: number;
  learningRate: number;
}

export const BUDGETS: Record<"full" | "demo" | "fast", Budget> = {
  full: { hidden: 128, epochs: 10, trainSize: 8000, batchSize: 128, learningRate: 2e-3 },
  demo: { hidden: 64, epochs: 3, trainSize: 8000, batchSize: 128, learningRate: 2e-3 },
  fast: { hidden: 32, epochs: 1, trainSize: 1280, batchSize: 64, learningRate: 3e-3 },
};

export interface MnistOptions extends ExampleOptions {
  /** Which budget (default full, or fast with `fast: true`). */
  budget?: keyof typeof BUDGETS;
  /** Compile the training step with jit (default true). */
  useJit?: boolean;
  /** Directory for the SVG loss curve (default examples/out). */
  outDir?: string;
  /** Draw the progress bar in place (default: when stdout is a terminal and no `log` is given). */
  progressBar?: boolean;
}

export interface MnistResult {
  testAccuracy: number;
  trainAccuracy: number;
  losses: number[];
  seconds: number;
  svgPath: string;
}

const IMAGE = 28 * 28;

/** Loads the 10,000 digits of the `mnist` package as arrays. */
export function loadDigits(): { images: NDArray; labels: NDArray } {
  const require = createRequire(import.meta.url);
  const perDigit: number[][] = [];
  for (let d = 0; d < 10; d++) perDigit.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  const count = perDigit.reduce((s, a) => s + a.length / IMAGE, 0);
  const pixels = new Float32Array(count * IMAGE);
  const labels = new Int32Array(count);
  let row = 0;
  perDigit.forEach((data, digit) => {
    pixels.set(data, row * IMAGE);
    labels.fill(digit, row, row + data.length / IMAGE);
    row += data.length / IMAGE;
  });
  return { images: np.array(pixels, { shape: [count, IMAGE] }), labels: np.array(labels) };
}

/** A text progress bar: `[#####-----] 50%  loss 0.1234  acc 96.1%`. */
export function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
}

/** The loss curve (per step, with a moving average) as a small standalone SVG. */
export function lossCurveSvg(values: number[], title: string): string {
  const w = 640;
  const h = 360;
  const m = { left: 56, right: 16, top: 32, bottom: 40 };
  const maxY = Math.max(...values) * 1.05;
  const sx = (i: number) => m.left + (i / Math.max(1, values.length - 1)) * (w - m.left - m.right);
  const sy = (v: number) => h - m.bottom - (v / maxY) * (h - m.top - m.bottom);
  const points = (vs: number[]) => vs.map((v, i) => `${sx(i).toFixed(1)},${sy(v).toFixed(1)}`).join(" ");
  const k = Math.max(1, Math.round(values.length / 30));
  const smooth = values.map((_, i) => {
    const win = values.slice(Math.max(0, i - k + 1), i + 1);
    return win.reduce((a, b) => a + b, 0) / win.length;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxY);
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${m.left}" x2="${w - m.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#ddd"/><text x="${m.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="11">${t.toFixed(2)}</text>`,
    )
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${w / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    grid,
    `<line x1="${m.left}" y1="${h - m.bottom}" x2="${w - m.right}" y2="${h - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${h - m.bottom}" stroke="black"/>`,
    `<text x="${w / 2}" y="${h - 8}" text-anchor="middle" font-size="12">training step (${values.length} steps)</text>`,
    `<text x="14" y="${h / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${h / 2})">cross-entropy loss</text>`,
    `<polyline fill="none" stroke="#9ecae1" stroke-width="1" points="${points(values)}"/>`,
    `<polyline fill="none" stroke="#08519c" stroke-width="2" points="${points(smooth)}"/>`,
    `</svg>`,
  ].join("\n");
}

export function main(opts: MnistOptions = {}): MnistResult {
  const budget = BUDGETS[opts.budget ?? (opts.fast ? "fast" : "full")];
  const log = opts.log ?? console.log;
  const live = opts.progressBar ?? (!opts.log && process.stdout.isTTY === true);
  const started = performance.now();

  // Data: shuffle the 10,000 digits once with a fixed key, hold out the last 2,000.
  const all = loadDigits();
  const key = random.key(0);
  const [shuffleKey, initKey, epochKey] = random.split(key, 3);
  const order = random.permutation(shuffleKey, all.labels.shape[0]!);
  const images = np.take(all.images, order, 0);
  const labels = np.take(all.labels, order, 0);
  const testImages = np.slice(images, [8000, 0], [10000, IMAGE]);
  const testLabels = np.slice(labels, [8000], [10000]);
  const trainImages = np.slice(images, [0, 0], [budget.trainSize, IMAGE]);
  const trainLabels = np.slice(labels, [0], [budget.trainSize]);

  // Model and optimizer.
  let params = nn.mlp.init(initKey, [IMAGE, budget.hidden, 10]);
  const opt = optim.adam(budget.learningRate);
  let optState = opt.init(params);
  type Params = typeof params;

  const lossFn = (p: Params, x: NDArray, y: NDArray): [NDArray, NDArray] => {
    const logits = nn.mlp.apply(p, x);
    return [losses.softmaxCrossEntropy(logits, y), logits];
  };
  // One training step: loss and gradients, Adam update, and the batch's number of
  // correct predictions, all as one pure function of (params, optimizer state, batch).
  const step = (p: Params, s: typeof optState, x: NDArray, y: NDArray) => {
    const [[loss, logits], grads] = valueAndGrad(lossFn, { hasAux: true })(p, x, y);
    const [updates, nextState] = opt.update(grads, s, p);
    const correct = np.sum(np.equal(np.argmax(logits, { axis: 1 }), y).astype("int32"));
    return { params: optim.applyUpdates(p, updates), state: nextState, loss, correct };
  };
  // jit traces `step` once (every batch has the same shapes) and reuses the
  // optimized, compiled program for every later batch.
  const trainStep = opts.useJit === false ? step : jit(step);

  const stepsPerEpoch = Math.floor(budget.trainSize / budget.batchSize); // the last partial batch is dropped
  const totalSteps = stepsPerEpoch * budget.epochs;
  log(
    `MNIST: ${budget.trainSize} training / 2000 test images, MLP 784-${budget.hidden}-10, Adam(lr=${budget.learningRate}), ` +
      `batch ${budget.batchSize}, ${budget.epochs} epoch(s), ${opts.useJit === false ? "eager" : "jit"}`,
  );
  const lossHistory: number[] = [];
  let trainAccuracy = 0;
  for (let epoch = 0; epoch < budget.epochs; epoch++) {
    const perm = random.permutation(random.foldIn(epochKey, epoch), budget.trainSize);
    let seen = 0;
    let correct = 0;
    let lossSum = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const idx = np.slice(perm, [b * budget.batchSize], [(b + 1) * budget.batchSize]);
      const x = np.take(trainImages, idx, 0);
      const y = np.take(trainLabels, idx, 0);
      const out = trainStep(params, optState, x, y);
      params = out.params;
      optState = out.state;
      const l = out.loss.item();
      lossHistory.push(l);
      lossSum += l;
      correct += out.correct.item();
      seen += budget.batchSize;
      if (live) {
        const done = (epoch * stepsPerEpoch + b + 1) / totalSteps;
        process.stdout.write(
          `\r${bar(done)}  epoch ${epoch + 1}/${budget.epochs}  loss ${(lossSum / (b + 1)).toFixed(4)}  acc ${((100 * correct) / seen).toFixed(1)}%   `,
        );
      }
    }
    trainAccuracy = correct / seen;
    if (live) process.stdout.write("\n");
    else
      log(
        `${bar((epoch + 1) / budget.epochs)}  epoch ${epoch + 1}/${budget.epochs}  loss ${(lossSum / stepsPerEpoch).toFixed(4)}  train acc ${(100 * trainAccuracy).toFixed(1)}%`,
      );
  }

  // Held-out accuracy on the 2,000 test images.
  const predictions = np.argmax(nn.mlp.apply(params, testImages), { axis: 1 });
  const testAccuracy = np.mean(np.equal(predictions, testLabels).astype("float32")).item();
  const seconds = (performance.now() - started) / 1000;
  log(`test accuracy: ${(100 * testAccuracy).toFixed(2)}% (${seconds.toFixed(1)} s)`);

  const outDir = opts.outDir ?? join(fileURLToPath(new URL(".", import.meta.url)), "out");
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, "mnist-loss.svg");
  writeFileSync(svgPath, lossCurveSvg(lossHistory, `MNIST MLP 784-${budget.hidden}-10: training loss (test accuracy ${(100 * testAccuracy).toFixed(1)}%)`));
  log(`loss curve written to ${svgPath}`);
  return { testAccuracy, trainAccuracy, losses: lossHistory, seconds, svgPath };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs(), useJit: !process.argv.includes("--no-jit") });
