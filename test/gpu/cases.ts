/**
 * The GPU parity suite: every case runs once on the CPU backend and once on the GPU
 * backend, and the results must agree to float32 tolerance. The CPU results are
 * themselves checked against independent references by the rest of the test suite;
 * here the CPU is the reference for the GPU.
 *
 * This file is shared by the Node run (vitest, headless-gl under Xvfb) and the browser
 * run (headless Chromium, WebGL2): it imports nothing at run time — the library and
 * the internal elementwise module are passed in — so it can be served to a page as is
 * after a type-stripping transpile.
 */
import type * as Lib from "../../src/index.js";
import type * as Elementwise from "../../src/primitives/elementwise.js";

type L = typeof Lib;
type A = Lib.Array;
/** What a case returns: arrays, numbers, or pytrees of them. */
type Out = unknown;

export interface Case {
  name: string;
  run(L: L, E: typeof Elementwise): Out;
  /** Absolute + relative tolerance (default 2e-4 / 2e-4). */
  atol?: number;
  rtol?: number;
  /** The case's outputs are computed on the CPU by design (PRNG primitives). */
  hostOutputs?: boolean;
}

/** Deterministic pseudo-random float32 data in [lo, hi). */
export function data(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(lo + ((s % 100000) / 100000) * (hi - lo));
  }
  return out;
}
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const rnd = (L: L, shape: number[], seed: number, lo = -1, hi = 1): A => L.np.array(data(size(shape), seed, lo, hi), { shape });
const ints = (L: L, shape: number[], seed: number, lo: number, hi: number): A =>
  L.np.array(
    data(size(shape), seed, lo, hi).map((v) => Math.floor(v)),
    { shape, dtype: "int32" },
  );

const unary: [string, (L: L, E: typeof Elementwise, x: A) => A, number, number][] = [
  ["negative", (L, _E, x) => L.np.negative(x), -2, 2],
  ["exp", (L, _E, x) => L.np.exp(x), -3, 3],
  ["log", (L, _E, x) => L.np.log(x), 0.1, 5],
  ["log1p", (L, _E, x) => L.np.log1p(x), -0.5, 2],
  ["expm1", (L, _E, x) => L.np.expm1(x), -2, 2],
  ["sin", (L, _E, x) => L.np.sin(x), -4, 4],
  ["cos", (L, _E, x) => L.np.cos(x), -4, 4],
  ["tan", (L, _E, x) => L.np.tan(x), -1.2, 1.2],
  ["tanh", (L, _E, x) => L.np.tanh(x), -30, 30],
  ["sigmoid", (L, _E, x) => L.np.sigmoid(x), -30, 30],
  ["sqrt", (L, _E, x) => L.np.sqrt(x), 0, 9],
  ["rsqrt", (L, _E, x) => L.np.rsqrt(x), 0.2, 9],
  ["abs", (L, _E, x) => L.np.abs(x), -3, 3],
  ["sign", (L, _E, x) => L.np.sign(x), -3, 3],
  ["floor", (L, _E, x) => L.np.floor(x), -3, 3],
  ["ceil", (L, _E, x) => L.np.ceil(x), -3, 3],
  ["round", (_L, E, x) => E.round(x), -3, 3],
  ["square", (L, _E, x) => L.np.square(x), -3, 3],
  ["reciprocal", (L, _E, x) => L.np.reciprocal(x), 0.5, 3],
  ["integer_pow", (L, _E, x) => L.np.power(x, 3), -2, 2],
  ["integer_pow negative", (L, _E, x) => L.np.power(x, -2), 0.5, 2],
  ["stop_gradient", (L, _E, x) => L.stopGradient(x), -2, 2],
];

const binary: [string, (L: L, x: A, y: A) => A][] = [
  ["add", (L, x, y) => L.np.add(x, y)],
  ["subtract", (L, x, y) => L.np.subtract(x, y)],
  ["multiply", (L, x, y) => L.np.multiply(x, y)],
  ["divide", (L, x, y) => L.np.divide(x, L.np.add(L.np.abs(y), 0.5))],
  ["power", (L, x, y) => L.np.power(L.np.add(L.np.abs(x), 0.1), y)],
  ["maximum", (L, x, y) => L.np.maximum(x, y)],
  ["minimum", (L, x, y) => L.np.minimum(x, y)],
  ["equal", (L, x, y) => L.np.equal(L.np.floor(x), L.np.floor(y))],
  ["notEqual", (L, x, y) => L.np.notEqual(L.np.floor(x), L.np.floor(y))],
  ["less", (L, x, y) => L.np.less(x, y)],
  ["lessEqual", (L, x, y) => L.np.lessEqual(x, y)],
  ["greater", (L, x, y) => L.np.greater(x, y)],
  ["greaterEqual", (L, x, y) => L.np.greaterEqual(x, y)],
  ["logicalAnd", (L, x, y) => L.np.logicalAnd(L.np.greater(x, 0), L.np.greater(y, 0))],
  ["logicalOr", (L, x, y) => L.np.logicalOr(L.np.greater(x, 0), L.np.greater(y, 0))],
  ["logicalNot", (L, x) => L.np.logicalNot(L.np.greater(x, 0))],
  ["where", (L, x, y) => L.np.where(L.np.greater(x, y), x, L.np.multiply(y, 2))],
];

const mlpLoss =
  (L: L) =>
  (p: { w1: A; b1: A; w2: A }, x: A, y: A): A => {
    const h = L.np.tanh(L.np.add(L.np.matmul(x, p.w1), p.b1));
    const out = L.np.matmul(h, p.w2);
    return L.np.mean(L.np.square(L.np.subtract(out, y)));
  };
const mlpParams = (L: L) => ({ w1: rnd(L, [4, 8], 11), b1: rnd(L, [8], 12), w2: rnd(L, [8, 3], 13) });

export const cases: Case[] = [
  ...unary.map(
    ([name, f, lo, hi]): Case => ({
      name: `unary ${name}`,
      run: (L, E) => [f(L, E, rnd(L, [3, 5], 1, lo, hi)), f(L, E, rnd(L, [7], 2, lo, hi))],
      rtol: name === "tan" || name === "expm1" || name === "log1p" ? 1e-3 : undefined,
    }),
  ),
  ...binary.map(
    ([name, f]): Case => ({
      name: `binary ${name}`,
      run: (L) => [
        f(L, rnd(L, [3, 4], 3, -2, 2), rnd(L, [3, 4], 4, -2, 2)),
        f(L, rnd(L, [2, 3, 4], 5, -2, 2), rnd(L, [4], 6, -2, 2)),
        f(L, rnd(L, [3, 1], 7, -2, 2), rnd(L, [1, 5], 8, -2, 2)),
      ],
    }),
  ),
  { name: "binary with a JS number", run: (L) => [L.np.add(rnd(L, [5], 9), 2.5), L.np.multiply(3, rnd(L, [2, 2], 10)), rnd(L, [4], 11).sub(1).div(4)] },
  {
    name: "int32 arithmetic (truncating division, comparisons, sums)",
    run: (L) => {
      const a = ints(L, [12], 21, -50, 50);
      const b = L.np.add(L.np.abs(ints(L, [12], 22, -9, 9)), 1);
      return [
        L.np.add(a, b),
        L.np.multiply(a, b),
        L.np.subtract(a, 3),
        L.np.maximum(a, b),
        L.np.less(a, b),
        L.np.sum(a),
        L.np.sum(L.np.reshape(a, [3, 4]), { axis: 0 }),
        L.np.divide(a, b),
        a.astype("float32"),
        rnd(L, [6], 23, -5, 5).astype("int32"),
      ];
    },
  },
  {
    name: "astype to bool and back",
    run: (L) => [
      L.np.floor(rnd(L, [8], 24, -2, 2)).astype("bool"),
      L.np.greater(rnd(L, [8], 25), 0).astype("float32"),
      L.np.greater(rnd(L, [8], 25), 0).astype("int32"),
    ],
  },
  { name: "broadcastTo", run: (L) => [L.np.broadcastTo(rnd(L, [3, 1], 30), [2, 3, 4]), L.np.broadcastTo(rnd(L, [], 31), [5])] },
  { name: "reshape", run: (L) => [L.np.reshape(rnd(L, [2, 6], 32), [3, 4]).mul(2), L.np.reshape(rnd(L, [2, 3, 2], 33), [12])] },
  { name: "transpose", run: (L) => [rnd(L, [3, 5], 34).T, L.np.transpose(rnd(L, [2, 3, 4], 35), [2, 0, 1]), L.np.transpose(rnd(L, [2, 3, 4], 36), [1, 0, 2])] },
  { name: "slice", run: (L) => [L.np.slice(rnd(L, [5, 6], 37), [1, 2], [4, 5]), L.np.slice(rnd(L, [8], 38), [3], [8])] },
  {
    name: "concatenate and stack",
    run: (L) => [
      L.np.concatenate([rnd(L, [2, 3], 39), rnd(L, [4, 3], 40)], 0),
      L.np.concatenate([rnd(L, [2, 3], 41), rnd(L, [2, 1], 42), rnd(L, [2, 2], 43)], 1),
      L.np.stack([rnd(L, [3], 44), rnd(L, [3], 45)], 1),
    ],
  },
  {
    name: "split and squeeze/expandDims",
    run: (L) => [...L.np.split(rnd(L, [6, 2], 46), 3, 0), L.np.expandDims(rnd(L, [3], 47), 0), L.np.squeeze(rnd(L, [1, 3, 1], 48))],
  },
  {
    name: "reductions sum / max / min / mean over axes",
    run: (L) => {
      const x = rnd(L, [3, 4, 5], 50, -3, 3);
      return [
        L.np.sum(x),
        L.np.sum(x, { axis: 1 }),
        L.np.sum(x, { axis: [0, 2] }),
        L.np.max(x, { axis: 2 }),
        L.np.min(x, { axis: 0 }),
        L.np.max(x),
        L.np.mean(x, { axis: -1, keepdims: true }),
        L.np.prod(rnd(L, [2, 3], 51, 0.5, 1.5), { axis: 1 }),
      ];
    },
  },
  {
    name: "long reduction (baked loop bound beyond 1000)",
    run: (L) => [L.np.sum(rnd(L, [3000], 52)), L.np.max(rnd(L, [2, 2500], 53), { axis: 1 })],
    atol: 2e-3,
  },
  {
    name: "two-stage reductions (more than 4096 elements per output)",
    run: (L) => {
      const x = rnd(L, [3, 50, 200], 54, -2, 2);
      return [
        L.np.sum(rnd(L, [100000], 55)),
        L.np.max(x, { axis: [1, 2] }),
        L.np.min(x, { axis: [0, 2] }),
        L.np.sum(x, { axis: [0, 1] }),
        L.jit((y: A) => L.np.sum(L.np.exp(y), { axis: [1, 2] }))(x),
      ];
    },
    atol: 5e-3,
    rtol: 1e-4,
  },
  {
    name: "argmax / argmin",
    run: (L) => [L.np.argmax(rnd(L, [4, 6], 54), { axis: 1 }), L.np.argmin(rnd(L, [4, 6], 55), { axis: 0 }), L.np.argmax(rnd(L, [10], 56))],
  },
  {
    name: "logSumExp, softmax, logSoftmax",
    run: (L) => [L.np.logSumExp(rnd(L, [3, 5], 57, -3, 3), { axis: 1 }), L.nn.softmax(rnd(L, [2, 4], 58, -3, 3)), L.nn.logSoftmax(rnd(L, [2, 4], 59, -3, 3))],
  },
  {
    name: "matmul (2-d, batched, broadcast batch, vector)",
    run: (L) => [
      L.np.matmul(rnd(L, [3, 4], 60), rnd(L, [4, 5], 61)),
      L.np.matmul(rnd(L, [2, 3, 4], 62), rnd(L, [2, 4, 2], 63)),
      L.np.matmul(rnd(L, [2, 1, 3, 4], 64), rnd(L, [3, 4, 2], 65)),
      L.np.matmul(rnd(L, [4], 66), rnd(L, [4, 3], 67)),
      L.np.dot(rnd(L, [5], 68), rnd(L, [5], 69)),
      L.np.outer(rnd(L, [3], 70), rnd(L, [2], 71)),
    ],
  },
  { name: "matmul with a long inner dimension", run: (L) => [L.np.matmul(rnd(L, [2, 1500], 72), rnd(L, [1500, 3], 73))], atol: 2e-3 },
  {
    name: "take (gather) with negative indices",
    run: (L) => {
      const idx = L.np.array([2, 0, -1, 1], { dtype: "int32" });
      return [
        L.np.take(rnd(L, [4, 3], 74), idx, 0),
        L.np.take(rnd(L, [2, 5], 75), idx, 1),
        L.np.take(
          rnd(L, [6], 76),
          L.np.array(
            [
              [0, 5],
              [3, 3],
            ],
            { dtype: "int32" },
          ),
          0,
        ),
      ];
    },
  },
  {
    name: "creation: zeros, ones, full, arange, linspace, eye",
    run: (L) => [
      L.np.zeros([2, 3]).add(1),
      L.np.ones([4]).mul(2),
      L.np.full([2, 2], 7).sub(1),
      L.np.arange(6).mul(2),
      L.np.linspace(0, 1, 5).add(0),
      L.np.eye(3).mul(3),
    ],
  },
  {
    name: "clip and norm",
    run: (L) => [
      L.np.clip(rnd(L, [8], 77, -3, 3), -1, 1),
      L.np.linalg.norm(rnd(L, [3, 4], 78)),
      L.np.std(rnd(L, [10], 79)),
      L.np.var(rnd(L, [2, 5], 80), { axis: 1 }),
    ],
  },
  {
    name: "nn activations and losses",
    run: (L) => {
      const x = rnd(L, [3, 4], 81, -3, 3);
      const labels = L.nn.oneHot(L.np.array([0, 3, 1], { dtype: "int32" }), 4);
      return [L.nn.relu(x), L.nn.gelu(x), L.nn.leakyRelu(x), L.losses.mse(x, rnd(L, [3, 4], 82)), L.losses.softmaxCrossEntropy(x, labels)];
    },
  },
  // ------------------------------------------------------------ transforms
  { name: "grad of an MLP loss", run: (L) => L.grad(mlpLoss(L))(mlpParams(L), rnd(L, [5, 4], 90), rnd(L, [5, 3], 91)) },
  { name: "valueAndGrad", run: (L) => L.valueAndGrad((x: A) => L.np.sum(L.np.sin(L.np.multiply(x, x))))(rnd(L, [6], 92, -2, 2)) },
  {
    name: "vjp",
    run: (L) => {
      const [y, back] = L.vjp((x: A) => L.np.tanh(L.np.matmul(x, x.T)), rnd(L, [3, 4], 93));
      return [y, back(rnd(L, [3, 3], 94))];
    },
  },
  { name: "jvp", run: (L) => L.jvp((x: A) => L.np.exp(L.np.sin(x)).sum({ axis: 0 }), [rnd(L, [3, 2], 95)], [rnd(L, [3, 2], 96)]) },
  {
    name: "hessianVectorProduct",
    run: (L) => L.hessianVectorProduct((x: A) => L.np.sum(L.np.multiply(L.np.power(x, 3), L.np.cos(x))))(rnd(L, [5], 97), rnd(L, [5], 98)),
    atol: 1e-3,
  },
  {
    name: "vmap",
    run: (L) => [
      L.vmap((x: A) => L.np.matmul(x, x.T).sum())(rnd(L, [4, 2, 3], 99)),
      L.vmap((x: A, y: A) => L.np.add(x, y), { inAxes: [0, null] })(rnd(L, [3, 4], 100), rnd(L, [4], 101)),
    ],
  },
  { name: "vmap of grad", run: (L) => L.vmap(L.grad((x: A) => L.np.sum(L.np.tanh(x))))(rnd(L, [3, 4], 102)) },
  {
    name: "jit (fused elementwise chain + reduction)",
    run: (L) => L.jit((x: A, y: A) => [L.np.sum(L.np.exp(L.np.sin(x).mul(y)), { axis: 1 }), L.np.tanh(x).add(y)])(rnd(L, [4, 5], 103), rnd(L, [4, 5], 104)),
  },
  {
    name: "jit of a sum of 40 arrays (more inputs than a shader can sample)",
    run: (L) =>
      L.jit((xs: A[]) => xs.reduce((acc, x, i) => L.np.add(acc, L.np.multiply(x, i)), L.np.zeros([6])))(
        Array.from({ length: 40 }, (_, i) => rnd(L, [6], 200 + i)),
      ),
    atol: 1e-3,
  },
  { name: "jit of grad of an MLP loss", run: (L) => L.jit(L.grad(mlpLoss(L)))(mlpParams(L), rnd(L, [5, 4], 105), rnd(L, [5, 3], 106)) },
  { name: "grad of jit", run: (L) => L.grad(L.jit((x: A) => L.np.sum(L.np.square(L.np.sin(x)))))(rnd(L, [7], 107)) },
  {
    name: "jacfwd and jacrev",
    run: (L) => [L.jacfwd((x: A) => L.np.sin(x).mul(x))(rnd(L, [3], 108)), L.jacrev((x: A) => L.np.matmul(x, x))(rnd(L, [2, 2], 109))],
  },
  {
    name: "grad through take, slice, concatenate (scatter_add, pad)",
    run: (L) =>
      L.grad((x: A) => L.np.sum(L.np.square(L.np.concatenate([L.np.take(x, L.np.array([0, 2, 2, -1], { dtype: "int32" }), 0), L.np.slice(x, [1], [3])]))))(
        rnd(L, [5], 110),
      ),
  },
  {
    name: "grad through max, where, abs",
    run: (L) =>
      L.grad((x: A) => L.np.add(L.np.max(x), L.np.sum(L.np.where(L.np.greater(x, 0), L.np.abs(x), L.np.square(x)))))(L.np.array([0.5, -1.5, 2, 0.25, -0.3])),
  },
  {
    name: "customVjp under grad",
    run: (L) => {
      const f = L.customVjp(
        (x: A) => L.np.sin(x),
        (x: A) => [L.np.sin(x), x],
        (res: A, ct: A) => [L.np.multiply(ct, L.np.cos(res))],
      );
      return L.grad((x: A) => L.np.sum(f(x)))(rnd(L, [4], 111));
    },
  },
  {
    name: "customJvp eager, under grad and under jit",
    run: (L) => {
      const softplus = L.customJvp(
        (x: A) => L.np.log1p(L.np.exp(x)),
        (primals: A[], tangents: A[]) => [L.np.log1p(L.np.exp(primals[0]!)), L.np.multiply(tangents[0]!, L.np.sigmoid(primals[0]!))],
      );
      const x = rnd(L, [5], 115, -3, 3);
      return [softplus(x), L.grad((y: A) => L.np.sum(softplus(y)))(x), L.jit((y: A) => softplus(y).mul(2))(x)];
    },
  },
  {
    name: "optimizer steps (adam) under jit",
    run: (L) => {
      const opt = L.optim.adam(0.01);
      let params = mlpParams(L);
      let state = opt.init(params);
      const x = rnd(L, [5, 4], 112);
      const y = rnd(L, [5, 3], 113);
      const step = L.jit((p: typeof params, s: typeof state) => {
        const g = L.grad(mlpLoss(L))(p, x, y);
        const [u, s2] = opt.update(g, s, p);
        return [L.optim.applyUpdates(p, u), s2] as const;
      });
      for (let i = 0; i < 3; i++) [params, state] = step(params, state) as [typeof params, typeof state];
      return params;
    },
    atol: 1e-3,
  },
  {
    name: "random numbers (PRNG on the CPU, same numbers on every backend)",
    run: (L) => [
      L.random.normal(L.random.key(0), [3, 2]),
      L.random.uniform(L.random.key(1), [4]),
      L.random.permutation(L.random.key(3), 6),
      L.random.bits(L.random.foldIn(L.random.key(4), 9), [3]),
    ],
    hostOutputs: true,
  },
  {
    // no GPU kernels yet: the convolution and window primitives read their GPU inputs back and run on the CPU
    name: "convolution and max pooling (run on the CPU), with gradients, eager and jitted",
    run: (L) => {
      const x = rnd(L, [2, 3, 6, 6], 120);
      const w = rnd(L, [4, 3, 3, 3], 121);
      const f = (w: A) => L.np.sum(L.lax.reduceWindow(L.nn.relu(L.lax.conv(x, w, [1, 1], "SAME")), -Infinity, "max", [1, 1, 2, 2], [1, 1, 2, 2], "VALID"));
      return [L.lax.conv(x, w, [2, 2], "SAME"), L.grad(f)(w), L.jit(L.grad(f))(w)];
    },
    hostOutputs: true,
    atol: 1e-3,
  },
  { name: "random numbers used in GPU arithmetic", run: (L) => L.np.add(L.random.normal(L.random.key(2), [3]), rnd(L, [3], 114)) },
];

/** The flattened outputs of a case as plain numbers (booleans as 0/1), with their dtypes and backends. */
export interface Flat {
  values: number[][];
  dtypes: string[];
  backends: string[];
}

export function flatten(L: L, out: Out): Flat {
  const leaves = L.tree.leaves(out as never) as unknown[];
  const values: number[][] = [];
  const dtypes: string[] = [];
  const backends: string[] = [];
  for (const leaf of leaves) {
    if (typeof leaf === "number") {
      values.push([leaf]);
      dtypes.push("number");
      backends.push("-");
      continue;
    }
    const a = leaf as A;
    values.push(Array.from(a.data(), Number));
    dtypes.push(a.dtype);
    backends.push(a.backend);
  }
  return { values, dtypes, backends };
}

/** Result of comparing a case across backends. */
export interface CaseResult {
  name: string;
  ok: boolean;
  message: string;
  maxError: number;
}

/** Runs a case on the CPU and on the GPU and compares. */
export function runCase(L: L, E: typeof Elementwise, c: Case): CaseResult {
  const fail = (message: string): CaseResult => ({ name: c.name, ok: false, message, maxError: NaN });
  let cpu: Flat;
  let gpu: Flat;
  try {
    L.setDefaultBackend("cpu");
    cpu = flatten(L, c.run(L, E));
    L.setDefaultBackend("gpu");
    if (L.getDefaultBackend() !== "gpu") return fail('setDefaultBackend("gpu") did not select the GPU');
    gpu = flatten(L, c.run(L, E));
  } catch (e) {
    return fail(`threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  } finally {
    L.setDefaultBackend("cpu");
  }
  if (cpu.values.length !== gpu.values.length) return fail(`${cpu.values.length} outputs on the CPU but ${gpu.values.length} on the GPU`);
  const atol = c.atol ?? 2e-4;
  const rtol = c.rtol ?? 2e-4;
  let maxError = 0;
  for (let k = 0; k < cpu.values.length; k++) {
    if (cpu.dtypes[k] !== gpu.dtypes[k]) return fail(`output ${k}: dtype ${cpu.dtypes[k]} on the CPU but ${gpu.dtypes[k]} on the GPU`);
    if (!c.hostOutputs && gpu.backends[k] !== "gpu" && gpu.backends[k] !== "-") return fail(`output ${k} is on ${gpu.backends[k]}, not on the GPU`);
    const a = cpu.values[k]!;
    const b = gpu.values[k]!;
    if (a.length !== b.length) return fail(`output ${k}: ${a.length} values on the CPU but ${b.length} on the GPU`);
    for (let i = 0; i < a.length; i++) {
      const err = Math.abs(a[i]! - b[i]!);
      if (!(err <= atol + rtol * Math.abs(a[i]!)) && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!)))
        return fail(`output ${k}[${i}]: CPU ${a[i]} vs GPU ${b[i]} (|diff| ${err} > ${atol} + ${rtol}·|cpu|)`);
      if (Number.isFinite(err)) maxError = Math.max(maxError, err);
    }
  }
  return { name: c.name, ok: true, message: "", maxError };
}
