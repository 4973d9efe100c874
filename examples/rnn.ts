/**
 * Example 6: a small recurrent network trained with `lax.scan`.
 *
 *   npm run example:rnn          (npm run example:rnn -- --fast)
 *
 * An Elman RNN (h = tanh(W h + U x + b), prediction = V h + c) reads sine waves of
 * random frequency and phase and predicts each next value. The recurrence is a
 * `lax.scan`: traced once and compiled as one loop under `jit`, whatever the sequence
 * length, where a JS `for` loop would unroll into one copy of the body per step.
 * First the scan's gradient is checked against the same model written with a JS
 * loop (float64), then the model is trained with Adam under `jit(valueAndGrad)`.
 */
import { type Array as NDArray, grad, jit, lax, makeJaxpr, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";

type Params = { W: NDArray; U: NDArray; b: NDArray; V: NDArray; c: NDArray };

/** Mean squared error of the next-value predictions; xs is [T, batch, 1], ys the same shifted by one step. */
function lossScan(p: Params, xs: NDArray, ys: NDArray): NDArray {
  const h0 = np.zeros([xs.shape[1]!, p.W.shape[0]!], xs.dtype);
  const step = (h: NDArray, x: NDArray): [NDArray, NDArray] => {
    const next = np.tanh(np.add(np.add(np.matmul(h, p.W.T), np.matmul(x, p.U.T)), p.b));
    return [next, np.add(np.matmul(next, p.V.T), p.c)];
  };
  const [, preds] = lax.scan(step, h0, xs);
  return np.mean(np.square(np.subtract(preds, ys)));
}

/** The same model with a JS loop over time (unrolled when traced). */
function lossLoop(p: Params, xs: NDArray, ys: NDArray): NDArray {
  const [T, B] = xs.shape as [number, number];
  let h = np.zeros([B, p.W.shape[0]!], xs.dtype);
  let total = np.zeros([], xs.dtype);
  for (let t = 0; t < T; t++) {
    const x = np.reshape(np.slice(xs, [t, 0, 0], [t + 1, B, 1]), [B, 1]);
    const y = np.reshape(np.slice(ys, [t, 0, 0], [t + 1, B, 1]), [B, 1]);
    h = np.tanh(np.add(np.add(np.matmul(h, p.W.T), np.matmul(x, p.U.T)), p.b));
    total = np.add(total, np.sum(np.square(np.subtract(np.add(np.matmul(h, p.V.T), p.c), y))));
  }
  return np.divide(total, T * B);
}

/** Sine waves sin(w t + phase) of random w and phase: inputs [T, batch, 1] and next values. */
function waves(key: NDArray, T: number, batch: number, dtype: "float32" | "float64"): [NDArray, NDArray] {
  const [kw, kp] = random.split(key, 2);
  const w = random.uniform(kw, [1, batch, 1], { minval: 0.2, maxval: 0.6, dtype });
  const phase = random.uniform(kp, [1, batch, 1], { minval: 0, maxval: 6.28, dtype });
  const t = np.reshape(np.arange(0, T + 1, 1, dtype), [T + 1, 1, 1]);
  const s = np.sin(np.add(np.multiply(t, w), phase));
  return [np.slice(s, [0, 0, 0], [T, batch, 1]), np.slice(s, [1, 0, 0], [T + 1, batch, 1])];
}

function init(key: NDArray, hidden: number, dtype: "float32" | "float64"): Params {
  const [k1, k2, k3] = random.split(key, 3);
  const rec = nn.linear.init(k1, hidden, hidden, { dtype });
  const inp = nn.linear.init(k2, 1, hidden, { dtype });
  const out = nn.linear.init(k3, hidden, 1, { dtype });
  return { W: rec.weight, U: inp.weight, b: rec.bias, V: out.weight, c: out.bias };
}

export function main(opts: ExampleOptions = {}): { difference: number; initialLoss: number; finalLoss: number; scanLines: number; loopLines: number } {
  const log = opts.log ?? console.log;
  const [kData, kInit, kCheck] = random.split(random.key(0), 3);

  // 1. The scan's gradient equals the JS loop's (float64).
  const [cx, cy] = waves(kCheck, 12, 4, "float64");
  const p64 = init(kInit, 8, "float64");
  const gScan = grad(lossScan)(p64, cx, cy) as Params;
  const gLoop = grad(lossLoop)(p64, cx, cy) as Params;
  let difference = 0;
  for (const k of ["W", "U", "b", "V", "c"] as const) difference = Math.max(difference, np.max(np.abs(np.subtract(gScan[k], gLoop[k]))).item());
  log(`largest difference between the scan's and the JS loop's gradients (float64): ${difference.toExponential(2)}`);

  // 2. The IR: the scan stays one loop, the JS loop unrolls.
  const T = opts.fast ? 20 : 50;
  const batch = 16;
  const hidden = opts.fast ? 16 : 32;
  const [xs, ys] = waves(kData, T, batch, "float32");
  let params = init(kInit, hidden, "float32");
  const scanLines = makeJaxpr(grad(lossScan))(params, xs, ys).toString().split("\n").length;
  const loopLines = makeJaxpr(grad(lossLoop))(params, xs, ys).toString().split("\n").length;
  log(`jaxpr of grad(loss) over ${T} steps: ${scanLines} lines with lax.scan, ${loopLines} lines with a JS loop`);

  // 3. Training with Adam under jit.
  const steps = opts.fast ? 40 : 400;
  const opt = optim.adam(0.02);
  let state = opt.init(params);
  const step = jit((p: Params, s: typeof state, x: NDArray, y: NDArray) => {
    const [l, g] = valueAndGrad(lossScan)(p, x, y);
    const [updates, next] = opt.update(g, s, p);
    return [optim.applyUpdates(p, updates), next, l] as const;
  });
  const initialLoss = lossScan(params, xs, ys).item();
  log(`initial loss ${initialLoss.toFixed(5)}; training ${steps} steps (batch ${batch}, ${T} time steps, hidden ${hidden})`);
  const every = Math.max(1, Math.floor(steps / 5));
  for (let i = 1; i <= steps; i++) {
    const [p, s, l] = step(params, state, xs, ys);
    params = p;
    state = s;
    if (i % every === 0) log(`  step ${String(i).padStart(4)}: loss ${l.item().toFixed(5)}`);
  }
  const finalLoss = lossScan(params, xs, ys).item();
  log(`final loss ${finalLoss.toFixed(5)}`);
  return { difference, initialLoss, finalLoss, scanLines, loopLines };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
