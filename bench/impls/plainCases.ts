/**
 * The "plain JS" column: the hand-written loops of plain.ts on Float32Array data, with
 * buffers allocated once (as one would when writing loops by hand).
 * @module
 */
import type { Library } from "../columns.js";
import * as plain from "./plain.js";

export async function load(): Promise<Library> {
  return {
    versions: {},
    notes: [
      "plain JS: hand-written loops over Float32Array with hand-derived gradients; scalars are JS numbers (float64); the matmul is the i-p-j loop; the convolutions are direct loops (no im2col); the Cholesky solve is the textbook row-by-row factorization and two substitutions (float64).",
    ],
    cases: {
      "matmul-512": matmulCase,
      "matmul-1024": matmulCase,
      "matmul-2048": matmulCase,
      "sort-1e6": (d) => {
        let y = new Float32Array(0);
        return { run: () => void (y = d.x.slice().sort()), read: () => ({ y }) };
      },
      "gather-loop": (d) => {
        const y = new Float32Array(d.batch * d.m);
        const run = (): void => {
          for (let b = 0; b < d.batch; b++) for (let j = 0; j < d.m; j++) y[b * d.m + j] = d.x[b * d.n + d.idx[b * d.m + j]!]!;
        };
        return { run, read: () => ({ y }) };
      },
      "chain-1e6": (d) => {
        let value = 0;
        return { run: () => void (value = plain.chainValue(d.x)), read: () => ({ value }) };
      },
      "chain-1e6-grad": (d) => {
        const g = new Float32Array(d.x.length);
        return { run: () => void plain.chainGrad(d.x, g), read: () => ({ g }) };
      },
      "mlp-sgd": (d) => {
        let out: plain.MlpResult<Float32Array> | undefined;
        const p = { w: d.w, b: d.b };
        return {
          run: () => void (out = plain.mlpStep(Float32Array, d.sizes, p, d.x, d.labels, d.lr)),
          read: () => {
            const r = out!;
            const il = (q: plain.MlpParams<Float32Array>) => q.w.flatMap((w, l) => [w, q.b[l]!]);
            return { loss: r.loss, grads: il(r.grads), params: il(r.params) };
          },
        };
      },
      "scalar50-grad": (d) => {
        const tape = new Float64Array(d.steps);
        let g = 0;
        return { run: () => void (g = plain.scalarChainGrad(d.x0, d.steps, tape)), read: () => ({ g }) };
      },
      "tanhAx-grad": (d) => {
        const w = plain.tanhAxWork(Float32Array, d.n);
        const g = new Float32Array(d.n);
        return { run: () => void plain.tanhAxGrad(d.a, d.x, d.n, w, g), read: () => ({ g }) };
      },
      "conv-block-grad": (d) => {
        let out: { g1: plain.FArr; g2: plain.FArr } | undefined;
        return { run: () => void (out = plain.convBlockGrad(Float32Array, d, d.x, d.w1, d.w2)), read: () => out! };
      },
      "cnn-step": (d) => {
        let out: { loss: number; params: plain.FArr[] } | undefined;
        return { run: () => void (out = plain.cnnStep(Float32Array, d, d.adam, d.params, d.mu, d.nu, d.x, d.labels)), read: () => out! };
      },
      "rnn-grad": rnnCase,
      "rnn-grad-unrolled": rnnCase,
      "deep-grad": (d) => {
        const grads = d.ws.map(() => new Float32Array(d.width * d.width));
        return { run: () => void plain.deepTanhGrad(Float32Array, d.ws, d.x, d.batch, d.width, grads), read: () => ({ grads }) };
      },
      "perexample-grad": (d) => {
        const g = plain.perExampleGradsOut(Float32Array, d, d.batch);
        return { run: () => void plain.perExampleGrads(d, d.x, d.labels, g), read: () => ({ grads: [g.gw1, g.gb1, g.gw2, g.gb2] }) };
      },
      "sinchain500-grad": (d) => {
        const tape = new Float64Array(d.steps);
        const g = new Float32Array(d.x.length);
        let value = 0;
        return { run: () => void (value = plain.sinChainValueAndGrad(d.x, d.steps, tape, g)), read: () => ({ value, g }) };
      },
      "tanhAx-hvp": (d) => {
        const w = plain.tanhAxWork(Float32Array, d.n);
        const h = new Float32Array(d.n);
        return { run: () => void plain.tanhAxHvp(d.a, d.x, d.v, d.n, w, h), read: () => ({ h }) };
      },
      "cholesky-solve-256": (d) => {
        const L = new Float64Array(d.n * d.n);
        const y = new Float64Array(d.n);
        const x = new Float64Array(d.n);
        return { run: () => void plain.choleskySolve(d.a, d.b, d.n, L, y, x), read: () => ({ x }) };
      },
    },
  };
}

/** Backpropagation through time, by hand (the same loop for both RNN rows). */
function rnnCase(d: { H: number; I: number; T: number; W: Float32Array; U: Float32Array; xs: Float32Array }) {
  const w = plain.rnnWork(Float32Array, d.H, d.T);
  const gW = new Float32Array(d.H * d.H);
  const gU = new Float32Array(d.H * d.I);
  let loss = 0;
  return { run: () => void (loss = plain.rnnGrad(d.W, d.U, d.xs, d.H, d.I, d.T, w, gW, gU)), read: () => ({ loss, gW, gU }) };
}

function matmulCase(d: { n: number; a: Float32Array; b: Float32Array }) {
  const c = new Float32Array(d.n * d.n);
  return { run: () => void plain.matmul(d.a, d.b, d.n, d.n, d.n, c), read: () => ({ c }) };
}
