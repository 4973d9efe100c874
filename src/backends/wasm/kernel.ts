/**
 * Compiling a fused {@link Kernel} to WebAssembly SIMD: the same loop nest as the
 * JavaScript code generator (src/backends/cpu/codegen.ts) — size-1 axes dropped,
 * contiguous axes collapsed, every node placed in the outermost loop where its operands
 * are known, reductions over trailing axes kept in registers — with the innermost loop
 * vectorized over 4 float32 or 2 float64 lanes and its last, partial vector masked
 * (lane stores, identity lanes for the reductions).
 *
 * What compiles (everything else returns null and the caller runs the JS function):
 * - every node float32, or every node float64, plus bool masks (comparisons, `select`,
 *   `not`/`and`/`or`, conversions between bool and the float type); no int32, no
 *   mixed float widths; bool inputs and outputs (bytes 0/1) read with stride 0 or 1;
 * - any affine loads: stride 1 along the innermost (collapsed) loop as vector loads,
 *   stride 0 (broadcast) as splats hoisted out of it, other strides (transposed,
 *   flipped) lane by lane;
 * - elementwise outputs, and `sum`/`max`/`min` reductions: over trailing axes in
 *   registers (a full reduction to a scalar included); over outer or middle axes
 *   (e.g. column sums) into float64 scratch buffers, one element per output element,
 *   when the innermost loop is a kept one;
 * - the ops `neg abs sqrt rsqrt floor ceil round sign not exp expm1 log log1p tanh
 *   logistic`, `add sub mul div max min and or`, integer powers with `|y| <= 8`,
 *   comparisons, `select`, `convert`; `sin cos tan` too, where a kernel whose argument
 *   passes `|x| > TRIG_LIMIT` (8e5) anywhere is run again by the JS function (the
 *   reduction by π/2 is only accurate below it). Not `pow`.
 *
 * Values follow the kernel IR's semantics: `+ - * /` and `sqrt` on float32 lanes are
 * exactly "compute in double, round to float32"; `rsqrt` and integer powers of float32
 * are computed in float64 lanes and rounded once; `max`/`min` propagate NaN and pick
 * operands as the JS code does. The transcendental functions are the approximations of
 * ./vecmath.ts: within 1–2 ulp (float32) and 1–4 ulp (float64) of `Math.*` (see its
 * table). Reductions accumulate in float64 (float32 values are widened), so
 * float32 sums keep the accuracy of the JS path; lanes and chunks are combined in a
 * fixed order, so results do not depend on the thread count (they can differ from the
 * sequential JS sum in the last bits, and max/min may pick a different signed zero).
 *
 * Work is split into chunks over the outermost loop (the outermost kept loop when
 * reductions go to scratch buffers), about {@link CHUNK_ELEMENTS} elements each, run by
 * {@link parallelFor}; each chunk writes its own part of the outputs, and a full
 * reduction writes one partial value per chunk, combined in JS in chunk order. Operands are copied into the runtime's heap before the call and results
 * copied out after.
 * @module
 */
import type { DType, TypedArray } from "../../core/dtype.js";
import { LruCache } from "../../core/lru.js";
import type { KernelFn } from "../cpu/codegen.js";
import { compileKernel } from "../cpu/codegen.js";
import type { BinaryOp, Kernel, KernelNode, ReduceOp, UnaryOp } from "../../kernel/ir.js";
import { type Loop, collapseLoops, contiguousStrides, nodeLevels, operandsOf, outputShape, reduceInit } from "../../kernel/ir.js";
import { FuncBuilder, I32, OP, SIMD_OPS as S, V128 } from "./emit.js";
import { MAX_CHUNKS, type WasmModule, loadModule, parallelFor, reserveHeap, wasmAvailable, wasmMemory } from "./runtime.js";
import { type FloatOp, type Lanes, VEC_MATH, VEC_TRIG, VecAsm, emitTrigRangeMask } from "./vecmath.js";

/** The ways a unary op can be vectorized; `lane`, `math` and `trig` only where that instruction or approximation exists. */
type WasmUnary<Op extends UnaryOp> =
  | (Op extends FloatOp ? "lane" : never)
  | (Op extends keyof typeof VEC_MATH ? "math" : never)
  | (Op extends keyof typeof VEC_TRIG ? "trig" : never)
  | "rsqrt"
  | "round"
  | "sign"
  | "not"
  | null;

/**
 * How each unary op is vectorized (a row per op: a missing one is a compile error):
 * `lane` is one SIMD instruction of the same name; `math`/`trig` the approximations of
 * ./vecmath.ts; the rest have code of their own below; null means not vectorized (a
 * kernel using it runs as JavaScript).
 */
export const WASM_UNARY: { readonly [Op in UnaryOp]: WasmUnary<Op> } = {
  neg: "lane",
  abs: "lane",
  sqrt: "lane",
  floor: "lane",
  ceil: "lane",
  rsqrt: "rsqrt",
  round: "round",
  sign: "sign",
  exp: "math",
  expm1: "math",
  log: "math",
  log1p: "math",
  tanh: "math",
  logistic: "math",
  sin: "trig",
  cos: "trig",
  tan: "trig",
  not: "not",
};

/**
 * How each binary op on float lanes is vectorized: `lane` is one SIMD instruction,
 * `extremum` a NaN-propagating max/min; null means not vectorized (`and`/`or` exist
 * only on bool masks, handled apart).
 */
export const WASM_BINARY: { readonly [Op in BinaryOp]: (Op extends FloatOp ? "lane" : never) | "extremum" | null } = {
  add: "lane",
  sub: "lane",
  mul: "lane",
  div: "lane",
  max: "extremum",
  min: "extremum",
  pow: null,
  and: null,
  or: null,
};

/** Elements of the index space per chunk of work. */
export const CHUNK_ELEMENTS = 65536;
/**
 * Kernels with fewer elements than this run as JavaScript: below it, copying the
 * operands into the Wasm heap and out again costs more than the vector loop saves
 * (measured: `2x+1` over float32 breaks even near 3000 elements).
 */
export const WASM_KERNEL_MIN_SIZE = 4096;
/**
 * The same for kernels calling vectorized transcendental functions, counted in calls
 * (elements × such nodes; `tanh` over 1024 float32: 5 µs vs 50 µs in JS).
 */
export const WASM_KERNEL_MIN_SIZE_TRANSCENDENTAL = 1024;

/** A kernel compiled to WebAssembly. */
export interface WasmKernel {
  /** Runs the kernel: `run(in0, ..., out0, ...)` on typed arrays, like the JS kernel functions. */
  readonly run: KernelFn;
  /** How many chunks a call is split into. */
  readonly chunks: number;
  /** The module's bytes size (diagnostics). */
  readonly codeSize: number;
}

class Unsupported extends Error {}
const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

/** Byte layout of the heap for one kernel. */
interface Layout {
  inputs: number[];
  outputs: number[];
  scratch: number;
  /** Per-chunk i32 flags "an argument of sin/cos/tan was out of range" (-1: no such ops). */
  flags: number;
  total: number;
}

/** Everything the JS side of a compiled kernel needs. */
interface Plan {
  mod: WasmModule;
  t: Lanes;
  chunks: number;
  layout: Layout;
  inputSizes: number[];
  outputSizes: number[];
  /** For outputs reduced in float64 scratch: the reduction's initial value (set before the call), else undefined. */
  scratchInit: (number | undefined)[];
  /** Reduce op of each output whose per-chunk partials are combined in JS (full reductions), else undefined. */
  partial: (ReduceOp | undefined)[];
  codeSize: number;
}

const ctorOf = (t: Lanes): typeof Float32Array | typeof Float64Array => (t === "f32" ? Float32Array : Float64Array);

function floatType(kernel: Kernel, live: boolean[]): Lanes {
  let t: DType | undefined;
  kernel.nodes.forEach((n, i) => {
    if (!live[i] || n.dtype === "bool") return;
    if (n.dtype === "int32") unsupported("int32 nodes");
    if (t && t !== n.dtype) unsupported("mixed float widths");
    t = n.dtype;
  });
  if (!t) unsupported("no float values");
  return t === "float32" ? "f32" : "f64";
}

/** Which nodes an output depends on (the others are not compiled). */
function liveNodes(kernel: Kernel): boolean[] {
  const live = new Array<boolean>(kernel.nodes.length).fill(false);
  for (const o of kernel.outputs) live[o.node] = true;
  for (let i = kernel.nodes.length - 1; i >= 0; i--) if (live[i]) for (const p of operandsOf(kernel.nodes[i]!)) live[p] = true;
  return live;
}

/** The loop nest of a kernel: its collapsed loops, every access map over them, and where reductions accumulate. */
interface LoopNest {
  loops: Loop[];
  /** Access maps (strides per loop): one per live load, then one per output. */
  maps: number[][];
  /** Element offset of each map in its buffer. */
  offsets: number[];
  /** The buffer of each map: -1 - input index, or output index. */
  region: number[];
  /** Map of each live load node. */
  loadMap: Map<number, number>;
  /** Map of each output. */
  outMap: number[];
  depth: number;
  inner: number;
  /** Reductions accumulate in registers (reduced loops innermost); otherwise in float64 scratch buffers. */
  registerMode: boolean;
  /** The loop level whose body holds the register accumulators. */
  accLevel: number;
  /** The loop split into chunks. */
  cl: number;
  /** The loop level at which each node's value is known, and each map's. */
  level: number[];
  mapLevel: number[];
}

/** Step 1: collapses the index space into loops and decides where reductions accumulate (throws {@link Unsupported}). */
function loopNest(kernel: Kernel, live: readonly boolean[], lanes: number): LoopNest {
  const reducedAxis = kernel.shape.map((_, d) => kernel.reduceAxes.includes(d));
  const anyReduce = kernel.outputs.some((o) => o.reduce);
  const rawMaps: number[][] = [];
  const offsets: number[] = [];
  const region: number[] = []; // -1 - input, or output index
  const loadMap = new Map<number, number>();
  kernel.nodes.forEach((n, i) => {
    if (!live[i] || n.kind !== "load") return;
    loadMap.set(i, rawMaps.length);
    rawMaps.push([...n.map.strides]);
    offsets.push(n.map.offset);
    region.push(-1 - n.input);
  });
  const full = contiguousStrides(kernel.shape);
  const keptStrides = contiguousStrides(kernel.shape.map((d, a) => (reducedAxis[a] ? 1 : d))).map((s, a) => (reducedAxis[a] ? 0 : s));
  const outMap = kernel.outputs.map((o, j) => {
    rawMaps.push(o.reduce ? keptStrides : full);
    offsets.push(0);
    region.push(j);
    return rawMaps.length - 1;
  });
  const reducedFlags = anyReduce ? reducedAxis : kernel.shape.map(() => false);
  const { loops, maps } = collapseLoops(kernel.shape, reducedFlags, rawMaps);
  const depth = loops.length;
  if (depth === 0) unsupported("a single element");
  const firstReduced = loops.findIndex((l) => l.reduced);
  const inner = depth - 1;
  // register mode: the reduced loops are innermost, accumulators live in registers;
  // otherwise the reductions accumulate in float64 scratch buffers (one element per output
  // element), and the innermost loop must be a kept one
  const registerMode = firstReduced < 0 || loops.slice(firstReduced).every((l) => l.reduced);
  if (!registerMode && loops[inner]!.reduced) unsupported("a reduction over an innermost axis with kept axes between reduced ones");
  const accLevel = registerMode ? (firstReduced < 0 ? depth : firstReduced) : depth;
  // the loop split into chunks: the outermost kept loop when reductions go to scratch
  // (so that every output element belongs to one chunk), else the outermost loop
  const cl = registerMode ? 0 : loops.findIndex((l) => !l.reduced);
  if (loops[inner]!.size < lanes) unsupported("an innermost loop shorter than a vector");
  maps.forEach((m, k) => {
    if (region[k]! < 0 && kernel.inputs[-1 - region[k]!]!.dtype === "bool" && m[inner] !== 0 && m[inner] !== 1) unsupported("a strided bool load");
    if (region[k]! >= 0 && m[inner] !== 1 && !(registerMode && kernel.outputs[region[k]!]!.reduce && accLevel < depth))
      unsupported("internal: output not contiguous");
  });
  const { level, mapLevel } = nodeLevels(kernel, maps, (i) => (live[i] ? loadMap.get(i) : undefined));
  return { loops, maps, offsets, region, loadMap, outMap, depth, inner, registerMode, accLevel, cl, level, mapLevel };
}

/** How the work is split and where every buffer lives in the heap. */
interface HeapPlan {
  chunks: number;
  /** Iterations of the chunked loop per chunk. */
  step: number;
  layout: Layout;
  inputSizes: number[];
  outputSizes: number[];
  /** Full reductions: each chunk writes a partial value, combined in JS. */
  partialOut: boolean;
  /** The kernel calls sin/cos/tan (whose out-of-range flags need room). */
  hasTrig: boolean;
}

/** Step 2: splits the chunked loop into chunks and lays out inputs, outputs, partials and flags in the heap. */
function heapPlan(kernel: Kernel, live: readonly boolean[], nest: LoopNest, size: number, esz: number, lanes: number): HeapPlan {
  const { loops, cl, inner, registerMode, accLevel, depth } = nest;
  const eszOf = (d: DType): number => (d === "bool" ? 1 : esz);
  const scratchOut = (j: number): boolean => !registerMode && !!kernel.outputs[j]!.reduce;
  const size0 = loops[cl]!.size;
  let chunks = Math.max(1, Math.min(Math.ceil(size / CHUNK_ELEMENTS), size0, MAX_CHUNKS));
  let step = Math.ceil(size0 / chunks);
  if (cl === inner) step = Math.ceil(step / lanes) * lanes;
  chunks = Math.ceil(size0 / step);
  const partialOut = registerMode && accLevel === 0;
  const align = (n: number): number => Math.ceil(n / 16) * 16;
  let at = 0;
  const inputSizes = kernel.inputs.map((inp) => inp.shape.reduce((a, b) => a * b, 1));
  const inputOff = inputSizes.map((n, i) => {
    const o = at;
    at += align(n * eszOf(kernel.inputs[i]!.dtype) + 16);
    return o;
  });
  const outputSizes = kernel.outputs.map((_, j) => outputShape(kernel, j).reduce((a, b) => a * b, 1));
  const outputOff = kernel.outputs.map((o, j) => {
    const off = at;
    if (!(o.reduce && partialOut)) at += align(outputSizes[j]! * (scratchOut(j) ? 8 : eszOf(kernel.nodes[o.node]!.dtype)) + 32);
    return off;
  });
  const scratch = at;
  const stored = (j: number): boolean => !kernel.outputs[j]!.reduce || (registerMode && accLevel === depth);
  const reduceCount = kernel.outputs.filter((_, j) => !stored(j)).length;
  if (partialOut) at += align(reduceCount * chunks * 8);
  // sin/cos/tan: one i32 per chunk, set when an argument was beyond TRIG_LIMIT
  const hasTrig = kernel.nodes.some((n, i) => live[i] && n.kind === "unary" && n.op in VEC_TRIG);
  const flags = hasTrig ? at : -1;
  if (hasTrig) at += align(chunks * 4);
  return { chunks, step, layout: { inputs: inputOff, outputs: outputOff, scratch, flags, total: at }, inputSizes, outputSizes, partialOut, hasTrig };
}

/** Compiles the kernel's module and plan (throws {@link Unsupported}): liveness, loop nest, heap layout, code. */
function plan(kernel: Kernel): Plan {
  const size = kernel.shape.reduce((a, b) => a * b, 1);
  if (size === 0) unsupported("empty index space");
  const live = liveNodes(kernel);
  const t = floatType(kernel, live);
  const esz = t === "f32" ? 4 : 8;
  const lanes = 16 / esz;
  const nest = loopNest(kernel, live, lanes);
  const heap = heapPlan(kernel, live, nest, size, esz, lanes);
  const { f, helpers } = emitKernelCode(kernel, live, t, nest, heap);
  let mod: WasmModule;
  try {
    mod = loadModule([{ name: "k", fn: f }, ...helpers]);
  } catch (e) {
    // e.g. a browser's main thread refusing to compile a large module synchronously
    return unsupported(`the engine did not load the module (${String(e)})`);
  }
  const scratchOut = (j: number): boolean => !nest.registerMode && !!kernel.outputs[j]!.reduce;
  return {
    mod,
    t,
    chunks: heap.chunks,
    layout: heap.layout,
    scratchInit: kernel.outputs.map((o, j) => (scratchOut(j) ? reduceInit(o.reduce!) : undefined)),
    inputSizes: heap.inputSizes,
    outputSizes: heap.outputSizes,
    partial: kernel.outputs.map((o) => (o.reduce && heap.partialOut ? o.reduce : undefined)),
    codeSize: f.code.length,
  };
}

/** Step 3: the chunk function `(chunk, base)` computing the kernel over one chunk of the loop nest. */
/**
 * A kernel with more than this many transcendental nodes calls one function per such
 * operation (v128 → v128, in the same module) instead of inlining each: a sin is a few
 * KB of code, and a 500-step chain inlined is a module of a megabyte that takes the
 * engine seconds to compile, for a call that costs a few instructions.
 */
export const OUTLINE_TRANSCENDENTALS = 8;

/** The kernel's function (index 0 of its module) and the functions it calls (indices 1, 2, ...). */
interface KernelCode {
  f: FuncBuilder;
  helpers: { name: string; fn: FuncBuilder; results: (typeof V128)[] }[];
}

function emitKernelCode(kernel: Kernel, live: readonly boolean[], t: Lanes, nest: LoopNest, heap: HeapPlan): KernelCode {
  const dtype: DType = t === "f32" ? "float32" : "float64";
  const esz = t === "f32" ? 4 : 8;
  const lanes = 16 / esz;
  const eszOf = (d: DType): number => (d === "bool" ? 1 : esz);
  const { loops, maps, offsets, region, loadMap, outMap, depth, inner, registerMode, accLevel, cl, level, mapLevel } = nest;
  const { chunks, step, layout, partialOut, hasTrig } = heap;
  const { inputs: inputOff, outputs: outputOff, scratch, flags } = layout;
  const size0 = loops[cl]!.size;
  // reductions over size-1 axes only (register mode with accLevel = depth) are stores of the value itself
  const stored = (j: number): boolean => !kernel.outputs[j]!.reduce || (registerMode && accLevel === depth);
  /** Outputs reduced into float64 scratch buffers (not register mode). */
  const scratchOut = (j: number): boolean => !registerMode && !!kernel.outputs[j]!.reduce;
  const reduceOuts = kernel.outputs.map((o, j) => ({ o, j })).filter((x) => !stored(x.j));

  const f = new FuncBuilder([I32, I32]); // (chunk, base)
  const CHUNK = 0;
  const BASE = 1;
  const a = new VecAsm(f, t);
  const isTranscendental = (n: KernelNode): n is Extract<KernelNode, { kind: "unary" }> => n.kind === "unary" && (n.op in VEC_MATH || n.op in VEC_TRIG);
  const outline = kernel.nodes.filter((n, i) => live[i] && isTranscendental(n)).length > OUTLINE_TRANSCENDENTALS;
  const helpers: KernelCode["helpers"] = [];
  const helperIndex = new Map<string, number>();
  /** Pushes `op(x)`: inline, or a call of the module's function for `op`. */
  const transcendental = (op: string, x: number, emit: (w: VecAsm, x: number) => void): void => {
    if (!outline) return emit(a, x);
    let k = helperIndex.get(op);
    if (k === undefined) {
      const h = new FuncBuilder([V128]);
      emit(new VecAsm(h, t), 0);
      helpers.push({ name: op, fn: h, results: [V128] });
      helperIndex.set(op, (k = helpers.length)); // the kernel is function 0
    }
    a.get(x);
    f.op(0x10, k); // call k (k < 128: one LEB128 byte)
  };
  /** Bytes per element of map k's buffer (float64 scratch for reductions outside register mode, 1 for bool). */
  const mapEsz = (k: number): number => {
    const r = region[k]!;
    if (r < 0) return eszOf(kernel.inputs[-1 - r]!.dtype);
    return scratchOut(r) ? 8 : eszOf(kernel.nodes[kernel.outputs[r]!.node]!.dtype);
  };
  const bytesOf = (k: number): number => {
    const r = region[k]!;
    return (r < 0 ? inputOff[-1 - r]! : outputOff[r]!) + offsets[k]! * mapEsz(k);
  };
  /** Pushes map k's address in the innermost loop (stride 1 there): its pointer plus the scaled byte offset `ib`. */
  const innerAddr = (k: number): void => {
    f.get(ptrOf(k, inner)).get(ib);
    const e = mapEsz(k);
    if (e > esz) f.i32(Math.log2(e / esz)).op(OP.i32Shl);
    if (e < esz) f.i32(Math.log2(esz / e)).op(OP.i32ShrU);
    f.op(OP.i32Add);
  };
  // pointer locals: ptr[k][l] = byte address of map k at loop level l (set where the map moves)
  const ptrAt: number[][] = maps.map(() => new Array<number>(depth).fill(-1));
  const ptr0 = maps.map((_, k) => {
    const p = f.local(I32);
    f.get(BASE).i32(bytesOf(k)).op(OP.i32Add).set(p);
    return p;
  });
  /** The local holding map k's byte address at level l (its latest move at or before l). */
  const ptrOf = (k: number, l: number): number => {
    for (let d = Math.min(l, depth - 1); d >= 1; d--) if (ptrAt[k]![d]! >= 0) return ptrAt[k]![d]!;
    return ptr0[k]!;
  };
  const idx = loops.map(() => f.local(I32));
  const lo = f.local(I32);
  const hi = f.local(I32);
  f.get(CHUNK).i32(step).op(OP.i32Mul).set(lo);
  // hi = min(lo + step, size0)
  f.get(lo).i32(step).op(OP.i32Add).i32(size0).get(lo).i32(step).op(OP.i32Add).i32(size0).op(OP.i32LtU).op(OP.select).set(hi);
  const ib = f.local(I32); // byte offset in the innermost loop
  const end = f.local(I32); // byte end of the innermost loop
  const rem = f.local(I32); // lanes left in the tail
  const outOfRange = f.local(I32); // sin/cos/tan saw |x| > TRIG_LIMIT
  let tailMask = -1; // the valid lanes, while emitting the tail

  const local = new Array<number>(kernel.nodes.length).fill(-1);
  const isBool = (i: number): boolean => kernel.nodes[i]!.dtype === "bool";
  const ref = (i: number): void => {
    const n = kernel.nodes[i]!;
    if (n.kind === "const") {
      if (n.dtype === "bool") a.mask(n.value !== 0);
      else a.c(n.value);
    } else a.get(local[i]!);
  };
  const asLocal = (i: number): number => {
    if (local[i]! >= 0) return local[i]!;
    ref(i);
    return a.save();
  };
  /** The truth mask of node i (bool masks as they are; floats: != 0 and not NaN). */
  const truth = (i: number): void => {
    if (isBool(i)) return ref(i);
    ref(i);
    a.c(0).op("ne");
    ref(i);
    ref(i);
    a.op("eq").bit("and");
  };
  /** Widened (f64x2) halves of an f32x4 local: pushes the low or high half. */
  const widen = (v: number, half: 0 | 1): void => {
    a.get(v);
    if (half === 1) {
      a.get(v);
      f.simd(S.i8x16Shuffle).op(8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    f.simd(S.f64x2PromoteLowF32x4);
  };
  /** Computes g on f64x2 lanes of an f32x4 value (both halves), rounding once at the end. */
  const inDouble = (v: number, g: (half: number) => void): void => {
    const wide = new VecAsm(f, "f64");
    const halves = [0, 1].map((h) => {
      widen(v, h as 0 | 1);
      const w = wide.save();
      g.call(wide, w);
      f.simd(S.f32x4DemoteF64x2Zero);
      return a.save();
    });
    // low lanes of each demoted half: concatenate
    a.get(halves[0]!).get(halves[1]!);
    f.simd(S.i8x16Shuffle).op(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
  };
  const ipow = (w: VecAsm, x: number, y: number): void => {
    const n = Math.abs(y);
    // binary powering
    let result = -1;
    let sq = x;
    for (let e = n; e > 0; e >>= 1) {
      if (e & 1) {
        if (result < 0) result = sq;
        else result = w.get(result).get(sq).op("mul").save();
      }
      if (e > 1) sq = w.get(sq).get(sq).op("mul").save();
    }
    if (y < 0) w.c(1).get(result).op("div");
    else w.get(result);
  };
  /** Pushes node i's value. */
  const emitNode = (i: number, n: KernelNode): void => {
    switch (n.kind) {
      case "load":
      case "const":
        return unsupported("internal");
      case "unary": {
        const how = WASM_UNARY[n.op];
        if (how === "not") {
          if (n.dtype !== "bool") return unsupported("not of a float");
          truth(n.x);
          a.bit("not");
          return;
        }
        if (n.dtype === "bool" || isBool(n.x)) return unsupported(`${n.op} of a bool`);
        switch (how) {
          case "lane":
            ref(n.x);
            a.op(n.op as UnaryOp & FloatOp);
            return;
          case "rsqrt": {
            const x = asLocal(n.x);
            if (t === "f64") a.c(1).get(x).op("sqrt").op("div");
            else inDouble(x, (w) => new VecAsm(f, "f64").c(1).get(w).op("sqrt").op("div"));
            return;
          }
          case "round": {
            // half away from zero: trunc(|x|) + (frac >= 0.5), sign of x copied back
            const x = asLocal(n.x);
            const ax = a.get(x).op("abs").save();
            const tr = a.get(ax).op("trunc").save();
            const up = a.get(ax).get(tr).op("sub").c(0.5).op("ge").save();
            a.get(tr).c(1).c(0).get(up).bit("bitselect").op("add");
            const r = a.save();
            a.get(x)
              .get(r)
              .ci(t === "f32" ? -0x80000000 : -0x8000000000000000n)
              .bit("bitselect");
            return;
          }
          case "sign": {
            const x = asLocal(n.x);
            const neg = a.c(-1).get(x).get(x).c(0).op("lt").bit("bitselect").save();
            a.c(1).get(neg).get(x).c(0).op("gt").bit("bitselect");
            return;
          }
          case "math":
            transcendental(n.op, asLocal(n.x), VEC_MATH[n.op as keyof typeof VEC_MATH]);
            return;
          case "trig": {
            const x = asLocal(n.x);
            // note arguments beyond TRIG_LIMIT (the runner then recomputes in JS)
            f.get(outOfRange);
            emitTrigRangeMask(a, x);
            if (tailMask >= 0) a.get(tailMask).bit("and");
            f.simd(S.v128AnyTrue).op(OP.i32Or).set(outOfRange);
            transcendental(n.op, x, VEC_TRIG[n.op as keyof typeof VEC_TRIG]);
            return;
          }
          default:
            return unsupported(`unary ${n.op}`);
        }
      }
      case "ipow": {
        if (n.dtype === "bool") return unsupported("ipow of a bool");
        if (n.y === 0) return void a.c(1);
        if (n.y === 1) return ref(n.x);
        if (n.y === 2) {
          ref(n.x);
          ref(n.x);
          a.op("mul");
          return;
        }
        if (Math.abs(n.y) > 8) return unsupported("ipow with |y| > 8");
        const x = asLocal(n.x);
        if (t === "f64") ipow(a, x, n.y);
        else inDouble(x, (w) => ipow(new VecAsm(f, "f64"), w, n.y));
        return;
      }
      case "binary": {
        if (n.dtype === "bool") {
          if (!isBool(n.x) || !isBool(n.y)) return unsupported("bool op of floats");
          const op = n.op === "and" || n.op === "min" ? "and" : n.op === "or" || n.op === "max" ? "or" : unsupported(`bool ${n.op}`);
          ref(n.x);
          ref(n.y);
          a.bit(op);
          return;
        }
        if (isBool(n.x) || isBool(n.y)) return unsupported("mixed operands");
        switch (WASM_BINARY[n.op]) {
          case "lane":
            ref(n.x);
            ref(n.y);
            a.op(n.op as BinaryOp & FloatOp);
            return;
          case "extremum": {
            // x > y || x !== x ? x : y (and < for min)
            const x = asLocal(n.x);
            const y = asLocal(n.y);
            a.get(x)
              .get(y)
              .get(x)
              .get(y)
              .op(n.op === "max" ? "gt" : "lt")
              .get(x)
              .get(x)
              .op("ne")
              .bit("or")
              .bit("bitselect");
            return;
          }
          default:
            return unsupported(`binary ${n.op}`);
        }
      }
      case "compare": {
        if (isBool(n.x) !== isBool(n.y)) return unsupported("compare of bool and float");
        if (isBool(n.x)) {
          if (n.op !== "eq" && n.op !== "ne") return unsupported(`bool ${n.op}`);
          ref(n.x);
          ref(n.y);
          a.iop(n.op);
          return;
        }
        ref(n.x);
        ref(n.y);
        a.op(n.op);
        return;
      }
      case "select": {
        if (isBool(n.x) !== (n.dtype === "bool") || isBool(n.y) !== (n.dtype === "bool")) return unsupported("select of mixed kinds");
        ref(n.x);
        ref(n.y);
        truth(n.cond);
        a.bit("bitselect");
        return;
      }
      case "convert": {
        const from = kernel.nodes[n.x]!.dtype;
        if (from === n.dtype) return ref(n.x);
        if (n.dtype === "bool" && from === dtype) return truth(n.x);
        if (n.dtype === dtype && from === "bool") {
          ref(n.x);
          a.c(1).bit("and");
          return;
        }
        return unsupported(`convert ${from} -> ${n.dtype}`);
      }
    }
  };
  /**
   * A load with stride `s` (not 0 or 1) along the innermost loop: lane by lane. In the
   * tail, lanes past the end are not read (a far stride could leave the memory); they
   * repeat lane 0.
   */
  const gather = (k: number, s: number, tail: boolean): void => {
    const addr = f.local(I32);
    f.get(ptrOf(k, inner)).get(ib).i32(s).op(OP.i32Mul).op(OP.i32Add).set(addr);
    const loadOp = t === "f32" ? OP.f32Load : OP.f64Load;
    const al = t === "f32" ? 2 : 3;
    f.get(addr)
      .mem(loadOp, al, 0)
      .simd(t === "f32" ? S.f32x4Splat : S.f64x2Splat);
    const v = a.save();
    for (let lane = 1; lane < lanes; lane++) {
      const put = (): void => {
        f.get(v)
          .get(addr)
          .i32(lane * s * esz)
          .op(OP.i32Add)
          .mem(loadOp, al, 0)
          .lane(t === "f32" ? S.f32x4ReplaceLane : S.f64x2ReplaceLane, lane)
          .set(v);
      };
      if (tail) f.get(rem).i32(lane).op(OP.i32GtU).ifThen(put);
      else put();
    }
    f.get(v);
  };
  const emitNodes = (l: number, tail = false): void => {
    kernel.nodes.forEach((n, i) => {
      if (!live[i] || level[i] !== l || n.kind === "const") return;
      if (n.kind === "load") {
        const k = loadMap.get(i)!;
        const s = maps[k]![inner]!;
        if (n.dtype === "bool") {
          // bytes 0/1 to lane masks
          if (l === depth) {
            innerAddr(k);
            if (t === "f32") f.simd(S.load32Zero, { align: 0, offset: 0 }).simd(S.i16x8ExtendLowI8x16U).simd(S.i32x4ExtendLowI16x8U);
            else f.simd(S.load16Splat, { align: 0, offset: 0 }).simd(S.i16x8ExtendLowI8x16U).simd(S.i32x4ExtendLowI16x8U).simd(S.i64x2ExtendLowI32x4U);
          } else f.get(ptrOf(k, l)).simd(S.load8Splat, { align: 0, offset: 0 });
          a.mask(false).iop("ne");
        } else if (l === depth && s === 1) {
          innerAddr(k);
          f.simd(S.v128Load, { align: 0, offset: 0 });
        } else if (l === depth) {
          gather(k, s, tail);
        } else {
          f.get(ptrOf(k, l)).simd(t === "f32" ? S.load32Splat : S.load64Splat, { align: 0, offset: 0 });
        }
      } else emitNode(i, n);
      local[i] = a.save();
    });
  };

  // accumulators
  interface Acc {
    j: number;
    op: ReduceOp;
    regs: number[];
  }
  const accs: Acc[] = (registerMode ? reduceOuts : []).map(({ o, j }) => ({
    j,
    op: o.reduce!,
    regs: o.reduce === "sum" && t === "f32" ? [a.tmp(), a.tmp()] : [a.tmp()],
  }));
  const initAccs = (): void => {
    for (const acc of accs) {
      const init = reduceInit(acc.op);
      for (const r of acc.regs) {
        if (acc.op === "sum") new VecAsm(f, "f64").c(0);
        else a.c(init);
        f.set(r);
      }
    }
  };
  /** a ⊕ b for max/min with NaN propagation (stack: pushes the result). */
  const maxmin = (w: VecAsm, op: ReduceOp, v: number, acc: number): void => {
    w.get(v)
      .get(acc)
      .get(v)
      .get(acc)
      .op(op === "max" ? "gt" : "lt")
      .get(v)
      .get(v)
      .op("ne")
      .bit("or")
      .bit("bitselect");
  };
  const accumulate = (acc: Acc, node: number, mask: number): void => {
    let v = asLocal(node);
    if (mask >= 0)
      v = a
        .get(v)
        .c(acc.op === "sum" ? 0 : reduceInit(acc.op))
        .get(mask)
        .bit("bitselect")
        .save();
    if (acc.op === "sum") {
      const wide = new VecAsm(f, "f64");
      if (t === "f32") {
        for (const h of [0, 1] as const) {
          wide.get(acc.regs[h]!);
          widen(v, h);
          wide.op("add").set(acc.regs[h]!);
        }
      } else wide.get(acc.regs[0]!).get(v).op("add").set(acc.regs[0]!);
      return;
    }
    maxmin(a, acc.op, v, acc.regs[0]!);
    a.set(acc.regs[0]!);
  };
  /** Pushes the accumulator's lanes combined to one scalar (f64 for sums, the lane type for max/min). */
  const combineLanes = (acc: Acc): void => {
    if (acc.op === "sum") {
      const wide = new VecAsm(f, "f64");
      wide.get(acc.regs[0]!);
      if (acc.regs.length > 1) wide.get(acc.regs[1]!).op("add");
      const s = wide.save();
      f.get(s).lane(S.f64x2ExtractLane, 0).get(s).lane(S.f64x2ExtractLane, 1).op(OP.f64Add);
      return;
    }
    let v = acc.regs[0]!;
    // fold the upper half onto the lower (and, for f32x4, lane 1 onto lane 0)
    const folds =
      t === "f32"
        ? [
            [8, 9, 10, 11, 12, 13, 14, 15],
            [4, 5, 6, 7],
          ]
        : [[8, 9, 10, 11, 12, 13, 14, 15]];
    for (const bytes of folds) {
      a.get(v).get(v);
      f.simd(S.i8x16Shuffle).op(...bytes, ...new Array<number>(16 - bytes.length).fill(0));
      const hiPart = a.save();
      maxmin(a, acc.op, hiPart, v);
      v = a.save();
    }
    f.get(v).lane(t === "f32" ? S.f32x4ExtractLane : S.f64x2ExtractLane, 0);
  };
  const finishAccs = (): void => {
    for (const acc of accs) {
      if (partialOut) {
        // partial of this chunk: scratch[j_index * chunks + chunk] as f64
        const slot = accs.indexOf(acc);
        f.get(BASE)
          .i32(scratch + slot * chunks * 8)
          .op(OP.i32Add)
          .get(CHUNK)
          .i32(8)
          .op(OP.i32Mul)
          .op(OP.i32Add);
        combineLanes(acc);
        if (acc.op !== "sum" && t === "f32") f.op(OP.f64PromoteF32);
        f.mem(OP.f64Store, 3, 0);
      } else {
        f.get(ptrOf(outMap[acc.j]!, accLevel));
        combineLanes(acc);
        if (acc.op === "sum" && t === "f32") f.op(OP.f32DemoteF64);
        f.mem(t === "f32" ? OP.f32Store : OP.f64Store, t === "f32" ? 2 : 3, 0);
      }
    }
  };

  /**
   * `scratch[out] ⊕= value` for the lanes of the innermost loop, in float64 (float32
   * values widened); in the tail only the first `rem` lanes are stored.
   */
  const accumulateScratch = (j: number, op: ReduceOp, node: number, tail: boolean): void => {
    const v = asLocal(node);
    const wide = new VecAsm(f, "f64");
    const halves = t === "f32" ? 2 : 1;
    const addr = f.local(I32);
    innerAddr(outMap[j]!);
    f.set(addr);
    for (let h = 0; h < halves; h++) {
      // new = old ⊕ value (both f64x2)
      f.get(addr).simd(S.v128Load, { align: 0, offset: h * 16 });
      const old = wide.save();
      if (t === "f32") widen(v, h as 0 | 1);
      else f.get(v);
      const val = wide.save();
      if (op === "sum") wide.get(old).get(val).op("add");
      else maxmin(wide, op, val, old);
      const nv = wide.save();
      if (!tail) {
        f.get(addr)
          .get(nv)
          .simd(S.v128Store, { align: 0, offset: h * 16 });
        continue;
      }
      for (let lane = 0; lane < 2; lane++) {
        const e = h * 2 + lane; // element of the vector
        if (e >= lanes - 1) break; // a tail has at most lanes - 1 elements
        const store = (): void =>
          void f
            .get(addr)
            .get(nv)
            .memLane(S.store64Lane, 0, e * 8, lane);
        if (e === 0) store();
        else f.get(rem).i32(e).op(OP.i32GtU).ifThen(store);
      }
    }
  };
  /** The innermost body: nodes, stores, accumulation (`tail`: only `rem` lanes are valid). */
  const body = (tail: boolean): void => {
    let mask = -1;
    if (tail && (accs.length || hasTrig)) {
      if (t === "f32") {
        f.get(rem).simd(S.i32x4Splat);
        a.f.v128(new Uint8Array(new Int32Array([0, 1, 2, 3]).buffer));
        f.simd(S.i32x4GtS);
      } else a.f.v128(new Uint8Array(new BigInt64Array([-1n, 0n]).buffer));
      mask = a.save();
    }
    tailMask = mask;
    emitNodes(depth, tail);
    tailMask = -1;
    kernel.outputs.forEach((o, j) => {
      if (!stored(j)) return;
      const addr = (): void => innerAddr(outMap[j]!);
      if (isBool(o.node)) {
        // lane masks to bytes 0/1, gathered into the low bytes
        ref(o.node);
        a.ci(1).bit("and");
        const v = a.save();
        f.get(v)
          .get(v)
          .simd(S.i8x16Shuffle)
          .op(...(t === "f32" ? [0, 4, 8, 12] : [0, 8]), ...new Array<number>(16 - lanes).fill(0));
        const bytes = a.save();
        if (!tail) {
          addr();
          f.get(bytes).memLane(t === "f32" ? S.store32Lane : S.store16Lane, 0, 0, 0);
          return;
        }
        for (let lane = 0; lane < lanes - 1; lane++) {
          const store = (): void => {
            addr();
            f.get(bytes).memLane(S.store8Lane, 0, lane, lane);
          };
          if (lane === 0) store();
          else f.get(rem).i32(lane).op(OP.i32GtU).ifThen(store);
        }
        return;
      }
      // a sum of one value is 0 + value (-0 becomes 0)
      const value = (): number => (o.reduce === "sum" ? a.get(asLocal(o.node)).c(0).op("add").save() : asLocal(o.node));
      if (!tail) {
        addr();
        f.get(value());
        f.simd(S.v128Store, { align: 0, offset: 0 });
        return;
      }
      const v = value();
      for (let lane = 0; lane < lanes - 1; lane++) {
        const store = (): void => {
          addr();
          f.get(v).memLane(t === "f32" ? S.store32Lane : S.store64Lane, 0, lane * esz, lane);
        };
        if (lane === 0) store();
        else f.get(rem).i32(lane).op(OP.i32GtU).ifThen(store);
      }
    });
    for (const acc of accs) accumulate(acc, kernel.outputs[acc.j]!.node, mask);
    kernel.outputs.forEach((o, j) => {
      if (scratchOut(j)) accumulateScratch(j, o.reduce!, o.node, tail);
    });
  };

  const open = (l: number): void => {
    // pointers that move with loop l-1
    if (l > 0) {
      maps.forEach((m, k) => {
        const s = m[l - 1]!;
        if (s === 0 || mapLevel[k]! < l || l - 1 === inner) return;
        const p = f.local(I32);
        f.get(ptrOf(k, l - 1))
          .get(idx[l - 1]!)
          .i32(s * mapEsz(k))
          .op(OP.i32Mul)
          .op(OP.i32Add)
          .set(p);
        ptrAt[k]![l] = p;
      });
    }
    if (l < depth) emitNodes(l);
    if (l === accLevel && accs.length) initAccs();
    if (l < inner) {
      const i = idx[l]!;
      if (l === cl) f.get(lo).set(i);
      else f.i32(0).set(i);
      f.whileLoop(
        () => {
          f.get(i);
          if (l === cl) f.get(hi);
          else f.i32(loops[l]!.size);
          f.op(OP.i32GeU);
        },
        () => {
          open(l + 1);
          f.get(i).i32(1).op(OP.i32Add).set(i);
        },
      );
    } else if (l === inner) {
      // vector loop over [start, stop) of the innermost loop, then the partial tail
      if (l === cl) {
        f.get(lo).i32(esz).op(OP.i32Mul).set(ib);
        f.get(hi).i32(esz).op(OP.i32Mul).set(end);
      } else {
        f.i32(0).set(ib);
        f.i32(loops[l]!.size * esz).set(end);
      }
      f.whileLoop(
        () => f.get(ib).i32(16).op(OP.i32Add).get(end).op(OP.i32GtU),
        () => {
          body(false);
          f.get(ib).i32(16).op(OP.i32Add).set(ib);
        },
      );
      f.get(ib).get(end).op(OP.i32LtU);
      f.ifThen(() => {
        f.get(end).get(ib).op(OP.i32Sub).i32(Math.log2(esz)).op(OP.i32ShrU).set(rem);
        body(true);
      });
    }
    if (l === accLevel && accs.length) finishAccs();
  };
  open(0);
  if (hasTrig) f.get(BASE).i32(flags).op(OP.i32Add).get(CHUNK).i32(4).op(OP.i32Mul).op(OP.i32Add).get(outOfRange).mem(OP.i32Store, 2, 0);
  return { f, helpers };
}

/** Combines per-chunk partial results in chunk order (max/min propagate NaN as the JS reductions do). */
function combine(op: ReduceOp, parts: Float64Array): number {
  let acc = reduceInit(op);
  for (let c = 0; c < parts.length; c++) {
    const v = parts[c]!;
    if (op === "sum") acc += v;
    else if (op === "max") acc = v > acc || (v !== v && acc === acc) ? v : acc;
    else acc = v < acc || (v !== v && acc === acc) ? v : acc;
  }
  return acc;
}

function runner(kernel: Kernel, p: Plan): KernelFn {
  const F = ctorOf(p.t);
  const C = (d: DType): typeof Float32Array | typeof Float64Array | typeof Uint8Array => (d === "bool" ? Uint8Array : F);
  const inC = kernel.inputs.map((inp) => C(inp.dtype));
  const outC = kernel.outputs.map((o, j) => (p.scratchInit[j] !== undefined ? Float64Array : C(kernel.nodes[o.node]!.dtype)));
  const nIn = kernel.inputs.length;
  const fallback = (...bufs: TypedArray[]): void => compileKernel(kernel)(...bufs);
  return (...bufs: TypedArray[]): void => {
    const base = reserveHeap(p.layout.total);
    if (base < 0) return fallback(...bufs);
    let mem = wasmMemory().buffer;
    for (let i = 0; i < nIn; i++) new inC[i]!(mem, base + p.layout.inputs[i]!, p.inputSizes[i]!).set(bufs[i] as Float32Array);
    for (let j = 0; j < p.outputSizes.length; j++) {
      const init = p.scratchInit[j];
      if (init !== undefined) new Float64Array(mem, base + p.layout.outputs[j]!, p.outputSizes[j]!).fill(init);
    }
    parallelFor(p.mod, "k", p.chunks, [base]);
    mem = wasmMemory().buffer;
    // sin/cos/tan of an argument beyond TRIG_LIMIT: the whole kernel again, in JS
    if (p.layout.flags >= 0 && new Int32Array(mem, base + p.layout.flags, p.chunks).some((v) => v !== 0)) return fallback(...bufs);
    let slot = 0;
    for (let j = 0; j < p.outputSizes.length; j++) {
      const out = bufs[nIn + j]!;
      const op = p.partial[j];
      if (op) {
        const parts = new Float64Array(mem, base + p.layout.scratch + slot * p.chunks * 8, p.chunks);
        out[0] = combine(op, parts);
        slot++;
      } else out.set(new outC[j]!(mem, base + p.layout.outputs[j]!, p.outputSizes[j]!));
    }
  };
}

const byKernel = new WeakMap<Kernel, WasmKernel | null>();
const byKey = new LruCache<string, WasmKernel | null>();

/** A structural key of a kernel (equal kernels compile to the same module). */
function kernelKey(k: Kernel): string {
  return JSON.stringify(k, (_key, v: unknown) =>
    typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0)) ? `#${Object.is(v, -0) ? "-0" : String(v)}` : v,
  );
}

/**
 * The kernel compiled to WebAssembly SIMD, or null when WebAssembly is not available
 * here or the kernel uses something this compiler does not handle (see the module
 * comment); the caller then runs the JavaScript function of the kernel.
 */
export function compileWasmKernel(kernel: Kernel): WasmKernel | null {
  const hit = byKernel.get(kernel);
  if (hit !== undefined) return hit;
  let result: WasmKernel | null = null;
  if (wasmAvailable()) {
    const key = kernelKey(kernel);
    const cached = byKey.get(key);
    if (cached !== undefined) result = cached;
    else {
      try {
        const p = plan(kernel);
        result = { run: runner(kernel, p), chunks: p.chunks, codeSize: p.codeSize };
      } catch (e) {
        if (!(e instanceof Unsupported)) throw e;
        result = null;
      }
      byKey.set(key, result);
    }
  }
  byKernel.set(kernel, result);
  return result;
}

/**
 * The function to run a kernel with: its WebAssembly version when there is one and the
 * kernel has at least {@link WASM_KERNEL_MIN_SIZE} elements, or calls exp, log, tanh, sin, ...
 * at least {@link WASM_KERNEL_MIN_SIZE_TRANSCENDENTAL} times in all (elements × such calls
 * per element: a long chain of them on a small vector is worth the copies), else the
 * JavaScript one.
 * Either is called as `f(in0, ..., out0, ...)` on typed arrays.
 */
export function kernelFunction(kernel: Kernel): KernelFn {
  const size = kernel.shape.reduce((a, b) => a * b, 1);
  // the vector loop's gain grows with the transcendental calls per element; the copies do not
  const heavy = kernel.nodes.reduce((k, n) => k + (n.kind === "unary" && (n.op in VEC_MATH || n.op in VEC_TRIG) ? 1 : 0), 0);
  if (size >= WASM_KERNEL_MIN_SIZE || (heavy > 0 && size * heavy >= WASM_KERNEL_MIN_SIZE_TRANSCENDENTAL)) {
    const w = compileWasmKernel(kernel);
    if (w) return w.run;
  }
  return compileKernel(kernel);
}
