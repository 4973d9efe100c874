/**
 * The kernel expression language and its CPU code generator, on hand-built kernels
 * checked against hand-computed values: broadcasting and transposed loads, reductions
 * over inner and outer axes, NaN propagation in max/min, int32 wrap-around, bool
 * normalization, float32 rounding of every intermediate, empty index spaces, the
 * printer and the validator's errors, and the source-text cache.
 */
import { describe, expect, it } from "vitest";
import { ConcreteArray, ShapedArray } from "../../src/core/array.js";
import type { DType, TypedArray } from "../../src/core/dtype.js";
import { allocate } from "../../src/core/dtype.js";
import { compileKernel, compiledFunctionCount, kernelSource } from "../../src/backends/cpu/codegen.js";
import { KernelBuilder } from "../../src/kernel/builder.js";
import { fused_p } from "../../src/primitives/fused.js";
import { type Kernel, broadcastMap, outputShape, validateKernel } from "../../src/kernel/ir.js";
import { printKernel } from "../../src/kernel/print.js";

/** Runs a kernel on flat inputs and returns the flat outputs. */
function run(k: Kernel, ...inputs: number[][]): number[][] {
  const ins = k.inputs.map((inp, i) => {
    const b = allocate(inp.dtype, inputs[i]!.length);
    b.set(inputs[i]!);
    return b;
  });
  const outs: TypedArray[] = k.outputs.map((o, j) =>
    allocate(
      k.nodes[o.node]!.dtype,
      outputShape(k, j).reduce((a, b) => a * b, 1),
    ),
  );
  compileKernel(k)(...ins, ...outs);
  return outs.map((o) => Array.from(o, Number));
}

/** A kernel applying `body` to loads of same-shaped inputs. */
function elementwise(shape: number[], dtypes: DType[], body: (b: KernelBuilder, xs: number[]) => number): Kernel {
  const b = new KernelBuilder(shape);
  const xs = dtypes.map((d) => b.load(b.addInput(d, shape), broadcastMap(shape, shape)));
  b.output(body(b, xs));
  return b.build();
}

describe("printing", () => {
  it("shows the index space, the loads' index maps, the nodes and the outputs", () => {
    const b = new KernelBuilder([2, 3], [1]);
    const x = b.load(b.addInput("float32", [3, 2]), { offset: 0, strides: [1, 2] }); // a transposed read
    const y = b.load(b.addInput("float32", [3]), broadcastMap([3], [2, 3]));
    const s = b.add({ kind: "binary", op: "mul", x, y, dtype: "float32" });
    const t = b.add({ kind: "binary", op: "add", x: s, y: b.constant(1, "float32"), dtype: "float32" });
    b.output(t);
    b.output(t, "sum");
    expect(printKernel(b.build())).toMatchInlineSnapshot(`
      "kernel[2,3] (in0:f32[3,2] in1:f32[3]) {
        %0:f32 = load in0[i0 + 2*i1]
        %1:f32 = load in1[i1]
        %2:f32 = mul %0 %1
        %4:f32 = add %2 1.0
        out0:f32[2,3] = %4
        out1:f32[2] = sum %4 over (1,)
      }"
    `);
  });

  it("shares equal nodes", () => {
    const b = new KernelBuilder([4]);
    const x = b.load(b.addInput("float64", [4]), broadcastMap([4], [4]));
    const s1 = b.add({ kind: "unary", op: "sin", x, dtype: "float64" });
    const s2 = b.add({ kind: "unary", op: "sin", x, dtype: "float64" });
    expect(s1).toBe(s2);
    expect(b.constant(0.1, "float32")).toBe(b.constant(0.1, "float32"));
  });
});

describe("validation", () => {
  const base = (): Kernel => elementwise([3], ["float64"], (_b, [x]) => x!);
  it("rejects loads out of bounds of their input", () => {
    const k = base();
    const bad: Kernel = { ...k, nodes: [{ kind: "load", dtype: "float64", input: 0, map: { offset: 1, strides: [1] } }] };
    expect(() => validateKernel(bad)).toThrow(/load of input 0 \(3 elements\) reaches offsets 1\.\.3/);
  });
  it("rejects forward references, unsorted reduce axes and reductions of bools", () => {
    const k = base();
    expect(() => validateKernel({ ...k, nodes: [...k.nodes, { kind: "unary", op: "neg", x: 5, dtype: "float64" }] })).toThrow(
      /refers to %5, which is not an earlier node/,
    );
    expect(() => validateKernel({ ...k, shape: [3, 1], reduceAxes: [1, 0], outputs: [{ node: 0, reduce: "sum" }] })).toThrow(/must be sorted/);
    const bools = elementwise([2], ["bool"], (_b, [x]) => x!);
    expect(() => validateKernel({ ...bools, reduceAxes: [0], outputs: [{ node: 0, reduce: "sum" }] })).toThrow(/reduces a bool value/);
  });
  it("the fused primitive names the mismatching input", () => {
    const k = base();
    expect(() => fused_p.abstractEval([new ShapedArray([4], "float64")], { kernel: k })).toThrow(
      /fused: input 0 is f64\[4\] but the kernel reads float64\[3\]/,
    );
  });
});

describe("CPU code generation", () => {
  it("broadcasts a row and a column (outer sum)", () => {
    const b = new KernelBuilder([2, 3]);
    const col = b.load(b.addInput("float64", [2, 1]), broadcastMap([2, 1], [2, 3]));
    const row = b.load(b.addInput("float64", [3]), broadcastMap([3], [2, 3]));
    b.output(b.add({ kind: "binary", op: "add", x: col, y: row, dtype: "float64" }));
    expect(run(b.build(), [10, 20], [1, 2, 3])).toEqual([[11, 12, 13, 21, 22, 23]]);
  });

  it("reads a transposed and a sliced input", () => {
    // x = [[0,1,2],[3,4,5]] read as x^T; y = [9,8,7,6] read from offset 1 with stride 1
    const b = new KernelBuilder([3, 2]);
    const xt = b.load(b.addInput("float64", [2, 3]), { offset: 0, strides: [1, 3] });
    const ys = b.load(b.addInput("float64", [4]), { offset: 1, strides: [1, 0] });
    b.output(b.add({ kind: "binary", op: "mul", x: xt, y: ys, dtype: "float64" }));
    expect(run(b.build(), [0, 1, 2, 3, 4, 5], [9, 8, 7, 6])).toEqual([[0, 24, 7, 28, 12, 30]]);
  });

  it("reduces over the inner axis, the outer axis and all axes", () => {
    const x = [1, 2, 3, 4, 5, 6]; // [[1,2,3],[4,5,6]]
    const red = (axes: number[], op: "sum" | "max" | "min"): number[] => {
      const b = new KernelBuilder([2, 3], axes);
      b.output(b.load(b.addInput("float64", [2, 3]), broadcastMap([2, 3], [2, 3])), op);
      return run(b.build(), x)[0]!;
    };
    expect(red([1], "sum")).toEqual([6, 15]);
    expect(red([0], "sum")).toEqual([5, 7, 9]);
    expect(red([0, 1], "sum")).toEqual([21]);
    expect(red([0], "max")).toEqual([4, 5, 6]);
    expect(red([1], "min")).toEqual([1, 4]);
  });

  it("writes elementwise and reduced outputs in one pass", () => {
    const b = new KernelBuilder([2, 2], [1]);
    const x = b.load(b.addInput("float64", [2, 2]), broadcastMap([2, 2], [2, 2]));
    const sq = b.add({ kind: "binary", op: "mul", x, y: x, dtype: "float64" });
    b.output(sq);
    b.output(sq, "sum");
    expect(run(b.build(), [1, 2, 3, 4])).toEqual([
      [1, 4, 9, 16],
      [5, 25],
    ]);
  });

  it("max and min propagate NaN as the reference reductions do", () => {
    for (const op of ["max", "min"] as const) {
      const b = new KernelBuilder([3], [0]);
      b.output(b.load(b.addInput("float64", [3]), broadcastMap([3], [3])), op);
      expect(run(b.build(), [1, NaN, 2])[0]![0]).toBeNaN();
      const e = elementwise([2], ["float64", "float64"], (kb, [p, q]) => kb.add({ kind: "binary", op, x: p!, y: q!, dtype: "float64" }));
      const out = run(e, [NaN, 1], [0, NaN])[0]!;
      expect(out[0]).toBeNaN();
      expect(out[1]).toBeNaN();
    }
  });

  it("empty index spaces: reductions give their identity (an int32 max of nothing is 0)", () => {
    const b = new KernelBuilder([0, 2], [0]);
    const x = b.load(b.addInput("int32", [0, 2]), broadcastMap([0, 2], [0, 2]));
    b.output(x, "sum");
    b.output(x, "max");
    expect(run(b.build(), [])).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const f = new KernelBuilder([0], [0]);
    f.output(f.load(f.addInput("float32", [0]), broadcastMap([0], [0])), "min");
    expect(run(f.build(), [])).toEqual([[Infinity]]);
  });

  it("int32 arithmetic wraps around and divides toward zero", () => {
    const add = elementwise([2], ["int32", "int32"], (b, [x, y]) => b.add({ kind: "binary", op: "add", x: x!, y: y!, dtype: "int32" }));
    expect(run(add, [2147483647, -7], [1, 3])).toEqual([[-2147483648, -4]]);
    const neg = elementwise([1], ["int32"], (b, [x]) => b.add({ kind: "unary", op: "neg", x: x!, dtype: "int32" }));
    expect(run(neg, [-2147483648])).toEqual([[-2147483648]]);
    const div = elementwise([3], ["int32", "int32"], (b, [x, y]) => b.add({ kind: "binary", op: "div", x: x!, y: y!, dtype: "int32" }));
    expect(run(div, [7, -7, 5], [2, 2, 0])).toEqual([[3, -3, 0]]);
  });

  it("bool results are 0/1 (a negated true is still true; conversions to bool test != 0)", () => {
    const neg = elementwise([2], ["bool"], (b, [x]) => b.add({ kind: "unary", op: "neg", x: x!, dtype: "bool" }));
    expect(run(neg, [1, 0])).toEqual([[1, 0]]);
    const conv = elementwise([4], ["float64"], (b, [x]) => b.add({ kind: "convert", x: x!, dtype: "bool" }));
    expect(run(conv, [0, -0.5, NaN, 3])).toEqual([[0, 1, 0, 1]]);
    const cmp = elementwise([3], ["float32", "float32"], (b, [x, y]) => b.add({ kind: "compare", op: "le", x: x!, y: y!, dtype: "bool" }));
    expect(run(cmp, [1, 2, NaN], [1, 1, 1])).toEqual([[1, 0, 0]]);
  });

  it("float32 rounds every intermediate, as separate float32 arrays would", () => {
    // (x + y) * z computed in float32 steps
    const k = elementwise([1], ["float32", "float32", "float32"], (b, [x, y, z]) => {
      const s = b.add({ kind: "binary", op: "add", x: x!, y: y!, dtype: "float32" });
      return b.add({ kind: "binary", op: "mul", x: s, y: z!, dtype: "float32" });
    });
    const [x, y, z] = [0.1, 0.7, 3].map(Math.fround) as [number, number, number];
    expect(run(k, [x], [y], [z])[0]![0]).toBe(Math.fround(Math.fround(x + y) * z));
    expect(Math.fround(Math.fround(x + y) * z)).not.toBe(Math.fround((x + y) * z)); // the rounding matters here
    // int32 -> float32 conversion rounds large integers
    const conv = elementwise([1], ["int32"], (b, [v]) => b.add({ kind: "convert", x: v!, dtype: "float32" }));
    expect(run(conv, [16777217])).toEqual([[16777216]]);
  });

  it("float to int32 conversion truncates toward zero", () => {
    const conv = elementwise([4], ["float64"], (b, [v]) => b.add({ kind: "convert", x: v!, dtype: "int32" }));
    expect(run(conv, [2.7, -2.7, NaN, 1e10])).toEqual([[2, -2, 0, 1410065408]]);
  });

  it("hoists values that do not depend on inner loops out of them", () => {
    const b = new KernelBuilder([3, 1000]);
    const row = b.load(b.addInput("float64", [3, 1]), broadcastMap([3, 1], [3, 1000]));
    const x = b.load(b.addInput("float64", [3, 1000]), broadcastMap([3, 1000], [3, 1000]));
    const e = b.add({ kind: "unary", op: "exp", x: row, dtype: "float64" });
    b.output(b.add({ kind: "binary", op: "mul", x: e, y: x, dtype: "float64" }));
    const src = kernelSource(b.build()).body;
    const expLine = src.split("\n").findIndex((l) => l.includes("Math.exp"));
    const innerLoop = src.split("\n").findIndex((l) => l.includes("for (let i1"));
    expect(expLine).toBeGreaterThan(-1);
    expect(expLine).toBeLessThan(innerLoop);
  });

  it("collapses contiguous axes into one loop", () => {
    const k = elementwise([4, 5, 6], ["float32"], (b, [x]) => b.add({ kind: "unary", op: "abs", x: x!, dtype: "float32" }));
    const src = kernelSource(k).body;
    expect(src.match(/for \(/g)).toHaveLength(1);
    expect(src).toContain("i0 < 120");
  });

  it("compiles each distinct source once", () => {
    const make = (): Kernel => elementwise([7], ["float64"], (b, [x]) => b.add({ kind: "unary", op: "cos", x: x!, dtype: "float64" }));
    compileKernel(make());
    const n = compiledFunctionCount();
    expect(compileKernel(make())).toBe(compileKernel(make()));
    expect(compiledFunctionCount()).toBe(n);
  });

  it("the fused primitive's impl runs the kernel", () => {
    const k = elementwise([3], ["float64"], (b, [x]) => b.add({ kind: "ipow", x: x!, y: 3, dtype: "float64" }));
    const x = new ConcreteArray(new ShapedArray([3], "float64"), new Float64Array([1, -2, 0.5]));
    const [out] = fused_p.impl([x], { kernel: k }, fused_p.abstractEval([x.aval], { kernel: k }));
    expect(Array.from(out!.buffer)).toEqual([1, -8, 0.125]);
  });
});
