/**
 * Elementwise primitives (unary, binary with NumPy broadcasting, comparisons,
 * select, dtype conversion) with all their rules, and the functions that bind them.
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { type DType, allocateForWrite, castScalar, floatResult, isDType, isFloat, promoteTypes, weakNumberDType } from "../core/dtype.js";
import { broadcastShapes, describeValue, fmtShape, shapeEqual } from "../core/shape.js";
import { LruCache } from "../core/lru.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import {
  type KernelLowering,
  binaryLowering,
  compareLowering,
  convertLowering,
  identityLowering,
  integerPowLowering,
  selectLowering,
  unaryLowering,
} from "../kernel/lowering.js";
import type { BinaryOp, CompareOp, UnaryOp } from "../kernel/ir.js";
import { declareZeroOne, mapN } from "./cpu.js";
import { reduceSum } from "./reduce.js";
import { broadcastTo, moveAxis, reshape } from "./shape.js";

/** An array or a JS number (numbers are weakly typed scalars). */
export type ArrayLike = NDArray | number | boolean;

/** Converts a JS number/boolean to a 0-d array; arrays pass through. `op` names the caller in errors. */
export function asArray(x: ArrayLike, dtype?: DType, op?: string): NDArray {
  if (x instanceof NDArray) return dtype && x.dtype !== dtype ? convert(x, dtype) : x;
  if (typeof x === "boolean") return ConcreteArray.scalar(x ? 1 : 0, dtype ?? "bool");
  if (typeof x === "number") return ConcreteArray.scalar(castScalar(x, dtype ?? "float32"), dtype ?? "float32");
  throw new Error(`${op ? `${op}: ` : ""}expected an array or a number, got ${describe(x)}.`);
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return "a JS array (wrap it with np.array first)";
  if (x === null || x === undefined) return String(x);
  const kind = typeof x === "object" ? "" : ` (a ${typeof x})`;
  return `${describeValue(x)}${kind}`;
}

/** Promotes two operands to a common dtype (JS numbers are weak). */
export function promoteArgs(op: string, x: ArrayLike, y: ArrayLike): [NDArray, NDArray] {
  for (const v of [x, y])
    if (!(v instanceof NDArray) && typeof v !== "number" && typeof v !== "boolean") throw new Error(`${op}: expected arrays or numbers, got ${describe(v)}.`);
  if (x instanceof NDArray && y instanceof NDArray) {
    const d = promoteTypes(x.dtype, y.dtype);
    return [asArray(x, d), asArray(y, d)];
  }
  if (x instanceof NDArray) {
    const d = typeof y === "boolean" ? x.dtype : weakNumberDType(y as number, x.dtype);
    return [asArray(x, d), asArray(y, d)];
  }
  if (y instanceof NDArray) {
    const d = typeof x === "boolean" ? y.dtype : weakNumberDType(x as number, y.dtype);
    return [asArray(x, d), asArray(y, d)];
  }
  return [asArray(x), asArray(y)];
}

/** Full array of `value` with the given aval (a broadcast scalar, cheap under jit). */
export function full(shape: readonly number[], value: number, dtype: DType): NDArray {
  const s = ConcreteArray.scalar(castScalar(value, dtype), dtype);
  return shape.length === 0 ? s : broadcastTo(s, [...shape]);
}

/** Sums `x` down to `shape` (undoes NumPy broadcasting; used by transpose rules). */
export function unbroadcast(x: NDArray, shape: readonly number[]): NDArray {
  if (shapeEqual(x.aval.shape, shape)) return x;
  const nd = x.ndim;
  const lead = nd - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < nd; i++) if (i < lead || (shape[i - lead] === 1 && x.aval.shape[i] !== 1)) axes.push(i);
  const s = axes.length ? reduceSum(x, axes) : x;
  return shapeEqual(s.aval.shape, shape) ? s : reshape(s, [...shape]);
}

// ------------------------------------------------------------------ batching

/**
 * Operands of a broadcasting primitive under vmap: batch axes moved to the front, and
 * operands of lower rank given unit axes after it, so NumPy broadcasting lines up the
 * batch and the per-example axes. Unbatched operands are left as they are.
 */
export function alignBatchAxes(args: readonly NDArray[], dims: readonly BatchDim[]): NDArray[] {
  const ranks = args.map((a, i) => a.ndim - (dims[i] === null ? 0 : 1));
  const r = Math.max(...ranks);
  return args.map((a, i) => {
    const d = dims[i];
    if (d === null || d === undefined) return a;
    const m = moveAxis(a, d, 0);
    const s = m.shape;
    return ranks[i] === r ? m : reshape(m, [s[0]!, ...new Array<number>(r - ranks[i]!).fill(1), ...s.slice(1)]);
  });
}

/** Batching for elementwise primitives: align batch dims at the front, with NumPy broadcasting. */
function batchElementwise(prim: Primitive) {
  return (args: NDArray[], dims: BatchDim[], params: Params): [NDArray[], BatchDim[]] => {
    if (args.length === 1) return [[bind1(prim, args, params)], [dims[0]!]];
    return [[bind1(prim, alignBatchAxes(args, dims), params)], [0]];
  };
}

// ------------------------------------------------------------------ unary

type UnaryJvp = (t: NDArray, x: NDArray, out: NDArray, params: Params) => NDArray;

/** A unary elementwise primitive: see {@link unaryPrim}. */
export interface UnaryDef {
  name: string;
  /** The reference implementation on one element (computed in double precision, stored in the output dtype). */
  f: (x: number, params: Params) => number;
  /**
   * The kernel op it lowers to (a {@link UnaryOp}: every backend's op table has a row for
   * it), or a lowering of its own; without one, jit leaves it unfused and runs `f`.
   */
  op?: UnaryOp | KernelLowering;
  /** Tangent of the output; omitted for piecewise-constant functions (zero derivative). */
  jvp?: UnaryJvp;
  /** Input dtypes allowed; default floats only. */
  ints?: boolean;
  outDtype?: (d: DType, params: Params) => DType;
  transpose?: Primitive["transpose"];
  printParams?: (p: Params) => string;
}

/**
 * Defines a unary elementwise primitive with all its rules: shape and dtype checks,
 * the reference implementation `f`, the jvp, batching, and the kernel op it lowers to.
 *
 * ```ts
 * export const sin_p = unaryPrim({ name: "sin", f: Math.sin, op: "sin", jvp: (t, x) => mul(t, cos(x)) });
 * ```
 */
export function unaryPrim(def: UnaryDef): Primitive {
  const prim: Primitive = definePrimitive({
    name: def.name,
    freshOutputs: true,
    lower: typeof def.op === "string" ? unaryLowering(def.op) : def.op,
    abstractEval([x], params) {
      if (!def.ints && !isFloat(x!.dtype)) throw new Error(`${def.name}: expects a floating array, got ${x!.toString()}; convert with astype("float32").`);
      return [new ShapedArray(x!.shape, def.outDtype ? def.outDtype(x!.dtype, params) : x!.dtype)];
    },
    impl([x], params, [out]) {
      const f = def.f;
      return [mapN([x!], out!, f, params)];
    },
    nonDifferentiable: !def.jvp,
    jvp: def.jvp
      ? ([x], [t], params) => {
          const out = bind1(prim, [x!], params);
          return [[out], [def.jvp!(t!, x!, out, params)]];
        }
      : undefined,
    transpose: def.transpose,
    batch: undefined,
    printParams: def.printParams,
  });
  (prim as { batch: Primitive["batch"] }).batch = batchElementwise(prim);
  return prim;
}

export const neg_p = unaryPrim({
  name: "neg",
  op: "neg",
  f: (x) => -x,
  ints: true,
  jvp: (t) => neg(t),
  transpose: ([ct]) => [ct ? neg(ct) : null],
});
export const exp_p = unaryPrim({ name: "exp", op: "exp", f: Math.exp, jvp: (t, _x, out) => mul(t, out) });
export const log_p = unaryPrim({ name: "log", op: "log", f: Math.log, jvp: (t, x) => div(t, x) });
export const log1p_p = unaryPrim({ name: "log1p", op: "log1p", f: Math.log1p, jvp: (t, x) => div(t, add(x, 1)) });
export const expm1_p = unaryPrim({ name: "expm1", op: "expm1", f: Math.expm1, jvp: (t, _x, out) => mul(t, add(out, 1)) });
export const sin_p = unaryPrim({ name: "sin", op: "sin", f: Math.sin, jvp: (t, x) => mul(t, cos(x)) });
export const cos_p = unaryPrim({ name: "cos", op: "cos", f: Math.cos, jvp: (t, x) => neg(mul(t, sin(x))) });
export const tan_p = unaryPrim({ name: "tan", op: "tan", f: Math.tan, jvp: (t, _x, out) => mul(t, add(mul(out, out), 1)) });
export const tanh_p = unaryPrim({ name: "tanh", op: "tanh", f: Math.tanh, jvp: (t, _x, out) => mul(t, sub(1, mul(out, out))) });
export const logistic_p = unaryPrim({
  name: "logistic",
  op: "logistic",
  f: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  jvp: (t, _x, out) => mul(t, mul(out, sub(1, out))),
});
export const sqrt_p = unaryPrim({ name: "sqrt", op: "sqrt", f: Math.sqrt, jvp: (t, _x, out) => div(t, mul(out, 2)) });
export const rsqrt_p = unaryPrim({ name: "rsqrt", op: "rsqrt", f: (x) => 1 / Math.sqrt(x), jvp: (t, x, out) => mul(t, div(mul(out, -0.5), x)) });
export const abs_p = unaryPrim({ name: "abs", op: "abs", f: Math.abs, ints: true, jvp: (t, x) => mul(t, sign(x)) });
export const sign_p = unaryPrim({ name: "sign", op: "sign", f: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), ints: true });
export const floor_p = unaryPrim({ name: "floor", op: "floor", f: Math.floor });
export const ceil_p = unaryPrim({ name: "ceil", op: "ceil", f: Math.ceil });
export const round_p = unaryPrim({ name: "round", op: "round", f: (x) => Math.sign(x) * Math.round(Math.abs(x)) });
const notF = (x: number): number => (x ? 0 : 1);
declareZeroOne(notF);
export const not_p = unaryPrim({
  name: "not",
  op: "not",
  f: notF,
  ints: true,
  outDtype: (d) => {
    if (d !== "bool") throw new Error(`logicalNot: expects a bool array, got ${d}; compare first (np.greater etc.) or convert with astype("bool").`);
    return d;
  },
});
/** The identity whose derivative is zero. */
export const stop_gradient_p = unaryPrim({ name: "stop_gradient", f: (x) => x, op: identityLowering, ints: true });
export const integer_pow_p = unaryPrim({
  name: "integer_pow",
  op: integerPowLowering,
  f: (x, p) => x ** (p.y as number),
  ints: true,
  jvp: (t, x, _out, p) => {
    const y = p.y as number;
    if (y === 0) return mul(t, 0);
    return mul(t, mul(y === 1 ? full([], 1, x.dtype) : y === 2 ? x : integerPow(x, y - 1), y));
  },
  printParams: (p) => `[y=${String(p.y)}]`,
});
export const convert_element_type_p = unaryPrim({
  name: "convert_element_type",
  op: convertLowering,
  f: (x) => x,
  ints: true,
  outDtype: (_d, p) => p.newDtype as DType,
  jvp: (t, x, out) => (isFloat(out.dtype) && isFloat(x.dtype) ? convert(t, out.dtype) : mul(convert(t, out.dtype), 0)),
  transpose: ([ct], [x]) => [ct ? convert(ct, (x as UndefPrimal).aval.dtype) : null],
  printParams: (p) => `[new_dtype=${String(p.newDtype)}]`,
});
// float -> int conversion truncates toward zero, bool is x != 0.
const toBool = (v: number): number => (v ? 1 : 0);
(convert_element_type_p as { impl: Primitive["impl"] }).impl = ([x], _p, [out]) => {
  if (out!.dtype === "bool") return [mapN([x!], out!, toBool)];
  // a typed array's own conversion on store is castScalar's: Math.fround for float32,
  // truncation toward zero (ToInt32) for int32, exact for float64
  const res = allocateForWrite(out!.dtype, out!.size);
  res.set(x!.buffer);
  return [new ConcreteArray(out!, res)];
};
declareZeroOne(toBool);
const squareF = (x: number): number => x * x;
const powCache = new LruCache<number, (x: number) => number>();
/** `x ** y` for one fixed `y`, so that the loop specialized to it sees a constant exponent. */
function powBy(y: number): (x: number) => number {
  if (y === 2) return squareF;
  let f = powCache.get(y);
  if (!f) {
    f = (x: number): number => x ** y;
    powCache.set(y, f);
  }
  return f;
}
(integer_pow_p as { impl: Primitive["impl"] }).impl = ([x], p, [out]) => [mapN([x!], out!, powBy(p.y as number))];

export function neg(x: ArrayLike): NDArray {
  return bind1(neg_p, [asArray(x, undefined, "negative")]);
}
export function floatUnary(prim: Primitive, op: string = prim.name) {
  return (x: ArrayLike): NDArray => {
    const a = asArray(x, undefined, op);
    return bind1(prim, [isFloat(a.dtype) ? a : convert(a, floatResult(a.dtype))]);
  };
}
export const exp = floatUnary(exp_p);
export const log = floatUnary(log_p);
export const log1p = floatUnary(log1p_p);
export const expm1 = floatUnary(expm1_p);
export const sin = floatUnary(sin_p);
export const cos = floatUnary(cos_p);
export const tan = floatUnary(tan_p);
export const tanh = floatUnary(tanh_p);
export const logistic = floatUnary(logistic_p, "sigmoid");
export const sqrt = floatUnary(sqrt_p);
export const rsqrt = floatUnary(rsqrt_p);
export const floor = floatUnary(floor_p);
export const ceil = floatUnary(ceil_p);
export const round = floatUnary(round_p);
export function abs(x: ArrayLike): NDArray {
  return bind1(abs_p, [asArray(x, undefined, "abs")]);
}
export function sign(x: ArrayLike): NDArray {
  return bind1(sign_p, [asArray(x, undefined, "sign")]);
}
export function logicalNot(x: ArrayLike): NDArray {
  return bind1(not_p, [asArray(x, undefined, "logicalNot")]);
}
export function stopGradientArray(x: NDArray): NDArray {
  return bind1(stop_gradient_p, [x]);
}
export function integerPow(x: ArrayLike, y: number, op = "power"): NDArray {
  const a = asArray(x, undefined, op);
  if (y < 0 && !isFloat(a.dtype)) return integerPow(convert(a, "float32"), y);
  return bind1(integer_pow_p, [a], { y });
}
/** Converts to `dtype` (a no-op when it already has it). */
export function convert(x: NDArray, dtype: DType): NDArray {
  if (!isDType(dtype)) throw new Error(`astype: unknown dtype ${describeValue(dtype)}; use one of "float32", "float64", "int32", "bool".`);
  if (x.dtype === dtype) return x;
  return bind1(convert_element_type_p, [x], { newDtype: dtype });
}

// ------------------------------------------------------------------ binary

type ArgJvp = (t: NDArray, x: NDArray, y: NDArray, out: NDArray) => NDArray;
/** A binary elementwise primitive with NumPy broadcasting: see {@link binaryPrim}. */
export interface BinaryDef {
  name: string;
  /** The reference implementation on one pair of elements (computed in double precision, stored in the output dtype). */
  f: (a: number, b: number) => number;
  /** The implementation on int32 elements when `f` in double precision is not exact there (`Math.imul` for products). */
  fInt32?: (a: number, b: number) => number;
  /** The kernel op it lowers to (`cmp` for comparisons); without one, jit leaves it unfused. */
  op?: BinaryOp;
  cmp?: CompareOp;
  jvp?: [ArgJvp, ArgJvp];
  transpose?: Primitive["transpose"];
  bool?: boolean;
  ints?: boolean;
  boolOnly?: boolean;
}

/**
 * Defines a binary elementwise primitive (NumPy broadcasting) with all its rules, and
 * the kernel op it lowers to.
 *
 * ```ts
 * export const sub_p = binaryPrim({ name: "sub", f: (a, b) => a - b, op: "sub", jvp: [(t) => t, (t) => neg(t)] });
 * ```
 */
export function binaryPrim(def: BinaryDef): Primitive {
  // comparisons and logical operators return exactly 0 or 1
  if (def.bool || def.boolOnly) declareZeroOne(def.f);
  const fInt32 = def.fInt32 ?? def.f;
  const prim: Primitive = definePrimitive({
    name: def.name,
    freshOutputs: true,
    lower: def.op !== undefined ? binaryLowering(def.op) : def.cmp !== undefined ? compareLowering(def.cmp) : undefined,
    abstractEval([x, y]) {
      if (x!.dtype !== y!.dtype) {
        throw new Error(
          `${def.name}: operands have different dtypes ${x!.toString()} and ${y!.toString()}; convert one with astype (the np functions promote automatically).`,
        );
      }
      if (def.boolOnly && x!.dtype !== "bool")
        throw new Error(`${def.name}: expects bool arrays, got ${x!.toString()}; compare first (np.greater etc.) or convert with astype("bool").`);
      if (def.ints === false && !isFloat(x!.dtype))
        throw new Error(`${def.name}: expects floating arrays, got ${x!.toString()}; convert with astype("float32").`);
      return [new ShapedArray(broadcastShapes(def.name, x!.shape, y!.shape), def.bool ? "bool" : x!.dtype)];
    },
    impl([x, y], _p, [out]) {
      return [mapN([x!, y!], out!, out!.dtype === "int32" ? fInt32 : def.f)];
    },
    nonDifferentiable: !def.jvp,
    jvp: def.jvp
      ? ([x, y], [tx, ty]) => {
          const out = bind1(prim, [x!, y!]);
          const parts: NDArray[] = [];
          if (tx) parts.push(def.jvp![0](tx, x!, y!, out));
          if (ty) parts.push(def.jvp![1](ty, x!, y!, out));
          let t = parts.length === 2 ? add(parts[0]!, parts[1]!) : parts[0]!;
          if (!shapeEqual(t.aval.shape, out.aval.shape)) t = broadcastTo(t, out.shape);
          return [[out], [t]];
        }
      : undefined,
    transpose: def.transpose,
  });
  (prim as { batch: Primitive["batch"] }).batch = batchElementwise(prim);
  return prim;
}

const undefShape = (x: NDArray | UndefPrimal): readonly number[] => x.aval.shape;

export const add_p = binaryPrim({
  name: "add",
  op: "add",
  f: (a, b) => a + b,
  jvp: [(t) => t, (t) => t],
  transpose: ([ct], [x, y]) => [
    ct && x instanceof UndefPrimal ? unbroadcast(ct, undefShape(x)) : null,
    ct && y instanceof UndefPrimal ? unbroadcast(ct, undefShape(y)) : null,
  ],
});
export const sub_p = binaryPrim({
  name: "sub",
  op: "sub",
  f: (a, b) => a - b,
  jvp: [(t) => t, (t) => neg(t)],
  transpose: ([ct], [x, y]) => [
    ct && x instanceof UndefPrimal ? unbroadcast(ct, undefShape(x)) : null,
    ct && y instanceof UndefPrimal ? unbroadcast(neg(ct), undefShape(y)) : null,
  ],
});
export const mul_p = binaryPrim({
  name: "mul",
  op: "mul",
  fInt32: Math.imul,
  f: (a, b) => a * b,
  jvp: [(t, _x, y) => mul(t, y), (t, x) => mul(x, t)],
  transpose: ([ct], [x, y]) => {
    if (!ct) return [null, null];
    if (x instanceof UndefPrimal && y instanceof UndefPrimal) throw new Error("mul: both operands are linear; the product is not linear.");
    if (x instanceof UndefPrimal) return [unbroadcast(mul(ct, y as NDArray), x.aval.shape), null];
    if (y instanceof UndefPrimal) return [null, unbroadcast(mul(x as NDArray, ct), y.aval.shape)];
    return [null, null];
  },
});
export const div_p = binaryPrim({
  name: "div",
  op: "div",
  f: (a, b) => a / b,
  jvp: [(t, _x, y) => div(t, y), (t, _x, y, out) => neg(mul(t, div(out, y)))],
  transpose: ([ct], [x, y]) => {
    if (y instanceof UndefPrimal) throw new Error("div: the divisor is linear; division is not linear in it.");
    return [ct && x instanceof UndefPrimal ? unbroadcast(div(ct, y as NDArray), x.aval.shape) : null, null];
  },
});
// Integer division truncates toward zero (as lax.div); Int32Array storage truncates.
export const pow_p = binaryPrim({
  name: "pow",
  op: "pow",
  f: (a, b) => a ** b,
  ints: false,
  jvp: [
    // y·x^(y-1), with 0 at x = y = 0 (where it is 0·∞); guarding on y = 0 alone would
    // zero the mixed second derivative d²(x^y)/dxdy = 1/x there.
    (t, x, y) => mul(t, where(logicalAnd(equal(x, 0), equal(y, 0)), 0, mul(y, power(x, sub(y, 1))))),
    (t, x, _y, out) => mul(t, where(equal(x, 0), 0, mul(log(where(equal(x, 0), 1, x)), out))),
  ],
});
export const max_p = binaryPrim({
  name: "max",
  op: "max",
  f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  jvp: [(t, x, y) => mul(t, tieWeight(x, y)), (t, x, y) => mul(t, tieWeight(y, x))],
});
export const min_p = binaryPrim({
  name: "min",
  op: "min",
  f: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  jvp: [(t, x, y) => mul(t, tieWeight(y, x)), (t, x, y) => mul(t, tieWeight(x, y))],
});
/** 1 where a > b, 0.5 where equal (ties split the derivative, as JAX), 0 elsewhere (NaN included). */
function tieWeight(a: NDArray, b: NDArray): NDArray {
  // two comparisons and two selects of scalars: four passes, two of them to bool arrays
  const d = a.dtype;
  const tie = bind1(select_p, [equal(a, b), full([], 0.5, d), full([], 0, d)]);
  return bind1(select_p, [greater(a, b), full([], 1, d), tie]);
}
export const eq_p = binaryPrim({ name: "eq", cmp: "eq", f: (a, b) => (a === b ? 1 : 0), bool: true });
export const ne_p = binaryPrim({ name: "ne", cmp: "ne", f: (a, b) => (a !== b ? 1 : 0), bool: true });
export const lt_p = binaryPrim({ name: "lt", cmp: "lt", f: (a, b) => (a < b ? 1 : 0), bool: true });
export const le_p = binaryPrim({ name: "le", cmp: "le", f: (a, b) => (a <= b ? 1 : 0), bool: true });
export const gt_p = binaryPrim({ name: "gt", cmp: "gt", f: (a, b) => (a > b ? 1 : 0), bool: true });
export const ge_p = binaryPrim({ name: "ge", cmp: "ge", f: (a, b) => (a >= b ? 1 : 0), bool: true });
export const and_p = binaryPrim({ name: "and", op: "and", f: (a, b) => (a && b ? 1 : 0), boolOnly: true });
export const or_p = binaryPrim({ name: "or", op: "or", f: (a, b) => (a || b ? 1 : 0), boolOnly: true });

export function binary(prim: Primitive, op: string) {
  return (x: ArrayLike, y: ArrayLike): NDArray => {
    const [a, b] = promoteArgs(op, x, y);
    // checked here too so that the error names the np function, not the primitive
    if (!shapeEqual(a.aval.shape, b.aval.shape)) broadcastShapes(op, a.aval.shape, b.aval.shape);
    return bind1(prim, [a, b]);
  };
}
export const add = binary(add_p, "add");
export const sub = binary(sub_p, "subtract");
export const mul = binary(mul_p, "multiply");
export const maximum = binary(max_p, "maximum");
export const minimum = binary(min_p, "minimum");
export const equal = binary(eq_p, "equal");
export const notEqual = binary(ne_p, "notEqual");
export const less = binary(lt_p, "less");
export const lessEqual = binary(le_p, "lessEqual");
export const greater = binary(gt_p, "greater");
export const greaterEqual = binary(ge_p, "greaterEqual");
export const logicalAnd = binary(and_p, "logicalAnd");
export const logicalOr = binary(or_p, "logicalOr");
/** True division: integer operands give float32 (as NumPy's `/`). */
export function div(x: ArrayLike, y: ArrayLike): NDArray {
  const [a, b] = promoteArgs("divide", x, y);
  if (!shapeEqual(a.aval.shape, b.aval.shape)) broadcastShapes("divide", a.aval.shape, b.aval.shape);
  const d = floatResult(a.dtype);
  return bind1(div_p, [asArray(a, d), asArray(b, d)]);
}
/** `x ** y`; an integer JS exponent uses repeated multiplication (exact at x = 0 and x < 0). */
export function power(x: ArrayLike, y: ArrayLike): NDArray {
  if (typeof y === "number" && Number.isInteger(y) && Math.abs(y) <= 64 && x instanceof NDArray) return integerPow(x, y);
  const [a, b] = promoteArgs("power", x, y);
  if (!shapeEqual(a.aval.shape, b.aval.shape)) broadcastShapes("power", a.aval.shape, b.aval.shape);
  const d = floatResult(a.dtype);
  return bind1(pow_p, [asArray(a, d), asArray(b, d)]);
}

/** Adds two values that may be of different dtypes (used to accumulate cotangents). */
export function addAny(x: NDArray, y: NDArray): NDArray {
  return add(x, y);
}

// ------------------------------------------------------------------ select

const choose = (c: number, a: number, b: number): number => (c ? a : b);
// on bool branches (the only case with a bool result) it returns one of two 0/1 values
declareZeroOne(choose);
export const select_p: Primitive = definePrimitive({
  name: "select",
  freshOutputs: true,
  lower: selectLowering,
  abstractEval([p, x, y]) {
    if (p!.dtype !== "bool")
      throw new Error(`where: the condition must be a bool array, got ${p!.toString()}; compare with np.greater etc. or astype("bool").`);
    if (x!.dtype !== y!.dtype) throw new Error(`where: branches have different dtypes ${x!.toString()} and ${y!.toString()}.`);
    return [new ShapedArray(broadcastShapes("where", p!.shape, x!.shape, y!.shape), x!.dtype)];
  },
  impl([p, x, y], _params, [out]) {
    return [mapN([p!, x!, y!], out!, choose)];
  },
  jvp([p, x, y], ts) {
    const tx = ts[1] ?? null;
    const ty = ts[2] ?? null;
    const out = bind1(select_p, [p!, x!, y!]);
    const z = full([], 0, out.dtype);
    const t = bind1(select_p, [p!, tx ?? z, ty ?? z]);
    return [[out], [shapeEqual(t.aval.shape, out.aval.shape) ? t : broadcastTo(t, out.shape)]];
  },
  transpose([ct], [p, x, y]) {
    if (!ct) return [null, null, null];
    if (p instanceof UndefPrimal) throw new Error("where: the condition cannot be linear.");
    const z = full([], 0, ct.dtype);
    return [
      null,
      x instanceof UndefPrimal ? unbroadcast(bind1(select_p, [p as NDArray, ct, z]), x.aval.shape) : null,
      y instanceof UndefPrimal ? unbroadcast(bind1(select_p, [p as NDArray, z, ct]), y.aval.shape) : null,
    ];
  },
});
(select_p as { batch: Primitive["batch"] }).batch = batchElementwise(select_p);

/** `cond ? x : y` elementwise, with broadcasting. */
export function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): NDArray {
  const c = asArray(cond, undefined, "where");
  if (c.dtype !== "bool")
    throw new Error(`where: the condition must be a bool array, got ${c.aval.toString()}; compare with np.greater etc. or astype("bool").`);
  const [a, b] = promoteArgs("where", x, y);
  return bind1(select_p, [c, a, b]);
}

export function checkSameShape(op: string, a: NDArray, b: NDArray): void {
  if (!shapeEqual(a.aval.shape, b.aval.shape)) throw new Error(`${op}: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} differ.`);
}
