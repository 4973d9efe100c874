/**
 * jax-js (@jax-js/jax) on its Wasm backend, eager and jit. jax-js ops consume their
 * arguments (reference counting), so inputs are passed as `x.ref`. Its arrays are lazy:
 * a call is only done once the result is realized, so each timed call ends with
 * `blockUntilReady` on array results (no copy) or `dataSync()` on scalar results.
 * In Node there is no global `Worker`, so jax-js's Wasm backend runs on one thread.
 * @module
 */
import { blockUntilReady, defaultDevice, grad, init, jit, jvp, lax, nn, numpy as np, tree, valueAndGrad, vmap } from "@jax-js/jax";
import type { Array as JArray } from "@jax-js/jax";
import type { Library } from "../columns.js";
import { packageVersion } from "../harness.js";
import type { Case, CaseTable, MlpData, OutputMap, RnnData, Unsupported, WorkloadId } from "../workloads.js";

type AnyFn = (...args: any[]) => any;
export type JaxMode = "eager" | "jit";

export async function load(mode: JaxMode): Promise<Library | Unsupported> {
  // Node 20 has no WebGPU; init() with no argument would probe it.
  const devices = await init("wasm");
  if (!devices.includes("wasm")) return { unsupported: `jax-js could not start its wasm backend (got ${devices.join(", ")})` };
  defaultDevice("wasm");
  const wrap: (f: AnyFn) => AnyFn = mode === "jit" ? (f) => jit(f) : (f) => f;
  return {
    cases: makeCases(wrap),
    versions: { "@jax-js/jax": packageVersion("@jax-js/jax") },
    notes: [
      "jax-js: wasm backend, single-threaded in Node (no global Worker); array results are awaited with blockUntilReady, scalar results read with dataSync.",
    ],
  };
}

const mat = (data: Float32Array, shape: number[]): JArray => np.array(data, { shape });

/**
 * A case whose call returns a pytree of jax-js arrays. Array results are awaited
 * (async run); a single scalar result is read synchronously, which is cheaper than
 * a promise for microsecond-scale calls.
 */
function jaxCase<W extends WorkloadId>(call: () => unknown, read: (out: any) => OutputMap[W], scalar: boolean, inputs: JArray[]): Case<OutputMap[W]> {
  let out: unknown;
  let value = NaN;
  const drop = () => {
    if (out !== undefined) tree.dispose(out as never);
    out = undefined;
  };
  if (scalar) {
    return {
      run: () => void (value = (call() as JArray).dataSync()[0]!),
      read: () => read(value),
      dispose: () => inputs.forEach((x) => x.dispose()),
    };
  }
  return {
    run: async () => {
      drop();
      out = call();
      await blockUntilReady(out as never);
    },
    read: () => read(out),
    dispose: () => {
      drop();
      inputs.forEach((x) => x.dispose());
    },
  };
}

/** Copies an array's data without giving up our reference. */
const peek = (x: JArray): Float32Array => x.ref.dataSync() as Float32Array;

function makeCases(wrap: (f: AnyFn) => AnyFn): CaseTable {
  const matmulCase = (d: { n: number; a: Float32Array; b: Float32Array }) => {
    const a = mat(d.a, [d.n, d.n]);
    const b = mat(d.b, [d.n, d.n]);
    const f = wrap((a: JArray, b: JArray) => np.matmul(a, b));
    return jaxCase<"matmul-512" | "matmul-1024">(
      () => f(a.ref, b.ref),
      (c: JArray) => ({ c: peek(c) }),
      false,
      [a, b],
    );
  };
  // sum(tanh(2x+1) * exp(-x^2)); each use of x but the last takes a new reference.
  const chainF = (x: JArray) => np.sum(np.tanh(x.ref.mul(2).add(1)).mul(np.exp(x.ref.mul(x).neg())));

  return {
    "matmul-512": matmulCase,
    "matmul-1024": matmulCase,
    "matmul-2048": matmulCase,

    "chain-1e6": (d) => {
      const x = np.array(d.x);
      const f = wrap(chainF);
      return jaxCase<"chain-1e6">(
        () => f(x.ref),
        (value: number) => ({ value }),
        true,
        [x],
      );
    },

    "chain-1e6-grad": (d) => {
      const x = np.array(d.x);
      const f = wrap(grad(chainF));
      return jaxCase<"chain-1e6-grad">(
        () => f(x.ref),
        (g: JArray) => ({ g: peek(g) }),
        false,
        [x],
      );
    },

    "mlp-sgd": (d) => {
      const params: Params = { w: d.w.map((w, l) => mat(w, [d.sizes[l]!, d.sizes[l + 1]!])), b: d.b.map((b) => np.array(b)) };
      const x = mat(d.x, [d.batch, d.sizes[0]!]);
      const y = mat(d.onehot, [d.batch, d.sizes[d.sizes.length - 1]!]);
      const step = wrap(makeSgdStep(d));
      const refs = (p: Params): Params => ({ w: p.w.map((a) => a.ref), b: p.b.map((a) => a.ref) });
      const il = (p: Params) => p.w.flatMap((w, l) => [peek(w), peek(p.b[l]!)]);
      return jaxCase<"mlp-sgd">(
        () => step(refs(params), x.ref, y.ref),
        ([loss, g, next]: [JArray, Params, Params]) => ({ loss: peek(loss)[0]!, grads: il(g), params: il(next) }),
        false,
        [...params.w, ...params.b, x, y],
      );
    },

    "scalar50-grad": (d) => {
      const h = (x: JArray) => {
        for (let i = 0; i < d.steps; i++) x = np.sin(x).mul(1.01).add(0.1);
        return x;
      };
      const x0 = np.array(d.x0);
      const f = wrap(grad(h));
      return jaxCase<"scalar50-grad">(
        () => f(x0.ref),
        (g: number) => ({ g }),
        true,
        [x0],
      );
    },

    "tanhAx-grad": (d) => {
      const a = mat(d.a, [d.n, d.n]);
      const x = np.array(d.x);
      const f = wrap(grad((x: JArray) => np.sum(np.tanh(np.matmul(a.ref, x)))));
      return jaxCase<"tanhAx-grad">(
        () => f(x.ref),
        (g: JArray) => ({ g: peek(g) }),
        false,
        [a, x],
      );
    },

    "tanhAx-hvp": (d) => {
      const a = mat(d.a, [d.n, d.n]);
      const x = np.array(d.x);
      const v = np.array(d.v);
      const g = grad((x: JArray) => np.sum(np.tanh(np.matmul(a.ref, x))));
      // Forward-over-reverse, as JAX's documentation writes hvp: jvp of grad.
      const f = wrap((x: JArray, v: JArray) => {
        const [gx, hv] = jvp(g, [x], [v]) as [JArray, JArray];
        gx.dispose();
        return hv;
      });
      return jaxCase<"tanhAx-hvp">(
        () => f(x.ref, v.ref),
        (h: JArray) => ({ h: peek(h) }),
        false,
        [a, x, v],
      );
    },

    "conv-block-grad": (d) => {
      const x = mat(d.x, [d.N, 1, d.S, d.S]);
      const w1 = mat(d.w1, [d.C1, 1, 3, 3]);
      const w2 = mat(d.w2, [d.C2, d.C1, 3, 3]);
      const loss = (w1: JArray, w2: JArray) => np.sum(nn.relu(lax.conv(nn.relu(lax.conv(x.ref, w1, [1, 1], "SAME")), w2, [2, 2], "SAME")));
      const f = wrap(grad(loss, { argnums: [0, 1] }));
      return jaxCase<"conv-block-grad">(
        () => f(w1.ref, w2.ref),
        ([g1, g2]: [JArray, JArray]) => ({ g1: peek(g1), g2: peek(g2) }),
        false,
        [x, w1, w2],
      );
    },
    // jax-js has no scan: both RNN rows are the JS loop over time (unrolled under jit)
    "rnn-grad": (d) => rnnCase(wrap, d),
    "rnn-grad-unrolled": (d) => rnnCase(wrap, d),

    "perexample-grad": (d) => {
      type P = { w1: JArray; b1: JArray; w2: JArray; b2: JArray };
      const p: P = { w1: mat(d.w1, [d.din, d.dh]), b1: np.array(d.b1), w2: mat(d.w2, [d.dh, d.dout]), b2: np.array(d.b2) };
      const x = mat(d.x, [d.batch, d.din]);
      const y = mat(d.onehot, [d.batch, d.dout]);
      const loss = (q: P, x: JArray, y: JArray): JArray => {
        const z = np.matmul(nn.relu(np.matmul(x, q.w1).add(q.b1)), q.w2).add(q.b2);
        return nn.logsumexp(z.ref).sub(np.sum(y.mul(z)));
      };
      const f = wrap(vmap(grad(loss), [null, 0, 0]));
      return jaxCase<"perexample-grad">(
        () => f({ w1: p.w1.ref, b1: p.b1.ref, w2: p.w2.ref, b2: p.b2.ref }, x.ref, y.ref),
        (g: P) => ({ grads: [peek(g.w1), peek(g.b1), peek(g.w2), peek(g.b2)] }),
        false,
        [p.w1, p.b1, p.w2, p.b2, x, y],
      );
    },

    "sinchain500-grad": (d) => {
      const x = np.array(d.x);
      const f = wrap(
        valueAndGrad((x: JArray) => {
          for (let i = 0; i < d.steps; i++) x = np.sin(x).mul(1.01).add(0.1);
          return np.sum(x);
        }),
      );
      return jaxCase<"sinchain500-grad">(
        () => f(x.ref),
        ([v, g]: [JArray, JArray]) => ({ value: peek(v)[0]!, g: peek(g) }),
        false,
        [x],
      );
    },
  };
}

function rnnCase(wrap: (f: AnyFn) => AnyFn, d: RnnData) {
  const W = mat(d.W, [d.H, d.H]);
  const U = mat(d.U, [d.H, d.I]);
  const steps = Array.from({ length: d.T }, (_, t) => np.array(d.xs.slice(t * d.I, (t + 1) * d.I)));
  const loss = (p: { W: JArray; U: JArray }, xs: JArray[]): JArray => {
    let h = np.zeros([d.H]);
    let total = np.zeros([]);
    xs.forEach((x, t) => {
      const last = t === xs.length - 1;
      h = np.tanh(np.matmul(last ? p.W : p.W.ref, h).add(np.matmul(last ? p.U : p.U.ref, x)));
      total = total.add(np.sum(h.ref));
    });
    h.dispose();
    return total;
  };
  const f = wrap(valueAndGrad(loss));
  return jaxCase<"rnn-grad">(
    () =>
      f(
        { W: W.ref, U: U.ref },
        steps.map((x) => x.ref),
      ),
    ([l, g]: [JArray, { W: JArray; U: JArray }]) => ({ loss: peek(l)[0]!, gW: peek(g.W), gU: peek(g.U) }),
    false,
    [W, U, ...steps],
  );
}

interface Params {
  w: JArray[];
  b: JArray[];
}

function makeSgdStep(d: MlpData) {
  const layers = d.sizes.length - 1;
  const loss = (p: Params, x: JArray, onehot: JArray): JArray => {
    let h = x;
    for (let l = 0; l < layers; l++) {
      const z = np.matmul(h, p.w[l]!).add(p.b[l]!);
      h = l < layers - 1 ? nn.relu(z) : z;
    }
    const lse = nn.logsumexp(h.ref, 1);
    return np.mean(lse.sub(np.sum(onehot.mul(h), 1)));
  };
  const vg = valueAndGrad(loss);
  return (p: Params, x: JArray, onehot: JArray) => {
    const keep: Params = { w: p.w.map((a) => a.ref), b: p.b.map((a) => a.ref) };
    const [value, g] = vg(p, x, onehot) as [JArray, Params];
    const upd = (pv: JArray, gv: JArray) => pv.sub(gv.ref.mul(d.lr));
    const next: Params = { w: keep.w.map((pv, l) => upd(pv, g.w[l]!)), b: keep.b.map((pv, l) => upd(pv, g.b[l]!)) };
    return [value, g, next];
  };
}
