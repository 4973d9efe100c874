/**
 * The benchmark workloads: their inputs (deterministic float32 data), the check values
 * each implementation's result is reduced to, and the float64 reference for those.
 *
 * An implementation of a workload is a {@link Case}: `run()` does one timed call and
 * leaves the result computed (read back into JavaScript memory where a library is lazy),
 * `read()` turns the latest result into plain JS numbers for the checks (untimed).
 * @module
 */
import { bilinear, dot64, f64, norm2, uniform } from "./harness.js";
import * as plain from "./impls/plain.js";

// ------------------------------------------------------------------ inputs

export interface MatmulData {
  n: number;
  a: Float32Array;
  b: Float32Array;
}
export interface ChainData {
  x: Float32Array;
}
export interface MlpData {
  sizes: number[];
  batch: number;
  lr: number;
  /** `w[l]` is `[sizes[l], sizes[l+1]]` (so a layer is `x @ w + b`). */
  w: Float32Array[];
  b: Float32Array[];
  x: Float32Array;
  labels: Int32Array;
  /** One-hot labels, `[batch, classes]`. */
  onehot: Float32Array;
}
export interface ScalarData {
  x0: number;
  steps: number;
}
export interface TanhAxData {
  n: number;
  a: Float32Array;
  x: Float32Array;
  v: Float32Array;
}
export interface SortData {
  x: Float32Array;
}
/** `batch` rows of `n` values and `m` int32 indices per row (gather `x[b, idx[b, j]]`). */
export interface GatherData {
  batch: number;
  n: number;
  m: number;
  x: Float32Array;
  idx: Int32Array;
}
/** W8: x [N,1,S,S] (NCHW), w1 [C1,1,3,3] and w2 [C2,C1,3,3] (OIHW). */
export interface ConvBlockData extends plain.ConvBlockSizes {
  x: Float32Array;
  w1: Float32Array;
  w2: Float32Array;
}
/**
 * One training step of examples/cnn.ts's model (see plain.CnnSizes): images `x[batch,
 * S·S]`, labels, the parameters and Adam's moments in the order conv1 weight (OIHW),
 * conv1 bias, conv2 weight, conv2 bias, linear weight (`[classes, features]`), linear
 * bias, and Adam's setup (the moments are those after `count` steps).
 */
export interface CnnData extends plain.CnnSizes {
  adam: plain.AdamSetup;
  x: Float32Array;
  labels: Int32Array;
  params: Float32Array[];
  mu: Float32Array[];
  nu: Float32Array[];
}
/** An Elman RNN: `W` is `[H, H]`, `U` is `[H, I]`, `xs` is `[T, I]`. */
export interface RnnData {
  H: number;
  I: number;
  T: number;
  W: Float32Array;
  U: Float32Array;
  xs: Float32Array;
}
/** A deep tanh MLP: `ws[l]` is `[width, width]`, `x` is `[batch, width]`. */
export interface DeepData {
  layers: number;
  width: number;
  batch: number;
  ws: Float32Array[];
  x: Float32Array;
}
/** Per-example gradients of a 2-layer MLP: parameters (`w1` is `[din, dh]`), inputs `x[batch, din]`, labels and one-hot labels. */
export interface PerExampleData extends plain.Mlp2 {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
  batch: number;
  x: Float32Array;
  labels: Int32Array;
  onehot: Float32Array;
}
/** The long elementwise chain: `x` is `[n]`, `steps` steps of `x = sin(x) * 1.01 + 0.1`. */
export interface SinChainData {
  x: Float32Array;
  steps: number;
}
/** A float64 system `A x = b` with `A` symmetric positive definite (row-major `[n, n]`). */
export interface SpdSolveData {
  n: number;
  a: Float64Array;
  b: Float64Array;
}

/** Input type of each workload. */
export interface DataMap {
  "matmul-512": MatmulData;
  "matmul-1024": MatmulData;
  "matmul-2048": MatmulData;
  "chain-1e6": ChainData;
  "chain-1e6-grad": ChainData;
  "mlp-sgd": MlpData;
  "scalar50-grad": ScalarData;
  "tanhAx-grad": TanhAxData;
  "tanhAx-hvp": TanhAxData;
  "sort-1e6": SortData;
  "gather-vmap": GatherData;
  "gather-loop": GatherData;
  "conv-block-grad": ConvBlockData;
  "cnn-step": CnnData;
  "rnn-grad": RnnData;
  "rnn-grad-unrolled": RnnData;
  "deep-grad": DeepData;
  "deep-grad-remat": DeepData;
  "perexample-grad": PerExampleData;
  "sinchain500-grad": SinChainData;
  "cholesky-solve-256": SpdSolveData;
}
export type WorkloadId = keyof DataMap;

// ------------------------------------------------------------------ outputs

type Vec = ArrayLike<number>;

/** What `Case.read()` returns for each workload (plain JS data, any precision). */
export interface OutputMap {
  "matmul-512": { c: Vec };
  "matmul-1024": { c: Vec };
  "matmul-2048": { c: Vec };
  "chain-1e6": { value: number };
  "chain-1e6-grad": { g: Vec };
  /** Gradients and updated parameters in the order w1, b1, w2, b2, w3, b3. */
  "mlp-sgd": { loss: number; grads: Vec[]; params: Vec[] };
  "scalar50-grad": { g: number };
  "tanhAx-grad": { g: Vec };
  "tanhAx-hvp": { h: Vec };
  "sort-1e6": { y: Vec };
  "gather-vmap": { y: Vec };
  "gather-loop": { y: Vec };
  /** Gradients of the loss with respect to w1 and w2, in OIHW order. */
  "conv-block-grad": { g1: Vec; g2: Vec };
  /** The loss before the step and the updated parameters (in CnnData's order and layouts). */
  "cnn-step": { loss: number; params: Vec[] };
  /** Loss and gradients of the RNN's sum of hidden states with respect to W and U. */
  "rnn-grad": { loss: number; gW: Vec; gU: Vec };
  "rnn-grad-unrolled": { loss: number; gW: Vec; gU: Vec };
  /** Gradients of the deep MLP's sum of outputs, one per layer. */
  "deep-grad": { grads: Vec[] };
  "deep-grad-remat": { grads: Vec[] };
  /** The stacked per-example gradients, `[batch, ...]` each, in the order w1, b1, w2, b2. */
  "perexample-grad": { grads: Vec[] };
  /** f(x) = sum of the chain's last step, and its gradient. */
  "sinchain500-grad": { value: number; g: Vec };
  "cholesky-solve-256": { x: Vec };
}

/** One implementation of one workload, set up and ready to time. */
export interface Case<O = OutputMap[WorkloadId]> {
  /** One call of the workload (timed); async only where a library can finish work only asynchronously. */
  run(): void | Promise<void>;
  /** The latest result as JS numbers (untimed). */
  read(): O;
  /** Frees library memory (tensors, wasm buffers). */
  dispose?(): void;
}

/** An implementation that cannot run a workload, and why (shown in the tables). */
export interface Unsupported {
  unsupported: string;
}

export type CaseFactory<W extends WorkloadId> = (data: DataMap[W]) => Case<OutputMap[W]> | Unsupported;
export type CaseTable = { [W in WorkloadId]?: CaseFactory<W> };

export function isUnsupported(x: unknown): x is Unsupported {
  return typeof x === "object" && x !== null && "unsupported" in x;
}

// ------------------------------------------------------------------ workload definitions

export interface Workload<W extends WorkloadId> {
  id: W;
  /** Row label in the tables. */
  title: string;
  /** Names of the check values. */
  checks: string[];
  /** Largest relative error against the float64 reference still counted as float32-accurate. */
  tol: number;
  data(): DataMap[W];
  summarize(out: OutputMap[W], data: DataMap[W]): number[];
  /** The check values computed in float64 from the same (float32) inputs. */
  reference(data: DataMap[W]): number[];
  /** Floating-point operations of one call, where a rate (GFLOP/s) means something. */
  flops?: number;
  /** The first call (trace + compile + run) is part of the row's reading: reported beside the median. */
  firstCall?: boolean;
}

const SEED = 20240601;
/** Probe vectors: a fixed random direction to dot results with (catches permuted or sign-flipped output). */
const probe = (n: number, salt: number) => f64(uniform(n, -1, 1, SEED + 1000 + salt));

function matmulWorkload(id: "matmul-512" | "matmul-1024" | "matmul-2048", n: number): Workload<typeof id> {
  return {
    id,
    title: `matmul ${n}x${n}`,
    flops: 2 * n ** 3,
    checks: ["u·C·w"],
    tol: 1e-4,
    data: () => ({ n, a: uniform(n * n, -1, 1, SEED + n), b: uniform(n * n, -1, 1, SEED + n + 1) }),
    summarize: (out, d) => [bilinear(probe(d.n, 1), out.c, probe(d.n, 2), d.n, d.n)],
    // u^T (A B) w = (u^T A)(B w): exact float64 work in O(n^2), no n^3 reference matmul.
    reference: (d) => {
      const u = probe(d.n, 1);
      const w = probe(d.n, 2);
      const a = f64(d.a);
      const b = f64(d.b);
      const bw = plain.matvec(b, w, d.n, new Float64Array(d.n));
      const uA = plain.matvecT(a, u, d.n, new Float64Array(d.n));
      return [dot64(uA, bw)];
    },
  };
}

const chainData = (): ChainData => ({ x: uniform(1_000_000, -2, 2, SEED + 7) });

const chain: Workload<"chain-1e6"> = {
  id: "chain-1e6",
  title: "sum(tanh(2x+1)·exp(-x²)), 1e6",
  checks: ["value"],
  // A float32 accumulator over 1e6 terms of a sum near 2e5 loses up to ~1e-3 relative
  // (each addend is rounded to the accumulator's ulp); that is float32 behaviour, not a bug.
  tol: 1e-3,
  data: chainData,
  summarize: (out) => [out.value],
  reference: (d) => [plain.chainValue(f64(d.x))],
};

const chainGrad: Workload<"chain-1e6-grad"> = {
  id: "chain-1e6-grad",
  title: "its gradient, 1e6",
  checks: ["|g|", "r·g"],
  tol: 1e-4,
  data: chainData,
  summarize: (out) => [norm2(out.g), dot64(probe(out.g.length, 3), out.g)],
  reference: (d) => {
    const g = plain.chainGrad(f64(d.x), new Float64Array(d.x.length));
    return [norm2(g), dot64(probe(g.length, 3), g)];
  },
};

const MLP_SIZES = [784, 512, 512, 10];

const mlp: Workload<"mlp-sgd"> = {
  id: "mlp-sgd",
  title: "MLP 784-512-512-10 SGD step, batch 128",
  checks: ["loss", "|grad|", "|Δθ|/lr"],
  tol: 1e-3,
  data: () => {
    const sizes = MLP_SIZES;
    const batch = 128;
    const w: Float32Array[] = [];
    const b: Float32Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      // PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
      const s = 1 / Math.sqrt(sizes[l]!);
      w.push(uniform(sizes[l]! * sizes[l + 1]!, -s, s, SEED + 20 + l));
      b.push(uniform(sizes[l + 1]!, -s, s, SEED + 30 + l));
    }
    const x = uniform(batch * sizes[0]!, 0, 1, SEED + 40);
    const nc = sizes[sizes.length - 1]!;
    const r = uniform(batch, 0, nc, SEED + 41);
    const labels = Int32Array.from(r, (v) => Math.min(nc - 1, Math.floor(v)));
    const onehot = new Float32Array(batch * nc);
    labels.forEach((c, i) => (onehot[i * nc + c] = 1));
    return { sizes, batch, lr: 0.1, w, b, x, labels, onehot };
  },
  summarize: (out, d) => {
    let dsq = 0;
    for (let i = 0; i < out.params.length; i++) {
      const before = i % 2 === 0 ? d.w[i / 2]! : d.b[(i - 1) / 2]!;
      const after = out.params[i]!;
      for (let j = 0; j < after.length; j++) dsq += (before[j]! - after[j]!) ** 2;
    }
    return [out.loss, Math.hypot(...out.grads.map(norm2)), Math.sqrt(dsq) / d.lr];
  },
  reference: (d) => {
    const r = plain.mlpStep(Float64Array, d.sizes, { w: d.w.map(f64), b: d.b.map(f64) }, f64(d.x), d.labels, d.lr);
    const g = Math.hypot(...r.grads.w.map(norm2), ...r.grads.b.map(norm2));
    // In exact arithmetic |Δθ|/lr is |grad|.
    return [r.loss, g, g];
  },
};

const scalar50: Workload<"scalar50-grad"> = {
  id: "scalar50-grad",
  title: "grad of 50 chained scalar ops",
  checks: ["dx50/dx0"],
  tol: 1e-4,
  data: () => ({ x0: 0.5, steps: 50 }),
  summarize: (out) => [out.g],
  reference: (d) => [plain.scalarChainGrad(d.x0, d.steps, new Float64Array(d.steps))],
};

const tanhAxData = (): TanhAxData => {
  const n = 1000;
  // Entries with variance 1/n keep A x of order 1, away from tanh's saturation.
  const s = Math.sqrt(3 / n);
  return { n, a: uniform(n * n, -s, s, SEED + 50), x: uniform(n, -1, 1, SEED + 51), v: uniform(n, -1, 1, SEED + 52) };
};

const tanhAxGrad: Workload<"tanhAx-grad"> = {
  id: "tanhAx-grad",
  title: "grad of sum(tanh(A x)), n=1000",
  checks: ["|g|", "r·g"],
  tol: 1e-4,
  data: tanhAxData,
  summarize: (out) => [norm2(out.g), dot64(probe(out.g.length, 4), out.g)],
  reference: (d) => {
    const g = plain.tanhAxGrad(f64(d.a), f64(d.x), d.n, plain.tanhAxWork(Float64Array, d.n), new Float64Array(d.n));
    return [norm2(g), dot64(probe(d.n, 4), g)];
  },
};

const tanhAxHvp: Workload<"tanhAx-hvp"> = {
  id: "tanhAx-hvp",
  title: "hessianVectorProduct of sum(tanh(A x))",
  checks: ["|Hv|", "r·Hv"],
  tol: 1e-4,
  data: tanhAxData,
  summarize: (out) => [norm2(out.h), dot64(probe(out.h.length, 4), out.h)],
  reference: (d) => {
    const h = plain.tanhAxHvp(f64(d.a), f64(d.x), f64(d.v), d.n, plain.tanhAxWork(Float64Array, d.n), new Float64Array(d.n));
    return [norm2(h), dot64(probe(d.n, 4), h)];
  },
};

const sortWorkload: Workload<"sort-1e6"> = {
  id: "sort-1e6",
  title: "np.sort, 1e6 float32 (plain JS: Float32Array.prototype.sort)",
  checks: ["r·y", "monotone"],
  tol: 1e-6,
  data: () => ({ x: uniform(1_000_000, -1, 1, SEED + 60) }),
  summarize: (out) => {
    let mono = 1;
    for (let i = 1; i < out.y.length; i++) if (out.y[i]! < out.y[i - 1]!) mono = 0;
    return [dot64(probe(out.y.length, 5), out.y), mono];
  },
  reference: (d) => {
    const y = Float64Array.from(d.x).sort();
    return [dot64(probe(y.length, 5), y), 1];
  },
};

const gatherData = (): GatherData => {
  const batch = 64;
  const n = 20_000;
  const m = 5_000;
  const r = uniform(batch * m, 0, n, SEED + 71);
  return { batch, n, m, x: uniform(batch * n, -1, 1, SEED + 70), idx: Int32Array.from(r, (v) => Math.min(n - 1, Math.floor(v))) };
};
function gatherWorkload(id: "gather-vmap" | "gather-loop", title: string): Workload<typeof id> {
  return {
    id,
    title,
    checks: ["|y|", "r·y"],
    tol: 1e-6,
    data: gatherData,
    summarize: (out) => [norm2(out.y), dot64(probe(out.y.length, 6), out.y)],
    reference: (d) => {
      const y = new Float64Array(d.batch * d.m);
      for (let b = 0; b < d.batch; b++) for (let j = 0; j < d.m; j++) y[b * d.m + j] = d.x[b * d.n + d.idx[b * d.m + j]!]!;
      return [norm2(y), dot64(probe(y.length, 6), y)];
    },
  };
}

const convBlock: Workload<"conv-block-grad"> = {
  id: "conv-block-grad",
  title: "W8 conv block grad (3x3 1→16 SAME, 3x3 16→32 stride 2), batch 32",
  checks: ["|g1|", "|g2|", "r·g2"],
  tol: 1e-4,
  data: () => {
    const z = { N: 32, S: 28, C1: 16, C2: 32 };
    // PyTorch's Conv2d default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    const s1 = 1 / 3;
    const s2 = 1 / Math.sqrt(z.C1 * 9);
    return { ...z, x: uniform(z.N * z.S * z.S, 0, 1, SEED + 80), w1: uniform(z.C1 * 9, -s1, s1, SEED + 81), w2: uniform(z.C2 * z.C1 * 9, -s2, s2, SEED + 82) };
  },
  summarize: (out) => [norm2(out.g1), norm2(out.g2), dot64(probe(out.g2.length, 5), out.g2)],
  reference: (d) => {
    const { g1, g2 } = plain.convBlockGrad(Float64Array, d, f64(d.x), f64(d.w1), f64(d.w2));
    return [norm2(g1), norm2(g2), dot64(probe(g2.length, 5), g2)];
  },
};

/** The norm of the update `p' - p` over all parameters, and probes of the two kernels' updates. */
function cnnChecks(next: readonly ArrayLike<number>[], d: CnnData): number[] {
  const delta = next.map((p, i) => Float64Array.from(p, (v, j) => v - d.params[i]![j]!));
  return [Math.hypot(...delta.map(norm2)), dot64(probe(delta[0]!.length, 21), delta[0]!), dot64(probe(delta[2]!.length, 22), delta[2]!)];
}

const cnnStep: Workload<"cnn-step"> = {
  id: "cnn-step",
  title: "CNN training step, batch 64 (examples/cnn.ts: conv5x5 1→16, pool, conv5x5 16→32, pool, linear; Adam)",
  checks: ["loss", "|Δp|", "r·Δw1", "r·Δw2"],
  tol: 1e-3,
  data: () => {
    const z = { batch: 64, S: 28, C1: 16, C2: 32, classes: 10 };
    const feat = z.C2 * (z.S / 4) ** 2;
    // PyTorch's default initialization: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    const shapes: [number, number][] = [
      [z.C1 * 25, 25],
      [z.C1, 25],
      [z.C2 * z.C1 * 25, z.C1 * 25],
      [z.C2, z.C1 * 25],
      [z.classes * feat, feat],
      [z.classes, feat],
    ];
    const params = shapes.map(([n, fanIn], i) => uniform(n, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), SEED + 90 + i));
    // moments of a few steps in: small means, variances of the order of the squared gradients
    const mu = shapes.map(([n], i) => uniform(n, -1e-3, 1e-3, SEED + 100 + i));
    const nu = shapes.map(([n], i) => uniform(n, 1e-6, 4e-6, SEED + 110 + i));
    const labels = Int32Array.from(uniform(z.batch, 0, z.classes, SEED + 121), (v) => Math.min(z.classes - 1, Math.floor(v)));
    return { ...z, adam: { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, count: 10 }, x: uniform(z.batch * z.S * z.S, 0, 1, SEED + 120), labels, params, mu, nu };
  },
  summarize: (out, d) => [out.loss, ...cnnChecks(out.params, d)],
  reference: (d) => {
    const r = plain.cnnStep(Float64Array, d, d.adam, d.params.map(f64), d.mu.map(f64), d.nu.map(f64), f64(d.x), d.labels);
    return [r.loss, ...cnnChecks(r.params, d)];
  },
};

const rnnData = (): RnnData => {
  const H = 64;
  const I = 32;
  const T = 200;
  // tanh-stable scales: W's spectral radius below 1, inputs of order 1
  return {
    H,
    I,
    T,
    W: uniform(H * H, -0.9 / Math.sqrt(H), 0.9 / Math.sqrt(H), SEED + 60),
    U: uniform(H * I, -1 / Math.sqrt(I), 1 / Math.sqrt(I), SEED + 61),
    xs: uniform(T * I, -1, 1, SEED + 62),
  };
};

function rnnWorkload(id: "rnn-grad" | "rnn-grad-unrolled", title: string): Workload<typeof id> {
  return {
    id,
    title,
    checks: ["loss", "|dW|", "|dU|", "r·dW"],
    tol: 1e-3,
    data: rnnData,
    summarize: (out) => [out.loss, norm2(out.gW), norm2(out.gU), dot64(probe(out.gW.length, 5), out.gW)],
    reference: (d) => {
      const gW = new Float64Array(d.H * d.H);
      const gU = new Float64Array(d.H * d.I);
      const loss = plain.rnnGrad(f64(d.W), f64(d.U), f64(d.xs), d.H, d.I, d.T, plain.rnnWork(Float64Array, d.H, d.T), gW, gU);
      return [loss, norm2(gW), norm2(gU), dot64(probe(gW.length, 5), gW)];
    },
  };
}

const deepData = (): DeepData => {
  const layers = 20;
  const width = 256;
  const batch = 64;
  const s = 1.5 / Math.sqrt(width);
  return {
    layers,
    width,
    batch,
    ws: Array.from({ length: layers }, (_, l) => uniform(width * width, -s, s, SEED + 70 + l)),
    x: uniform(batch * width, -1, 1, SEED + 69),
  };
};

function deepWorkload(id: "deep-grad" | "deep-grad-remat", title: string): Workload<typeof id> {
  return {
    id,
    title,
    checks: ["|grad|", "r·grad₀"],
    tol: 1e-3,
    data: deepData,
    summarize: (out) => [Math.hypot(...out.grads.map(norm2)), dot64(probe(out.grads[0]!.length, 6), out.grads[0]!)],
    reference: (d) => {
      const gws = d.ws.map(() => new Float64Array(d.width * d.width));
      plain.deepTanhGrad(Float64Array, d.ws.map(f64), f64(d.x), d.batch, d.width, gws);
      return [Math.hypot(...gws.map(norm2)), dot64(probe(gws[0]!.length, 6), gws[0]!)];
    },
  };
}

const perExample: Workload<"perexample-grad"> = {
  id: "perexample-grad",
  title: "per-example gradients, MLP 784-128-10, batch 64 (vmap(grad))",
  checks: ["|grad|", "r·gW1", "r·gb1", "r·gW2"],
  tol: 1e-3,
  data: () => {
    const [din, dh, dout, batch] = [784, 128, 10, 64];
    const s1 = 1 / Math.sqrt(din);
    const s2 = 1 / Math.sqrt(dh);
    const x = uniform(batch * din, 0, 1, SEED + 80);
    const labels = Int32Array.from(uniform(batch, 0, dout, SEED + 81), (v) => Math.min(dout - 1, Math.floor(v)));
    const onehot = new Float32Array(batch * dout);
    labels.forEach((c, i) => (onehot[i * dout + c] = 1));
    return {
      din,
      dh,
      dout,
      batch,
      x,
      labels,
      onehot,
      w1: uniform(din * dh, -s1, s1, SEED + 82),
      b1: uniform(dh, -s1, s1, SEED + 83),
      w2: uniform(dh * dout, -s2, s2, SEED + 84),
      b2: uniform(dout, -s2, s2, SEED + 85),
    };
  },
  summarize: (out) => [
    Math.hypot(...out.grads.map(norm2)),
    dot64(probe(out.grads[0]!.length, 11), out.grads[0]!),
    dot64(probe(out.grads[1]!.length, 12), out.grads[1]!),
    dot64(probe(out.grads[2]!.length, 13), out.grads[2]!),
  ],
  reference: (d) => {
    const g = plain.perExampleGradsOut(Float64Array, d, d.batch);
    plain.perExampleGrads({ ...d, w1: f64(d.w1), b1: f64(d.b1), w2: f64(d.w2), b2: f64(d.b2) }, f64(d.x), d.labels, g);
    const gs = [g.gw1, g.gb1, g.gw2, g.gb2];
    return [Math.hypot(...gs.map(norm2)), dot64(probe(g.gw1.length, 11), g.gw1), dot64(probe(g.gb1.length, 12), g.gb1), dot64(probe(g.gw2.length, 13), g.gw2)];
  },
};

const sinChain: Workload<"sinchain500-grad"> = {
  id: "sinchain500-grad",
  title: "valueAndGrad of 500 steps x = sin(x)·1.01 + 0.1 on [256], then sum",
  // The gradient, a product of 500 factors 1.01 cos(x_k) ≈ 0.65, is about 1e-95: below
  // float32's smallest subnormal, so every float32 implementation returns 0. The checks
  // are the value (which exercises every step) and |g| against the float64 reference
  // rounded to float32 (0).
  checks: ["value", "|g| (in float32)"],
  tol: 1e-4,
  firstCall: true,
  data: () => ({ x: uniform(256, -2, 2, SEED + 90), steps: 500 }),
  summarize: (out) => [out.value, norm2(out.g)],
  reference: (d) => {
    const g = new Float64Array(d.x.length);
    const value = plain.sinChainValueAndGrad(f64(d.x), d.steps, new Float64Array(d.steps), g);
    return [value, Math.fround(norm2(g))];
  },
};

const choleskySolve: Workload<"cholesky-solve-256"> = {
  id: "cholesky-solve-256",
  title: "cholesky + solve, 256x256 float64",
  checks: ["|x|", "r·x"],
  // float64 throughout: implementations differ only in summation order
  tol: 1e-10,
  data: () => {
    const n = 256;
    // A = M Mᵀ / n + I: symmetric positive definite, condition number in the tens
    const m = f64(uniform(n * n, -1, 1, SEED + 100));
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += m[i * n + k]! * m[j * n + k]!;
        const v = s / n + (i === j ? 1 : 0);
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    return { n, a, b: f64(uniform(n, -1, 1, SEED + 101)) };
  },
  summarize: (out) => [norm2(out.x), dot64(probe(out.x.length, 7), out.x)],
  reference: (d) => {
    const x = plain.choleskySolve(d.a, d.b, d.n, new Float64Array(d.n * d.n), new Float64Array(d.n), new Float64Array(d.n));
    return [norm2(x), dot64(probe(d.n, 7), x)];
  },
};

/** Every workload, in table order. */
export const WORKLOADS: readonly Workload<WorkloadId>[] = [
  matmulWorkload("matmul-512", 512),
  matmulWorkload("matmul-1024", 1024),
  matmulWorkload("matmul-2048", 2048),
  chain,
  chainGrad,
  mlp,
  scalar50,
  tanhAxGrad,
  tanhAxHvp,
  sortWorkload,
  gatherWorkload("gather-vmap", "gather x[b, idx[b]] (64 rows, 5000 of 20000): vmap with batched indices"),
  gatherWorkload("gather-loop", "the same gather, one unbatched gather per row"),
  convBlock,
  cnnStep,
  rnnWorkload("rnn-grad", "Elman RNN grad, H=64 I=32 T=200 (cotangent: lax.scan)"),
  rnnWorkload("rnn-grad-unrolled", "the same, JS loop over time (unrolled under jit)"),
  deepWorkload("deep-grad", "grad of a 20-layer tanh MLP, width 256, batch 64"),
  deepWorkload("deep-grad-remat", "the same, each layer under checkpoint"),
  perExample,
  sinChain,
  choleskySolve,
] as unknown as readonly Workload<WorkloadId>[];
