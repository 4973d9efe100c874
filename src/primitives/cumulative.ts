/**
 * Cumulative reductions along one axis: `cumsum`, `cumprod`, `cummax`, `cummin`
 * (lax.cumsum & co., with `reverse`). cumsum is linear (its transpose is the reversed
 * cumsum); the others differentiate through a log-depth prefix scan of (value, tangent)
 * pairs, as JAX's associative-scan rules do (ties of cummax/cummin split the tangent).
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocateForWrite } from "../core/dtype.js";
import { sizeOf } from "../core/shape.js";
import { type Params, type Primitive, bind1, definePrimitive } from "../core/trace.js";
import { add, convert, div, equal, full, greater, mul, select_p } from "./elementwise.js";
import { rev } from "./rev.js";
import { concatenateArrays, moveAxis, slice } from "./shape.js";

export type CumulativeOp = "sum" | "prod" | "max" | "min";
interface CumParams extends Params {
  axis: number;
  reverse: boolean;
}

const combine: Record<CumulativeOp, (a: number, b: number) => number> = {
  sum: (a, b) => a + b,
  prod: (a, b) => a * b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
};
const identity: Record<CumulativeOp, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/** One step of the pairwise scan on (value, tangent): `earlier ⊕ later`. */
function pairStep(op: CumulativeOp, a: NDArray, ta: NDArray, b: NDArray, tb: NDArray): [NDArray, NDArray] {
  const sel = (c: NDArray, x: NDArray, y: NDArray): NDArray => bind1(select_p, [c, x, y]);
  switch (op) {
    case "sum":
      return [add(a, b), add(ta, tb)];
    case "prod":
      return [mul(a, b), add(mul(ta, b), mul(a, tb))];
    case "max":
    case "min": {
      const first = op === "max" ? greater(a, b) : greater(b, a);
      const tie = equal(a, b);
      const v = sel(first, a, b);
      const half = div(add(ta, tb), 2);
      return [v, sel(tie, half, sel(first, ta, tb))];
    }
  }
}

/** Hillis–Steele inclusive scan along `axis` of (x, t): log2(n) shifted pairwise steps. */
function prefixScan(op: CumulativeOp, x: NDArray, t: NDArray, axis: number): [NDArray, NDArray] {
  const n = x.aval.shape[axis]!;
  const shape = x.aval.shape;
  let v = x;
  let tv = t;
  for (let off = 1; off < n; off *= 2) {
    const padShape = shape.map((d, i) => (i === axis ? off : d));
    const lim = shape.map((d, i) => (i === axis ? n - off : d));
    const zeros = shape.map(() => 0);
    const sv = concatenateArrays([full(padShape, identity[op], x.dtype), slice(v, zeros, lim)], axis);
    const st = concatenateArrays([full(padShape, 0, x.dtype), slice(tv, zeros, lim)], axis);
    [v, tv] = pairStep(op, sv, st, v, tv);
  }
  return [v, tv];
}

function cumPrim(op: CumulativeOp): Primitive<CumParams> {
  const name = `cum${op}`;
  const prim: Primitive<CumParams> = definePrimitive<CumParams>({
    name,
    freshOutputs: true,
    abstractEval([x], { axis }) {
      if (!Number.isInteger(axis) || axis < 0 || axis >= x!.ndim) throw new Error(`${name}: axis ${axis} is out of bounds for ${x!.toString()}.`);
      if (x!.dtype === "bool") throw new Error(`${name}: cannot accumulate a bool array; convert with astype("int32").`);
      return [new ShapedArray(x!.shape, x!.dtype)];
    },
    impl([x], { axis, reverse }, [out]) {
      const shape = x!.aval.shape;
      const n = shape[axis]!;
      const inner = sizeOf(shape.slice(axis + 1));
      const outer = sizeOf(shape.slice(0, axis));
      const X = x!.buffer;
      const res = allocateForWrite(out!.dtype, out!.size);
      const f = combine[op];
      for (let o = 0; o < outer; o++) {
        for (let c = 0; c < inner; c++) {
          const base = o * n * inner + c;
          let acc = identity[op];
          for (let kk = 0; kk < n; kk++) {
            const k = reverse ? n - 1 - kk : kk;
            acc = kk === 0 ? X[base + k * inner]! : f(acc, X[base + k * inner]!);
            res[base + k * inner] = acc;
          }
        }
      }
      return [new ConcreteArray(out!, res)];
    },
    jvp: ([x], [t], p) => {
      const out = bind1(prim, [x!], p);
      if (op === "sum") return [[out], [bind1(prim, [t!], p)]];
      const flip = (a: NDArray): NDArray => (p.reverse ? rev(a, [p.axis]) : a);
      const tt = t!.dtype === x!.dtype ? t! : convert(t!, x!.dtype);
      const [, tan] = prefixScan(op, flip(x!), flip(tt), p.axis);
      return [[out], [flip(tan)]];
    },
    transpose: op === "sum" ? ([ct], _x, p) => [ct ? bind1(prim, [ct], { axis: p.axis, reverse: !p.reverse }) : null] : undefined,
    batch: ([x], [d], p) => [[bind1(prim, [moveAxis(x!, d!, 0)], { axis: p.axis + 1, reverse: p.reverse })], [0]],
    printParams: (p) => `[axis=${p.axis} reverse=${p.reverse ? "True" : "False"}]`,
  });
  return prim;
}

export const cumsum_p = cumPrim("sum");
export const cumprod_p = cumPrim("prod");
export const cummax_p = cumPrim("max");
export const cummin_p = cumPrim("min");
const prims: Record<CumulativeOp, Primitive<CumParams>> = { sum: cumsum_p, prod: cumprod_p, max: cummax_p, min: cummin_p };

/** The cumulative `op` of `x` along `axis` (from the end when `reverse`). */
export function cumulative(op: CumulativeOp, x: NDArray, axis: number, reverse = false): NDArray {
  return bind1(prims[op], [x], { axis, reverse });
}
