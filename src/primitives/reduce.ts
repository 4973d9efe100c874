/** Reductions: sum, max, min over axes, and argmax/argmin along one axis. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { stridesOf } from "../core/shape.js";
import { type ReduceOp, reduceInit } from "../kernel/ir.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind1, definePrimitive } from "../core/trace.js";
import { reduceAxes } from "./cpu.js";
import { convert, div, equal, mul } from "./elementwise.js";
import { broadcastTo, moveAxis, reshape } from "./shape.js";

interface AxesParams extends Params {
  axes: readonly number[];
}

/** The shape with reduced axes kept as size 1. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}
function reducedShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.filter((_, i) => !axes.includes(i));
}
function checkAxes(name: string, axes: readonly number[], ndim: number): void {
  for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= ndim) throw new Error(`${name}: axis ${a} is out of bounds for rank ${ndim}.`);
}
/** Broadcasts a reduced array back to the input shape. */
export function expandReduced(y: NDArray, inShape: readonly number[], axes: readonly number[]): NDArray {
  return broadcastTo(reshape(y, keptShape(inShape, axes)), [...inShape]);
}
function batchReduce(prim: Primitive) {
  return ([x]: NDArray[], [d]: BatchDim[], params: Params): [NDArray[], BatchDim[]] => {
    const m = moveAxis(x!, d!, 0);
    const axes = (params as AxesParams).axes.map((a) => a + 1);
    return [[bind1(prim, [m], { ...params, axes })], [0]];
  };
}

function reducePrim(name: string, op: ReduceOp, combine: (a: number, b: number) => number, extra: Partial<Primitive<AxesParams>>): Primitive<AxesParams> {
  const init = reduceInit(op);
  const prim: Primitive<AxesParams> = definePrimitive<AxesParams>({
    name,
    freshOutputs: true,
    reduceOp: op,
    abstractEval([x], { axes }) {
      checkAxes(name, axes, x!.ndim);
      if (x!.dtype === "bool") throw new Error(`${name}: cannot reduce a bool array; convert it with astype("int32") first.`);
      return [new ShapedArray(reducedShape(x!.shape, axes), x!.dtype)];
    },
    impl([x], { axes }, [out]) {
      return [reduceAxes(x!, axes, out!, init, combine)];
    },
    printParams: (p) => `[axes=(${p.axes.join(",")}${p.axes.length === 1 ? "," : ""})]`,
    ...extra,
  });
  (prim as { batch: Primitive["batch"] }).batch = batchReduce(prim);
  return prim;
}

export const reduce_sum_p = reducePrim("reduce_sum", "sum", (a, b) => a + b, {
  jvp: ([x], [t], p) => [[reduceSum(x!, p.axes)], [reduceSum(t!, p.axes)]],
  transpose: ([ct], [x], p) => [ct ? expandReduced(ct, (x as UndefPrimal).aval.shape, p.axes) : null],
});

function extremumJvp(prim: () => Primitive<AxesParams>) {
  return ([x]: NDArray[], [t]: (NDArray | null)[], p: AxesParams): [NDArray[], NDArray[]] => {
    const out = bind1(prim(), [x!], p);
    const mask = convert(equal(x!, expandReduced(out, x!.aval.shape, p.axes)), x!.dtype);
    return [[out], [div(reduceSum(mul(t!, mask), p.axes), reduceSum(mask, p.axes))]];
  };
}
const nanMax = (a: number, b: number): number => (a > b || Number.isNaN(a) ? a : Number.isNaN(b) ? b : b > a ? b : a);
const nanMin = (a: number, b: number): number => (a < b || Number.isNaN(a) ? a : Number.isNaN(b) ? b : b < a ? b : a);
export const reduce_max_p = reducePrim("reduce_max", "max", nanMax, { jvp: extremumJvp(() => reduce_max_p) });
export const reduce_min_p = reducePrim("reduce_min", "min", nanMin, { jvp: extremumJvp(() => reduce_min_p) });

export function reduceSum(x: NDArray, axes: readonly number[]): NDArray {
  return axes.length === 0 ? x : bind1(reduce_sum_p, [x], { axes: [...axes] });
}
export function reduceMax(x: NDArray, axes: readonly number[]): NDArray {
  return axes.length === 0 ? x : bind1(reduce_max_p, [x], { axes: [...axes] });
}
export function reduceMin(x: NDArray, axes: readonly number[]): NDArray {
  return axes.length === 0 ? x : bind1(reduce_min_p, [x], { axes: [...axes] });
}

interface ArgParams extends Params {
  axis: number;
}
function argPrim(name: string, better: (a: number, b: number) => boolean): Primitive<ArgParams> {
  const prim: Primitive<ArgParams> = definePrimitive<ArgParams>({
    name,
    freshOutputs: true,
    abstractEval([x], { axis }) {
      checkAxes(name, [axis], x!.ndim);
      if (x!.shape[axis] === 0) throw new Error(`${name}: attempt to take the ${name} of an empty axis ${axis} of shape [${x!.shape.join(",")}].`);
      return [new ShapedArray(reducedShape(x!.shape, [axis]), "int32")];
    },
    impl([x], { axis }, [out]) {
      const shape = x!.aval.shape;
      const n = shape[axis]!;
      const stride = stridesOf(shape)[axis]!;
      const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
      const res = allocate("int32", out!.size);
      const buf = x!.buffer;
      for (let o = 0; o < outer; o++) {
        for (let s = 0; s < stride; s++) {
          const base = o * n * stride + s;
          let best = 0;
          let bv = buf[base]!;
          for (let k = 1; k < n; k++) {
            const v = buf[base + k * stride]!;
            if (!Number.isNaN(bv) && (Number.isNaN(v) || better(v, bv))) {
              best = k;
              bv = v;
            }
          }
          res[o * stride + s] = best;
        }
      }
      return [new ConcreteArray(out!, res)];
    },
    nonDifferentiable: true,
    batch: ([x], [d], p) => [[bind1(prim, [moveAxis(x!, d!, 0)], { axis: p.axis + 1 })], [0]],
  });
  return prim;
}
export const argmax_p = argPrim("argmax", (a, b) => a > b);
export const argmin_p = argPrim("argmin", (a, b) => a < b);
