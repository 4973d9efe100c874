/**
 * Hand-written JavaScript loops for every workload: the "plain JS" column (on
 * Float32Array data) and, run on Float64Array copies of the same inputs, the float64
 * reference that every column's check values are compared with. Gradients here are
 * derived by hand, not by any autodiff.
 * @module
 */

/** A float buffer: Float32Array for the plain-JS column, Float64Array for the reference. */
export type FArr = Float32Array | Float64Array;
export type FCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** `out[m,n] = a[m,k] @ b[k,n]`, row-major, i-p-j loop order. */
export function matmul(a: FArr, b: FArr, m: number, k: number, n: number, out: FArr): FArr {
  out.fill(0);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    const ai = i * k;
    for (let p = 0; p < k; p++) {
      const av = a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[ci + j]! += av * b[bp + j]!;
    }
  }
  return out;
}

/** `out[m,n] = a[k,m]^T @ b[k,n]`. */
export function matmulTA(a: FArr, b: FArr, k: number, m: number, n: number, out: FArr): FArr {
  out.fill(0);
  for (let p = 0; p < k; p++) {
    const ap = p * m;
    const bp = p * n;
    for (let i = 0; i < m; i++) {
      const av = a[ap + i]!;
      if (av === 0) continue;
      const ci = i * n;
      for (let j = 0; j < n; j++) out[ci + j]! += av * b[bp + j]!;
    }
  }
  return out;
}

/** `out[m,n] = a[m,k] @ b[n,k]^T`. */
export function matmulTB(a: FArr, b: FArr, m: number, k: number, n: number, out: FArr): FArr {
  for (let i = 0; i < m; i++) {
    const ai = i * k;
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
      out[i * n + j] = s;
    }
  }
  return out;
}

// ------------------------------------------------------------------ sum(tanh(2x+1) * exp(-x^2))

export function chainValue(x: FArr): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    s += Math.tanh(2 * v + 1) * Math.exp(-v * v);
  }
  return s;
}

/** d/dx [tanh(2x+1) e^{-x^2}] = e^{-x^2} (2 (1 - t^2) - 2 x t), t = tanh(2x+1). */
export function chainGrad(x: FArr, out: FArr): FArr {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const t = Math.tanh(2 * v + 1);
    const e = Math.exp(-v * v);
    out[i] = e * (2 * (1 - t * t) - 2 * v * t);
  }
  return out;
}

// ------------------------------------------------------------------ 50 chained scalar ops

/** d/dx0 of x_{k+1} = sin(x_k) * 1.01 + 0.1 after `steps` steps: the product of 1.01 cos(x_k). */
export function scalarChainGrad(x0: number, steps: number, tape: Float64Array): number {
  let x = x0;
  for (let i = 0; i < steps; i++) {
    tape[i] = x;
    x = Math.sin(x) * 1.01 + 0.1;
  }
  let g = 1;
  for (let i = steps - 1; i >= 0; i--) g *= Math.cos(tape[i]!) * 1.01;
  return g;
}

// ------------------------------------------------------------------ f(x) = sum(tanh(A x))

/** `out = A x` for row-major `A[n,n]`. */
export function matvec(a: FArr, x: FArr, n: number, out: FArr): FArr {
  for (let i = 0; i < n; i++) {
    const ai = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[ai + j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

/** `out = A^T y`, walking `A` row by row. */
export function matvecT(a: FArr, y: FArr, n: number, out: FArr): FArr {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const ai = i * n;
    const yi = y[i]!;
    for (let j = 0; j < n; j++) out[j]! += a[ai + j]! * yi;
  }
  return out;
}

/**
 * Solves `A x = b` for symmetric positive definite `A[n,n]` (float64) the textbook
 * way: the Cholesky factor `L` row by row (Cholesky–Banachiewicz, one dot product per
 * entry), then `L y = b` and `Lᵀ x = y` by substitution. `L` and `y` are work buffers.
 */
export function choleskySolve(a: Float64Array, b: Float64Array, n: number, L: Float64Array, y: Float64Array, x: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = i === j ? Math.sqrt(s) : s / L[j * n + j]!;
    }
  }
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
    y[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

export interface TanhAxWork {
  z: FArr;
  q: FArr;
  s: FArr;
}

export function tanhAxWork(ctor: FCtor, n: number): TanhAxWork {
  return { z: new ctor(n), q: new ctor(n), s: new ctor(n) };
}

/** grad f = A^T (1 - tanh(Ax)^2): two matrix-vector products. */
export function tanhAxGrad(a: FArr, x: FArr, n: number, w: TanhAxWork, out: FArr): FArr {
  matvec(a, x, n, w.z);
  for (let i = 0; i < n; i++) {
    const t = Math.tanh(w.z[i]!);
    w.s[i] = 1 - t * t;
  }
  return matvecT(a, w.s, n, out);
}

/** H v = A^T (-2 t (1 - t^2) * (A v)), t = tanh(Ax): three matrix-vector products. */
export function tanhAxHvp(a: FArr, x: FArr, v: FArr, n: number, w: TanhAxWork, out: FArr): FArr {
  matvec(a, x, n, w.z);
  matvec(a, v, n, w.q);
  for (let i = 0; i < n; i++) {
    const t = Math.tanh(w.z[i]!);
    w.s[i] = -2 * t * (1 - t * t) * w.q[i]!;
  }
  return matvecT(a, w.s, n, out);
}

// ------------------------------------------------------------------ MLP SGD step

/** Parameters of the MLP in `x @ W + b` layout: `w[l]` is `[in, out]`. */
export interface MlpParams<T extends FArr = FArr> {
  w: T[];
  b: T[];
}

export interface MlpResult<T extends FArr = FArr> {
  loss: number;
  grads: MlpParams<T>;
  params: MlpParams<T>;
}

/**
 * One SGD step of a ReLU MLP with softmax cross-entropy (mean over the batch), with
 * backpropagation written out by hand. `sizes` are the layer widths, `x` is
 * `[batch, sizes[0]]`, `labels` the class of each row.
 */
export function mlpStep<T extends FArr>(ctor: FCtor, sizes: readonly number[], p: MlpParams<T>, x: T, labels: Int32Array, lr: number): MlpResult<T> {
  const bsz = labels.length;
  const L = sizes.length - 1;
  const mk = (n: number) => new ctor(n) as T;
  // Forward: acts[0] = x, pre[l] = acts[l] @ W_l + b_l, acts[l+1] = relu(pre[l]) (no relu on the logits).
  const acts: T[] = [x];
  const pre: T[] = [];
  for (let l = 0; l < L; l++) {
    const din = sizes[l]!;
    const dout = sizes[l + 1]!;
    const z = matmul(acts[l]!, p.w[l]!, bsz, din, dout, mk(bsz * dout)) as T;
    const bias = p.b[l]!;
    for (let i = 0; i < bsz; i++) for (let j = 0; j < dout; j++) z[i * dout + j]! += bias[j]!;
    pre.push(z);
    if (l < L - 1) {
      const h = mk(bsz * dout);
      for (let i = 0; i < z.length; i++) h[i] = z[i]! > 0 ? z[i]! : 0;
      acts.push(h);
    }
  }
  // Softmax cross-entropy and its gradient (softmax - onehot) / batch.
  const logits = pre[L - 1]!;
  const nc = sizes[L]!;
  const dz = mk(bsz * nc);
  let loss = 0;
  for (let i = 0; i < bsz; i++) {
    let m = -Infinity;
    for (let j = 0; j < nc; j++) m = Math.max(m, logits[i * nc + j]!);
    let se = 0;
    for (let j = 0; j < nc; j++) se += Math.exp(logits[i * nc + j]! - m);
    const lse = m + Math.log(se);
    loss += lse - logits[i * nc + labels[i]!]!;
    for (let j = 0; j < nc; j++) dz[i * nc + j] = (Math.exp(logits[i * nc + j]! - lse) - (j === labels[i] ? 1 : 0)) / bsz;
  }
  loss /= bsz;
  // Backward.
  const gw: T[] = new Array<T>(L);
  const gb: T[] = new Array<T>(L);
  let delta = dz;
  for (let l = L - 1; l >= 0; l--) {
    const din = sizes[l]!;
    const dout = sizes[l + 1]!;
    gw[l] = matmulTA(acts[l]!, delta, bsz, din, dout, mk(din * dout)) as T;
    const g = mk(dout);
    for (let i = 0; i < bsz; i++) for (let j = 0; j < dout; j++) g[j]! += delta[i * dout + j]!;
    gb[l] = g;
    if (l > 0) {
      const dh = matmulTB(delta, p.w[l]!, bsz, dout, din, mk(bsz * din)) as T;
      const z = pre[l - 1]!;
      for (let i = 0; i < dh.length; i++) if (!(z[i]! > 0)) dh[i] = 0;
      delta = dh;
    }
  }
  const upd = (ps: T[], gs: T[]) =>
    ps.map((pv, l) => {
      const out = mk(pv.length);
      const gv = gs[l]!;
      for (let i = 0; i < pv.length; i++) out[i] = pv[i]! - lr * gv[i]!;
      return out;
    });
  return { loss, grads: { w: gw, b: gb }, params: { w: upd(p.w, gw), b: upd(p.b, gb) } };
}

// ------------------------------------------------------------------ conv block (W8)

/** Sizes of the conv block: x [N,1,S,S], w1 [C1,1,3,3] (SAME), w2 [C2,C1,3,3] (stride 2, SAME). */
export interface ConvBlockSizes {
  N: number;
  S: number;
  C1: number;
  C2: number;
}

/**
 * The gradient of `sum(relu(conv(relu(conv(x, w1, 1, SAME)), w2, 2, SAME)))` with respect
 * to `w1` and `w2` (NCHW / OIHW), by hand: direct convolution loops forward, the
 * transposed loops backward. SAME with stride 1 pads 1 on each side; with stride 2 on an
 * even size it pads 0 before and 1 after (out = S/2).
 */
export function convBlockGrad(F: FCtor, z: ConvBlockSizes, x: FArr, w1: FArr, w2: FArr): { g1: FArr; g2: FArr } {
  const { N, S, C1, C2 } = z;
  const S2 = S / 2;
  const h1 = new F(N * C1 * S * S);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < C1; o++) {
      const hb = (n * C1 + o) * S * S;
      for (let kh = 0; kh < 3; kh++) {
        for (let kw = 0; kw < 3; kw++) {
          const w = w1[o * 9 + kh * 3 + kw]!;
          for (let i = 0; i < S; i++) {
            const y = i + kh - 1;
            if (y < 0 || y >= S) continue;
            const xr = n * S * S + y * S;
            for (let j = 0; j < S; j++) {
              const xc = j + kw - 1;
              if (xc >= 0 && xc < S) h1[hb + i * S + j]! += x[xr + xc]! * w;
            }
          }
        }
      }
    }
  }
  const a1 = new F(h1.length);
  for (let i = 0; i < h1.length; i++) a1[i] = h1[i]! > 0 ? h1[i]! : 0;
  const h2 = new F(N * C2 * S2 * S2);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < C2; o++) {
      const hb = (n * C2 + o) * S2 * S2;
      for (let c = 0; c < C1; c++) {
        const ab = (n * C1 + c) * S * S;
        for (let kh = 0; kh < 3; kh++) {
          for (let kw = 0; kw < 3; kw++) {
            const w = w2[((o * C1 + c) * 3 + kh) * 3 + kw]!;
            for (let i = 0; i < S2; i++) {
              const y = 2 * i + kh;
              if (y >= S) continue;
              for (let j = 0; j < S2; j++) {
                const xc = 2 * j + kw;
                if (xc < S) h2[hb + i * S2 + j]! += a1[ab + y * S + xc]! * w;
              }
            }
          }
        }
      }
    }
  }
  // backward: d h2 = step(h2)
  const g2 = new F(C2 * C1 * 9);
  const da1 = new F(N * C1 * S * S);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < C2; o++) {
      const hb = (n * C2 + o) * S2 * S2;
      for (let c = 0; c < C1; c++) {
        const ab = (n * C1 + c) * S * S;
        for (let kh = 0; kh < 3; kh++) {
          for (let kw = 0; kw < 3; kw++) {
            const wi = ((o * C1 + c) * 3 + kh) * 3 + kw;
            const w = w2[wi]!;
            let gw = 0;
            for (let i = 0; i < S2; i++) {
              const y = 2 * i + kh;
              if (y >= S) continue;
              for (let j = 0; j < S2; j++) {
                const xc = 2 * j + kw;
                if (xc >= S || !(h2[hb + i * S2 + j]! > 0)) continue;
                gw += a1[ab + y * S + xc]!;
                da1[ab + y * S + xc]! += w;
              }
            }
            g2[wi]! += gw;
          }
        }
      }
    }
  }
  const g1 = new F(C1 * 9);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < C1; o++) {
      const hb = (n * C1 + o) * S * S;
      for (let kh = 0; kh < 3; kh++) {
        for (let kw = 0; kw < 3; kw++) {
          let gw = 0;
          for (let i = 0; i < S; i++) {
            const y = i + kh - 1;
            if (y < 0 || y >= S) continue;
            const xr = n * S * S + y * S;
            for (let j = 0; j < S; j++) {
              const xc = j + kw - 1;
              if (xc >= 0 && xc < S && h1[hb + i * S + j]! > 0) gw += da1[hb + i * S + j]! * x[xr + xc]!;
            }
          }
          g1[o * 9 + kh * 3 + kw]! += gw;
        }
      }
    }
  }
  return { g1, g2 };
}

/** Buffers of {@link rnnGrad}: the hidden states of every step, and the backward pass's vectors. */
export interface RnnWork {
  hs: FArr;
  da: FArr;
  g: FArr;
  gNext: FArr;
}

export function rnnWork(ctor: FCtor, H: number, T: number): RnnWork {
  return { hs: new ctor((T + 1) * H), da: new ctor(H), g: new ctor(H), gNext: new ctor(H) };
}

/**
 * An Elman RNN, h_{t+1} = tanh(W h_t + U x_t) from h_0 = 0, with loss = the sum of every
 * hidden state h_1..h_T; returns the loss and writes dL/dW and dL/dU, by
 * backpropagation through time written out by hand.
 */
export function rnnGrad(W: FArr, U: FArr, xs: FArr, H: number, I: number, T: number, w: RnnWork, gW: FArr, gU: FArr): number {
  const { hs, da, g, gNext } = w;
  let loss = 0;
  hs.fill(0, 0, H);
  for (let t = 0; t < T; t++) {
    const h = t * H;
    const x = t * I;
    for (let i = 0; i < H; i++) {
      let s = 0;
      const wi = i * H;
      for (let j = 0; j < H; j++) s += W[wi + j]! * hs[h + j]!;
      const ui = i * I;
      for (let k = 0; k < I; k++) s += U[ui + k]! * xs[x + k]!;
      const v = Math.tanh(s);
      hs[h + H + i] = v;
      loss += v;
    }
  }
  gW.fill(0);
  gU.fill(0);
  g.fill(1); // dL/dh_T
  for (let t = T - 1; t >= 0; t--) {
    const h = t * H;
    const x = t * I;
    for (let i = 0; i < H; i++) {
      const v = hs[h + H + i]!;
      da[i] = g[i]! * (1 - v * v);
    }
    for (let i = 0; i < H; i++) {
      const d = da[i]!;
      const wi = i * H;
      for (let j = 0; j < H; j++) gW[wi + j]! += d * hs[h + j]!;
      const ui = i * I;
      for (let k = 0; k < I; k++) gU[ui + k]! += d * xs[x + k]!;
    }
    // dL/dh_t = W^T da + 1 (h_t is itself in the loss for t >= 1)
    gNext.fill(1);
    for (let i = 0; i < H; i++) {
      const d = da[i]!;
      const wi = i * H;
      for (let j = 0; j < H; j++) gNext[j]! += W[wi + j]! * d;
    }
    g.set(gNext);
  }
  return loss;
}

/**
 * A deep tanh MLP, h_{l+1} = tanh(h_l W_l) (`ws[l]` is `[width, width]`, `x` is
 * `[batch, width]`), loss = sum(h_L); returns the loss and writes dL/dW_l into `gws`.
 */
export function deepTanhGrad(ctor: FCtor, ws: readonly FArr[], x: FArr, batch: number, width: number, gws: FArr[]): number {
  const L = ws.length;
  const acts: FArr[] = [x];
  for (let l = 0; l < L; l++) {
    const z = matmul(acts[l]!, ws[l]!, batch, width, width, new ctor(batch * width));
    for (let i = 0; i < z.length; i++) z[i] = Math.tanh(z[i]!);
    acts.push(z);
  }
  let loss = 0;
  const out = acts[L]!;
  for (let i = 0; i < out.length; i++) loss += out[i]!;
  let dh: FArr = new ctor(batch * width).fill(1);
  for (let l = L - 1; l >= 0; l--) {
    const a = acts[l + 1]!;
    const dz = new ctor(batch * width);
    for (let i = 0; i < dz.length; i++) dz[i] = dh[i]! * (1 - a[i]! * a[i]!);
    matmulTA(acts[l]!, dz, batch, width, width, gws[l]!);
    if (l > 0) dh = matmulTB(dz, ws[l]!, batch, width, width, new ctor(batch * width));
  }
  return loss;
}

// ------------------------------------------------------------------ per-example gradients

/** Parameters of a 2-layer MLP `din-dh-dout`: `w1[din,dh]`, `b1[dh]`, `w2[dh,dout]`, `b2[dout]`. */
export interface Mlp2 {
  din: number;
  dh: number;
  dout: number;
  w1: FArr;
  b1: FArr;
  w2: FArr;
  b2: FArr;
}
/** Per-example gradients, stacked: `gw1[batch,din,dh]`, `gb1[batch,dh]`, `gw2[batch,dh,dout]`, `gb2[batch,dout]`. */
export interface Mlp2Grads {
  gw1: FArr;
  gb1: FArr;
  gw2: FArr;
  gb2: FArr;
}

/** Buffers `gw1, gb1, gw2, gb2` for {@link perExampleGrads}. */
export function perExampleGradsOut(ctor: FCtor, p: Pick<Mlp2, "din" | "dh" | "dout">, batch: number): Mlp2Grads {
  return { gw1: new ctor(batch * p.din * p.dh), gb1: new ctor(batch * p.dh), gw2: new ctor(batch * p.dh * p.dout), gb2: new ctor(batch * p.dout) };
}

/**
 * The gradient of each example's softmax cross-entropy loss `lse(z2) - z2[label]`
 * (z2 = relu(x W1 + b1) W2 + b2) with respect to every parameter, by hand: one
 * backward pass per example, the weight gradients being outer products. Returns the
 * sum of the per-example losses.
 */
export function perExampleGrads(p: Mlp2, x: FArr, labels: Int32Array, out: Mlp2Grads): number {
  const { din, dh, dout, w1, b1, w2, b2 } = p;
  const z1 = new Float64Array(dh);
  const z2 = new Float64Array(dout);
  let total = 0;
  for (let e = 0; e < labels.length; e++) {
    const xo = e * din;
    for (let j = 0; j < dh; j++) z1[j] = b1[j]!;
    for (let i = 0; i < din; i++) {
      const xi = x[xo + i]!;
      if (xi === 0) continue;
      const wi = i * dh;
      for (let j = 0; j < dh; j++) z1[j]! += xi * w1[wi + j]!;
    }
    for (let k = 0; k < dout; k++) z2[k] = b2[k]!;
    for (let j = 0; j < dh; j++) {
      const h = z1[j]! > 0 ? z1[j]! : 0;
      const wj = j * dout;
      for (let k = 0; k < dout; k++) z2[k]! += h * w2[wj + k]!;
    }
    let m = -Infinity;
    for (let k = 0; k < dout; k++) m = Math.max(m, z2[k]!);
    let se = 0;
    for (let k = 0; k < dout; k++) se += Math.exp(z2[k]! - m);
    const lse = m + Math.log(se);
    total += lse - z2[labels[e]!]!;
    const gb2 = e * dout;
    for (let k = 0; k < dout; k++) out.gb2[gb2 + k] = Math.exp(z2[k]! - lse) - (k === labels[e] ? 1 : 0);
    const gw2 = e * dh * dout;
    const gb1 = e * dh;
    for (let j = 0; j < dh; j++) {
      const h = z1[j]! > 0 ? z1[j]! : 0;
      let d = 0;
      for (let k = 0; k < dout; k++) {
        const g = out.gb2[gb2 + k]!;
        out.gw2[gw2 + j * dout + k] = h * g;
        d += w2[j * dout + k]! * g;
      }
      out.gb1[gb1 + j] = z1[j]! > 0 ? d : 0;
    }
    const gw1 = e * din * dh;
    for (let i = 0; i < din; i++) {
      const xi = x[xo + i]!;
      const o = gw1 + i * dh;
      for (let j = 0; j < dh; j++) out.gw1[o + j] = xi * out.gb1[gb1 + j]!;
    }
  }
  return total;
}

// ------------------------------------------------------------------ a long chain of elementwise steps

/**
 * f(x) = sum(x_steps) where x_{k+1} = sin(x_k) * 1.01 + 0.1 elementwise; returns f and
 * writes df/dx (for each element, the product of 1.01 cos(x_k)) into `g`.
 */
export function sinChainValueAndGrad(x: FArr, steps: number, tape: Float64Array, g: FArr): number {
  let value = 0;
  for (let e = 0; e < x.length; e++) {
    let v = x[e]!;
    for (let i = 0; i < steps; i++) {
      tape[i] = v;
      v = Math.sin(v) * 1.01 + 0.1;
    }
    value += v;
    let d = 1;
    for (let i = steps - 1; i >= 0; i--) d *= Math.cos(tape[i]!) * 1.01;
    g[e] = d;
  }
  return value;
}

/**
 * The `cnn-step` model (examples/cnn.ts): conv 5x5 1→C1 (padding 2) + ReLU + 2x2 max
 * pool, conv 5x5 C1→C2 (padding 2) + ReLU + 2x2 max pool, linear (C2·(S/4)²)→classes,
 * on `[batch, S·S]` images. Parameters in PyTorch's layouts (OIHW kernels, `[out, in]`
 * linear weight).
 */
export interface CnnSizes {
  batch: number;
  S: number;
  C1: number;
  C2: number;
  classes: number;
}
/** Adam's hyperparameters and the state it starts the step from (`count` steps taken). */
export interface AdamSetup {
  lr: number;
  b1: number;
  b2: number;
  eps: number;
  count: number;
}

/** `out[n, o, y, x] = b[o] + Σ_{c, ky, kx} in[n, c, y + ky - 2, x + kx - 2] · w[o, c, ky, kx]` (5x5, zero padding 2). */
function conv5(F: FCtor, inp: FArr, N: number, C: number, O: number, S: number, w: FArr, b: FArr): FArr {
  const out = new F(N * O * S * S);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const ob = (n * O + o) * S * S;
      out.fill(b[o]!, ob, ob + S * S);
      for (let c = 0; c < C; c++) {
        const ib = (n * C + c) * S * S;
        for (let ky = 0; ky < 5; ky++) {
          for (let kx = 0; kx < 5; kx++) {
            const wv = w[((o * C + c) * 5 + ky) * 5 + kx]!;
            for (let y = Math.max(0, 2 - ky); y < Math.min(S, S + 2 - ky); y++) {
              const ir = ib + (y + ky - 2) * S - 2 + kx;
              const orow = ob + y * S;
              for (let x = Math.max(0, 2 - kx); x < Math.min(S, S + 2 - kx); x++) out[orow + x]! += inp[ir + x]! * wv;
            }
          }
        }
      }
    }
  }
  return out;
}

/** ReLU then 2x2 max pool of `[planes, S, S]`; `arg` records the input offset each output took (the first maximum). */
function reluPool(F: FCtor, h: FArr, planes: number, S: number, arg: Int32Array): FArr {
  const H = S / 2;
  const out = new F(planes * H * H);
  let o = 0;
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < H; x++, o++) {
        let best = -1;
        let bv = -Infinity;
        for (let dy = 0; dy < 2; dy++) {
          for (let dx = 0; dx < 2; dx++) {
            const i = (p * S + 2 * y + dy) * S + 2 * x + dx;
            const v = Math.max(0, h[i]!);
            if (v > bv) {
              bv = v;
              best = i;
            }
          }
        }
        out[o] = bv;
        arg[o] = best;
      }
    }
  }
  return out;
}

/** The cotangent of the input of `conv5` and the kernel's and bias's, from the output's `dy`. */
function conv5Back(
  F: FCtor,
  inp: FArr,
  N: number,
  C: number,
  O: number,
  S: number,
  w: FArr,
  dy: FArr,
  wantInput: boolean,
): { dx: FArr | null; dw: FArr; db: FArr } {
  const dx = wantInput ? new F(N * C * S * S) : null;
  const dw = new F(O * C * 25);
  const db = new F(O);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const ob = (n * O + o) * S * S;
      let s = 0;
      for (let i = 0; i < S * S; i++) s += dy[ob + i]!;
      db[o]! += s;
      for (let c = 0; c < C; c++) {
        const ib = (n * C + c) * S * S;
        for (let ky = 0; ky < 5; ky++) {
          for (let kx = 0; kx < 5; kx++) {
            const wi = ((o * C + c) * 5 + ky) * 5 + kx;
            const wv = w[wi]!;
            let g = 0;
            for (let y = Math.max(0, 2 - ky); y < Math.min(S, S + 2 - ky); y++) {
              const ir = ib + (y + ky - 2) * S - 2 + kx;
              const orow = ob + y * S;
              for (let x = Math.max(0, 2 - kx); x < Math.min(S, S + 2 - kx); x++) {
                const d = dy[orow + x]!;
                g += inp[ir + x]! * d;
                if (dx) dx[ir + x]! += wv * d;
              }
            }
            dw[wi]! += g;
          }
        }
      }
    }
  }
  return { dx, dw, db };
}

/**
 * One training step of the `cnn-step` model by hand: mean softmax cross-entropy, its
 * gradients, and an Adam update (PyTorch's form, from the given moments and step
 * count). Parameters, moments and results in the order conv1 weight, conv1 bias, conv2
 * weight, conv2 bias, linear weight, linear bias. Returns the loss and the updated
 * parameters.
 */
export function cnnStep(
  F: FCtor,
  z: CnnSizes,
  adam: AdamSetup,
  params: FArr[],
  mu: FArr[],
  nu: FArr[],
  x: FArr,
  labels: Int32Array,
): { loss: number; params: FArr[] } {
  const { batch: N, S, C1, C2, classes } = z;
  const [w1, b1, w2, b2, wo, bo] = params as [FArr, FArr, FArr, FArr, FArr, FArr];
  const S2 = S / 2;
  const S4 = S / 4;
  const feat = C2 * S4 * S4;
  const h1 = conv5(F, x, N, 1, C1, S, w1, b1);
  const arg1 = new Int32Array(N * C1 * S2 * S2);
  const p1 = reluPool(F, h1, N * C1, S, arg1);
  const h2 = conv5(F, p1, N, C1, C2, S2, w2, b2);
  const arg2 = new Int32Array(N * C2 * S4 * S4);
  const p2 = reluPool(F, h2, N * C2, S2, arg2);
  // logits = p2 · woᵀ + bo; the softmax cross-entropy's gradient (softmax - onehot) / N
  const logits = new F(N * classes);
  const dz = new F(N * classes);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < classes; k++) {
      let s = bo[k]!;
      for (let f = 0; f < feat; f++) s += p2[n * feat + f]! * wo[k * feat + f]!;
      logits[n * classes + k] = s;
    }
    let m = -Infinity;
    for (let k = 0; k < classes; k++) m = Math.max(m, logits[n * classes + k]!);
    let se = 0;
    for (let k = 0; k < classes; k++) se += Math.exp(logits[n * classes + k]! - m);
    const lse = m + Math.log(se);
    loss += lse - logits[n * classes + labels[n]!]!;
    for (let k = 0; k < classes; k++) dz[n * classes + k] = (Math.exp(logits[n * classes + k]! - lse) - (k === labels[n] ? 1 : 0)) / N;
  }
  loss /= N;
  const gwo = new F(classes * feat);
  const gbo = new F(classes);
  const dp2 = new F(N * feat);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < classes; k++) {
      const d = dz[n * classes + k]!;
      gbo[k]! += d;
      for (let f = 0; f < feat; f++) {
        gwo[k * feat + f]! += d * p2[n * feat + f]!;
        dp2[n * feat + f]! += d * wo[k * feat + f]!;
      }
    }
  }
  // back through pool 2 and ReLU 2 (a pooled zero is a ReLU-clipped or zero input: no gradient)
  const dh2 = new F(h2.length);
  for (let o = 0; o < arg2.length; o++) if (h2[arg2[o]!]! > 0) dh2[arg2[o]!] = dp2[o]!;
  const g2 = conv5Back(F, p1, N, C1, C2, S2, w2, dh2, true);
  const dh1 = new F(h1.length);
  for (let o = 0; o < arg1.length; o++) if (h1[arg1[o]!]! > 0) dh1[arg1[o]!] = g2.dx![o]!;
  const g1 = conv5Back(F, x, N, 1, C1, S, w1, dh1, false);
  const grads = [g1.dw, g1.db, g2.dw, g2.db, gwo, gbo];
  const t = adam.count + 1;
  const bc1 = 1 - adam.b1 ** t;
  const bc2 = Math.sqrt(1 - adam.b2 ** t);
  const next = params.map((p, i) => {
    const g = grads[i]!;
    const out = new F(p.length);
    for (let j = 0; j < p.length; j++) {
      const m = adam.b1 * mu[i]![j]! + (1 - adam.b1) * g[j]!;
      const v = adam.b2 * nu[i]![j]! + (1 - adam.b2) * g[j]! * g[j]!;
      out[j] = p[j]! - (adam.lr / bc1) * (m / (Math.sqrt(v) / bc2 + adam.eps));
    }
    return out;
  });
  return { loss, params: next };
}
