/** `rev`: reverses the order of elements along some axes (lax.rev). @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocateForWrite } from "../core/dtype.js";
import { fmtShape, stridesOf } from "../core/shape.js";
import { type Params, type Primitive, bind1, definePrimitive } from "../core/trace.js";
import { stridedIndex } from "./cpu.js";
import { moveAxis } from "./shape.js";

interface RevParams extends Params {
  axes: readonly number[];
}

export const rev_p: Primitive<RevParams> = definePrimitive<RevParams>({
  name: "rev",
  freshOutputs: true,
  abstractEval([x], { axes }) {
    if (axes.some((a) => !Number.isInteger(a) || a < 0 || a >= x!.ndim) || new Set(axes).size !== axes.length)
      throw new Error(`rev: axes (${axes.join(",")}) must be distinct axes of ${fmtShape(x!.shape)}.`);
    return [new ShapedArray(x!.shape, x!.dtype)];
  },
  impl([x], { axes }, [out]) {
    const shape = x!.aval.shape;
    const strides = stridesOf(shape);
    let off = 0;
    const s = strides.map((st, i) => {
      if (!axes.includes(i)) return st;
      off += (shape[i]! - 1) * st;
      return -st;
    });
    const idx = stridedIndex(shape, s);
    const res = allocateForWrite(out!.dtype, out!.size);
    const X = x!.buffer;
    for (let i = 0; i < res.length; i++) res[i] = X[off + idx[i]!]!;
    return [new ConcreteArray(out!, res)];
  },
  jvp: ([x], [t], p) => [[rev(x!, p.axes)], [rev(t!, p.axes)]],
  transpose: ([ct], _x, p) => [ct ? rev(ct, p.axes) : null],
  batch: ([x], [d], p) => [
    [
      rev(
        moveAxis(x!, d!, 0),
        p.axes.map((a) => a + 1),
      ),
    ],
    [0],
  ],
  printParams: (p) => `[dimensions=(${p.axes.join(",")}${p.axes.length === 1 ? "," : ""})]`,
});

/** Reverses `x` along `axes` (already normalized). */
export function rev(x: NDArray, axes: readonly number[]): NDArray {
  const live = axes.filter((a) => x.aval.shape[a]! > 1);
  return live.length === 0 ? x : bind1(rev_p, [x], { axes: [...live] });
}
