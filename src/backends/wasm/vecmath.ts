/**
 * Vectorized elementary functions for WebAssembly SIMD: emitters that append code
 * computing `exp`, `expm1`, `log`, `log1p`, `tanh`, `logistic`, `sin`, `cos` and `tan`
 * on every lane of an `f32x4` (in float32 arithmetic) or `f64x2` (in float64
 * arithmetic) vector. There are no tables: each function is a range reduction plus a
 * polynomial.
 *
 * - **exp / expm1**: `x = n·ln2 + r`, `|r| <= ln2/2`, with `n = round(x/ln2)` taken
 *   from the low bits of `x·log2(e) + 1.5·2^p` and `r` from a Cody–Waite split of ln2
 *   (`n·LN2_HI` is exact). `expm1(r) = r + r²·P(r)`; `exp(x) = (1 + expm1(r))·2^n1·2^n2`
 *   with `n1 + n2 = n` (two scalings, so results that overflow, and results down in the
 *   subnormal range, come out right and are rounded once). `expm1(x) = 2^n·expm1(r) +
 *   (2^n - 1)`, exact for the `n` where `2^n - 1` is, else `exp(x) - 1`.
 * - **log**: subnormal inputs are scaled by `2^p+1` first; then `x = m·2^k` with
 *   `m ∈ [√½, √2)` by integer arithmetic on the bits, `f = m - 1`, `s = f/(2+f)` and
 *   `log(1+f) = f - f²/2 + s·(f²/2 + s²·Q(s²))` (the leading `f` is exact), plus `k·ln2`
 *   split as above. **log1p** is `log(u) + (x - (u-1))/u` with `u = 1 + x`.
 * - **tanh**: `tanh|x| = -u/(u+2)` with `u = expm1(-2|x|)` (no cancellation for small
 *   `|x|`; `|x|` clamped where tanh rounds to 1), and the sign of `x` copied back.
 * - **logistic**: `e = exp(-|x|)`, `1/(1+e)` for `x >= 0`, `e/(1+e)` otherwise.
 * - **sin / cos / tan** (always in float64 lanes; float32 inputs are widened and the
 *   results rounded once): `x = k·π/2 + r` with π/2 in four parts (Cody–Waite), Taylor
 *   polynomials for sin r and cos r, the quadrant choosing and negating them; tan is
 *   their quotient. Accurate for `|x| <= TRIG_LIMIT` only: callers test
 *   {@link emitTrigRangeMask} and compute larger arguments another way.
 *
 * The float32 coefficients of `P` and `Q` come from scripts/fit-vecmath.ts (Chebyshev
 * interpolation, rounded to float32); the float64 ones are the Taylor series
 * `P(r) = Σ r^k/(k+2)!` and `Q(z) = Σ 2z^k/(2k+3)`, truncated where the rest is below
 * 2^-60. NaN propagates, ±Infinity, ±0 and subnormals give the limits of the functions,
 * `log` of a negative number is NaN.
 *
 * Accuracy, measured by test/wasm/vecmath.test.ts over dense sweeps of the whole range
 * and random bit patterns, against `Math.fround(Math.f(x))` (float32) and `Math.f(x)`
 * (float64), in ulp (subnormal results: the ulp is the subnormal spacing):
 *
 * | lanes | exp | expm1 | log | log1p | tanh | logistic | sin, cos | tan |
 * |-------|-----|-------|-----|-------|------|----------|----------|-----|
 * | f32x4 | 1   | 2     | 1   | 1     | 2    | 2        | 1        | 1   |
 * | f64x2 | 1   | 2     | 1   | 1     | 3    | 2        | 2        | 4   |
 * @module
 */
import { type FuncBuilder, SIMD_OPS as S, V128 } from "./emit.js";

/** Lane type of a vector: `f32x4` or `f64x2`. */
export type Lanes = "f32" | "f64";

const FLOAT_OPS = {
  add: [S.f32x4Add, S.f64x2Add],
  sub: [S.f32x4Sub, S.f64x2Sub],
  mul: [S.f32x4Mul, S.f64x2Mul],
  div: [S.f32x4Div, S.f64x2Div],
  min: [S.f32x4Min, S.f64x2Min],
  max: [S.f32x4Max, S.f64x2Max],
  pmin: [S.f32x4Pmin, S.f64x2Pmin],
  pmax: [S.f32x4Pmax, S.f64x2Pmax],
  abs: [S.f32x4Abs, S.f64x2Abs],
  neg: [S.f32x4Neg, S.f64x2Neg],
  sqrt: [S.f32x4Sqrt, S.f64x2Sqrt],
  floor: [S.f32x4Floor, S.f64x2Floor],
  ceil: [S.f32x4Ceil, S.f64x2Ceil],
  trunc: [S.f32x4Trunc, S.f64x2Trunc],
  eq: [S.f32x4Eq, S.f64x2Eq],
  ne: [S.f32x4Ne, S.f64x2Ne],
  lt: [S.f32x4Lt, S.f64x2Lt],
  le: [S.f32x4Le, S.f64x2Le],
  gt: [S.f32x4Gt, S.f64x2Gt],
  ge: [S.f32x4Ge, S.f64x2Ge],
  splat: [S.f32x4Splat, S.f64x2Splat],
} as const;
const INT_OPS = {
  add: [S.i32x4Add, S.i64x2Add],
  sub: [S.i32x4Sub, S.i64x2Sub],
  shl: [S.i32x4Shl, S.i64x2Shl],
  shrS: [S.i32x4ShrS, S.i64x2ShrS],
  eq: [S.i32x4Eq, S.i64x2Eq],
  ne: [S.i32x4Ne, S.i64x2Ne],
  gtS: [S.i32x4GtS, S.i64x2GtS],
} as const;
const BIT_OPS = { and: S.v128And, or: S.v128Or, xor: S.v128Xor, andnot: S.v128Andnot, not: S.v128Not, bitselect: S.v128Bitselect } as const;

/** Float ops with one opcode per lane type. */
export type FloatOp = keyof typeof FLOAT_OPS;

/**
 * A thin layer over {@link FuncBuilder} for vector code of one lane type: float and
 * same-width integer ops by name, splatted constants, fresh v128 locals.
 */
export class VecAsm {
  /** Lanes per vector. */
  readonly lanes: number;
  /** Bytes per lane. */
  readonly esz: number;
  constructor(
    readonly f: FuncBuilder,
    readonly t: Lanes,
  ) {
    this.lanes = t === "f32" ? 4 : 2;
    this.esz = t === "f32" ? 4 : 8;
  }
  /** A new v128 local. */
  tmp(): number {
    return this.f.local(V128);
  }
  get(i: number): this {
    this.f.get(i);
    return this;
  }
  set(i: number): this {
    this.f.set(i);
    return this;
  }
  tee(i: number): this {
    this.f.tee(i);
    return this;
  }
  /** Pops the top of the stack into a new local and returns it. */
  save(): number {
    const l = this.tmp();
    this.f.set(l);
    return l;
  }
  /** A float op on the lanes. */
  op(name: FloatOp): this {
    this.f.simd(FLOAT_OPS[name][this.t === "f32" ? 0 : 1]);
    return this;
  }
  /** An integer op on lanes of the same width (i32x4 / i64x2); shifts take their count from the stack. */
  iop(name: keyof typeof INT_OPS): this {
    this.f.simd(INT_OPS[name][this.t === "f32" ? 0 : 1]);
    return this;
  }
  /** A bitwise v128 op (`bitselect(a, b, m)` takes a where m is set). */
  bit(name: keyof typeof BIT_OPS): this {
    this.f.simd(BIT_OPS[name]);
    return this;
  }
  /** `v128.const` with `v` in every float lane. */
  c(v: number): this {
    const b = this.t === "f32" ? new Float32Array(4).fill(v) : new Float64Array(2).fill(v);
    this.f.v128(new Uint8Array(b.buffer));
    return this;
  }
  /** `v128.const` with the integer `v` in every lane (i32 lanes for f32, i64 lanes for f64). */
  ci(v: number | bigint): this {
    const b = this.t === "f32" ? new Int32Array(4).fill(Number(v)) : new BigInt64Array(2).fill(BigInt(v));
    this.f.v128(new Uint8Array(b.buffer));
    return this;
  }
  /** `v128.const` of all-ones (true) or all-zeros (false) lanes. */
  mask(on: boolean): this {
    this.f.v128(new Uint8Array(16).fill(on ? 255 : 0));
    return this;
  }
  /** Shift of every integer lane by a constant. */
  shift(name: "shl" | "shrS", n: number): this {
    this.f.i32(n);
    return this.iop(name);
  }
  /** Horner evaluation of `Σ coeffs[k]·z^k` (z a local). */
  poly(z: number, coeffs: readonly number[]): this {
    this.c(coeffs[coeffs.length - 1]!);
    for (let k = coeffs.length - 2; k >= 0; k--) this.get(z).op("mul").c(coeffs[k]!).op("add");
    return this;
  }
  /** `m ? a : b` lane by lane, for locals (m a lane mask). */
  select(a: number, b: number, m: number): this {
    return this.get(a).get(b).get(m).bit("bitselect");
  }
}

// ------------------------------------------------------------------ constants

interface Consts {
  /** Polynomial P: expm1(r) = r + r²·P(r). */
  P: readonly number[];
  /** Polynomial Q: log(1+f) = f - f²/2 + s·(f²/2 + z·Q(z)). */
  Q: readonly number[];
  LN2_HI: number;
  LN2_LO: number;
  /** 1.5 · 2^(mantissa bits): adding it rounds to an integer held in the low bits. */
  SHIFT: number;
  SHIFT_BITS: bigint;
  MANT: number;
  BIAS: number;
  /** exp clamps its argument to [EXP_LO, EXP_HI] (the results there are 0 and Infinity). */
  EXP_LO: number;
  EXP_HI: number;
  /** expm1(x) rounds to -1 below this. */
  EXPM1_LO: number;
  /** expm1 uses 2^n·expm1(r) + (2^n - 1) for n <= this (where 2^n - 1 is exact). */
  EXPM1_NBIG: number;
  /** tanh(x) rounds to 1 at and above this. */
  TANH_HI: number;
  MIN_NORMAL: number;
  /** Subnormal inputs of log are scaled by 2^DENORM_SHIFT. */
  DENORM_SHIFT: number;
  SQRT_HALF_BITS: bigint;
  MANT_MASK: bigint;
  SIGN_BITS: bigint;
}

const ln2Parts = (): { hi: number; lo: number } => {
  // clear the low 12 bits of double(ln2) so that n·hi is exact for |n| < 2^11
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, Math.LN2);
  dv.setBigUint64(0, dv.getBigUint64(0) & ~0xfffn);
  const hi = dv.getFloat64(0);
  // ln2 - double(ln2) = 2.319046813846299558e-17
  return { hi, lo: Math.LN2 - hi + 2.319046813846299558e-17 };
};

const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));

const F32: Consts = {
  P: [0.5, 0.16666577756404877, 0.041666556149721146, 0.008363173343241215, 0.0013926175888627768],
  Q: [0.6666666865348816, 0.4000012278556824, 0.2855082154273987, 0.2333046793937683],
  LN2_HI: 0.693145751953125,
  LN2_LO: Math.fround(Math.LN2 - 0.693145751953125),
  SHIFT: 12582912,
  SHIFT_BITS: 0x4b400000n,
  MANT: 23,
  BIAS: 127,
  EXP_LO: -104,
  EXP_HI: 89,
  EXPM1_LO: -18,
  EXPM1_NBIG: 24,
  TANH_HI: 10,
  MIN_NORMAL: 2 ** -126,
  DENORM_SHIFT: 24,
  SQRT_HALF_BITS: 0x3f3504f3n,
  MANT_MASK: 0x7fffffn,
  SIGN_BITS: -0x80000000n,
};

const F64: Consts = {
  P: Array.from({ length: 13 }, (_, k) => 1 / fact(k + 2)),
  Q: Array.from({ length: 10 }, (_, k) => 2 / (2 * k + 3)),
  LN2_HI: ln2Parts().hi,
  LN2_LO: ln2Parts().lo,
  SHIFT: 6755399441055744,
  SHIFT_BITS: 0x4338000000000000n,
  MANT: 52,
  BIAS: 1023,
  EXP_LO: -746,
  EXP_HI: 710,
  EXPM1_LO: -40,
  EXPM1_NBIG: 53,
  TANH_HI: 20,
  MIN_NORMAL: 2 ** -1022,
  DENORM_SHIFT: 54,
  SQRT_HALF_BITS: 0x3fe6a09e667f3bcdn,
  MANT_MASK: 0xfffffffffffffn,
  SIGN_BITS: -0x8000000000000000n,
};

const K = (a: VecAsm): Consts => (a.t === "f32" ? F32 : F64);

/** The integer lanes `v` as floats (v small; for f64, through the 1.5·2^52 bias). */
function intToFloat(a: VecAsm, v: number): void {
  if (a.t === "f32") {
    a.get(v);
    a.f.simd(S.f32x4ConvertI32x4S);
    return;
  }
  const k = K(a);
  a.get(v).ci(k.SHIFT_BITS).iop("add").c(k.SHIFT).op("sub");
}

/**
 * Range reduction of exp: from the clamped argument `xc`, `n` (integer lanes, a local),
 * `r` (a local) and `em = expm1(r)` (a local).
 */
function expReduce(a: VecAsm, xc: number): { n: number; r: number; em: number } {
  const k = K(a);
  const t = a.get(xc).c(Math.LOG2E).op("mul").c(k.SHIFT).op("add").save();
  const nf = a.get(t).c(k.SHIFT).op("sub").save();
  const n = a.get(t).ci(k.SHIFT_BITS).iop("sub").save();
  const r = a.get(xc).get(nf).c(k.LN2_HI).op("mul").op("sub").get(nf).c(k.LN2_LO).op("mul").op("sub").save();
  const r2 = a.get(r).get(r).op("mul").save();
  a.get(r).get(r2).poly(r, k.P).op("mul").op("add");
  const em = a.save();
  return { n, r, em };
}

/** 2^n for integer lanes `n` (a local) within the normal exponent range. */
function pow2(a: VecAsm, n: number): void {
  const k = K(a);
  a.get(n).ci(k.BIAS).iop("add").shift("shl", k.MANT);
}

/** Pushes `exp(x)` (x a local) on the stack. */
export function emitExp(a: VecAsm, x: number): void {
  const k = K(a);
  const xc = a.get(x).c(k.EXP_LO).op("pmax").c(k.EXP_HI).op("pmin").save();
  const { n, em } = expReduce(a, xc);
  const n1 = a.get(n).shift("shrS", 1).save();
  const n2 = a.get(n).get(n1).iop("sub").save();
  a.get(em).c(1).op("add");
  pow2(a, n1);
  a.op("mul");
  pow2(a, n2);
  a.op("mul");
}

/** Pushes `expm1(x)` (x a local) on the stack. */
export function emitExpm1(a: VecAsm, x: number): void {
  const k = K(a);
  const xc = a.get(x).c(k.EXPM1_LO).op("pmax").c(k.EXP_HI).op("pmin").save();
  const { n, em } = expReduce(a, xc);
  // small n: 2^n·em + (2^n - 1)
  pow2(a, n);
  const s = a.save();
  const small = a.get(s).get(em).op("mul").get(s).c(1).op("sub").op("add").save();
  // large n: (1 + em)·2^n1·2^n2 - 1
  const n1 = a.get(n).shift("shrS", 1).save();
  const n2 = a.get(n).get(n1).iop("sub").save();
  a.get(em).c(1).op("add");
  pow2(a, n1);
  a.op("mul");
  pow2(a, n2);
  a.op("mul").c(1).op("sub");
  const large = a.save();
  const m = a.get(n).ci(k.EXPM1_NBIG).iop("gtS").save();
  const res = a.select(large, small, m).save();
  // expm1(-0) = -0
  const z = a.get(x).c(0).op("eq").save();
  a.select(x, res, z);
}

/** Pushes `tanh(x)` (x a local) on the stack. */
export function emitTanh(a: VecAsm, x: number): void {
  const k = K(a);
  // y = -2·min(|x|, TANH_HI) ∈ [-2·TANH_HI, 0]: exp's reduction with n <= 0, one scaling
  const y = a.get(x).op("abs").c(k.TANH_HI).op("pmin").c(-2).op("mul").save();
  const { n, em } = expReduce(a, y);
  pow2(a, n);
  const s = a.save();
  const u = a.get(s).get(em).op("mul").get(s).c(1).op("sub").op("add").save();
  const t = a.get(u).op("neg").get(u).c(2).op("add").op("div").save();
  // copy the sign of x (tanh(-0) = -0; NaN stays NaN)
  a.get(x).get(t).ci(k.SIGN_BITS).bit("bitselect");
}

/** Pushes `logistic(x) = 1/(1+exp(-x))` (x a local) on the stack. */
export function emitLogistic(a: VecAsm, x: number): void {
  const negAbs = a.get(x).op("abs").op("neg").save();
  emitExp(a, negAbs);
  const e = a.save();
  const pos = a.get(x).c(0).op("ge").save();
  a.c(1).get(e).get(pos).bit("bitselect");
  a.get(e).c(1).op("add").op("div");
}

/** log(x) for x > 0 finite (other lanes give garbage, fixed by the callers). */
function logCore(a: VecAsm, x: number): void {
  const k = K(a);
  const den = a.get(x).c(k.MIN_NORMAL).op("lt").save();
  const xs = a
    .get(x)
    .c(2 ** k.DENORM_SHIFT)
    .op("mul")
    .get(x)
    .get(den)
    .bit("bitselect")
    .save();
  const kadj = a.c(-k.DENORM_SHIFT).c(0).get(den).bit("bitselect").save();
  const ix = a.get(xs).ci(k.SQRT_HALF_BITS).iop("sub").save();
  const ki = a.get(ix).shift("shrS", k.MANT).save();
  const m = a.get(ix).ci(k.MANT_MASK).bit("and").ci(k.SQRT_HALF_BITS).iop("add").save();
  const f = a.get(m).c(1).op("sub").save();
  const s = a.get(f).get(f).c(2).op("add").op("div").save();
  const z = a.get(s).get(s).op("mul").save();
  const hfsq = a.get(f).get(f).op("mul").c(0.5).op("mul").save();
  intToFloat(a, ki);
  const kf = a.get(kadj).op("add").save();
  // lo = s·(hfsq + z·Q(z)) + k·LN2_LO; log = k·LN2_HI + (f - (hfsq - lo))
  a.get(s).get(hfsq).get(z).poly(z, k.Q).op("mul").op("add").op("mul").get(kf).c(k.LN2_LO).op("mul").op("add");
  const lo = a.save();
  a.get(kf).c(k.LN2_HI).op("mul").get(f).get(hfsq).get(lo).op("sub").op("sub").op("add");
}

/** Pushes `log(x)` (x a local) on the stack. */
export function emitLog(a: VecAsm, x: number): void {
  logCore(a, x);
  let r = a.save();
  // x > 0 (finite): the core; x = 0: -Infinity; x = Infinity: Infinity; else NaN
  const pos = a.get(x).c(0).op("gt").save();
  r = a.get(r).c(NaN).get(pos).bit("bitselect").save();
  const zero = a.get(x).c(0).op("eq").save();
  r = a.c(-Infinity).get(r).get(zero).bit("bitselect").save();
  const inf = a.get(x).c(Infinity).op("eq").save();
  a.get(x).get(r).get(inf).bit("bitselect");
}

/** Pushes `log1p(x)` (x a local) on the stack. */
export function emitLog1p(a: VecAsm, x: number): void {
  const u = a.get(x).c(1).op("add").save();
  emitLog(a, u);
  const lg = a.save();
  // correction for the rounding of u: (x - (u - 1)) / u, dropped where it is NaN
  const c = a.get(x).get(u).c(1).op("sub").op("sub").get(u).op("div").save();
  const ok = a.get(c).get(c).op("eq").save();
  const r = a.get(lg).get(c).c(0).get(ok).bit("bitselect").op("add").save();
  // log1p(-0) = -0
  const zero = a.get(x).c(0).op("eq").save();
  a.select(x, r, zero);
}

// ------------------------------------------------------------------ sin, cos, tan

/**
 * sin, cos and tan reduce `x = k·π/2 + r`, `|r| <= π/4`, with π/2 split in four parts
 * (three of 33 bits, so that `k·P1..3` are exact for `|k| < 2^20`, and one of 53 bits),
 * which is accurate while `|x| <= TRIG_LIMIT`. Beyond it the lanes' values are not
 * accurate: callers test {@link emitTrigRangeMask} and compute those inputs another way.
 */
export const TRIG_LIMIT = 8e5;

/** π/2 in four parts (from 100 decimal digits of π, by integer arithmetic). */
const PIO2: readonly number[] = (() => {
  const digits = "3141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117067";
  const n = (BigInt(digits) << 220n) / (2n * 10n ** BigInt(digits.length - 1)); // π/2 · 2^220
  const bits = n.toString(2).length; // π/2 = 1.57...: bits = 221
  const parts: number[] = [];
  let rest = n;
  let used = 0;
  for (const width of [33, 33, 33, 53]) {
    const shift = BigInt(bits - used - width);
    const top = rest >> shift;
    rest -= top << shift;
    used += width;
    parts.push(Number(top) * 2 ** (bits - used - 220));
  }
  return parts;
})();
/** sin(r) = r + r³·SIN(r²) and cos(r) = 1 + r²·COS(r²) on |r| <= π/4 (Taylor series, rest below 2^-60). */
const SIN = Array.from({ length: 8 }, (_, k) => (k % 2 ? 1 : -1) / fact(2 * k + 3));
const COS = Array.from({ length: 9 }, (_, k) => (k % 2 ? 1 : -1) / fact(2 * k + 2));

/** Runs a float64 lane computation `g(a64, x64)` on both halves of an f32x4 local and packs the rounded results. */
function viaF64(a: VecAsm, x: number, g: (w: VecAsm, xw: number) => void): void {
  const w = new VecAsm(a.f, "f64");
  const halves = [0, 1].map((h) => {
    a.get(x);
    if (h === 1) a.get(x).f.simd(S.i8x16Shuffle).op(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    a.f.simd(S.f64x2PromoteLowF32x4);
    const xw = w.save();
    g(w, xw);
    a.f.simd(S.f32x4DemoteF64x2Zero);
    return a.save();
  });
  a.get(halves[0]!).get(halves[1]!).f.simd(S.i8x16Shuffle).op(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/** float64 lanes: the quadrant `k & 3` (i64 lanes), sin(r) and cos(r) of the reduced argument. */
function trigCore(w: VecAsm, x: number): { q: number; s: number; c: number } {
  const t = w
    .get(x)
    .c(2 / Math.PI)
    .op("mul")
    .c(F64.SHIFT)
    .op("add")
    .save();
  const kf = w.get(t).c(F64.SHIFT).op("sub").save();
  const q = w.get(t).ci(3).bit("and").save();
  w.get(x);
  for (const p of PIO2) w.get(kf).c(p).op("mul").op("sub");
  const r = w.save();
  const z = w.get(r).get(r).op("mul").save();
  const s = w.get(r).get(r).get(z).op("mul").poly(z, SIN).op("mul").op("add").save();
  const c = w.c(1).get(z).poly(z, COS).op("mul").op("add").save();
  return { q, s, c };
}

/** sin (`shift` 0) or cos (`shift` 1 = sin(x + π/2)) on float64 lanes. */
function sinCos64(w: VecAsm, x: number, shift: 0 | 1): void {
  const { q, s, c } = trigCore(w, x);
  const qq = shift ? w.get(q).ci(1).iop("add").save() : q;
  // odd quadrants take cos(r); quadrants 2 and 3 flip the sign
  const odd = w.get(qq).ci(1).bit("and").ci(0).iop("ne").save();
  w.get(c).get(s).get(odd).bit("bitselect");
  w.get(qq).ci(2).bit("and").shift("shl", 62).bit("xor");
  if (!shift) keepZero(w, x); // sin(-0) = -0
}

/** Replaces the lanes where x = ±0 by x (the value on the stack): odd functions keep the sign of zero. */
function keepZero(w: VecAsm, x: number): void {
  const v = w.save();
  const zero = w.get(x).c(0).op("eq").save();
  w.select(x, v, zero);
}

function tan64(w: VecAsm, x: number): void {
  const { q, s, c } = trigCore(w, x);
  const odd = w.get(q).ci(1).bit("and").ci(0).iop("ne").save();
  const even = w.get(s).get(c).op("div").save();
  const oddv = w.get(c).op("neg").get(s).op("div").save();
  w.select(oddv, even, odd);
  keepZero(w, x);
}

/** Pushes `sin(x)` (x a local); accurate for `|x| <= TRIG_LIMIT`. */
export function emitSin(a: VecAsm, x: number): void {
  if (a.t === "f64") sinCos64(a, x, 0);
  else viaF64(a, x, (w, xw) => sinCos64(w, xw, 0));
}
/** Pushes `cos(x)` (x a local); accurate for `|x| <= TRIG_LIMIT`. */
export function emitCos(a: VecAsm, x: number): void {
  if (a.t === "f64") sinCos64(a, x, 1);
  else viaF64(a, x, (w, xw) => sinCos64(w, xw, 1));
}
/** Pushes `tan(x)` (x a local); accurate for `|x| <= TRIG_LIMIT`. */
export function emitTan(a: VecAsm, x: number): void {
  if (a.t === "f64") tan64(a, x);
  else viaF64(a, x, tan64);
}
/** Pushes the lanes where `|x| > TRIG_LIMIT` (±Infinity included, NaN not): sin/cos/tan are not accurate there. */
export function emitTrigRangeMask(a: VecAsm, x: number): void {
  a.get(x).op("abs").c(TRIG_LIMIT).op("gt");
}

/** The unary functions this module vectorizes. */
export const VEC_MATH = {
  exp: emitExp,
  expm1: emitExpm1,
  log: emitLog,
  log1p: emitLog1p,
  tanh: emitTanh,
  logistic: emitLogistic,
} as const;

/** The trigonometric functions: accurate for `|x| <= TRIG_LIMIT` only (see {@link emitTrigRangeMask}). */
export const VEC_TRIG = { sin: emitSin, cos: emitCos, tan: emitTan } as const;
