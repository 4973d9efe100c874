/**
 * CPU code generation: compiles a {@link Kernel} to a JavaScript function over typed
 * arrays with `new Function`, cached by source text.
 *
 * One kernel becomes one loop nest with no intermediate arrays: every node is a local
 * `const`, placed in the outermost loop where its operands are available
 * (loop-invariant code motion), adjacent axes that every access walks contiguously
 * are collapsed into one loop, and reductions accumulate in a local variable when the
 * reduced axes are innermost (otherwise directly in the output buffer).
 * @module
 */
import type { DType } from "../../core/dtype.js";
import { LruCache } from "../../core/lru.js";
import type { BinaryOp, CompareOp, Kernel, KernelNode, ReduceOp, UnaryOp } from "../../kernel/ir.js";
import { collapseLoops, contiguousStrides, nodeLevels, operandsOf, reduceInit } from "../../kernel/ir.js";

import type { KernelFn } from "../backend.js";
import { scalarFunctions } from "../../kernel/scalar.js";

export type { KernelFn };

/** A JS literal for a number (negatives parenthesized, -0 kept). */
export function jsNumber(v: number): string {
  if (Object.is(v, -0)) return "(-0)";
  if (v < 0) return `(${String(v)})`;
  return String(v);
}

/** JavaScript of each unary op (a row per op: a missing one is a compile error). */
export const UNARY_JS: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  logistic: (a) => `(${a} >= 0 ? 1 / (1 + Math.exp(-${a})) : Math.exp(${a}) / (1 + Math.exp(${a})))`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `(1 / Math.sqrt(${a}))`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a})`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  round: (a) => `(Math.sign(${a}) * Math.round(Math.abs(${a})))`,
  not: (a) => `(${a} ? 0 : 1)`,
};
/** JavaScript of each binary op on operands of the result's dtype (int32 products wrap exactly, as `Math.imul`). */
export const BINARY_JS: Record<BinaryOp, (a: string, b: string, dtype: DType) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b, dtype) => (dtype === "int32" ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`),
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `(${a} ** ${b})`,
  max: (a, b) => `(${a} > ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  min: (a, b) => `(${a} < ${b} || ${a} !== ${a} ? ${a} : ${b})`,
  and: (a, b) => `(${a} && ${b} ? 1 : 0)`,
  or: (a, b) => `(${a} || ${b} ? 1 : 0)`,
};
/** JavaScript operator of each comparison. */
export const COMPARE_JS: Record<CompareOp, string> = { eq: "===", ne: "!==", lt: "<", le: "<=", gt: ">", ge: ">=" };

/** Whether the raw JS value of a node is already a value of its dtype (no conversion needed). */
function isExact(n: KernelNode): boolean {
  switch (n.kind) {
    case "load":
    case "const":
    case "compare":
    case "select":
    case "convert":
      return true;
    case "binary":
      return n.op === "max" || n.op === "min" || n.op === "and" || n.op === "or" || (n.op === "mul" && n.dtype === "int32");
    case "unary":
      if (n.op === "sign" || n.op === "not") return true;
      if (n.dtype === "float32" || n.dtype === "float64") return n.op === "neg" || n.op === "abs" || n.op === "floor" || n.op === "ceil" || n.op === "round";
      return n.dtype === "bool" && n.op === "abs";
    case "ipow":
      return n.y === 1;
  }
}

/** Converts a raw JS value to what a typed array of `dtype` stores. */
export function castJs(e: string, dtype: DType): string {
  switch (dtype) {
    case "float64":
      return e;
    case "float32":
      return `Math.fround(${e})`;
    case "int32":
      return `(${e} | 0)`;
    case "bool":
      return `((${e} & 255) !== 0 ? 1 : 0)`;
  }
}

function nodeJs(n: KernelNode, ref: (i: number) => string): string {
  switch (n.kind) {
    case "load":
    case "const":
      throw new Error("internal: loads and constants are emitted separately");
    case "unary":
      return UNARY_JS[n.op](ref(n.x));
    case "ipow": {
      const a = ref(n.x);
      if (n.y === 0) return "1";
      if (n.y === 1) return a;
      if (n.y === 2) return `(${a} * ${a})`;
      return `(${a} ** ${jsNumber(n.y)})`;
    }
    case "binary":
      return BINARY_JS[n.op](ref(n.x), ref(n.y), n.dtype);
    case "compare":
      return `(${ref(n.x)} ${COMPARE_JS[n.op]} ${ref(n.y)} ? 1 : 0)`;
    case "select":
      return `(${ref(n.cond)} ? ${ref(n.x)} : ${ref(n.y)})`;
    case "convert": {
      const a = ref(n.x);
      if (n.dtype === "float64") return a;
      if (n.dtype === "float32") return `Math.fround(${a})`;
      if (n.dtype === "int32") return `(${a} | 0)`;
      return `(${a} !== 0 && ${a} === ${a} ? 1 : 0)`;
    }
  }
}

/** One accumulation step in double precision (max/min propagate NaN, as the reference impls). */
function accumulateJs(acc: string, v: string, op: ReduceOp): string {
  if (op === "sum") return `${acc} += ${v};`;
  const cmp = op === "max" ? ">" : "<";
  return `${acc} = ${v} ${cmp} ${acc} || (${v} !== ${v} && ${acc} === ${acc}) ? ${v} : ${acc};`;
}

/**
 * JavaScript statements computing `kernel`, reading the typed arrays named `ins` and
 * writing those named `outs` (all of the right dtype and size). The code is one block,
 * so it can be inlined into a larger generated function.
 */
export function emitKernel(kernel: Kernel, ins: readonly string[], outs: readonly string[]): string {
  const size = kernel.shape.reduce((a, b) => a * b, 1);
  const reducedAxis = kernel.shape.map((_, d) => kernel.reduceAxes.includes(d));
  const anyReduce = kernel.outputs.some((o) => o.reduce);
  const lines: string[] = [];
  if (size === 0) {
    kernel.outputs.forEach((o, j) => {
      if (o.reduce) lines.push(`${outs[j]}.fill(${jsNumber(reduceInit(o.reduce))});`);
    });
    return `{\n${lines.join("\n")}\n}`;
  }

  // live nodes
  const live = new Array<boolean>(kernel.nodes.length).fill(false);
  for (const o of kernel.outputs) live[o.node] = true;
  for (let i = kernel.nodes.length - 1; i >= 0; i--) if (live[i]) for (const p of operandsOf(kernel.nodes[i]!)) live[p] = true;

  // affine maps of loads and outputs over the index space
  const mapKeys = new Map<string, number>();
  const rawMaps: number[][] = [];
  const offsets: number[] = [];
  const mapOf = (offset: number, strides: readonly number[]): number => {
    const key = `${offset}|${strides.join(",")}`;
    let m = mapKeys.get(key);
    if (m === undefined) {
      m = rawMaps.length;
      mapKeys.set(key, m);
      rawMaps.push([...strides]);
      offsets.push(offset);
    }
    return m;
  };
  const loadMap = new Map<number, number>();
  kernel.nodes.forEach((n, i) => {
    if (live[i] && n.kind === "load") loadMap.set(i, mapOf(n.map.offset, n.map.strides));
  });
  const full = contiguousStrides(kernel.shape);
  const keptStrides = contiguousStrides(kernel.shape.map((d, a) => (reducedAxis[a] ? 1 : d))).map((s, a) => (reducedAxis[a] ? 0 : s));
  const outMap = kernel.outputs.map((o) => (o.reduce ? mapOf(0, keptStrides) : mapOf(0, full)));
  // A reduction must see its reduced axes even when no access distinguishes them.
  const reducedFlags = anyReduce ? reducedAxis : kernel.shape.map(() => false);
  const { loops, maps } = collapseLoops(kernel.shape, reducedFlags, rawMaps);
  const depth = loops.length;
  const firstReduced = loops.findIndex((l) => l.reduced);
  const registerMode = firstReduced < 0 || loops.slice(firstReduced).every((l) => l.reduced);
  const accLevel = firstReduced < 0 ? depth : firstReduced;

  // level of each node: the loop depth at which its value is known
  const { level, mapLevel } = nodeLevels(kernel, maps, (i) => loadMap.get(i));

  // offset variables per map and level
  const offsetName = (m: number, l: number): string => {
    // the latest level <= l at which the map's stride is nonzero
    let last = -1;
    for (let d = 0; d < l; d++) if (maps[m]![d] !== 0) last = d;
    return last < 0 ? String(offsets[m]) : `o${m}_${last + 1}`;
  };
  const emitOffsets = (l: number, pad: string): void => {
    // definitions for level l (inside loop l-1)
    maps.forEach((m, k) => {
      const s = m[l - 1]!;
      if (s === 0 || mapLevel[k]! < l) return;
      const prev = offsetName(k, l - 1);
      const term = s === 1 ? `i${l - 1}` : `i${l - 1} * ${s}`;
      lines.push(`${pad}const o${k}_${l} = ${prev === "0" ? term : `${prev} + ${term}`};`);
    });
  };
  const ref = (i: number): string => {
    const n = kernel.nodes[i]!;
    return n.kind === "const" ? jsNumber(n.value) : `v${i}`;
  };
  const emitNodes = (l: number, pad: string): void => {
    kernel.nodes.forEach((n, i) => {
      if (!live[i] || level[i] !== l || n.kind === "const") return;
      if (n.kind === "load") {
        lines.push(`${pad}const v${i} = ${ins[n.input]}[${offsetName(loadMap.get(i)!, l)}];`);
        return;
      }
      const e = nodeJs(n, ref);
      lines.push(`${pad}const v${i} = ${isExact(n) ? e : castJs(e, n.dtype)};`);
    });
  };
  const reduceOuts = kernel.outputs.map((o, j) => ({ o, j })).filter((x) => x.o.reduce);

  if (!registerMode) {
    // accumulate in double-precision scratch buffers, converted to the outputs at the end
    for (const { o, j } of reduceOuts) lines.push(`const s${j} = new Float64Array(${outs[j]}.length).fill(${jsNumber(reduceInit(o.reduce!))});`);
  }
  const open = (l: number): void => {
    const pad = "  ".repeat(l);
    if (l > 0) emitOffsets(l, pad);
    emitNodes(l, pad);
    if (registerMode && l === accLevel) {
      for (const { o, j } of reduceOuts) lines.push(`${pad}let a${j} = ${jsNumber(reduceInit(o.reduce!))};`);
    }
    if (l < depth) {
      lines.push(`${pad}for (let i${l} = 0; i${l} < ${loops[l]!.size}; i${l}++) {`);
      open(l + 1);
      lines.push(`${pad}}`);
    } else {
      kernel.outputs.forEach((o, j) => {
        if (!o.reduce) lines.push(`${pad}${outs[j]}[${offsetName(outMap[j]!, depth)}] = ${ref(o.node)};`);
        else if (registerMode) lines.push(`${pad}${accumulateJs(`a${j}`, ref(o.node), o.reduce)}`);
        else {
          const at = `s${j}[${offsetName(outMap[j]!, depth)}]`;
          if (o.reduce === "sum") lines.push(`${pad}${at} += ${ref(o.node)};`);
          else lines.push(`${pad}{ let a = ${at}; ${accumulateJs("a", ref(o.node), o.reduce)} ${at} = a; }`);
        }
      });
    }
    if (registerMode && l === accLevel) {
      for (const { j } of reduceOuts) lines.push(`${pad}${outs[j]}[${offsetName(outMap[j]!, accLevel)}] = a${j};`);
    }
  };
  open(0);
  if (!registerMode) for (const { j } of reduceOuts) lines.push(`${outs[j]}.set(s${j});`);
  return `{\n${lines.join("\n")}\n}`;
}

const cache = new LruCache<string, KernelFn>();

/** Number of distinct generated functions compiled so far (for tests and diagnostics). */
export function compiledFunctionCount(): number {
  return cache.size;
}

/**
 * Compiles generated source once per distinct text. `params` name the function's
 * arguments; the code may call the kernel layer's scalar functions as `$scalar.name(x)`
 * (see src/kernel/scalar.ts).
 */
export function compileSource<F>(params: readonly string[], body: string): F {
  const key = `${params.join(",")}\n${body}`;
  let f = cache.get(key);
  if (!f) {
    f = new Function("$scalar", `"use strict";\nreturn function (${params.join(", ")}) {\n${body}\n};`)(scalarFunctions) as KernelFn;
    cache.set(key, f);
  }
  return f as F;
}

/** The JS source of a kernel as a standalone function body over `in0.., out0..`. */
export function kernelSource(kernel: Kernel): { params: string[]; body: string } {
  const ins = kernel.inputs.map((_, i) => `in${i}`);
  const outs = kernel.outputs.map((_, j) => `out${j}`);
  const sig = `// ${kernel.inputs.map((x) => x.dtype).join(",")} -> ${kernel.outputs.map((o) => kernel.nodes[o.node]!.dtype).join(",")}`;
  return { params: [...ins, ...outs], body: `${sig}\n${emitKernel(kernel, ins, outs)}` };
}

const compiledKernels = new WeakMap<Kernel, KernelFn>();

/** The compiled function of a kernel: `f(in0, ..., out0, ...)`. */
export function compileKernel(kernel: Kernel): KernelFn {
  let f = compiledKernels.get(kernel);
  if (!f) {
    const { params, body } = kernelSource(kernel);
    f = compileSource<KernelFn>(params, body);
    compiledKernels.set(kernel, f);
  }
  return f;
}
