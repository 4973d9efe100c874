/**
 * How each primitive runs on the GPU as one kernel ({@link gpuKernelOf}).
 *
 * - Elementwise primitives, views and reductions are lowered to the kernel expression
 *   language by what the primitive carries (`prim.lower`, `prim.view`, `prim.reduceOp`:
 *   the same lowering jit's fusion pass uses) and compiled by {@link kernelSources}; a
 *   `fused` equation's kernel runs as it is.
 * - A view that keeps the elements in place (a reshape) is free: the result shares the
 *   texture (arrays are flat on the GPU).
 * - matmul, take, scatter_add, pad, concatenate and argmax/argmin have dedicated
 *   kernels written here ({@link gpuImpls}).
 * A primitive with none of these runs on the CPU (see dispatch.ts).
 * @module
 */
import { ShapedArray } from "../../core/array.js";
import { type TypedArray, allocate } from "../../core/dtype.js";
import { sizeOf } from "../../core/shape.js";
import type { Params, Primitive } from "../../core/trace.js";
import { KernelBuilder } from "../../kernel/builder.js";
import { type Kernel, type ReduceOp, broadcastMap, contiguousStrides, kernelOutAvals } from "../../kernel/ir.js";
import type { KernelLowering } from "../../kernel/lowering.js";
import { type ViewRule, isContiguous } from "../../kernel/views.js";
import { compileKernel } from "../cpu/codegen.js";
import { GpuBuffer } from "./buffer.js";
import { affine, decompose, glFloat, kernelSources } from "./codegen.js";
import { type GpuRuntime, type GpuTexture } from "./runtime.js";

/** Runs one primitive on GPU buffers: inputs (with their avals) to output buffers. */
export type GpuImpl = (
  rt: GpuRuntime,
  ins: readonly GpuBuffer[],
  inAvals: readonly ShapedArray[],
  params: Params,
  outAvals: readonly ShapedArray[],
  op: string,
) => GpuBuffer[];

let emptyTexture: GpuTexture | null = null;
function tex(rt: GpuRuntime, b: GpuBuffer, op: string): GpuTexture {
  return b.texture(op) ?? (emptyTexture ??= rt.upload([0]));
}
const texSize = (b: GpuBuffer): number => Math.max(b.size, 1);

let warnedWide = false;
/**
 * A kernel reading more arrays than a shader can sample (WebGL has 16 to 32 texture
 * units) runs on the CPU: inputs read back, outputs uploaded. Rare: only very wide
 * fused kernels reach it.
 */
function runWideKernelOnCpu(rt: GpuRuntime, k: Kernel, ins: readonly GpuBuffer[], reads: number): GpuBuffer[] {
  if (!warnedWide) {
    warnedWide = true;
    console.warn(
      `cotangent: a fused kernel reads ${reads} arrays, more than the ${rt.maxInputs} textures a WebGL shader can sample here; it runs on the CPU (correct, but slower).`,
    );
  }
  const host = ins.map((b, i) => b.read(new ShapedArray(k.inputs[i]!.shape, k.inputs[i]!.dtype)));
  const outs: TypedArray[] = kernelOutAvals(k).map((a) => allocate(a.dtype, a.size));
  compileKernel(k)(...host, ...outs);
  return outs.map((data) => new GpuBuffer(data.length ? rt.upload(data) : null, data.length));
}

/** Runs a kernel of the kernel expression language: one gpu.js kernel per output. */
export function runKernel(rt: GpuRuntime, k: Kernel, ins: readonly GpuBuffer[], op: string): GpuBuffer[] {
  const sources = kernelSources(k);
  const widest = Math.max(...sources.map((s) => s.inputs.length));
  if (widest > rt.maxInputs) return runWideKernelOnCpu(rt, k, ins, widest);
  return sources.map((s) => {
    if (s.size === 0) return new GpuBuffer(null, 0);
    const bufs = s.inputs.map((i) => ins[i]!);
    const args = bufs.map((b) => tex(rt, b, op));
    const first = new GpuBuffer(rt.kernel(s.source, s.size, bufs.map(texSize))(...args), s.size);
    if (!s.combine) return first;
    const out = new GpuBuffer(rt.kernel(s.combine.source, s.combine.size, [s.size])(tex(rt, first, op)), s.combine.size);
    first.free();
    return out;
  });
}

/** Runs hand-written gpu.js source over `ins` with `size` outputs. */
function runSource(rt: GpuRuntime, source: string, size: number, ins: readonly GpuBuffer[], op: string): GpuBuffer {
  if (size === 0) return new GpuBuffer(null, 0);
  return new GpuBuffer(rt.kernel(source, size, ins.map(texSize))(...ins.map((b) => tex(rt, b, op))), size);
}

const kernelCache = new Map<string, Kernel>();
function cachedKernel(key: string, make: () => Kernel): Kernel {
  let k = kernelCache.get(key);
  if (!k) {
    k = make();
    kernelCache.set(key, k);
  }
  return k;
}
const avalKey = (a: ShapedArray): string => `${a.dtype}[${a.shape.join(",")}]`;

/** A one-equation kernel over the output's index space, reading each input with NumPy broadcasting. */
function elementwiseImpl(name: string, lower: KernelLowering): GpuImpl {
  return (rt, ins, inAvals, params, [out], op) => {
    const k = cachedKernel(`${name}|${JSON.stringify(params)}|${inAvals.map(avalKey).join(";")}|${avalKey(out!)}`, () => {
      const b = new KernelBuilder(out!.shape);
      const loads = inAvals.map((a) => b.load(b.addInput(a.dtype, a.shape), broadcastMap(a.shape, out!.shape)));
      b.output(lower(b, loads, params, out!.dtype));
      return b.build();
    });
    // an operation that returns its operand unchanged (stop_gradient) shares its texture
    const o = k.nodes[k.outputs[0]!.node]!;
    if (k.nodes.length === ins.length && o.kind === "load" && k.inputs[o.input]!.shape.length === out!.ndim && sizeOf(k.inputs[o.input]!.shape) === out!.size)
      return [ins[o.input]!.share(op)];
    return runKernel(rt, k, ins, op);
  };
}

/** A copy kernel reading the operand through the strided view the primitive's view rule gives (free when the elements stay in place). */
function viewImpl(name: string, view: ViewRule): GpuImpl {
  return (rt, [x], [a], params, [out], op) => {
    const v = view({ offset: 0, strides: contiguousStrides(a!.shape) }, a!.shape, out!.shape, params);
    if (v === null) throw new Error(`internal: ${name} of a contiguous ${a!.toString()} is not a view`);
    if (v.offset === 0 && a!.size === out!.size && isContiguous(out!.shape, v.strides)) return [x!.share(op)];
    const k = cachedKernel(`view|${avalKey(a!)}|${avalKey(out!)}|${v.offset}|${v.strides.join(",")}`, () => {
      const b = new KernelBuilder(out!.shape);
      b.output(b.load(b.addInput(a!.dtype, a!.shape), v));
      return b.build();
    });
    return runKernel(rt, k, [x!], op);
  };
}

/** A reduction over the `axes` param. */
function reduceImpl(name: string, rop: ReduceOp): GpuImpl {
  return (rt, [x], [a], p, _out, op) => {
    const axes = [...(p.axes as number[])].sort((u, v) => u - v);
    const k = cachedKernel(`${name}|${avalKey(a!)}|${axes.join(",")}`, () => {
      const b = new KernelBuilder(a!.shape, axes);
      b.output(b.load(b.addInput(a!.dtype, a!.shape), broadcastMap(a!.shape, a!.shape)), rop);
      return b.build();
    });
    return runKernel(rt, k, [x!], op);
  };
}

/** Primitives with a GPU kernel of their own, by name (the rest lower through what the primitive carries). */
export const gpuImpls = new Map<string, GpuImpl>();
const derived = new WeakMap<Primitive, GpuImpl | null>();

/** How `prim` runs on the GPU, or null when it runs on the CPU. */
export function gpuKernelOf(prim: Primitive): GpuImpl | null {
  let impl = derived.get(prim);
  if (impl === undefined) {
    impl =
      gpuImpls.get(prim.name) ??
      (prim.lower
        ? elementwiseImpl(prim.name, prim.lower)
        : prim.view
          ? viewImpl(prim.name, prim.view)
          : prim.reduceOp
            ? reduceImpl(prim.name, prim.reduceOp)
            : null);
    derived.set(prim, impl);
  }
  return impl;
}

gpuImpls.set("fused", (rt, ins, _a, p, _o, op) => runKernel(rt, p.kernel as Kernel, ins, op));

// ---------------------------------------------------------------- dedicated kernels
const idx = (n: number, prefix: string): string[] => Array.from({ length: n }, (_, d) => `${prefix}${d}`);
const fn = (params: string[], lines: string[]): string => `function (${params.join(", ")}) {\nconst t = this.thread.x * 1.0;\n${lines.join("\n")}\n}`;

/** `op(a) · op(b)`, `op` swapping the last two axes of an operand stored transposed (`matmul_t` from jit's matmul-layout pass). */
const gpuMatmul =
  (transA: boolean, transB: boolean): GpuImpl =>
  (rt, [a, b], [aa, ba], _p, [out], op) => {
    const as = aa!.shape;
    const bs = ba!.shape;
    const os = out!.shape;
    const r = os.length;
    const m = os[r - 2]!;
    const k = as[as.length - (transA ? 2 : 1)]!;
    const n = os[r - 1]!;
    const batch = os.slice(0, -2);
    const names = idx(r, "o");
    const lines: string[] = [];
    decompose(lines, os, names, "t", "q");
    const bn = names.slice(0, -2);
    const aStr = broadcastMap(
      as.slice(0, -2),
      batch,
      0,
      contiguousStrides(as.slice(0, -2)).map((s) => s * m * k),
    ).strides;
    const bStr = broadcastMap(
      bs.slice(0, -2),
      batch,
      0,
      contiguousStrides(bs.slice(0, -2)).map((s) => s * k * n),
    ).strides;
    const i = names[r - 2]!;
    const j = names[r - 1]!;
    lines.push(`const ab = ${affine(0, aStr, bn)} + ${transA ? i : `${i} * ${glFloat(k)}`};`);
    lines.push(`const bb = ${affine(0, bStr, bn)} + ${transB ? `${j} * ${glFloat(k)}` : j};`);
    lines.push(`let s = 0.0;`);
    const aAt = transA ? `ab + pf * ${glFloat(m)}` : `ab + pf`;
    const bAt = transB ? `bb + pf` : `bb + pf * ${glFloat(n)}`;
    lines.push(`for (let p = 0; p < ${k}; p++) {`, `const pf = p * 1.0;`, `s = s + a[${aAt}] * b[${bAt}];`, `}`, `return s;`);
    return [runSource(rt, fn(["a", "b"], lines), out!.size, [a!, b!], op)];
  };
gpuImpls.set("matmul", gpuMatmul(false, false));
gpuImpls.set("matmul_t", (rt, ins, avals, p, outs, op) => gpuMatmul(p.transposeA === true, p.transposeB === true)(rt, ins, avals, p, outs, op));

/** The (pre, n, post) split of a shape around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}
/** An index value `v` resolved like NumPy's negative indices and clamped to [0, n). */
const resolved = (v: string, n: number): string => `Math.min(Math.max(${v} < 0.0 ? ${v} + ${glFloat(n)} : ${v}, 0.0), ${glFloat(n - 1)})`;

gpuImpls.set("take", (rt, [x, ix], [xa, ia], p, [out], op) => {
  const axis = p.axis as number;
  const [, n, post] = around(xa!.shape, axis);
  const m = ia!.size;
  const lines: string[] = [];
  decompose(lines, [out!.size / (m * post) || 1, m, post], ["a0", "j", "c"], "t", "q");
  lines.push(`const v = Math.floor(ix[j] + 0.5);`);
  lines.push(`return x[(a0 * ${glFloat(n)} + ${resolved("v", n)}) * ${glFloat(post)} + c];`);
  return [runSource(rt, fn(["x", "ix"], lines), out!.size, [x!, ix!], op)];
});

gpuImpls.set("scatter_add", (rt, [u, ix], [, ia], p, [out], op) => {
  const axis = p.axis as number;
  const [, n, post] = around(out!.shape, axis);
  const m = ia!.size;
  const lines: string[] = [];
  decompose(lines, [out!.size / (n * post) || 1, n, post], ["a0", "s", "c"], "t", "q");
  lines.push(`let acc = 0.0;`);
  lines.push(`for (let j = 0; j < ${m}; j++) {`, `const jf = j * 1.0;`, `const v = Math.floor(ix[jf] + 0.5);`);
  lines.push(`if (${resolved("v", n)} === s) {`, `acc = acc + u[(a0 * ${glFloat(m)} + jf) * ${glFloat(post)} + c];`, `}`, `}`, `return acc;`);
  return [runSource(rt, fn(["u", "ix"], lines), out!.size, [u!, ix!], op)];
});

gpuImpls.set("pad", (rt, [x], [xa], p, [out], op) => {
  const lo = p.lo as number[];
  const xs = xa!.shape;
  const r = xs.length;
  const names = idx(r, "o");
  const lines: string[] = [];
  decompose(lines, out!.shape, names, "t", "q");
  const inside = xs.map((d, k) => `${names[k]} >= ${glFloat(lo[k]!)} && ${names[k]} < ${glFloat(lo[k]! + d)}`);
  const src = affine(-lo.reduce((acc, l, k) => acc + l * contiguousStrides(xs)[k]!, 0), contiguousStrides(xs), names);
  if (xa!.size === 0) lines.push(`return 0.0;`);
  else lines.push(`if (${inside.length ? inside.join(" && ") : "true"}) {`, `return x[${src}];`, `}`, `return 0.0;`);
  return [runSource(rt, fn(["x"], lines), out!.size, [x!], op)];
});

gpuImpls.set("concatenate", (rt, ins, avals, p, [out], op) => {
  const axis = p.axis as number;
  const os = out!.shape;
  const names = idx(os.length, "o");
  const lines: string[] = [];
  decompose(lines, os, names, "t", "q");
  lines.push(`let v = 0.0;`);
  let off = 0;
  const used: number[] = [];
  avals.forEach((a, i) => {
    const len = a.shape[axis]!;
    if (a.size === 0) return;
    const s = contiguousStrides(a.shape);
    const src = affine(-off * s[axis]!, s, names);
    lines.push(`${used.length ? "} else " : ""}if (${names[axis]} < ${glFloat(off + len)}) {`, `v = x${i}[${src}];`);
    used.push(i);
    off += len;
  });
  if (used.length) lines.push(`}`);
  lines.push(`return v;`);
  return [
    runSource(
      rt,
      fn(
        used.map((i) => `x${i}`),
        lines,
      ),
      out!.size,
      used.map((i) => ins[i]!),
      op,
    ),
  ];
});

for (const [name, cmp] of [
  ["argmax", ">"],
  ["argmin", "<"],
] as const) {
  gpuImpls.set(name, (rt, [x], [xa], p, [out], op) => {
    const axis = p.axis as number;
    const [, n, post] = around(xa!.shape, axis);
    const lines: string[] = [];
    decompose(lines, [out!.size / post || 1, post], ["a0", "c"], "t", "q");
    lines.push(`const base = a0 * ${glFloat(n * post)} + c;`, `let best = 0.0;`, `let bv = x[base];`);
    lines.push(
      `for (let k = 1; k < ${n}; k++) {`,
      `const kf = k * 1.0;`,
      `const v = x[base + kf * ${glFloat(post)}];`,
      `if (v ${cmp} bv) {`,
      `best = kf;`,
      `bv = v;`,
      `}`,
      `}`,
      `return best;`,
    );
    return [runSource(rt, fn(["x"], lines), out!.size, [x!], op)];
  });
}
