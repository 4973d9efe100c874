/**
 * cotangent's implementations of the workloads, written as a user would write them.
 *
 * Every workload function goes through `wrap(...)`, which is the identity in eager mode
 * and `jit` in jit mode: the jit column needs no per-workload code. To keep a workload
 * out of the jit column, return `{ unsupported: "why" }` from its factory when
 * `mode === "jit"`.
 * @module
 */
import * as cot from "../../src/index.js";
import { checkpoint, grad, hessianVectorProduct, lax, losses, nn, np, optim, tree, valueAndGrad, vmap } from "../../src/index.js";
import type { Library } from "../columns.js";
import { linearizeJaxpr } from "../../src/transforms/ad.js";
import {
  type CaseTable,
  type CnnData,
  type DeepData,
  type MlpData,
  type PerExampleData,
  type RnnData,
  type SinChainData,
  type Unsupported,
  WORKLOADS,
} from "../workloads.js";

type A = np.Array;
type AnyFn = (...args: any[]) => any;
export type CotangentMode = "eager" | "jit" | "gpu";

/** Exports looked up at run time, so this file also works on a tree where they are not there yet. */
const later = cot as unknown as {
  jit?: (f: AnyFn, opts?: object) => AnyFn;
  setDefaultBackend?: (b: string) => void;
  getDefaultBackend?: () => string;
  threadCount?: () => number;
};

export async function load(mode: CotangentMode): Promise<Library | Unsupported> {
  let wrap: (f: AnyFn) => AnyFn = (f) => f;
  const jit = later.jit;
  if (mode === "jit") {
    if (typeof jit !== "function") return { unsupported: "jit is not exported from src/index.ts yet" };
    wrap = (f) => jit(f);
  }
  if (mode === "gpu") {
    // The GPU column: the default backend switched to "gpu", then the same cases, jitted.
    if (typeof later.setDefaultBackend !== "function" || typeof later.getDefaultBackend !== "function") {
      return { unsupported: "no GPU backend yet (setDefaultBackend is not exported)" };
    }
    const { warn } = console;
    console.warn = () => {};
    try {
      later.setDefaultBackend("gpu");
    } finally {
      console.warn = warn;
    }
    // setDefaultBackend falls back to "cpu" where no GPU context exists; do not time the CPU under a GPU label.
    if (later.getDefaultBackend() !== "gpu") return { unsupported: 'no GPU context on this machine (setDefaultBackend("gpu") fell back to the CPU)' };
    if (typeof jit === "function") wrap = (f) => jit(f);
  }
  const { readFileSync } = await import("node:fs");
  const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  const threads = later.threadCount?.() ?? 1;
  const notes =
    mode === "gpu"
      ? []
      : [
          `cotangent ${mode}: WebAssembly kernels on ${threads} thread${threads === 1 ? "" : "s"} (the calling thread${threads > 1 ? ` and ${threads - 1} worker${threads > 2 ? "s" : ""}` : " alone"}).`,
        ];
  if (mode === "jit") notes.push(rematResidualNote());
  return { cases: makeCases(wrap), versions: { cotangent: `${version} (working tree)` }, notes };
}

const mat = (data: Float32Array, shape: number[]): A => np.array(data, { shape });

/**
 * The memory checkpoint saves on the 20-layer MLP: the bytes of the residuals its
 * linearization keeps for the backward pass (the values stored between the forward
 * and the backward pass; the weights, which are kept anyway, are not counted), with
 * and without a checkpoint around each layer.
 */
function rematResidualNote(): string {
  const w = WORKLOADS.find((x) => x.id === "deep-grad")!;
  const d = w.data() as DeepData;
  const ws = d.ws.map((v) => mat(v, [d.width, d.width]));
  const x = mat(d.x, [d.batch, d.width]);
  const layer = (h: A, w: A): A => np.tanh(np.matmul(h, w));
  const bytes = (step: (h: A, w: A) => A): number =>
    linearizeJaxpr((ws: A[]) => np.sum(ws.reduce((h, v) => step(h, v), x)), ws)
      .consts.filter((c) => !ws.includes(c))
      .reduce((n, c) => n + c.size * 4, 0);
  const plainB = bytes(layer);
  const rematB = bytes(checkpoint(layer));
  const mib = (b: number) => (b / 2 ** 20).toFixed(2);
  return `checkpoint, 20-layer MLP (width ${d.width}, batch ${d.batch}): between the forward and the backward pass, grad keeps ${mib(plainB)} MiB of activations without checkpoint and ${mib(rematB)} MiB with a checkpoint around each layer (${(rematB / plainB).toFixed(2)}x; the ${mib(d.layers * d.width * d.width * 4)} MiB of weights not counted).`;
}

function makeCases(wrap: (f: AnyFn) => AnyFn): CaseTable {
  const matmulCase = (d: { n: number; a: Float32Array; b: Float32Array }) => {
    const a = mat(d.a, [d.n, d.n]);
    const b = mat(d.b, [d.n, d.n]);
    const f = wrap((a: A, b: A) => np.matmul(a, b));
    let out: A | undefined;
    return { run: () => void (out = f(a, b) as A), read: () => ({ c: out!.data() }) };
  };

  const chainF = (x: A) => np.sum(np.multiply(np.tanh(np.add(np.multiply(x, 2), 1)), np.exp(np.negative(np.square(x)))));

  return {
    "matmul-512": matmulCase,
    "matmul-1024": matmulCase,
    "matmul-2048": matmulCase,

    "sort-1e6": (d) => {
      const x = np.array(d.x);
      const f = wrap((v: A) => np.sort(v));
      let out: A | undefined;
      return { run: () => void (out = f(x) as A), read: () => ({ y: out!.data() }) };
    },

    "gather-vmap": (d) => {
      const x = mat(d.x, [d.batch, d.n]);
      const idx = np.array(d.idx, { shape: [d.batch, d.m], dtype: "int32" });
      const f = wrap(cot.vmap((row: A, i: A) => row.at(i).get()));
      let out: A | undefined;
      return { run: () => void (out = f(x, idx) as A), read: () => ({ y: out!.data() }) };
    },

    "gather-loop": (d) => {
      const rows = Array.from({ length: d.batch }, (_, b) => np.array(d.x.subarray(b * d.n, (b + 1) * d.n)));
      const idxs = Array.from({ length: d.batch }, (_, b) => np.array(d.idx.subarray(b * d.m, (b + 1) * d.m), { dtype: "int32" }));
      const f = wrap((row: A, i: A) => row.at(i).get());
      let outs: A[] = [];
      return {
        run: () => void (outs = rows.map((r, b) => f(r, idxs[b]!) as A)),
        read: () => {
          const y = new Float32Array(d.batch * d.m);
          outs.forEach((o, b) => y.set(o.data() as Float32Array, b * d.m));
          return { y };
        },
      };
    },

    "chain-1e6": (d) => {
      const x = np.array(d.x);
      const f = wrap(chainF);
      let out: A | undefined;
      return { run: () => void (out = f(x) as A), read: () => ({ value: out!.item() }) };
    },

    "chain-1e6-grad": (d) => {
      const x = np.array(d.x);
      const f = wrap(grad(chainF));
      let out: A | undefined;
      return { run: () => void (out = f(x) as A), read: () => ({ g: out!.data() }) };
    },

    "mlp-sgd": (d) => {
      const params = { w: d.w.map((w, l) => mat(w, [d.sizes[l]!, d.sizes[l + 1]!])), b: d.b.map((b) => np.array(b)) };
      const x = mat(d.x, [d.batch, d.sizes[0]!]);
      const y = mat(d.onehot, [d.batch, d.sizes[d.sizes.length - 1]!]);
      const step = wrap(makeSgdStep(d));
      let out: [A, Params, Params] | undefined;
      return {
        run: () => void (out = step(params, x, y) as [A, Params, Params]),
        read: () => ({ loss: out![0].item(), grads: interleave(out![1]), params: interleave(out![2]) }),
      };
    },

    "scalar50-grad": (d) => {
      const h = (x: A) => {
        for (let i = 0; i < d.steps; i++) x = np.add(np.multiply(np.sin(x), 1.01), 0.1);
        return x;
      };
      const x0 = np.array(d.x0);
      const f = wrap(grad(h));
      let out: A | undefined;
      return { run: () => void (out = f(x0) as A), read: () => ({ g: out!.item() }) };
    },

    "tanhAx-grad": (d) => {
      const a = mat(d.a, [d.n, d.n]);
      const x = np.array(d.x);
      const f = wrap(grad((x: A) => np.sum(np.tanh(np.matmul(a, x)))));
      let out: A | undefined;
      return { run: () => void (out = f(x) as A), read: () => ({ g: out!.data() }) };
    },

    "tanhAx-hvp": (d) => {
      const a = mat(d.a, [d.n, d.n]);
      const x = np.array(d.x);
      const v = np.array(d.v);
      const f = wrap(hessianVectorProduct((x: A) => np.sum(np.tanh(np.matmul(a, x)))));
      let out: A | undefined;
      return { run: () => void (out = f(x, v) as A), read: () => ({ h: out!.data() }) };
    },

    "conv-block-grad": (d) => {
      const x = mat(d.x, [d.N, 1, d.S, d.S]);
      const w1 = mat(d.w1, [d.C1, 1, 3, 3]);
      const w2 = mat(d.w2, [d.C2, d.C1, 3, 3]);
      const loss = (w1: A, w2: A) => np.sum(nn.relu(lax.conv(nn.relu(lax.conv(x, w1, [1, 1], "SAME")), w2, [2, 2], "SAME")));
      const f = wrap(grad(loss, { argnums: [0, 1] }));
      let out: [A, A] | undefined;
      return { run: () => void (out = f(w1, w2) as [A, A]), read: () => ({ g1: out![0].data(), g2: out![1].data() }) };
    },
    "cnn-step": (d) => cnnStepCase(wrap, d),
    "rnn-grad": (d) => rnnCase(wrap, d, true),
    "rnn-grad-unrolled": (d) => rnnCase(wrap, d, false),
    "deep-grad": (d) => deepCase(wrap, d, false),
    "deep-grad-remat": (d) => deepCase(wrap, d, true),
    "perexample-grad": (d) => perExampleCase(wrap, d),
    "sinchain500-grad": (d) => sinChainCase(wrap, d),

    "cholesky-solve-256": (d) => {
      const a = np.array(d.a, { shape: [d.n, d.n], dtype: "float64" });
      const b = np.array(d.b, { dtype: "float64" });
      const f = wrap((a: A, b: A) => {
        const l = np.linalg.cholesky(a);
        return np.linalg.solveTriangular(l, np.linalg.solveTriangular(l, b, { lower: true }), { lower: true, transA: true });
      });
      let out: A | undefined;
      return { run: () => void (out = f(a, b) as A), read: () => ({ x: out!.data() }) };
    },
  };
}

/** One training step of examples/cnn.ts's CNN: loss, gradients and an Adam update, from the given Adam state. */
function cnnStepCase(wrap: (f: AnyFn) => AnyFn, d: CnnData) {
  const [w1, b1, w2, b2, wo, bo] = d.params;
  const feat = d.C2 * (d.S / 4) ** 2;
  const shapes = [[d.C1, 1, 5, 5], [d.C1], [d.C2, d.C1, 5, 5], [d.C2], [d.classes, feat], [d.classes]];
  const tree6 = (xs: Float32Array[]) => {
    const [a, b, c, e, f, g] = xs.map((x, i) => mat(x, shapes[i]!));
    return { conv1: { weight: a!, bias: b! }, conv2: { weight: c!, bias: e! }, out: { weight: f!, bias: g! } };
  };
  type Params = ReturnType<typeof tree6>;
  const params = tree6([w1!, b1!, w2!, b2!, wo!, bo!]);
  const state: optim.AdamState = { count: np.array(d.adam.count, { dtype: "int32" }), mu: tree6(d.mu), nu: tree6(d.nu) };
  const x = mat(d.x, [d.batch, d.S * d.S]);
  const labels = np.array(d.labels, { dtype: "int32" });
  const opt = optim.adam(d.adam.lr, { b1: d.adam.b1, b2: d.adam.b2, eps: d.adam.eps });
  const model = (p: Params, images: A): A => {
    const h = np.reshape(images, [images.shape[0]!, 1, d.S, d.S]);
    const h1 = nn.maxPool2d(nn.relu(nn.conv2d.apply(p.conv1, h, { padding: 2 })), 2);
    const h2 = nn.maxPool2d(nn.relu(nn.conv2d.apply(p.conv2, h1, { padding: 2 })), 2);
    return nn.linear.apply(p.out, np.reshape(h2, [h2.shape[0]!, feat]));
  };
  const lossFn = (p: Params, x: A, y: A): A => losses.softmaxCrossEntropy(model(p, x), y);
  const step = wrap((p: Params, s: optim.AdamState, x: A, y: A) => {
    const [loss, grads] = valueAndGrad(lossFn)(p, x, y);
    const [updates, next] = opt.update(grads, s, p);
    return { params: optim.applyUpdates(p, updates), state: next, loss };
  });
  let out: { params: Params; loss: A } | undefined;
  return {
    run: () => void (out = step(params, state, x, labels) as { params: Params; loss: A }),
    read: () => {
      const q = out!.params;
      return { loss: out!.loss.item(), params: [q.conv1.weight, q.conv1.bias, q.conv2.weight, q.conv2.bias, q.out.weight, q.out.bias].map((t) => t.data()) };
    },
  };
}

/** The Elman RNN's loss (sum of the hidden states) and gradient, over time with lax.scan or with a JS loop. */
function rnnCase(wrap: (f: AnyFn) => AnyFn, d: RnnData, useScan: boolean) {
  const p = { W: mat(d.W, [d.H, d.H]), U: mat(d.U, [d.H, d.I]) };
  const cell = (q: typeof p, h: A, x: A): A => np.tanh(np.add(np.matmul(q.W, h), np.matmul(q.U, x)));
  const h0 = np.zeros([d.H]);
  const xs = mat(d.xs, [d.T, d.I]);
  const steps = Array.from({ length: d.T }, (_, t) => np.array(d.xs.subarray(t * d.I, (t + 1) * d.I)));
  const loss = useScan
    ? (q: typeof p, xs: A): A => np.sum(lax.scan((h: A, x: A) => [cell(q, h, x), cell(q, h, x)], h0, xs)[1])
    : (q: typeof p, xs: A[]): A => {
        let h = h0;
        let total = np.zeros([]);
        for (const x of xs) {
          h = cell(q, h, x);
          total = np.add(total, np.sum(h));
        }
        return total;
      };
  const f = wrap(valueAndGrad(loss));
  let out: [A, typeof p] | undefined;
  return {
    run: () => void (out = f(p, useScan ? xs : steps) as [A, typeof p]),
    read: () => ({ loss: out![0].item(), gW: out![1].W.data(), gU: out![1].U.data() }),
  };
}

/** The gradient of a deep tanh MLP's summed output, each layer under checkpoint when `remat`. */
function deepCase(wrap: (f: AnyFn) => AnyFn, d: DeepData, remat: boolean) {
  const ws = d.ws.map((w) => mat(w, [d.width, d.width]));
  const x = mat(d.x, [d.batch, d.width]);
  const layer = (h: A, w: A): A => np.tanh(np.matmul(h, w));
  const step = remat ? checkpoint(layer) : layer;
  const f = wrap(grad((ws: A[]) => np.sum(ws.reduce((h, w) => step(h, w), x))));
  let out: A[] | undefined;
  return { run: () => void (out = f(ws) as A[]), read: () => ({ grads: out!.map((g) => g.data()) }) };
}

/** Per-example gradients of an MLP's softmax cross-entropy: vmap(grad) over the examples, the parameters shared. */
function perExampleCase(wrap: (f: AnyFn) => AnyFn, d: PerExampleData) {
  const p = { w1: mat(d.w1, [d.din, d.dh]), b1: np.array(d.b1), w2: mat(d.w2, [d.dh, d.dout]), b2: np.array(d.b2) };
  const x = mat(d.x, [d.batch, d.din]);
  const y = mat(d.onehot, [d.batch, d.dout]);
  const loss = (q: typeof p, x: A, y: A): A => {
    const z = np.add(np.matmul(np.maximum(np.add(np.matmul(x, q.w1), q.b1), 0), q.w2), q.b2);
    return np.subtract(np.logSumExp(z), np.sum(np.multiply(y, z)));
  };
  const f = wrap(vmap(grad(loss), { inAxes: [null, 0, 0] }));
  let out: typeof p | undefined;
  return { run: () => void (out = f(p, x, y) as typeof p), read: () => ({ grads: [out!.w1, out!.b1, out!.w2, out!.b2].map((g) => g.data()) }) };
}

/** The 500-step elementwise chain's value and gradient. */
function sinChainCase(wrap: (f: AnyFn) => AnyFn, d: SinChainData) {
  const x = np.array(d.x);
  const f = wrap(
    valueAndGrad((x: A) => {
      for (let i = 0; i < d.steps; i++) x = np.add(np.multiply(np.sin(x), 1.01), 0.1);
      return np.sum(x);
    }),
  );
  let out: [A, A] | undefined;
  return { run: () => void (out = f(x) as [A, A]), read: () => ({ value: out![0].item(), g: out![1].data() }) };
}

interface Params {
  w: A[];
  b: A[];
}

/** SGD step returning `[loss, grads, newParams]`, the loss being softmax cross-entropy. */
function makeSgdStep(d: MlpData) {
  const layers = d.sizes.length - 1;
  const loss = (p: Params, x: A, onehot: A): A => {
    let h = x;
    for (let l = 0; l < layers; l++) {
      const z = np.add(np.matmul(h, p.w[l]!), p.b[l]!);
      h = l < layers - 1 ? np.maximum(z, 0) : z;
    }
    const lse = np.logSumExp(h, { axis: 1 });
    return np.mean(np.subtract(lse, np.sum(np.multiply(onehot, h), { axis: 1 })));
  };
  const vg = valueAndGrad(loss);
  return (p: Params, x: A, onehot: A) => {
    const [value, g] = vg(p, x, onehot) as [A, Params];
    const next = tree.map((pv: A, gv: A) => np.subtract(pv, np.multiply(gv, d.lr)), p, g) as Params;
    return [value, g, next];
  };
}

function interleave(p: Params): Float32Array[] {
  return p.w.flatMap((w, l) => [w.data() as Float32Array, p.b[l]!.data() as Float32Array]);
}
