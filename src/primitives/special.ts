/**
 * Elementwise primitives for inverse trigonometric and hyperbolic functions, base-2/10
 * logarithms and exponentials, `atan2`, `hypot`, NumPy's `mod`, and the special
 * functions erf, erfc, erfinv, lgamma, digamma (and trigamma, digamma's derivative),
 * each with its JVP. Built with the factories of elementwise.ts.
 * @module
 */
import type { NDArray } from "../core/array.js";
import { floatResult } from "../core/dtype.js";
import { broadcastShapes, shapeEqual } from "../core/shape.js";
import { bind1 } from "../core/trace.js";
import {
  type ArrayLike,
  add,
  asArray,
  binaryPrim,
  convert,
  div,
  equal,
  exp,
  floor,
  floatUnary,
  mul,
  neg,
  promoteArgs,
  rsqrt,
  sub,
  unaryPrim,
  where,
} from "./elementwise.js";
import * as M from "./special_math.js";

const sq = (x: NDArray): NDArray => mul(x, x);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export const asin_p = unaryPrim({ name: "asin", f: Math.asin, jvp: (t, x) => mul(t, rsqrt(sub(1, sq(x)))) });
export const acos_p = unaryPrim({ name: "acos", f: Math.acos, jvp: (t, x) => neg(mul(t, rsqrt(sub(1, sq(x))))) });
export const atan_p = unaryPrim({ name: "atan", f: Math.atan, jvp: (t, x) => div(t, add(sq(x), 1)) });
export const sinh_p = unaryPrim({ name: "sinh", f: Math.sinh, jvp: (t, x) => mul(t, cosh(x)) });
export const cosh_p = unaryPrim({ name: "cosh", f: Math.cosh, jvp: (t, x) => mul(t, sinh(x)) });
export const asinh_p = unaryPrim({ name: "asinh", f: Math.asinh, jvp: (t, x) => mul(t, rsqrt(add(sq(x), 1))) });
export const acosh_p = unaryPrim({ name: "acosh", f: Math.acosh, jvp: (t, x) => mul(t, rsqrt(mul(sub(x, 1), add(x, 1)))) });
export const atanh_p = unaryPrim({ name: "atanh", f: Math.atanh, jvp: (t, x) => div(t, sub(1, sq(x))) });
export const log2_p = unaryPrim({ name: "log2", f: Math.log2, jvp: (t, x) => div(t, mul(x, Math.LN2)) });
export const log10_p = unaryPrim({ name: "log10", f: Math.log10, jvp: (t, x) => div(t, mul(x, Math.LN10)) });
export const exp2_p = unaryPrim({ name: "exp2", f: (x) => 2 ** x, jvp: (t, _x, out) => mul(t, mul(out, Math.LN2)) });
export const erf_p = unaryPrim({ name: "erf", f: M.erf, jvp: (t, x) => mul(t, mul(exp(neg(sq(x))), TWO_OVER_SQRT_PI)) });
export const erfc_p = unaryPrim({ name: "erfc", f: M.erfc, jvp: (t, x) => mul(t, mul(exp(neg(sq(x))), -TWO_OVER_SQRT_PI)) });
export const erf_inv_p = unaryPrim({ name: "erf_inv", f: M.erfinv, jvp: (t, _x, out) => mul(t, mul(exp(sq(out)), Math.sqrt(Math.PI) / 2)) });
/** ψ^(n), n >= 1 (params.n); its derivative is ψ^(n+1), so every order is differentiable. */
export const polygamma_p = unaryPrim({
  name: "polygamma",
  f: (x, p) => M.polygamma(p.n as number, x),
  jvp: (t, x, _out, p) => mul(t, polygamma((p.n as number) + 1, x)),
  printParams: (p) => `[n=${String(p.n)}]`,
});
export const digamma_p = unaryPrim({ name: "digamma", f: M.digamma, jvp: (t, x) => mul(t, polygamma(1, x)) });
export const lgamma_p = unaryPrim({ name: "lgamma", f: M.lgamma, jvp: (t, x) => mul(t, digamma(x)) });

export const asin = floatUnary(asin_p, "arcsin");
export const acos = floatUnary(acos_p, "arccos");
export const atan = floatUnary(atan_p, "arctan");
export const sinh = floatUnary(sinh_p);
export const cosh = floatUnary(cosh_p);
export const asinh = floatUnary(asinh_p, "arcsinh");
export const acosh = floatUnary(acosh_p, "arccosh");
export const atanh = floatUnary(atanh_p, "arctanh");
export const log2 = floatUnary(log2_p);
export const log10 = floatUnary(log10_p);
export const exp2 = floatUnary(exp2_p);
export const erf = floatUnary(erf_p);
export const erfc = floatUnary(erfc_p);
export const erfinv = floatUnary(erf_inv_p, "erfinv");
export const lgamma = floatUnary(lgamma_p);
export const digamma = floatUnary(digamma_p);
/** ψ^(n)(x) for an integer n >= 1 (n = 1: trigamma). */
export function polygamma(n: number, x: ArrayLike): NDArray {
  if (!Number.isInteger(n) || n < 1) throw new Error(`polygamma: the order n must be an integer >= 1, got ${String(n)} (n = 0 is digamma).`);
  const a = asArray(x, undefined, "polygamma");
  return bind1(polygamma_p, [isFloatArray(a) ? a : convert(a, floatResult(a.dtype))], { n });
}
const isFloatArray = (a: NDArray): boolean => a.dtype === "float32" || a.dtype === "float64";

export const atan2_p = binaryPrim({
  name: "atan2",
  f: Math.atan2,
  ints: false,
  jvp: [(t, y, x) => div(mul(t, x), add(sq(x), sq(y))), (t, y, x) => neg(div(mul(t, y), add(sq(x), sq(y))))],
});
export const hypot_p = binaryPrim({
  name: "hypot",
  f: Math.hypot,
  ints: false,
  jvp: [(t, x, _y, out) => mul(t, where(equal(out, 0), 0, div(x, out))), (t, _x, y, out) => mul(t, where(equal(out, 0), 0, div(y, out)))],
});
/** NumPy's remainder: the sign of the divisor (x - floor(x / y) · y). */
function modF(a: number, b: number): number {
  const r = a % b;
  return r !== 0 && r < 0 !== b < 0 ? r + b : r;
}
export const mod_p = binaryPrim({
  name: "mod",
  f: modF,
  jvp: [(t) => t, (t, x, y) => neg(mul(t, floor(div(x, y))))],
});

/** A binary function of floats: operands promoted, then converted to a float dtype. */
function floatBinary(prim: typeof atan2_p, op: string) {
  return (x: ArrayLike, y: ArrayLike): NDArray => {
    const [a, b] = promoteArgs(op, x, y);
    if (!shapeEqual(a.aval.shape, b.aval.shape)) broadcastShapes(op, a.aval.shape, b.aval.shape);
    const d = floatResult(a.dtype);
    return bind1(prim, [asArray(a, d), asArray(b, d)]);
  };
}
export const atan2 = floatBinary(atan2_p, "arctan2");
export const hypot = floatBinary(hypot_p, "hypot");
/** NumPy's `mod` (remainder with the sign of the divisor); bool operands count as int32. */
export function mod(x: ArrayLike, y: ArrayLike): NDArray {
  let [a, b] = promoteArgs("mod", x, y);
  if (!shapeEqual(a.aval.shape, b.aval.shape)) broadcastShapes("mod", a.aval.shape, b.aval.shape);
  if (a.dtype === "bool") [a, b] = [convert(a, "int32"), convert(b, "int32")];
  return bind1(mod_p, [a, b]);
}
