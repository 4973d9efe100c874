/**
 * ONNX rows for the NumPy-level primitives: general gather and scatter (GatherND /
 * ScatterND on the operand transposed so that its batch axes and indexed axes lead),
 * `rev` (Slice with step -1), the inverse trigonometric and hyperbolic functions,
 * log1p/expm1, base-2/10 logarithms and exponentials, `atan2`, `hypot`, NumPy's `mod`,
 * erf, erfc, erfinv, lgamma, digamma and polygamma, cumulative sums (CumSum), products,
 * maxima and minima (a log-depth Hillis–Steele scan of Pad + Slice + Mul/Max/Min), and
 * `sort` / `argsort` (TopK over the whole axis, made stable with NaNs last as
 * cotangent's sort).
 *
 * Where ONNX has no operator (or ONNX Runtime no float64 kernel: Asin ... Atanh, Atan,
 * Erf), the row is a composition of elementwise operators that follows cotangent's
 * own algorithm closely enough to agree to float32 / float64 rounding over the whole
 * domain (test/export/numpy.test.ts sweeps it).
 *
 * Index semantics are cotangent's: indices in [-n, -1] count from the end (made
 * non-negative with a Where before they reach ONNX); any other index out of range is
 * passed on unchanged, so that ONNX Runtime fails the run (GatherND / ScatterND check
 * their indices), as cotangent throws.
 * @module
 */
import type { ShapedArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import * as M from "../primitives/special_math.js";
import { i64, ints, scalar } from "./onnx_consts.js";
import type { OnnxEmitter, OnnxEqn, OnnxRule } from "./onnx_ops.js";

/** TensorProto.DataType codes used here. */
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;
const BOOL = 9;

const iota = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const isIdentityPerm = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

function transpose(em: OnnxEmitter, x: string, perm: readonly number[]): string {
  return isIdentityPerm(perm) ? x : em.op("Transpose", [x], { perm });
}
function inversePerm(perm: readonly number[]): number[] {
  const inv: number[] = [];
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
/** An empty tensor of the output's shape and dtype (a rule's answer when its output has no elements). */
function empty(em: OnnxEmitter, a: ShapedArray): string {
  return em.constant([], a.dtype, a.shape);
}

// ---------------------------------------------------------------- gather and scatter

interface IndexLayout {
  /** The operand's axes in the order batch axes, indexed axes, the rest: the layout GatherND/ScatterND index. */
  perm: number[];
  /** The sizes of the indexed axes. */
  sizes: number[];
  nb: number;
  k: number;
}

function indexLayout(em: OnnxEmitter, e: OnnxEqn): IndexLayout {
  const x = e.inAvals[0]!;
  const axes = e.params.axes as readonly number[];
  const nb = e.params.batchDims as number;
  const rest = iota(x.ndim).filter((i) => i >= nb && !axes.includes(i));
  const positions = sizeOf(e.inAvals[1]!.shape.slice(0, -1));
  const emptyAxis = axes.find((a) => x.shape[a] === 0);
  if (emptyAxis !== undefined && positions > 0) {
    // cotangent throws on any index here; an empty result would hide that
    em.fail(
      `it indexes axis ${emptyAxis} of an operand of shape [${x.shape.join(", ")}], which is empty, at ${positions} position(s): every index is out of range.`,
    );
  }
  return { perm: [...iota(nb), ...axes, ...rest], sizes: axes.map((a) => x.shape[a]!), nb, k: axes.length };
}

/**
 * int32 indices [..., k] → int64, those in [-n, -1] counted from the end of their axis;
 * any other index is passed on unchanged, out of range, for ONNX Runtime to reject
 * (GatherND alone would also take [-n, -1] after a wrong shift).
 */
export function normalizedIndices(em: OnnxEmitter, idx: string, sizes: readonly number[]): string {
  const i = em.op("Cast", [idx], { to: INT64 });
  const n = em.constant(sizes, "int64", [sizes.length]);
  const fromEnd = em.op("And", [em.op("Less", [i, i64(em, 0)]), em.op("GreaterOrEqual", [i, em.op("Neg", [n])])]);
  return em.op("Where", [fromEnd, em.op("Add", [i, n]), i]);
}

/**
 * The indices with the batch coordinates prepended (ScatterND has no batch_dims):
 * [...B, ...J, k] → [...B, ...J, nb + k], column b holding the position along batch axis b.
 */
function withBatchCoords(em: OnnxEmitter, idx: string, idxShape: readonly number[], nb: number): string {
  if (nb === 0) return idx;
  const lead = idxShape.slice(0, -1);
  const cols = iota(nb).map((b) => {
    const r = em.constant(iota(lead[b]!), "int64", [...lead.map((d, i) => (i === b ? d : 1)), 1]);
    return em.op("Expand", [r, ints(em, [...lead, 1])]);
  });
  return em.op("Concat", [...cols, idx], { axis: -1 });
}

const gatherRule: OnnxRule = {
  lower(em, e) {
    const out = e.outAvals[0]!;
    const L = indexLayout(em, e);
    if (out.size === 0) return [empty(em, out)];
    const [x, idx] = e.inputs as [string, string];
    const xT = transpose(em, x, L.perm);
    if (L.k === 0) {
      // nothing indexed: out[b, j, r] = x[b, r]
      const xs = e.inAvals[0]!.shape;
      const nj = e.inAvals[1]!.ndim - 1 - L.nb;
      const mid = [...xs.slice(0, L.nb), ...Array<number>(nj).fill(1), ...xs.slice(L.nb)];
      return [em.op("Expand", [em.op("Reshape", [x, ints(em, mid)]), ints(em, out.shape)])];
    }
    return [em.op("GatherND", [xT, normalizedIndices(em, idx, L.sizes)], { batch_dims: L.nb })];
  },
};

/**
 * scatter: ScatterND on the transposed operand with the batch coordinates prepended to
 * the indices. add / mul are ScatterND's reductions (opset 16); min / max too (opset
 * 18), with NaN made to win as in cotangent; set, where ONNX leaves repeated indices
 * unspecified, takes the update of the last position that reaches each element (the
 * largest position, found by a ScatterND max of positions, opset 18), as cotangent does.
 */
const scatterRule: OnnxRule = {
  lower(em, e) {
    const [x, idx, u] = e.inputs as [string, string, string];
    const mode = e.params.mode as "add" | "set" | "mul" | "min" | "max";
    const xa = e.inAvals[0]!;
    const L = indexLayout(em, e);
    if (e.inAvals[2]!.size === 0 || xa.size === 0) return [em.op("Identity", [x])];
    const need = mode === "add" || mode === "mul" ? 16 : 18;
    if (em.opset < need) em.fail(`scatter-${mode} needs ScatterND with reduction from opset ${need}; pass { opset: ${need} } or later.`);
    const idxShape = e.inAvals[1]!.shape;
    const xT = transpose(em, x, L.perm);
    const full = withBatchCoords(em, normalizedIndices(em, idx, L.sizes), idxShape, L.nb);
    const tShape = L.perm.slice(0, L.nb + L.k).map((a) => xa.shape[a]!);
    const restShape = L.perm.slice(L.nb + L.k).map((a) => xa.shape[a]!);
    let res: string;
    if (L.k === 0) em.fail(`a scatter that indexes no axis (axes [], batchDims ${L.nb}) has no ScatterND form; index at least one axis.`);
    if (mode === "add" || mode === "mul") {
      res = em.op("ScatterND", [xT, full, u], { reduction: mode });
    } else if (mode === "min" || mode === "max") {
      const r = em.op("ScatterND", [xT, full, u], { reduction: mode });
      // NaN wins: an element is NaN if the operand or any update that reaches it is
      if (xa.dtype === "int32") res = r;
      else {
        const nanU = em.op("Cast", [em.op("IsNaN", [u])], { to: xa.dtype === "float32" ? FLOAT : DOUBLE });
        const zeros = em.op("Expand", [scalar(em, 0, xa.dtype), ints(em, [...tShape, ...restShape])]);
        const anyNaN = em.op("Greater", [em.op("ScatterND", [zeros, full, nanU], { reduction: "add" }), scalar(em, 0, xa.dtype)]);
        res = em.op("Where", [em.op("Or", [anyNaN, em.op("IsNaN", [xT])]), scalar(em, Number.NaN, xa.dtype), r]);
      }
    } else {
      // set: the last position reaching each element wins
      const lead = idxShape.slice(0, -1);
      const P = sizeOf(lead);
      const pos = em.op("Reshape", [em.op("Range", [i64(em, 0), i64(em, P), i64(em, 1)]), ints(em, lead)]);
      const none = em.op("Expand", [i64(em, -1), ints(em, tShape)]);
      const winner = em.op("ScatterND", [none, full, pos], { reduction: "max" });
      const hit = em.op("Reshape", [em.op("GreaterOrEqual", [winner, i64(em, 0)]), ints(em, [...tShape, ...restShape.map(() => 1)])]);
      const flatU = em.op("Reshape", [u, ints(em, [P, ...restShape])]);
      const picked = em.op("Gather", [flatU, em.op("Max", [winner, i64(em, 0)])], { axis: 0 });
      res = em.op("Where", [hit, picked, xT]);
    }
    return [transpose(em, res, inversePerm(L.perm))];
  },
};

// ---------------------------------------------------------------- rev

const revRule: OnnxRule = {
  lower(em, e) {
    const axes = e.params.axes as readonly number[];
    const shape = e.inAvals[0]!.shape;
    const [x] = e.inputs as [string];
    if (axes.length === 0 || e.inAvals[0]!.size === 0) return [em.op("Identity", [x])];
    const starts = axes.map((a) => shape[a]! - 1);
    // an end of -(n + 1) is "before element 0" for a negative step
    const ends = axes.map((a) => -(shape[a]! + 1));
    return [
      em.op("Slice", [
        x,
        ints(em, starts),
        ints(em, ends),
        ints(em, axes),
        ints(
          em,
          axes.map(() => -1),
        ),
      ]),
    ];
  },
};

// ---------------------------------------------------------------- elementwise

/** x · c in x's dtype. */
const scaled = (opType: string, c: number): OnnxRule => ({
  lower: (em, e) => [em.op("Mul", [em.op(opType, e.inputs), scalar(em, c, e.inAvals[0]!.dtype)])],
});

/** log(1 + x), accurate for small x (the classic correction log(u)·x/(u - 1), u = 1 + x); +∞ at +∞. */
function log1p(em: OnnxEmitter, x: string, d: DType): string {
  const one = scalar(em, 1, d);
  const u = em.op("Add", [x, one]);
  const um1 = em.op("Sub", [u, one]);
  const corrected = em.op("Div", [em.op("Mul", [em.op("Log", [u]), x]), um1]);
  const small = em.op("Where", [em.op("Equal", [u, one]), x, corrected]);
  return em.op("Where", [em.op("IsInf", [x], { detect_negative: 0 }), x, small]);
}

/** exp(x) - 1, accurate for small x ((u - 1)·x / log(u), u = e^x); -1 and +∞ at the ends. */
function expm1(em: OnnxEmitter, x: string, d: DType): string {
  const one = scalar(em, 1, d);
  const u = em.op("Exp", [x]);
  const um1 = em.op("Sub", [u, one]);
  const corrected = em.op("Div", [em.op("Mul", [um1, x]), em.op("Log", [u])]);
  const small = em.op("Where", [em.op("Equal", [u, one]), x, corrected]);
  const ends = em.op("Or", [em.op("Equal", [um1, scalar(em, -1, d)]), em.op("IsInf", [x], { detect_negative: 0 })]);
  return em.op("Where", [ends, um1, small]);
}

/** `r` for x > 0, -r for x < 0, and x itself at ±0 (signed zeros kept) and NaN: odd functions computed on |x|. */
function oddFrom(em: OnnxEmitter, x: string, r: string, d: DType): string {
  const zero = scalar(em, 0, d);
  const signed = em.op("Where", [em.op("Less", [x, zero]), em.op("Neg", [r]), r]);
  return em.op("Where", [em.op("Equal", [x, zero]), x, signed]);
}

const isF64 = (d: DType): boolean => d === "float64";

/**
 * atan in the dtype of `t`. ONNX Runtime has no float64 Atan kernel: float64 starts
 * from the float32 Atan and takes two Newton steps on sin θ - t cos θ = 0 (quadratic
 * convergence: 1e-7 → 1e-14 → rounding), ±π/2 at ±∞.
 */
function atanOf(em: OnnxEmitter, t: string, d: DType): string {
  if (!isF64(d)) return em.op("Atan", [t]);
  let th = em.op("Cast", [em.op("Atan", [em.op("Cast", [t], { to: FLOAT })])], { to: DOUBLE });
  for (let it = 0; it < 2; it++) {
    const s = em.op("Sin", [th]);
    const c = em.op("Cos", [th]);
    const f = em.op("Sub", [s, em.op("Mul", [t, c])]);
    const fp = em.op("Add", [c, em.op("Mul", [t, s])]);
    th = em.op("Sub", [th, em.op("Div", [f, fp])]);
  }
  const halfPi = scalar(em, Math.PI / 2, d);
  const inf = em.op("Where", [em.op("Less", [t, scalar(em, 0, d)]), em.op("Neg", [halfPi]), halfPi]);
  return em.op("Where", [em.op("IsInf", [t]), inf, th]);
}

/** atan2(y, x): atan(y / x) with the quadrant corrections of Math.atan2 (signed zeros and infinities included). */
function atan2Of(em: OnnxEmitter, y: string, x: string, d: DType): string {
  const zero = scalar(em, 0, d);
  const one = scalar(em, 1, d);
  const pi = scalar(em, Math.PI, d);
  const base = atanOf(em, em.op("Div", [y, x]), d);
  // "negative" includes -0 (1/-0 = -∞)
  const negative = (v: string): string => em.op("Or", [em.op("Less", [v, zero]), em.op("Less", [em.op("Div", [one, v]), zero])]);
  const xNeg = negative(x);
  const yNeg = negative(y);
  const sgnPi = em.op("Where", [yNeg, em.op("Neg", [pi]), pi]);
  // both infinite: ±π/4 or ±3π/4
  const bothInf = em.op("And", [em.op("IsInf", [y]), em.op("IsInf", [x])]);
  const quarter = em.op("Where", [xNeg, scalar(em, (3 * Math.PI) / 4, d), scalar(em, Math.PI / 4, d)]);
  const infCase = em.op("Where", [yNeg, em.op("Neg", [quarter]), quarter]);
  // both zero (y / x is NaN): ±0 for x = +0, ±π for x = -0
  const bothZero = em.op("And", [em.op("Equal", [y, zero]), em.op("Equal", [x, zero])]);
  const zeroCase = em.op("Where", [xNeg, sgnPi, y]);
  const general = em.op("Where", [xNeg, em.op("Add", [base, sgnPi]), base]);
  return em.op("Where", [bothInf, infCase, em.op("Where", [bothZero, zeroCase, general])]);
}

/** √((1 - x)(1 + x)), exact-ish near |x| = 1 (1 - x is exact there), NaN for |x| > 1. */
function cosOfAsin(em: OnnxEmitter, x: string, d: DType): string {
  const one = scalar(em, 1, d);
  return em.op("Sqrt", [em.op("Mul", [em.op("Sub", [one, x]), em.op("Add", [one, x])])]);
}

/** The grid of erfTaylor: multiples of 1/32 up to where erfc underflows in the dtype. */
const ERF_STEP = 32;
const ERF_MAX: Record<"float32" | "float64", number> = { float32: 10.5, float64: 27.25 };
const ERF_TERMS: Record<"float32" | "float64", number> = { float32: 10, float64: 20 };
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf(a) and erfc(a) for a >= 0 (NaN passes through), both with full relative accuracy:
 * the Taylor expansion around the nearest grid point c (|h| <= 1/64):
 * erfc(c + h) = erfc(c)·(1 + R(c)·S), erf(c + h) = erf(c) - erfc(c)·R(c)·S, with
 * R(c) = (2/√π) e^{-c²} / erfc(c) and S = Σ_{n≥1} H_{n-1}(c) (-h)^n / n! (Hermite
 * recurrence). erf(c), erfc(c) and R(c) are tables computed by cotangent's own erf
 * and erfc at export time; beyond the table, erfc is 0 and erf 1.
 */
function erfTaylor(em: OnnxEmitter, a: string, d: "float32" | "float64"): { erf: string; erfc: string } {
  const top = Math.round(ERF_MAX[d] * ERF_STEP);
  const grid = iota(top + 1).map((i) => i / ERF_STEP);
  const table = (f: (c: number) => number): string => em.constant(grid.map(f), d, [grid.length]);
  const inRange = em.op("LessOrEqual", [a, scalar(em, ERF_MAX[d], d)]);
  const safe = em.op("Where", [inRange, a, scalar(em, 0, d)]);
  const k = em.op("Round", [em.op("Mul", [safe, scalar(em, ERF_STEP, d)])]);
  const at = em.op("Cast", [k], { to: INT64 });
  const c = em.op("Div", [k, scalar(em, ERF_STEP, d)]);
  const h = em.op("Sub", [safe, c]);
  const negH = em.op("Neg", [h]);
  const two = scalar(em, 2, d);
  const twoC = em.op("Mul", [two, c]);
  let hPrev = scalar(em, 0, d);
  let hCur = scalar(em, 1, d); // H_0
  let pw = negH; // (-h)^1 / 1!
  let sum = negH;
  for (let n = 2; n <= ERF_TERMS[d]; n++) {
    const hNext = em.op("Sub", [em.op("Mul", [twoC, hCur]), em.op("Mul", [scalar(em, 2 * (n - 2), d), hPrev])]);
    hPrev = hCur;
    hCur = hNext;
    pw = em.op("Mul", [pw, em.op("Div", [negH, scalar(em, n, d)])]);
    sum = em.op("Add", [sum, em.op("Mul", [hCur, pw])]);
  }
  const erfcC = em.op("Gather", [table((x) => M.erfc(x)), at], { axis: 0 });
  const erfC = em.op("Gather", [table((x) => M.erf(x)), at], { axis: 0 });
  const rel = em.op("Mul", [em.op("Gather", [table((x) => (TWO_OVER_SQRT_PI * Math.exp(-x * x)) / M.erfc(x)), at], { axis: 0 }), sum]);
  const corr = em.op("Mul", [erfcC, rel]);
  const nan = em.op("IsNaN", [a]);
  const pick = (v: string, beyond: number): string => em.op("Where", [nan, a, em.op("Where", [inRange, v, scalar(em, beyond, d)])]);
  return { erf: pick(em.op("Sub", [erfC, corr]), 1), erfc: pick(em.op("Add", [erfcC, corr]), 0) };
}

const floatDtype = (em: OnnxEmitter, d: DType): "float32" | "float64" => {
  if (d !== "float32" && d !== "float64") em.fail(`expects a float32 or float64 operand, got ${d}.`);
  return d;
};

/**
 * erfinv as cotangent computes it: Winitzki's closed form, then Halley steps on
 * erf(x) = a (on erfc(x) = 1 - a for a >= 1/2, better conditioned near 1), three
 * steps (cubic convergence from 2e-3); ±∞ at ±1, NaN outside [-1, 1], signed zero kept.
 */
function erfInv(em: OnnxEmitter, y: string, d: "float32" | "float64"): string {
  const c = (v: number): string => scalar(em, v, d);
  const a = em.op("Abs", [y]);
  const q = em.op("Sub", [c(1), a]);
  const ln = em.op("Add", [log1p(em, em.op("Neg", [a]), d), log1p(em, a, d)]);
  const k = 0.147;
  const t = em.op("Add", [c(2 / (Math.PI * k)), em.op("Mul", [ln, c(0.5)])]);
  const inner = em.op("Sqrt", [em.op("Sub", [em.op("Mul", [t, t]), em.op("Div", [ln, c(k)])])]);
  let x = em.op("Sqrt", [em.op("Max", [em.op("Sub", [inner, t]), c(0)])]);
  const low = em.op("Less", [a, c(0.5)]);
  for (let it = 0; it < 3; it++) {
    const { erf, erfc } = erfTaylor(em, x, d);
    const f = em.op("Where", [low, em.op("Sub", [erf, a]), em.op("Sub", [q, erfc])]);
    const fp = em.op("Mul", [c(TWO_OVER_SQRT_PI), em.op("Exp", [em.op("Neg", [em.op("Mul", [x, x])])])]);
    const r = em.op("Div", [f, fp]);
    const step = em.op("Div", [r, em.op("Add", [c(1), em.op("Mul", [x, r])])]);
    x = em.op("Max", [em.op("Sub", [x, step]), c(0)]);
  }
  const atOne = em.op("Where", [em.op("Equal", [a, c(1)]), c(Number.POSITIVE_INFINITY), x]);
  const valid = em.op("Where", [em.op("Greater", [a, c(1)]), c(Number.NaN), atOne]);
  return oddFrom(em, y, valid, d);
}

// ---------------------------------------------------------------- lgamma, digamma, polygamma
// cotangent's algorithms (src/primitives/special_math.ts) written out in float64 ONNX
// operators, branch by branch (every branch is computed, Where picks); float32 operands
// are computed in float64 and rounded once, as cotangent does.

/** Σ_i coeffs[i] · t^i by Horner's rule. */
function horner(em: OnnxEmitter, t: string, coeffs: readonly number[]): string {
  let acc = scalar(em, coeffs[coeffs.length - 1]!, "float64");
  for (let i = coeffs.length - 2; i >= 0; i--) acc = em.op("Add", [em.op("Mul", [acc, t]), scalar(em, coeffs[i]!, "float64")]);
  return acc;
}

/** sin(πx) with the argument reduced exactly to [0, 1/2] first. */
function sinPi(em: OnnxEmitter, x: string): string {
  const c = (v: number): string => scalar(em, v, "float64");
  const r = em.op("Sub", [x, em.op("Mul", [c(2), em.op("Floor", [em.op("Mul", [x, c(0.5)])])])]);
  const upper = em.op("Greater", [r, c(1)]);
  const r1 = em.op("Where", [upper, em.op("Sub", [r, c(1)]), r]);
  const r2 = em.op("Where", [em.op("Greater", [r1, c(0.5)]), em.op("Sub", [c(1), r1]), r1]);
  const v = em.op("Sin", [em.op("Mul", [c(Math.PI), r2])]);
  return em.op("Where", [upper, em.op("Neg", [v]), v]);
}

const isInteger = (em: OnnxEmitter, x: string): string => em.op("Equal", [em.op("Floor", [x]), x]);

/** log Γ(z) for z >= 1/2: the log Γ(1 + t) series on [1/2, 5/2) (after up to 6 recurrence steps down from [5/2, 8)), Stirling's series from 8. */
function lgammaPositive(em: OnnxEmitter, z: string): string {
  const c = (v: number): string => scalar(em, v, "float64");
  const n = em.op("Clip", [em.op("Floor", [em.op("Sub", [z, c(1.5)])]), c(0), c(6)]);
  let prod = c(1);
  for (let i = 1; i <= 6; i++) prod = em.op("Mul", [prod, em.op("Where", [em.op("LessOrEqual", [c(i), n]), em.op("Sub", [z, c(i)]), c(1)])]);
  const below = em.op("Less", [z, c(1.5)]);
  const t = em.op("Where", [below, em.op("Sub", [z, c(1)]), em.op("Sub", [em.op("Sub", [z, n]), c(2)])]);
  // log Γ(1 + t) = -γt + Σ_{k≥2} ζ(k) (-t)^k / k
  const u = em.op("Neg", [t]);
  const series = em.op("Mul", [
    em.op("Mul", [u, u]),
    horner(
      em,
      u,
      M.ZETA.map((zeta, i) => zeta / (i + 2)),
    ),
  ]);
  const lg1p = em.op("Add", [em.op("Mul", [c(-M.EULER_GAMMA), t]), series]);
  const mid = em.op("Add", [lg1p, em.op("Where", [below, c(0), em.op("Add", [log1p(em, t, "float64"), em.op("Log", [prod])])])]);
  const inv = em.op("Reciprocal", [z]);
  const stirlingSum = em.op("Mul", [
    inv,
    horner(
      em,
      em.op("Mul", [inv, inv]),
      M.B2K.map((b, k) => b / ((2 * k + 2) * (2 * k + 1))),
    ),
  ]);
  const stirling = em.op("Add", [
    em.op("Sub", [em.op("Mul", [em.op("Sub", [z, c(0.5)]), em.op("Log", [z])]), z]),
    em.op("Add", [c(M.LOG_SQRT_2PI), stirlingSum]),
  ]);
  return em.op("Where", [em.op("GreaterOrEqual", [z, c(8)]), stirling, mid]);
}

function lgamma64(em: OnnxEmitter, x: string): string {
  const c = (v: number): string => scalar(em, v, "float64");
  const neg = em.op("Less", [x, c(0.5)]);
  const pos = lgammaPositive(em, em.op("Where", [neg, em.op("Sub", [c(1), x]), x]));
  const absX = em.op("Abs", [x]);
  const reflected = em.op("Sub", [em.op("Sub", [c(M.LOG_PI), em.op("Log", [em.op("Abs", [sinPi(em, x)])])]), pos]);
  const tiny = em.op("Where", [em.op("Less", [absX, c(1e-300)]), em.op("Neg", [em.op("Log", [absX])]), reflected]);
  const negative = em.op("Where", [isInteger(em, x), c(Number.POSITIVE_INFINITY), tiny]);
  return em.op("Where", [em.op("IsInf", [x]), c(Number.POSITIVE_INFINITY), em.op("Where", [neg, negative, pos])]);
}

/** ψ(z) for z > 0: one step up below 0.96, the Taylor series around the positive root up to 1.96, else up to 9 steps up to 10 and the asymptotic series. */
function digammaPositive(em: OnnxEmitter, z: string): string {
  const c = (v: number): string => scalar(em, v, "float64");
  const low = em.op("Less", [z, c(0.96)]);
  const z1 = em.op("Where", [low, em.op("Add", [z, c(1)]), z]);
  const acc1 = em.op("Where", [low, em.op("Neg", [em.op("Reciprocal", [z])]), c(0)]);
  const h = em.op("Sub", [em.op("Sub", [z1, c(M.PSI_ROOT_HI)]), c(M.PSI_ROOT_LO)]);
  const taylor = em.op("Mul", [h, horner(em, h, M.PSI_ROOT_TAYLOR)]);
  let z2 = z1;
  let acc2 = acc1;
  for (let i = 0; i < 9; i++) {
    const m = em.op("Less", [z2, c(10)]);
    acc2 = em.op("Sub", [acc2, em.op("Where", [m, em.op("Reciprocal", [z2]), c(0)])]);
    z2 = em.op("Where", [m, em.op("Add", [z2, c(1)]), z2]);
  }
  const inv = em.op("Reciprocal", [z2]);
  const inv2 = em.op("Mul", [inv, inv]);
  const tail = em.op("Mul", [
    inv2,
    horner(
      em,
      inv2,
      M.B2K.slice(0, 8).map((b, k) => b / (2 * k + 2)),
    ),
  ]);
  const asym = em.op("Sub", [em.op("Sub", [em.op("Log", [z2]), em.op("Mul", [c(0.5), inv])]), tail]);
  return em.op("Where", [em.op("LessOrEqual", [z1, c(1.96)]), em.op("Add", [acc1, taylor]), em.op("Add", [acc2, asym])]);
}

/** ψ(x); reflection ψ(x) = ψ(1 - x) - π cot(πx) for x <= 0; NaN at 0, -1, -2, ... and -∞. */
function digamma64(em: OnnxEmitter, x: string): string {
  const c = (v: number): string => scalar(em, v, "float64");
  const neg = em.op("LessOrEqual", [x, c(0)]);
  const p = digammaPositive(em, em.op("Where", [neg, em.op("Sub", [c(1), x]), x]));
  const r = em.op("Sub", [x, em.op("Floor", [x])]);
  const cot = em.op("Div", [em.op("Cos", [em.op("Mul", [c(Math.PI), r])]), sinPi(em, r)]);
  const reflected = em.op("Where", [isInteger(em, x), c(Number.NaN), em.op("Sub", [p, em.op("Mul", [c(Math.PI), cot])])]);
  return em.op("Where", [neg, reflected, p]);
}

/**
 * ψ^(n)(x) = (-1)^(n+1) [Σ n!/(x+k)^(n+1) up to x + k >= 10 + 2n, then the asymptotic
 * series]: the recurrence is a Loop whose trip count is the largest number of steps any
 * element needs (elements already past 10 + 2n stay put); below -100 the reflection
 * formula, as cotangent's, so the count is bounded.
 */
function polygamma64(em: OnnxEmitter, x: string, shape: readonly number[], n: number): string {
  const c = (v: number): string => scalar(em, v, "float64");
  let fact = 1;
  for (let k = 2; k <= n; k++) fact *= k;
  const big = 10 + 2 * n;
  // far left, cotangent's reflection to 1 - x (so the loop's trip count stays bounded)
  const far = em.op("Less", [x, c(-M.POLYGAMMA_REFLECT)]);
  const y = em.op("Where", [far, em.op("Sub", [c(1), x]), x]);
  const finite = em.op("Not", [em.op("Or", [em.op("IsInf", [y]), em.op("IsNaN", [y])])]);
  const steps = em.op("Where", [finite, em.op("Ceil", [em.op("Sub", [c(big), y])]), c(0)]);
  const trips = em.op("Cast", [em.op("Clip", [em.op("ReduceMax", [steps], { keepdims: 0 }), c(0), c(2 ** 31 - 1)])], { to: INT64 });
  const t = { elem: "float64" as const, shape };
  const body = em.subgraph(
    [{ elem: "int64", shape: [] }, { elem: "bool", shape: [] }, t, t],
    (sub, [, cond, acc, z]) => {
      const m = sub.op("Less", [z!, sub.constant([big], "float64", [])]);
      const term = sub.op("Div", [sub.constant([fact], "float64", []), sub.op("Pow", [z!, sub.constant([n + 1], "float64", [])])]);
      const acc2 = sub.op("Add", [acc!, sub.op("Where", [m, term, sub.constant([0], "float64", [])])]);
      return [cond!, acc2, sub.op("Where", [m, sub.op("Add", [z!, sub.constant([1], "float64", [])]), z!])];
    },
    [{ elem: "bool", shape: [] }, t, t],
  );
  const zeros = em.op("Expand", [c(0), ints(em, shape)]);
  const [acc, z] = em.ops("Loop", [trips, "", zeros, y], 2, { body }) as [string, string];
  const inv = em.op("Reciprocal", [z]);
  const pw = (k: number): string => em.op("Pow", [inv, c(k)]);
  let s = em.op("Add", [em.op("Mul", [c(fact / n), pw(n)]), em.op("Mul", [c(fact / 2), pw(n + 1)])]);
  let ratio = fact / n;
  for (let k = 1; k <= 10; k++) {
    ratio *= ((2 * k + n - 2) * (2 * k + n - 1)) / ((2 * k - 1) * (2 * k));
    s = em.op("Add", [s, em.op("Mul", [c(M.B2K[k - 1]! * ratio), pw(2 * k + n)])]);
  }
  const direct = em.op("Mul", [c(n % 2 === 1 ? 1 : -1), em.op("Add", [acc, s])]);
  const frac = em.op("Sub", [x, em.op("Floor", [x])]);
  const cot = em.op("Div", [em.op("Cos", [em.op("Mul", [c(Math.PI), frac])]), sinPi(em, frac)]);
  const reflected = em.op("Sub", [
    em.op("Mul", [c(n % 2 === 0 ? 1 : -1), direct]),
    em.op("Mul", [c(Math.PI ** (n + 1)), horner(em, cot, M.cotDerivativePoly(n))]),
  ]);
  const r = em.op("Where", [far, reflected, direct]);
  const pole = em.op("And", [em.op("LessOrEqual", [x, c(0)]), isInteger(em, x)]);
  const atPole = em.op("Where", [pole, c(n % 2 === 1 ? Number.POSITIVE_INFINITY : Number.NaN), r]);
  const ends = em.op("Where", [
    em.op("IsInf", [x], { detect_negative: 0 }),
    c(0),
    em.op("Where", [em.op("IsInf", [x], { detect_positive: 0 }), c(Number.NaN), atPole]),
  ]);
  return ends;
}

/** A float64 composition for a float32 or float64 operand: float32 goes in and out through Cast. */
function in64(f: (em: OnnxEmitter, x: string, e: OnnxEqn) => string): OnnxRule {
  return {
    lower(em, e) {
      const d = floatDtype(em, e.inAvals[0]!.dtype);
      const x = d === "float64" ? e.inputs[0]! : em.op("Cast", [e.inputs[0]!], { to: DOUBLE });
      const r = f(em, x, e);
      return [d === "float64" ? r : em.op("Cast", [r], { to: FLOAT })];
    },
  };
}

/** A float32 ONNX operator, with a float64 composition where ONNX Runtime has no float64 kernel. */
function f32Op(opType: string, f64: (em: OnnxEmitter, x: string, d: DType) => string): OnnxRule {
  return {
    lower(em, e) {
      const d = e.inAvals[0]!.dtype;
      return [isF64(d) ? f64(em, e.inputs[0]!, d) : em.op(opType, e.inputs)];
    },
  };
}

/** Beyond this, x² overflows or no longer matters: asinh and acosh are log(2|x|). */
const BIG = 2 ** 28;

/** The float64 compositions: glibc's formulas on |x|, from Exp, Log, log1p, expm1 and Sqrt. */
const f64Forms = {
  asin: (em: OnnxEmitter, x: string, d: DType) => atan2Of(em, x, cosOfAsin(em, x, d), d),
  acos: (em: OnnxEmitter, x: string, d: DType) => atan2Of(em, cosOfAsin(em, x, d), x, d),
  atan: atanOf,
  // |x| ≤ 20: (E + E/(E + 1))/2 with E = expm1(|x|); beyond: w·(w/2) with w = e^{|x|/2} (no overflow before sinh's)
  sinh(em: OnnxEmitter, x: string, d: DType) {
    const a = em.op("Abs", [x]);
    const half = scalar(em, 0.5, d);
    const E = expm1(em, a, d);
    const small = em.op("Mul", [half, em.op("Add", [E, em.op("Div", [E, em.op("Add", [E, scalar(em, 1, d)])])])]);
    const w = em.op("Exp", [em.op("Mul", [a, half])]);
    const large = em.op("Mul", [w, em.op("Mul", [w, half])]);
    return oddFrom(em, x, em.op("Where", [em.op("Greater", [a, scalar(em, 20, d)]), large, small]), d);
  },
  // w·(w/2) + (1/2)/w/w with w = e^{|x|/2}
  cosh(em: OnnxEmitter, x: string, d: DType) {
    const half = scalar(em, 0.5, d);
    const w = em.op("Exp", [em.op("Mul", [em.op("Abs", [x]), half])]);
    return em.op("Add", [em.op("Mul", [w, em.op("Mul", [w, half])]), em.op("Div", [em.op("Div", [half, w]), w])]);
  },
  // log1p(a + a²/(1 + √(1 + a²))), log(a) + ln 2 for large a
  asinh(em: OnnxEmitter, x: string, d: DType) {
    const a = em.op("Abs", [x]);
    const one = scalar(em, 1, d);
    const a2 = em.op("Mul", [a, a]);
    const mid = log1p(em, em.op("Add", [a, em.op("Div", [a2, em.op("Add", [one, em.op("Sqrt", [em.op("Add", [one, a2])])])])]), d);
    const large = em.op("Add", [em.op("Log", [a]), scalar(em, Math.LN2, d)]);
    return oddFrom(em, x, em.op("Where", [em.op("Greater", [a, scalar(em, BIG, d)]), large, mid]), d);
  },
  // log1p(t + √(2t + t²)), t = x - 1; log(x) + ln 2 for large x; NaN below 1
  acosh(em: OnnxEmitter, x: string, d: DType) {
    const one = scalar(em, 1, d);
    const t = em.op("Sub", [x, one]);
    const root = em.op("Sqrt", [em.op("Mul", [t, em.op("Add", [t, scalar(em, 2, d)])])]);
    const mid = log1p(em, em.op("Add", [t, root]), d);
    const large = em.op("Add", [em.op("Log", [x]), scalar(em, Math.LN2, d)]);
    const r = em.op("Where", [em.op("Greater", [x, scalar(em, BIG, d)]), large, mid]);
    return em.op("Where", [em.op("Less", [x, one]), scalar(em, Number.NaN, d), r]);
  },
  // log1p(2a/(1 - a))/2, ∞ at a = 1, NaN beyond
  atanh(em: OnnxEmitter, x: string, d: DType) {
    const a = em.op("Abs", [x]);
    const one = scalar(em, 1, d);
    const r = em.op("Mul", [scalar(em, 0.5, d), log1p(em, em.op("Div", [em.op("Add", [a, a]), em.op("Sub", [one, a])]), d)]);
    const atOne = em.op("Where", [em.op("Equal", [a, one]), scalar(em, Number.POSITIVE_INFINITY, d), r]);
    return oddFrom(em, x, atOne, d);
  },
};

const elementwiseRules: Record<string, OnnxRule> = {
  log1p: { lower: (em, e) => [log1p(em, e.inputs[0]!, e.inAvals[0]!.dtype)] },
  expm1: { lower: (em, e) => [expm1(em, e.inputs[0]!, e.inAvals[0]!.dtype)] },
  // ONNX Runtime has no float64 Tan: sin/cos (both correctly rounded to an ulp, so 2 ulps)
  tan: f32Op("Tan", (em, x) => em.op("Div", [em.op("Sin", [x]), em.op("Cos", [x])])),
  asin: f32Op("Asin", f64Forms.asin),
  acos: f32Op("Acos", f64Forms.acos),
  atan: f32Op("Atan", f64Forms.atan),
  sinh: f32Op("Sinh", f64Forms.sinh),
  cosh: f32Op("Cosh", f64Forms.cosh),
  asinh: f32Op("Asinh", f64Forms.asinh),
  acosh: f32Op("Acosh", f64Forms.acosh),
  atanh: f32Op("Atanh", f64Forms.atanh),
  // erf(x) = ±erf(|x|); erfc(x) = 2 - erfc(|x|) for x < 0
  erf: {
    lower(em, e) {
      const [x] = e.inputs as [string];
      const d = floatDtype(em, e.inAvals[0]!.dtype);
      return [oddFrom(em, x, erfTaylor(em, em.op("Abs", [x]), d).erf, d)];
    },
  },
  erfc: {
    lower(em, e) {
      const [x] = e.inputs as [string];
      const d = floatDtype(em, e.inAvals[0]!.dtype);
      const r = erfTaylor(em, em.op("Abs", [x]), d).erfc;
      return [em.op("Where", [em.op("Less", [x, scalar(em, 0, d)]), em.op("Sub", [scalar(em, 2, d), r]), r])];
    },
  },
  log2: scaled("Log", 1 / Math.LN2),
  log10: scaled("Log", 1 / Math.LN10),
  exp2: { lower: (em, e) => [em.op("Pow", [scalar(em, 2, e.inAvals[0]!.dtype), e.inputs[0]!])] },
  atan2: { lower: (em, e) => [atan2Of(em, e.inputs[0]!, e.inputs[1]!, e.outAvals[0]!.dtype)] },
  // hypot: m · sqrt(1 + (s/m)²) with m = max(|x|, |y|), s = min(|x|, |y|); 0 for m = 0, ∞ if either is ∞
  hypot: {
    lower(em, e) {
      const [x, y] = e.inputs as [string, string];
      const d = e.outAvals[0]!.dtype;
      const ax = em.op("Abs", [x]);
      const ay = em.op("Abs", [y]);
      const m = em.op("Max", [ax, ay]);
      const s = em.op("Min", [ax, ay]);
      const zero = scalar(em, 0, d);
      const one = scalar(em, 1, d);
      const safeM = em.op("Where", [em.op("Equal", [m, zero]), one, m]);
      const r = em.op("Div", [s, safeM]);
      const h = em.op("Mul", [m, em.op("Sqrt", [em.op("Add", [one, em.op("Mul", [r, r])])])]);
      const infinite = em.op("Or", [em.op("IsInf", [x]), em.op("IsInf", [y])]);
      return [em.op("Where", [infinite, scalar(em, Number.POSITIVE_INFINITY, d), h])];
    },
  },
  // NumPy's remainder (sign of the divisor): fmod, plus y where the remainder is nonzero and its sign differs from y's
  mod: {
    lower(em, e) {
      const [x, y] = e.inputs as [string, string];
      const d = e.outAvals[0]!.dtype;
      const zero = scalar(em, 0, d);
      if (d === "int32") {
        // cotangent: x % 0 is NaN stored to int32, i.e. 0, and x % -1 is 0; ONNX Runtime's
        // integer Mod would trap on a zero divisor (and on INT_MIN % -1), so those never reach it
        const trivial = em.op("Or", [em.op("Equal", [y, zero]), em.op("Equal", [y, scalar(em, -1, d)])]);
        const safe = em.op("Where", [trivial, scalar(em, 1, d), y]);
        const r = em.op("Mod", [x, safe], { fmod: 0 });
        return [em.op("Where", [trivial, zero, r])];
      }
      const r = em.op("Mod", [x, y], { fmod: 1 });
      const fix = em.op("And", [
        em.op("Not", [em.op("Equal", [r, zero])]),
        em.op("Not", [em.op("Equal", [em.op("Less", [r, zero]), em.op("Less", [y, zero])])]),
      ]);
      return [em.op("Where", [fix, em.op("Add", [r, y]), r])];
    },
  },
};

// ---------------------------------------------------------------- cumulative reductions

const cumsumRule: OnnxRule = {
  lower(em, e) {
    const [x] = e.inputs as [string];
    if (e.inAvals[0]!.size === 0) return [em.op("Identity", [x])];
    return [em.op("CumSum", [x, i64(em, e.params.axis as number)], { reverse: e.params.reverse ? 1 : 0 })];
  },
};

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;

/** cumprod / cummax / cummin: Hillis–Steele, log2(n) steps of v ⊕= v shifted by 2^s (identity-padded). */
function scanRule(opType: "Mul" | "Max" | "Min"): OnnxRule {
  return {
    lower(em, e) {
      const [x] = e.inputs as [string];
      const a = e.inAvals[0]!;
      const axis = e.params.axis as number;
      const reverse = e.params.reverse as boolean;
      const n = a.shape[axis]!;
      if (a.size === 0 || n === 1) return [em.op("Identity", [x])];
      const d = a.dtype;
      const id =
        opType === "Mul" ? 1 : opType === "Max" ? (d === "int32" ? INT32_MIN : Number.NEGATIVE_INFINITY) : d === "int32" ? INT32_MAX : Number.POSITIVE_INFINITY;
      const idc = scalar(em, id, d);
      let v = x;
      for (let off = 1; off < n; off *= 2) {
        const pads = Array<number>(2 * a.ndim).fill(0);
        pads[reverse ? a.ndim + axis : axis] = off;
        const padded = em.op("Pad", [v, ints(em, pads), idc], { mode: "constant" });
        const start = reverse ? off : 0;
        const shifted = em.op("Slice", [padded, ints(em, [start]), ints(em, [start + n]), ints(em, [axis])]);
        // earlier ⊕ later, as cotangent's sequential order for products
        v = reverse ? em.op(opType, [v, shifted]) : em.op(opType, [shifted, v]);
      }
      return [v];
    },
  };
}

// ---------------------------------------------------------------- sort and argsort

/**
 * The stable ascending permutation of `x` along `axis` (int64), NaNs last; with
 * `negZeroFirst`, -0 before +0 (typed-array sort order, for the sorted values).
 * TopK breaks ties by index, so two passes make a two-key stable sort: first by the
 * class (NaN last), then by the value with NaN read as +∞.
 */
function sortPermutation(em: OnnxEmitter, x: string, n: number, d: DType, axis: number, negZeroFirst: boolean): string {
  const K = ints(em, [n]);
  const topk = (v: string): [string, string] => em.ops("TopK", [v, K], 2, { axis, largest: 0, sorted: 1 }) as [string, string];
  if (d === "int32") return topk(x)[1];
  const nan = em.op("IsNaN", [x]);
  let cls = em.op("Cast", [nan], { to: d === "float32" ? FLOAT : DOUBLE });
  if (negZeroFirst) {
    // 0 for -0, 1 for numbers, 2 for NaN
    const negZero = em.op("And", [em.op("Equal", [x, scalar(em, 0, d)]), em.op("Less", [em.op("Div", [scalar(em, 1, d), x]), scalar(em, 0, d)])]);
    cls = em.op("Add", [em.op("Mul", [cls, scalar(em, 2, d)]), em.op("Where", [negZero, scalar(em, 0, d), scalar(em, 1, d)])]);
    cls = em.op("Where", [nan, scalar(em, 2, d), cls]);
  }
  const perm1 = topk(cls)[1];
  const clean = em.op("Where", [nan, scalar(em, Number.POSITIVE_INFINITY, d), x]);
  const perm2 = topk(em.op("GatherElements", [clean, perm1], { axis }))[1];
  return em.op("GatherElements", [perm1, perm2], { axis });
}

const sortRule: OnnxRule = {
  lower(em, e) {
    const [x] = e.inputs as [string];
    const a = e.inAvals[0]!;
    const axis = e.params.axis as number;
    const n = a.shape[axis]!;
    if (a.size === 0 || n === 1) return [em.op("Identity", [x])];
    if (a.dtype === "bool") {
      // TopK has no bool form: false < true as 0 < 1
      const i = em.op("Cast", [x], { to: INT32 });
      return [em.op("Cast", [em.op("GatherElements", [i, sortPermutation(em, i, n, "int32", axis, false)], { axis })], { to: BOOL })];
    }
    return [em.op("GatherElements", [x, sortPermutation(em, x, n, a.dtype, axis, true)], { axis })];
  },
};

const argsortRule: OnnxRule = {
  lower(em, e) {
    const [x] = e.inputs as [string];
    const a = e.inAvals[0]!;
    const axis = e.params.axis as number;
    if (a.size === 0) return [empty(em, e.outAvals[0]!)];
    const n = a.shape[axis]!;
    const keys = a.dtype === "bool" ? em.op("Cast", [x], { to: INT32 }) : x;
    return [em.op("Cast", [sortPermutation(em, keys, n, a.dtype === "bool" ? "int32" : a.dtype, axis, false)], { to: INT32 })];
  },
};

/** The rows of this file, spread into `onnxRules`. */
export const numpyRules: Readonly<Record<string, OnnxRule>> = {
  gather: gatherRule,
  scatter: scatterRule,
  rev: revRule,
  ...elementwiseRules,
  cumsum: cumsumRule,
  cumprod: scanRule("Mul"),
  cummax: scanRule("Max"),
  cummin: scanRule("Min"),
  sort: sortRule,
  argsort: argsortRule,
  erf_inv: { lower: (em, e) => [erfInv(em, e.inputs[0]!, floatDtype(em, e.inAvals[0]!.dtype))] },
  lgamma: in64((em, x) => lgamma64(em, x)),
  digamma: in64((em, x) => digamma64(em, x)),
  polygamma: in64((em, x, e) => polygamma64(em, x, e.inAvals[0]!.shape, e.params.n as number)),
};
