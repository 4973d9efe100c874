/**
 * TensorFlow.js (the @tensorflow/tfjs umbrella, whose gradients are registered) on its
 * `cpu` backend (JavaScript kernels) and `wasm` backend (XNNPACK; in Node it loads the
 * SIMD build and runs on one thread). Both backends compute eagerly and synchronously,
 * so a timed call ends when the op returns; results are freed on the next call.
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { Library } from "../columns.js";
import { packageVersion } from "../harness.js";
import type { Case, CaseTable, MlpData, OutputMap, Unsupported, WorkloadId } from "../workloads.js";

export type TfBackend = "cpu" | "wasm";

/** Runs `f` with console output silenced (tfjs greets Node users with an advert for tfjs-node). */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const { log, warn, info } = console;
  console.log = console.warn = console.info = () => {};
  try {
    return await f();
  } finally {
    Object.assign(console, { log, warn, info });
  }
}

export async function load(backend: TfBackend): Promise<Library | Unsupported> {
  if (backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  const ok = await quietly(async () => {
    const set = await tf.setBackend(backend);
    await tf.ready();
    tf.tidy(() => tf.add(1, 1).dataSync()); // the first op prints the advert
    return set;
  });
  if (!ok || tf.getBackend() !== backend) return { unsupported: `tfjs could not start its ${backend} backend` };
  const notes: string[] = [];
  if (backend === "wasm") {
    const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
    const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
    notes.push(`tfjs wasm: SIMD ${simd ? "on" : "off"}, multithreading ${threads ? "on" : "off"}.`);
  }
  const versions: Record<string, string> = { "@tensorflow/tfjs": tf.version.tfjs, "@tensorflow/tfjs-core": tf.version["tfjs-core"] ?? "unknown" };
  if (backend === "wasm") versions["@tensorflow/tfjs-backend-wasm"] = packageVersion("@tensorflow/tfjs-backend-wasm");
  return { cases: makeCases(), versions, notes };
}

/** A case around a tidy call returning tensors; the previous call's tensors are freed first. */
function tfCase<W extends WorkloadId>(call: () => tf.TensorContainer, read: (out: any) => OutputMap[W], inputs: tf.Tensor[]): Case<OutputMap[W]> {
  let out: tf.TensorContainer | undefined;
  const drop = () => {
    if (out !== undefined) tf.dispose(out);
    out = undefined;
  };
  return {
    run: () => {
      drop();
      out = tf.tidy(call);
    },
    read: () => read(out),
    dispose: () => {
      drop();
      tf.dispose(inputs);
    },
  };
}

const vec = (t: tf.Tensor) => t.dataSync() as Float32Array;
const scalar = (t: tf.Tensor) => t.dataSync()[0]!;

function makeCases(): CaseTable {
  const matmulCase = (d: { n: number; a: Float32Array; b: Float32Array }) => {
    const a = tf.tensor2d(d.a, [d.n, d.n]);
    const b = tf.tensor2d(d.b, [d.n, d.n]);
    return tfCase<"matmul-512" | "matmul-1024">(() => tf.matMul(a, b), (c: tf.Tensor) => ({ c: vec(c) }), [a, b]);
  };
  const chainF = (x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.add(tf.mul(x, 2), 1)), tf.exp(tf.neg(tf.square(x)))));
  const tanhAx = (a: tf.Tensor2D, n: number) => (x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(a, tf.reshape(x, [n, 1]))));

  return {
    "matmul-512": matmulCase,
    "matmul-1024": matmulCase,
    "matmul-2048": matmulCase,

    "chain-1e6": (d) => {
      const x = tf.tensor1d(d.x);
      return tfCase<"chain-1e6">(() => chainF(x), (s: tf.Tensor) => ({ value: scalar(s) }), [x]);
    },

    "chain-1e6-grad": (d) => {
      const x = tf.tensor1d(d.x);
      const g = tf.grad(chainF);
      return tfCase<"chain-1e6-grad">(() => g(x), (t: tf.Tensor) => ({ g: vec(t) }), [x]);
    },

    "mlp-sgd": (d) => {
      const w = d.w.map((v, l) => tf.tensor2d(v, [d.sizes[l]!, d.sizes[l + 1]!]));
      const b = d.b.map((v) => tf.tensor1d(v));
      const x = tf.tensor2d(d.x, [d.batch, d.sizes[0]!]);
      const y = tf.tensor2d(d.onehot, [d.batch, d.sizes[d.sizes.length - 1]!]);
      const step = makeSgdStep(d, x, y);
      const params = w.flatMap((wl, l) => [wl, b[l]!]);
      return tfCase<"mlp-sgd">(
        () => step(params),
        (o: { loss: tf.Tensor; grads: tf.Tensor[]; params: tf.Tensor[] }) => ({ loss: scalar(o.loss), grads: o.grads.map(vec), params: o.params.map(vec) }),
        [...params, x, y],
      );
    },

    "scalar50-grad": (d) => {
      const h = (x: tf.Tensor) => {
        for (let i = 0; i < d.steps; i++) x = tf.add(tf.mul(tf.sin(x), 1.01), 0.1);
        return x;
      };
      const x0 = tf.scalar(d.x0);
      const g = tf.grad(h);
      return tfCase<"scalar50-grad">(() => g(x0), (t: tf.Tensor) => ({ g: scalar(t) }), [x0]);
    },

    "tanhAx-grad": (d) => {
      const a = tf.tensor2d(d.a, [d.n, d.n]);
      const x = tf.tensor1d(d.x);
      const g = tf.grad(tanhAx(a, d.n));
      return tfCase<"tanhAx-grad">(() => g(x), (t: tf.Tensor) => ({ g: vec(t) }), [a, x]);
    },

    "perexample-grad": (d) => {
      // tfjs has no vmap: a loop of one gradient per example.
      const params = [tf.tensor2d(d.w1, [d.din, d.dh]), tf.tensor1d(d.b1), tf.tensor2d(d.w2, [d.dh, d.dout]), tf.tensor1d(d.b2)];
      const xs = Array.from({ length: d.batch }, (_, e) => tf.tensor2d(d.x.subarray(e * d.din, (e + 1) * d.din), [1, d.din]));
      const ys = Array.from({ length: d.batch }, (_, e) => tf.tensor2d(d.onehot.subarray(e * d.dout, (e + 1) * d.dout), [1, d.dout]));
      const lossOf = (x: tf.Tensor, y: tf.Tensor) => (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Scalar => {
        const z = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w1 as tf.Tensor2D), b1)) as tf.Tensor2D, w2 as tf.Tensor2D), b2);
        return tf.sub(tf.logSumExp(z), tf.sum(tf.mul(y, z))) as tf.Scalar;
      };
      const gs = xs.map((x, e) => tf.grads(lossOf(x, ys[e]!)));
      return tfCase<"perexample-grad">(
        () => {
          const per = gs.map((g) => g(params));
          return [0, 1, 2, 3].map((k) => tf.stack(per.map((p) => p[k]!)));
        },
        (g: tf.Tensor[]) => ({ grads: g.map(vec) }),
        [...params, ...xs, ...ys],
      );
    },

    "sinchain500-grad": (d) => {
      const x = tf.tensor1d(d.x);
      const vg = tf.valueAndGrad((x: tf.Tensor) => {
        for (let i = 0; i < d.steps; i++) x = tf.add(tf.mul(tf.sin(x), 1.01), 0.1);
        return tf.sum(x) as tf.Scalar;
      });
      return tfCase<"sinchain500-grad">(() => { const r = vg(x); return [r.value, r.grad]; }, ([v, g]: tf.Tensor[]) => ({ value: scalar(v!), g: vec(g!) }), [x]);
    },

    "tanhAx-hvp": (d) => {
      // tfjs has no forward mode (no jvp). The only route is reverse-over-reverse,
      // grad(x => <grad f(x), v>); try it and report what happens.
      const a = tf.tensor2d(d.a, [d.n, d.n]);
      const x = tf.tensor1d(d.x);
      const v = tf.tensor1d(d.v);
      const g = tf.grad(tanhAx(a, d.n));
      const hvp = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(g(x), v)));
      try {
        tf.tidy(() => hvp(x));
      } catch (e) {
        tf.dispose([a, x, v]);
        return { unsupported: `cannot compute: no jvp (forward mode); reverse-over-reverse tf.grad(tf.grad(f)) throws "${(e as Error).message.split(".")[0]}."` };
      }
      return tfCase<"tanhAx-hvp">(() => hvp(x), (t: tf.Tensor) => ({ h: vec(t) }), [a, x, v]);
    },
  };
}

function makeSgdStep(d: MlpData, x: tf.Tensor, onehot: tf.Tensor) {
  const layers = d.sizes.length - 1;
  // params: [w1, b1, w2, b2, w3, b3]
  const loss = (...p: tf.Tensor[]): tf.Scalar => {
    let h = x;
    for (let l = 0; l < layers; l++) {
      const z = tf.add(tf.matMul(h as tf.Tensor2D, p[2 * l] as tf.Tensor2D), p[2 * l + 1]!);
      h = l < layers - 1 ? tf.relu(z) : z;
    }
    return tf.mean(tf.sub(tf.logSumExp(h, 1), tf.sum(tf.mul(onehot, h), 1))) as tf.Scalar;
  };
  const vg = tf.valueAndGrads(loss);
  return (params: tf.Tensor[]) => {
    const { value, grads } = vg(params);
    const next = params.map((p, i) => tf.sub(p, tf.mul(grads[i]!, d.lr)));
    return { loss: value, grads, params: next };
  };
}
