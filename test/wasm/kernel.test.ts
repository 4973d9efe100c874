/**
 * Fused kernels compiled to WebAssembly SIMD (src/backends/wasm/kernel.ts) against the
 * JavaScript code generator and float64 references: random kernels (broadcast loads,
 * odd sizes with partial vectors, elementwise outputs with sum/max/min reductions over
 * trailing axes and any other axes, full reductions, transposed and flipped reads,
 * f32 and f64), exact agreement for the exactly rounded
 * ops, NaN propagation through max/min, what falls back to JS, results independent of
 * the thread count, and jit end to end on the benchmark functions.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { compileKernel } from "../../src/backends/cpu/codegen.js";
import { KernelBuilder } from "../../src/kernel/builder.js";
import { type Kernel, type ReduceOp, broadcastMap, contiguousStrides, outputShape } from "../../src/kernel/ir.js";
import { compileWasmKernel, kernelFunction } from "../../src/backends/wasm/kernel.js";
import { setThreadCount, threadCount, wasmAvailable } from "../../src/backends/wasm/runtime.js";
import type { TypedArray } from "../../src/core/dtype.js";
import { allocate } from "../../src/core/dtype.js";
import { type Array as NDArray, grad, jit, np } from "../../src/index.js";
import { seededRandom } from "../helpers/numeric.js";

type F = "float32" | "float64";

/** Runs `fn` on the kernel's inputs and returns fresh outputs. */
function runWith(fn: (...b: TypedArray[]) => void, k: Kernel, ins: TypedArray[]): TypedArray[] {
  const outs = k.outputs.map((o, j) =>
    allocate(
      k.nodes[o.node]!.dtype,
      outputShape(k, j).reduce((a, b) => a * b, 1),
    ),
  );
  fn(...ins, ...outs);
  return outs;
}
const wasmRun = (k: Kernel, ins: TypedArray[]): TypedArray[] => {
  const w = compileWasmKernel(k);
  if (!w) throw new Error("expected the kernel to compile to wasm");
  return runWith(w.run, k, ins);
};
const jsRun = (k: Kernel, ins: TypedArray[]): TypedArray[] => runWith(compileKernel(k), k, ins);

function inputsFor(k: Kernel, rnd: () => number, special = false): TypedArray[] {
  return k.inputs.map((inp) => {
    const n = inp.shape.reduce((a, b) => a * b, 1);
    const b = allocate(inp.dtype, n);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      b[i] = special && r < 0.02 ? [NaN, Infinity, -Infinity, 0, -0][Math.floor(rnd() * 5)]! : r < 0.05 ? 0 : rnd() * 4 - 2;
    }
    return b;
  });
}

const UNARY = ["neg", "abs", "tanh", "logistic", "exp", "expm1", "log1p", "log", "sqrt", "rsqrt", "floor", "ceil", "round", "sign", "sin", "cos"] as const;
const BINARY = ["add", "sub", "mul", "div", "max", "min"] as const;
const COMPARE = ["lt", "le", "gt", "ge", "eq", "ne"] as const;

interface Case {
  kernel: Kernel;
  /** Tolerance of the elementwise output relative to 1 + |value|. */
  tol: number;
}

/**
 * A random kernel over `shape`: 1-3 inputs broadcast to it, a chain of ops, the result
 * written elementwise and reduced (op `red`) over the trailing `nred` axes (or `axes`). Ops keep the
 * values bounded (exp/log/sqrt/div take bounded or positive arguments), so the error of
 * the approximations stays a few ulp of the result.
 */
function randomKernel(seed: number, shape: number[], nred: number, red: ReduceOp, dtype: F, steps: number, axes?: number[]): Case {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const reduceAxes = axes ?? (nred ? shape.map((_, d) => d).slice(shape.length - nred) : []);
  const b = new KernelBuilder(shape, reduceAxes);
  const vals: number[] = [];
  const nIn = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < nIn; i++) {
    const r = rnd();
    if (r < 0.2 && shape.length > 1) {
      // a transposed read: the input is stored with its axes reversed
      const rev = [...shape].reverse();
      const st = contiguousStrides(rev).reverse();
      vals.push(b.load(b.addInput(dtype, rev), { offset: 0, strides: st }));
    } else if (r < 0.3) {
      // a flipped read along the last axis (negative stride)
      const st = contiguousStrides(shape);
      const last = shape.length - 1;
      vals.push(b.load(b.addInput(dtype, shape), { offset: (shape[last]! - 1) * st[last]!, strides: st.map((v, d) => (d === last ? -v : v)) }));
    } else {
      // broadcast some axes (size 1), drop some leading axes
      const lead = Math.floor(rnd() * shape.length);
      const own = shape.slice(lead).map((d) => (rnd() < 0.3 ? 1 : d));
      vals.push(b.load(b.addInput(dtype, own), broadcastMap(own, shape)));
    }
  }
  const un = (op: string, x: number): number => b.add({ kind: "unary", op: op as never, x, dtype });
  const bin = (op: string, x: number, y: number): number => b.add({ kind: "binary", op: op as never, x, y, dtype });
  const c = (v: number): number => b.constant(v, dtype);
  for (let s = 0; s < steps; s++) {
    const x = pick(vals);
    const y = pick(vals);
    const r = rnd();
    let v: number;
    if (r < 0.45) {
      const op = pick(UNARY);
      // keep arguments in the functions' comfortable domains: |x| bounded via tanh
      const bounded = un("tanh", x);
      if (op === "exp" || op === "expm1") v = un(op, bin("mul", bounded, c(3)));
      else if (op === "log" || op === "sqrt" || op === "rsqrt") v = un(op, bin("add", un("abs", x), c(0.5)));
      else if (op === "log1p") v = un(op, un("abs", x));
      else v = un(op, x);
    } else if (r < 0.75) {
      const op = pick(BINARY);
      v = op === "div" ? bin("div", x, bin("add", un("abs", y), c(1))) : bin(op, x, y);
    } else if (r < 0.85) {
      const cmp = b.add({ kind: "compare", op: pick(COMPARE), x, y, dtype: "bool" });
      v = b.add({ kind: "select", cond: rnd() < 0.5 ? cmp : b.add({ kind: "unary", op: "not", x: cmp, dtype: "bool" }), x: y, y: x, dtype });
    } else if (r < 0.92) {
      v = b.add({ kind: "ipow", x: un("tanh", x), y: pick([2, 3, -2, 4]), dtype });
      if (kernelHasNegPow(b, v)) v = un("tanh", v);
    } else {
      const cmp = b.add({ kind: "compare", op: pick(COMPARE), x, y: c(0), dtype: "bool" });
      v = bin("mul", b.add({ kind: "convert", x: cmp, dtype }), x);
    }
    vals.push(v);
  }
  const last = vals[vals.length - 1]!;
  b.output(last);
  if (reduceAxes.length) b.output(last, red);
  return { kernel: b.build(), tol: dtype === "float32" ? 2e-5 : 1e-12 };
}
/** Negative powers of tanh can be huge near 0: squash them. */
function kernelHasNegPow(b: KernelBuilder, v: number): boolean {
  const n = b.nodes[v]!;
  return n.kind === "ipow" && n.y < 0;
}

/** Checks the wasm outputs against the JS ones: elementwise within tol·(1+|v|), reductions within tol·Σ|v| over each block. */
function check(k: Case, ins: TypedArray[]): void {
  const js = jsRun(k.kernel, ins);
  const wa = wasmRun(k.kernel, ins);
  const ew = js[0]!;
  for (let i = 0; i < ew.length; i++) {
    const want = ew[i]!;
    const got = wa[0]![i]!;
    const ok = Number.isNaN(want) ? Number.isNaN(got) : !Number.isFinite(want) ? got === want : Math.abs(got - want) <= k.tol * (1 + Math.abs(want));
    if (!ok) expect.fail(`elementwise ${i}: ${got} vs ${want}`);
  }
  if (js.length < 2) return;
  const red = k.kernel.outputs[1]!.reduce!;
  const blocks = js[1]!.length;
  // Σ|v| and NaN-ness per output element: walk the index space, mapping each index to its output element
  const { shape, reduceAxes } = k.kernel;
  const absSum = new Float64Array(blocks);
  const hasNaN = new Uint8Array(blocks);
  const idx = shape.map(() => 0);
  for (let i = 0; i < ew.length; i++) {
    let o = 0;
    shape.forEach((d, a) => {
      if (!reduceAxes.includes(a)) o = o * d + idx[a]!;
    });
    absSum[o] = absSum[o]! + Math.abs(ew[i]!);
    if (Number.isNaN(ew[i]!)) hasNaN[o] = 1;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  for (let r = 0; r < blocks; r++) {
    const abs = absSum[r]!;
    const nan = hasNaN[r] === 1;
    const want = js[1]![r]!;
    const got = wa[1]![r]!;
    if (nan || Number.isNaN(want)) expect(got, `reduction ${r}`).toBeNaN();
    else if (!Number.isFinite(want)) expect(got, `reduction ${r}`).toBe(want);
    else if (red === "sum") expect(Math.abs(got - want), `sum ${r}: ${got} vs ${want}`).toBeLessThanOrEqual(k.tol * (1 + abs) * 2);
    else expect(Math.abs(got - want), `${red} ${r}: ${got} vs ${want}`).toBeLessThanOrEqual(k.tol * (1 + Math.abs(want)));
  }
}

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100, 257, 1000];

describe.runIf(wasmAvailable())("fused kernels compiled to WebAssembly SIMD", () => {
  it("random kernels agree with the JS code generator (f32 and f64, broadcasting, odd sizes, reductions over trailing axes)", () => {
    let compiled = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.array(fc.constantFrom(...SIZES), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom<ReduceOp>("sum", "max", "min"),
        fc.constantFrom<F>("float32", "float64"),
        fc.integer({ min: 1, max: 8 }),
        (seed, shape, nredRaw, red, dtype, steps) => {
          if (shape.reduce((a, b) => a * b, 1) > 40000) return;
          const nred = Math.min(nredRaw, shape.length);
          const k = randomKernel(seed, shape, nred, red, dtype, steps);
          runs++;
          if (!compileWasmKernel(k.kernel)) return;
          compiled++;
          check(k, inputsFor(k.kernel, seededRandom(seed + 1)));
        },
      ),
      { numRuns: 150, seed: 20240611 },
    );
    // most random kernels compile (the rest have an innermost loop shorter than a vector)
    expect(compiled).toBeGreaterThan(runs * 0.5);
  });

  it("random kernels reducing any axes (outer and middle axes: float64 scratch accumulators) agree with the JS code generator", () => {
    let compiled = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 30 }),
        fc.array(fc.constantFrom(...SIZES), { minLength: 2, maxLength: 3 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<ReduceOp>("sum", "max", "min"),
        fc.constantFrom<F>("float32", "float64"),
        (seed, shape, bits, red, dtype) => {
          if (shape.reduce((a, b) => a * b, 1) > 40000) return;
          const axes = shape.map((_, d) => d).filter((d) => bits & (1 << d));
          if (!axes.length) return;
          const k = randomKernel(seed, shape, 0, red, dtype, 4, axes);
          if (!compileWasmKernel(k.kernel)) return;
          compiled++;
          check(k, inputsFor(k.kernel, seededRandom(seed + 1), seed % 5 === 0));
        },
      ),
      { numRuns: 150, seed: 777 },
    );
    expect(compiled).toBeGreaterThan(40);
  });

  it("column sums of a big matrix: chunks over the kept columns, exactly the JS sums", () => {
    for (const dtype of ["float32", "float64"] as F[]) {
      for (const [r, c] of [
        [1000, 1001],
        [7, 200_003],
      ]) {
        const b = new KernelBuilder([r!, c!], [0]);
        const x = b.load(b.addInput(dtype, [r!, c!]), broadcastMap([r!, c!], [r!, c!]));
        b.output(b.add({ kind: "binary", op: "mul", x, y: x, dtype }), "sum");
        const k = b.build();
        expect(compileWasmKernel(k)!.chunks).toBeGreaterThan(1);
        const ins = inputsFor(k, seededRandom(r!));
        // same accumulation order as the JS path (row by row, in float64): same values
        expect(Array.from(wasmRun(k, ins)[0]!)).toEqual(Array.from(jsRun(k, ins)[0]!));
      }
    }
  });

  it("big kernels: many chunks, partial vectors at the end of every chunk", () => {
    for (const [shape, nred] of [
      [[1_000_003], 0],
      [[1_000_003], 1],
      [[3, 70_001], 1],
      [[700, 301], 2],
      [[301, 700], 0],
    ] as [number[], number][]) {
      for (const dtype of ["float32", "float64"] as F[]) {
        for (const red of ["sum", "max"] as ReduceOp[]) {
          const k = randomKernel(shape[0]! + nred, shape, nred, red, dtype, 6);
          expect(compileWasmKernel(k.kernel)!.chunks).toBeGreaterThan(1);
          check(k, inputsFor(k.kernel, seededRandom(7)));
        }
      }
    }
  });

  it("+ - * / sqrt, max/min, select, floor/ceil/round/sign and x² are exactly the JS values (float32 rounding included)", () => {
    for (const dtype of ["float32", "float64"] as F[]) {
      const shape = [5, 37];
      const b = new KernelBuilder(shape);
      const x = b.load(b.addInput(dtype, shape), broadcastMap(shape, shape));
      const y = b.load(b.addInput(dtype, [37]), broadcastMap([37], shape));
      const z = b.load(b.addInput(dtype, [5, 1]), broadcastMap([5, 1], shape));
      const bin = (op: string, p: number, q: number): number => b.add({ kind: "binary", op: op as never, x: p, y: q, dtype });
      const un = (op: string, p: number): number => b.add({ kind: "unary", op: op as never, x: p, dtype });
      const outs = [
        bin("add", x, y),
        bin("sub", x, z),
        bin("mul", x, y),
        bin("div", x, y),
        un("sqrt", un("abs", x)),
        bin("max", x, y),
        bin("min", z, x),
        un("floor", bin("mul", x, b.constant(3, dtype))),
        un("ceil", bin("mul", x, b.constant(3, dtype))),
        un("round", bin("mul", x, b.constant(2, dtype))),
        un("sign", x),
        un("neg", x),
        b.add({ kind: "ipow", x, y: 2, dtype }),
        b.add({ kind: "select", cond: b.add({ kind: "compare", op: "lt", x, y, dtype: "bool" }), x: z, y, dtype }),
        bin("mul", b.add({ kind: "convert", x: b.add({ kind: "compare", op: "ge", x, y: z, dtype: "bool" }), dtype }), y),
      ];
      for (const o of outs) b.output(o);
      const k = b.build();
      const ins = inputsFor(k, seededRandom(3), true);
      // halves for round: ±0.5, ±1.5, ±2.5
      ins[0]!.set([0.25, -0.25, 0.75, -0.75, 1.25, -1.25], 0);
      const js = jsRun(k, ins);
      const wa = wasmRun(k, ins);
      js.forEach((o, j) => expect(Array.from(wa[j]!), `output ${j}`).toEqual(Array.from(o)));
    }
  });

  it("bool inputs and outputs (bytes 0/1, full and broadcast reads, partial vectors) are exactly the JS values", () => {
    for (const dtype of ["float32", "float64"] as F[]) {
      for (const [r, c] of [
        [3, 5],
        [7, 33],
        [40, 1001],
      ] as [number, number][]) {
        const shape = [r, c];
        const b = new KernelBuilder(shape);
        const x = b.load(b.addInput(dtype, shape), broadcastMap(shape, shape));
        const m = b.load(b.addInput("bool", shape), broadcastMap(shape, shape));
        const row = b.load(b.addInput("bool", [c]), broadcastMap([c], shape));
        const col = b.load(b.addInput("bool", [r, 1]), broadcastMap([r, 1], shape));
        const both = b.add({ kind: "binary", op: "and", x: m, y: b.add({ kind: "binary", op: "or", x: row, y: col, dtype: "bool" }), dtype: "bool" });
        b.output(b.add({ kind: "select", cond: both, x, y: b.add({ kind: "unary", op: "neg", x, dtype }), dtype }));
        b.output(b.add({ kind: "compare", op: "gt", x, y: b.constant(0, dtype), dtype: "bool" }));
        b.output(b.add({ kind: "unary", op: "not", x: both, dtype: "bool" }));
        b.output(b.add({ kind: "convert", x: m, dtype }));
        const k = b.build();
        const rnd = seededRandom(r * c);
        const ins = k.inputs.map((inp) => {
          const n = inp.shape.reduce((p, q) => p * q, 1);
          return inp.dtype === "bool" ? Uint8Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)) : allocate(dtype, n).map(() => rnd() * 2 - 1);
        });
        const js = jsRun(k, ins);
        const wa = wasmRun(k, ins);
        js.forEach((o, j) => expect(Array.from(wa[j]!), `output ${j}`).toEqual(Array.from(o)));
      }
    }
  });

  it("sin, cos, tan: within a few ulp of Math.*; an argument beyond TRIG_LIMIT anywhere reruns the kernel in JS", () => {
    for (const dtype of ["float32", "float64"] as F[]) {
      const shape = [3, 1001];
      const b = new KernelBuilder(shape, [1]);
      const x = b.load(b.addInput(dtype, shape), broadcastMap(shape, shape));
      const un = (op: string, p: number): number => b.add({ kind: "unary", op: op as never, x: p, dtype });
      b.output(un("sin", x));
      b.output(un("cos", x));
      b.output(un("tan", x));
      b.output(un("sin", x), "sum");
      const k = b.build();
      const n = 3 * 1001;
      const xs = allocate(dtype, n).map((_, i) => (i - n / 2) * 0.37);
      xs[5] = -0;
      const got = wasmRun(k, [xs]);
      const eps = dtype === "float32" ? 2 ** -23 : 2 ** -52;
      const round = dtype === "float32" ? Math.fround : (v: number): number => v;
      [Math.sin, Math.cos, Math.tan].forEach((fn, j) => {
        const bad = Array.from(xs).findIndex((v, i) => !(Math.abs(got[j]![i]! - round(fn(v))) <= 4 * eps * Math.abs(fn(v))));
        expect(bad, `output ${j} at ${xs[bad]}`).toBe(-1);
      });
      expect(Object.is(got[0]![5], -0)).toBe(true);
      // out of range in the last row's tail: the JS function's values, exactly
      xs[n - 1] = 1e7;
      xs[n - 2] = Infinity;
      const again = wasmRun(k, [xs]);
      jsRun(k, [xs]).forEach((o, j) => expect(Array.from(again[j]!), `output ${j}`).toEqual(Array.from(o)));
    }
  });

  it("a long chain (2,000 nodes, 125 outputs) compiles to a small module (transcendentals called, not inlined), and a trig-heavy kernel on 256 elements runs as wasm", () => {
    // x = sin(x) * 1.01 + 0.1, 500 steps, every 4th step's cos an output: the shape of jit(grad) of a long chain
    const shape = [256];
    const b = new KernelBuilder(shape, []);
    let x = b.load(b.addInput("float32", shape), broadcastMap(shape, shape));
    const k101 = b.constant(1.01, "float32");
    const k01 = b.constant(0.1, "float32");
    for (let i = 0; i < 500; i++) {
      if (i % 4 === 0) b.output(b.add({ kind: "unary", op: "cos", x, dtype: "float32" }));
      const s = b.add({ kind: "unary", op: "sin", x, dtype: "float32" });
      x = b.add({ kind: "binary", op: "add", x: b.add({ kind: "binary", op: "mul", x: s, y: k101, dtype: "float32" }), y: k01, dtype: "float32" });
    }
    b.output(x);
    const k = b.build();
    expect(k.outputs.length).toBe(126);
    const rnd = seededRandom(5);
    const ins = inputsFor(k, rnd);
    const w = compileWasmKernel(k);
    expect(w, "the module must load (it overflowed the call stack when encoded with spreads)").not.toBeNull();
    // sin and cos are functions of the module, called 625 times, not 625 inlined copies (over 2 MB)
    expect(w!.codeSize).toBeLessThan(300_000);
    // chosen over the JS kernel although 256 < WASM_KERNEL_MIN_SIZE_TRANSCENDENTAL: 125 transcendental calls per element
    expect(kernelFunction(k)).toBe(w!.run);
    const got = runWith(w!.run, k, ins);
    const want = jsRun(k, ins);
    want.forEach((o, j) => {
      const bad = Array.from(o).findIndex((v, i) => !(Math.abs(got[j]![i]! - v) <= 1e-5 * (1 + Math.abs(v))));
      expect(bad, `output ${j} at ${bad}: ${got[j]![bad]} vs ${o[bad]}`).toBe(-1);
    });
  });

  it("max and min reductions propagate NaN, wherever it is (in a partial vector too)", () => {
    for (const dtype of ["float32", "float64"] as F[]) {
      for (const op of ["max", "min"] as ReduceOp[]) {
        for (const n of [4, 7, 4099]) {
          const b = new KernelBuilder([3, n], [1]);
          b.output(b.load(b.addInput(dtype, [3, n]), broadcastMap([3, n], [3, n])), op);
          const k = b.build();
          const x = allocate(dtype, 3 * n);
          for (let i = 0; i < 3 * n; i++) x[i] = Math.sin(i);
          x[n - 1] = NaN; // last element of row 0 (in the tail when n % lanes != 0)
          x[n + 1] = NaN; // row 1
          const got = wasmRun(k, [x])[0]!;
          const want = jsRun(k, [x])[0]!;
          expect(got[0]).toBeNaN();
          expect(got[1]).toBeNaN();
          expect(got[2]).toBe(want[2]);
        }
        // a full reduction: NaN in one chunk's partial
        const n = 300_001;
        const b = new KernelBuilder([n], [0]);
        b.output(b.load(b.addInput(dtype, [n]), broadcastMap([n], [n])), op);
        const x = allocate(dtype, n).map((_, i) => Math.cos(i));
        expect(wasmRun(b.build(), [x])[0]![0]).toBe(jsRun(b.build(), [x])[0]![0]);
        x[123_457] = NaN;
        expect(wasmRun(b.build(), [x])[0]![0]).toBeNaN();
      }
    }
  });

  it("float32 sums accumulate in float64: sum of 1e6 values as accurate as the JS path", () => {
    const n = 1_000_000;
    const b = new KernelBuilder([n], [0]);
    b.output(b.load(b.addInput("float32", [n]), broadcastMap([n], [n])), "sum");
    const k = b.build();
    const rnd = seededRandom(5);
    const x = new Float32Array(n).map(() => rnd());
    let exact = 0;
    for (let i = 0; i < n; i++) exact += x[i]!; // float64 sum of the float32 values
    const got = wasmRun(k, [x])[0]![0]!;
    expect(Math.abs(got - exact) / exact).toBeLessThan(1e-7);
    expect(got).toBe(Math.fround(exact));
  });

  it("results do not depend on the thread count", () => {
    const threads = threadCount();
    try {
      const k = randomKernel(99, [2_000_003], 1, "sum", "float32", 6);
      const ins = inputsFor(k.kernel, seededRandom(1));
      setThreadCount(1);
      const one = wasmRun(k.kernel, ins);
      setThreadCount(2);
      const two = wasmRun(k.kernel, ins);
      expect(Array.from(two[1]!)).toEqual(Array.from(one[1]!));
      expect(two[0]!.every((v, i) => Object.is(v, one[0]![i]))).toBe(true);
    } finally {
      setThreadCount(threads);
    }
  });

  it("falls back (null) for what it does not compile: int32, pow", () => {
    const shape = [64, 64];
    const mk = (
      f: (b: KernelBuilder, x: number) => void,
      dtype: "float32" | "int32" = "float32",
      reduce: number[] = [],
      map = broadcastMap(shape, shape),
    ): Kernel => {
      const b = new KernelBuilder(shape, reduce);
      f(b, b.load(b.addInput(dtype, shape), map));
      return b.build();
    };
    expect(compileWasmKernel(mk((b, x) => void b.output(x), "int32"))).toBeNull();
    expect(compileWasmKernel(mk((b, x) => void b.output(b.add({ kind: "binary", op: "pow", x, y: x, dtype: "float32" }))))).toBeNull();
    expect(compileWasmKernel(mk((b, x) => void b.output(x), "float32", [], { offset: 0, strides: [1, 64] }))).not.toBeNull(); // transposed read: lane by lane
    expect(compileWasmKernel(mk((b, x) => void b.output(x, "sum"), "float32", [1]))).not.toBeNull();
    // small kernels run as JS even when they compile
    const sb = new KernelBuilder([16, 16]);
    sb.output(sb.load(sb.addInput("float32", [16, 16]), broadcastMap([16, 16], [16, 16])));
    const small = sb.build();
    expect(compileWasmKernel(small)).not.toBeNull();
    expect(kernelFunction(small)).toBe(compileKernel(small));
  });

  it("caches compiled kernels by structure", () => {
    const make = (): Kernel => randomKernel(5, [1000], 1, "sum", "float32", 4).kernel;
    expect(compileWasmKernel(make())).toBe(compileWasmKernel(make()));
  });
});

describe.runIf(wasmAvailable())("jit on the benchmark functions (Wasm kernels) matches eager evaluation", () => {
  const threads = threadCount();
  afterAll(() => setThreadCount(threads));
  const chain = (x: NDArray): NDArray => np.sum(np.multiply(np.tanh(np.add(np.multiply(x, 2), 1)), np.exp(np.negative(np.square(x)))));
  const rnd = seededRandom(17);
  const data = new Float32Array(200_003).map(() => rnd() * 4 - 2);

  it("sum(tanh(2x+1)·exp(-x²)) and its gradient", () => {
    const x = np.array(data);
    const jv = (jit(chain)(x) as NDArray).item();
    const ev = chain(x).item();
    // float64 reference of the float32 program
    let ref = 0;
    for (const v of data) ref += Math.fround(Math.fround(Math.tanh(Math.fround(Math.fround(2 * v) + 1))) * Math.fround(Math.exp(-Math.fround(v * v))));
    expect(Math.abs(jv - ref) / Math.abs(ref)).toBeLessThan(1e-6);
    expect(Math.abs(jv - ev) / Math.abs(ev)).toBeLessThan(1e-6);
    const jg = (jit(grad(chain))(x) as NDArray).data() as Float32Array;
    const eg = (grad(chain)(x) as NDArray).data() as Float32Array;
    const bad = eg.findIndex((v, i) => !(Math.abs(jg[i]! - v) <= 4e-6 * (1 + Math.abs(v))));
    expect(bad, `g[${bad}]: ${jg[bad]} vs ${eg[bad]}`).toBe(-1);
  });

  it("a float64 log-softmax over rows (max and sum reductions, exp and log)", () => {
    const f = (z: NDArray): NDArray => {
      const m = np.max(z, { axis: -1, keepdims: true });
      const s = np.subtract(z, m);
      return np.subtract(s, np.log(np.sum(np.exp(s), { axis: -1, keepdims: true })));
    };
    const z = np.array(Float64Array.from({ length: 64 * 1000 }, (_, i) => Math.sin(i) * 10)).reshape([64, 1000]);
    const a = (jit(f)(z) as NDArray).data() as Float64Array;
    const e = f(z).data() as Float64Array;
    const bad = e.findIndex((v, i) => !(Math.abs(a[i]! - v) <= 1e-13 * (1 + Math.abs(v))));
    expect(bad, `${a[bad]} vs ${e[bad]}`).toBe(-1);
  });
});
