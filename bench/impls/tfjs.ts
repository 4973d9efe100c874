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
import type { Case, CaseTable, CnnData, MlpData, OutputMap, Unsupported, WorkloadId } from "../workloads.js";

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
  if (backend === "wasm") {
    notes.push(
      "tfjs wasm: its backend has no Conv2DBackpropFilter kernel, so the W8 and cnn-step kernel gradients come from a tf.customGrad convolution whose filter gradient is a tf.conv2d of the transposed input with the transposed output gradient (dilated by the stride); the input gradient is tf.conv2dTranspose.",
    );
  }
  return { cases: makeCases(backend), versions, notes };
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

function makeCases(backend: TfBackend): CaseTable {
  const matmulCase = (d: { n: number; a: Float32Array; b: Float32Array }) => {
    const a = tf.tensor2d(d.a, [d.n, d.n]);
    const b = tf.tensor2d(d.b, [d.n, d.n]);
    return tfCase<"matmul-512" | "matmul-1024">(
      () => tf.matMul(a, b),
      (c: tf.Tensor) => ({ c: vec(c) }),
      [a, b],
    );
  };
  const chainF = (x: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.add(tf.mul(x, 2), 1)), tf.exp(tf.neg(tf.square(x)))));
  const tanhAx = (a: tf.Tensor2D, n: number) => (x: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(a, tf.reshape(x, [n, 1]))));

  return {
    "matmul-512": matmulCase,
    "matmul-1024": matmulCase,
    "matmul-2048": matmulCase,

    "chain-1e6": (d) => {
      const x = tf.tensor1d(d.x);
      return tfCase<"chain-1e6">(
        () => chainF(x),
        (s: tf.Tensor) => ({ value: scalar(s) }),
        [x],
      );
    },

    "chain-1e6-grad": (d) => {
      const x = tf.tensor1d(d.x);
      const g = tf.grad(chainF);
      return tfCase<"chain-1e6-grad">(
        () => g(x),
        (t: tf.Tensor) => ({ g: vec(t) }),
        [x],
      );
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
      return tfCase<"scalar50-grad">(
        () => g(x0),
        (t: tf.Tensor) => ({ g: scalar(t) }),
        [x0],
      );
    },

    "tanhAx-grad": (d) => {
      const a = tf.tensor2d(d.a, [d.n, d.n]);
      const x = tf.tensor1d(d.x);
      const g = tf.grad(tanhAx(a, d.n));
      return tfCase<"tanhAx-grad">(
        () => g(x),
        (t: tf.Tensor) => ({ g: vec(t) }),
        [a, x],
      );
    },

    "perexample-grad": (d) => {
      // tfjs has no vmap: a loop of one gradient per example.
      const params = [tf.tensor2d(d.w1, [d.din, d.dh]), tf.tensor1d(d.b1), tf.tensor2d(d.w2, [d.dh, d.dout]), tf.tensor1d(d.b2)];
      const xs = Array.from({ length: d.batch }, (_, e) => tf.tensor2d(d.x.subarray(e * d.din, (e + 1) * d.din), [1, d.din]));
      const ys = Array.from({ length: d.batch }, (_, e) => tf.tensor2d(d.onehot.subarray(e * d.dout, (e + 1) * d.dout), [1, d.dout]));
      const lossOf =
        (x: tf.Tensor, y: tf.Tensor) =>
        (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Scalar => {
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
      return tfCase<"sinchain500-grad">(
        () => {
          const r = vg(x);
          return [r.value, r.grad];
        },
        ([v, g]: tf.Tensor[]) => ({ value: scalar(v!), g: vec(g!) }),
        [x],
      );
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
        return {
          unsupported: `cannot compute: no jvp (forward mode); reverse-over-reverse tf.grad(tf.grad(f)) throws "${(e as Error).message.split(".")[0]}."`,
        };
      }
      return tfCase<"tanhAx-hvp">(
        () => hvp(x),
        (t: tf.Tensor) => ({ h: vec(t) }),
        [a, x, v],
      );
    },

    "cnn-step": (d) => {
      // NHWC images and HWIO kernels; the linear weight's columns (and its moments) permuted
      // from the NCHW flattening (c, y, x) to tfjs's NHWC one (y, x, c) — all outside the timing
      const S4 = d.S / 4;
      const feat = d.C2 * S4 * S4;
      const layout = (t: tf.Tensor, i: number): tf.Tensor =>
        i === 0 || i === 2
          ? tf.transpose(t.reshape(i === 0 ? [d.C1, 1, 5, 5] : [d.C2, d.C1, 5, 5]), [2, 3, 1, 0])
          : i === 4
            ? tf.transpose(t.reshape([d.classes, d.C2, S4, S4]), [0, 2, 3, 1]).reshape([d.classes, feat])
            : t;
      const unlayout = (t: tf.Tensor, i: number): tf.Tensor =>
        i === 0 || i === 2 ? tf.transpose(t, [3, 2, 0, 1]) : i === 4 ? tf.transpose(t.reshape([d.classes, S4, S4, d.C2]), [0, 3, 1, 2]) : t;
      const load = (xs: Float32Array[]) => xs.map((v, i) => tf.tidy(() => layout(tf.tensor1d(v), i)));
      const params = load(d.params);
      const mu = load(d.mu);
      const nu = load(d.nu);
      const x = tf.tensor4d(d.x, [d.batch, d.S, d.S, 1]);
      const onehot = tf.tidy(() => tf.oneHot(tf.tensor1d(d.labels, "int32"), d.classes));
      const step = makeCnnStep(backend, d, x, onehot, mu, nu);
      return tfCase<"cnn-step">(
        () => step(params),
        (r: { loss: tf.Tensor; params: tf.Tensor[] }) => ({ loss: scalar(r.loss), params: r.params.map((p, i) => tf.tidy(() => vec(unlayout(p, i)))) }),
        [...params, ...mu, ...nu, x, onehot],
      );
    },

    "conv-block-grad": (d) => {
      // tfjs convolutions are NHWC with HWIO filters: the data is laid out so once, outside the timing
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(d.x, [d.N, 1, d.S, d.S]), [0, 2, 3, 1])) as tf.Tensor4D;
      const w1 = tf.tidy(() => tf.transpose(tf.tensor4d(d.w1, [d.C1, 1, 3, 3]), [2, 3, 1, 0])) as tf.Tensor4D;
      const w2 = tf.tidy(() => tf.transpose(tf.tensor4d(d.w2, [d.C2, d.C1, 3, 3]), [2, 3, 1, 0])) as tf.Tensor4D;
      const loss =
        backend === "wasm"
          ? convBlockLossWasm(x)
          : (w1: tf.Tensor4D, w2: tf.Tensor4D) => tf.sum(tf.relu(tf.conv2d(tf.relu(tf.conv2d(x, w1, 1, "same")), w2, 2, "same")));
      const g = tf.grads((w1: tf.Tensor, w2: tf.Tensor) => loss(w1 as tf.Tensor4D, w2 as tf.Tensor4D) as tf.Scalar);
      const oihw = (t: tf.Tensor) => tf.tidy(() => vec(tf.transpose(t, [3, 2, 0, 1])));
      return tfCase<"conv-block-grad">(
        () => g([w1, w2]),
        ([g1, g2]: tf.Tensor[]) => ({ g1: oihw(g1!), g2: oihw(g2!) }),
        [x, w1, w2],
      );
    },
  };
}

/**
 * `dW[kh,kw,c,o] = Σ_{n,y,x} xpad[n, s·y+kh, s·x+kw, c] · dy[n,y,x,o]`: a convolution of
 * the input (channels as batch, batch as channels) with the output gradient dilated by
 * the stride — the kernel gradient without Conv2DBackpropFilter.
 */
function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, stride: number, pad: [number, number]): tf.Tensor4D {
  const xt = tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D; // [C, H, W, N]
  const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, O]
  const r = tf.conv2d(xt, dyt, 1, [[0, 0], pad, pad, [0, 0]], "NHWC", stride); // [C, kh, kw, O]
  return tf.transpose(r, [1, 2, 0, 3]);
}

/** The W8 loss on tfjs-wasm: convolutions with custom gradients (see filterGrad). */
function convBlockLossWasm(x: tf.Tensor4D) {
  // SAME padding of a 3x3 window: stride 1 pads (1, 1); stride 2 on an even size pads (0, 1)
  const conv1 = tf.customGrad(((w: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([w]);
    return { value: tf.conv2d(x, w, 1, "same"), gradFunc: (dy: tf.Tensor4D) => [filterGrad(x, dy, 1, [1, 1])] };
  }) as never) as (w: tf.Tensor4D) => tf.Tensor4D;
  const conv2 = tf.customGrad(((a: tf.Tensor4D, w: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([a, w]);
    return {
      value: tf.conv2d(a, w, 2, "same"),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [a0, w0] = saved as [tf.Tensor4D, tf.Tensor4D];
        return [tf.conv2dTranspose(dy, w0, a0.shape, 2, "same"), filterGrad(a0, dy, 2, [0, 1])];
      },
    };
  }) as never) as (a: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
  return (w1: tf.Tensor4D, w2: tf.Tensor4D) => tf.sum(tf.relu(conv2(tf.relu(conv1(w1)), w2)));
}

/**
 * One training step of the cnn-step model: `params` are [w1, b1, w2, b2, wo, bo] (HWIO
 * kernels, the linear weight `[classes, features]` in NHWC flattening order). On wasm
 * the convolutions have custom gradients (see filterGrad); Adam is written out with the
 * given moments (PyTorch's form).
 */
function makeCnnStep(backend: TfBackend, d: CnnData, x: tf.Tensor4D, onehot: tf.Tensor, mu: tf.Tensor[], nu: tf.Tensor[]) {
  const pad: [number, number] = [2, 2];
  // conv 5x5, padding 2, stride 1: on wasm the input gradient is conv2dTranspose and the kernel gradient filterGrad
  const conv =
    backend === "wasm"
      ? (tf.customGrad(((a: tf.Tensor4D, w: tf.Tensor4D, save: tf.GradSaveFunc) => {
          save([a, w]);
          return {
            value: tf.conv2d(a, w, 1, "same"),
            gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
              const [a0, w0] = saved as [tf.Tensor4D, tf.Tensor4D];
              return [tf.conv2dTranspose(dy, w0, a0.shape, 1, "same"), filterGrad(a0, dy, 1, pad)];
            },
          };
        }) as never) as (a: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D)
      : (a: tf.Tensor4D, w: tf.Tensor4D) => tf.conv2d(a, w, 1, "same");
  // the first layer's input is data: only its kernel gradient
  const conv1 =
    backend === "wasm"
      ? (tf.customGrad(((w: tf.Tensor4D, save: tf.GradSaveFunc) => {
          save([w]);
          return { value: tf.conv2d(x, w, 1, "same"), gradFunc: (dy: tf.Tensor4D) => [filterGrad(x, dy, 1, pad)] };
        }) as never) as (w: tf.Tensor4D) => tf.Tensor4D)
      : (w: tf.Tensor4D) => tf.conv2d(x, w, 1, "same");
  const feat = d.C2 * (d.S / 4) ** 2;
  const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, wo: tf.Tensor, bo: tf.Tensor): tf.Scalar => {
    const h1 = tf.maxPool(tf.relu(tf.add(conv1(w1 as tf.Tensor4D), b1)) as tf.Tensor4D, 2, 2, "valid");
    const h2 = tf.maxPool(tf.relu(tf.add(conv(h1, w2 as tf.Tensor4D), b2)) as tf.Tensor4D, 2, 2, "valid");
    const logits = tf.add(tf.matMul(h2.reshape([d.batch, feat]), wo as tf.Tensor2D, false, true), bo);
    return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(onehot, logits), 1))) as tf.Scalar;
  };
  const vg = tf.valueAndGrads(loss as (...p: tf.Tensor[]) => tf.Scalar);
  const { lr, b1, b2, eps, count } = d.adam;
  const bc1 = 1 - b1 ** (count + 1);
  const bc2 = Math.sqrt(1 - b2 ** (count + 1));
  return (params: tf.Tensor[]) => {
    const { value, grads } = vg(params);
    const next = params.map((p, i) => {
      const g = grads[i]!;
      const m = tf.add(tf.mul(mu[i]!, b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(nu[i]!, b2), tf.mul(tf.square(g), 1 - b2));
      return tf.sub(p, tf.mul(tf.div(m, tf.add(tf.div(tf.sqrt(v), bc2), eps)), lr / bc1));
    });
    return { loss: value, params: next };
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
