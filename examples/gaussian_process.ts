/**
 * Example 6: Gaussian-process regression with hyperparameters fitted by gradient.
 *
 *   npm run example:gaussian-process
 *
 * The negative log marginal likelihood of noisy observations y under a GP with an RBF
 * kernel K is `½ yᵀ K⁻¹ y + ½ log|K| + (n/2) log 2π`. With the Cholesky factor
 * `K = L Lᵀ` it is `½ |L⁻¹ y|² + Σ log L_ii + ...`: one `np.linalg.cholesky`, one
 * `np.linalg.solveTriangular`. `valueAndGrad` differentiates through both (JAX's rules),
 * `jit` compiles the step, Adam fits the log length scale, signal and noise levels, and
 * the posterior mean `K*ᵀ K⁻¹ y` predicts held-out points.
 */
import { type Array as NDArray, checkGrads, jit, np, optim, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";

interface Hyper {
  logLength: NDArray;
  logSignal: NDArray;
  logNoise: NDArray;
}

/** Squared-exponential kernel matrix between the points a [n] and b [m]. */
function rbf(a: NDArray, b: NDArray, h: Hyper): NDArray {
  const d = np.subtract(np.reshape(a, [a.size, 1]), np.reshape(b, [1, b.size]));
  const r2 = np.divide(np.square(d), np.exp(np.multiply(h.logLength, 2)));
  return np.multiply(np.exp(np.multiply(h.logSignal, 2)), np.exp(np.multiply(r2, -0.5)));
}

/** The training covariance K + σ² I and its Cholesky factor. */
function factor(x: NDArray, h: Hyper): NDArray {
  const n = x.size;
  const k = np.add(rbf(x, x, h), np.multiply(np.eye(n, "float64"), np.exp(np.multiply(h.logNoise, 2))));
  return np.linalg.cholesky(k);
}

/** Negative log marginal likelihood (the constant (n/2) log 2π included). */
function nll(h: Hyper, x: NDArray, y: NDArray): NDArray {
  const l = factor(x, h);
  const alpha = np.linalg.solveTriangular(l, y, { lower: true }); // L⁻¹ y
  const logDet = np.linalg.slogdet(l)[1]; // Σ log L_ii = ½ log|K|
  return np.add(np.add(np.multiply(np.sum(np.square(alpha)), 0.5), logDet), (x.size / 2) * Math.log(2 * Math.PI));
}

/** Posterior mean at the points xs: K*ᵀ K⁻¹ y, with K⁻¹ y from two triangular solves. */
function predict(h: Hyper, x: NDArray, y: NDArray, xs: NDArray): NDArray {
  const l = factor(x, h);
  const kInvY = np.linalg.solveTriangular(l, np.linalg.solveTriangular(l, y, { lower: true }), { lower: true, transA: true });
  return np.matmul(np.transpose(rbf(x, xs, h)), kInvY);
}

const truth = (t: number): number => Math.sin(3 * t) + 0.5 * t;

export function main(opts: ExampleOptions = {}): { nllStart: number; nllEnd: number; rmse: number; noise: number } {
  const log = opts.log ?? console.log;
  // noisy observations of a smooth function on [-2, 2] (a fixed pseudo-random noise)
  const n = opts.fast ? 24 : 60;
  const xs = Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
  const noise = xs.map((_, i) => 0.1 * Math.sin(12.9898 * i + 78.233) * Math.cos(4.1414 * i));
  const x = np.array(xs, { dtype: "float64" });
  const y = np.array(
    xs.map((t, i) => truth(t) + noise[i]!),
    { dtype: "float64" },
  );
  let h: Hyper = { logLength: np.array(0, { dtype: "float64" }), logSignal: np.array(0, { dtype: "float64" }), logNoise: np.array(-1, { dtype: "float64" }) };

  // the likelihood's gradient against finite differences, before fitting
  checkGrads((p: Hyper) => nll(p, x, y), [h], { order: 2, atol: 1e-5, rtol: 1e-5 });
  log("checkGrads: the gradient and Hessian of the NLL agree with finite differences");

  const opt = optim.adam(0.05);
  let state = opt.init(h);
  const step = jit((p: Hyper, s: typeof state) => {
    const [value, g] = valueAndGrad((q: Hyper) => nll(q, x, y))(p);
    const [updates, s2] = opt.update(g, s, p);
    return [value, optim.applyUpdates(p, updates), s2] as const;
  });
  const steps = opts.fast ? 60 : 200;
  let nllStart = NaN;
  let value: NDArray = np.array(0);
  for (let i = 0; i < steps; i++) {
    [value, h, state] = step(h, state) as unknown as [NDArray, Hyper, typeof state];
    if (i === 0) nllStart = value.item();
    if (i % (steps / 4) === 0) log(`step ${i}: NLL ${value.item().toFixed(4)}`);
  }
  const nllEnd = nll(h, x, y).item();
  const fit = { length: Math.exp(h.logLength.item()), signal: Math.exp(h.logSignal.item()), noise: Math.exp(h.logNoise.item()) };
  log(
    `fitted: length scale ${fit.length.toFixed(3)}, signal ${fit.signal.toFixed(3)}, noise ${fit.noise.toFixed(3)}; NLL ${nllStart.toFixed(3)} -> ${nllEnd.toFixed(3)}`,
  );

  // held-out points between the training inputs
  const test = Array.from({ length: 9 }, (_, i) => -1.8 + 0.45 * i);
  const mean = predict(h, x, y, np.array(test, { dtype: "float64" })).toJs() as number[];
  const rmse = Math.sqrt(test.reduce((s, t, i) => s + (mean[i]! - truth(t)) ** 2, 0) / test.length);
  log(`posterior mean at held-out points: RMSE ${rmse.toFixed(4)} against the noise-free function`);
  return { nllStart, nllEnd, rmse, noise: fit.noise };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
