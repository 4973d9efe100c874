/**
 * Kernel expression language → gpu.js kernel source.
 *
 * A {@link Kernel} becomes one gpu.js kernel per output (gpu.js kernels write a single
 * texture). Every kernel has a 1-D output indexed by `this.thread.x` (the flat
 * row-major index of the output), so texture-size limits never bite on the shape; the
 * multi-index is recovered with float arithmetic (`floor((t + 0.5) / stride)`, exact for
 * flat indices below 2^24). Loops over reduced axes have their bounds baked in as
 * constants (gpu.js cuts loops whose bounds are run-time values at 1000 iterations).
 *
 * Every value is a float32 on the GPU; int32 and bool values are stored as floats
 * holding integers (exact up to 2^24), and the generated code reproduces the integer
 * semantics of the kernel language (truncating division and conversion, 0/1 booleans).
 * @module
 */
import { sizeOf } from "../../core/shape.js";
import type { DType } from "../../core/dtype.js";
import {
  type BinaryOp,
  type CompareOp,
  type IndexMap,
  type Kernel,
  type KernelNode,
  type ReduceOp,
  type UnaryOp,
  contiguousStrides,
  operandsOf,
  outputShape,
} from "../../kernel/ir.js";

/**
 * A float literal gpu.js and GLSL both accept (infinities become ±FLT_MAX). GLSL has no
 * NaN literal and compilers fold a constant `sqrt(-1.0)` to 0, so NaN is the square root
 * of a negative value known only at run time.
 */
export function glFloat(v: number): string {
  if (Number.isNaN(v)) return "Math.sqrt(-1.0 - this.thread.x * 1.0)";
  if (v === Infinity) return "3.4028234e38";
  if (v === -Infinity) return "-3.4028234e38";
  if (Math.abs(v) > 3.4028234e38) return v > 0 ? "3.4028234e38" : "-3.4028234e38";
  const s = String(Object.is(v, -0) ? 0 : v);
  return /^-?\d+$/.test(s) ? `${s}.0` : s;
}

/** Lines that set `names[d]` (floats) to the row-major multi-index of flat index `flat` over `dims`. */
export function decompose(lines: string[], dims: readonly number[], names: readonly string[], flat: string, tag: string): void {
  let rest = flat;
  dims.forEach((d, k) => {
    const name = names[k]!;
    if (d === 1) {
      lines.push(`const ${name} = 0.0;`);
      return;
    }
    const stride = sizeOf(dims.slice(k + 1));
    if (stride === 1) {
      lines.push(`const ${name} = ${rest};`);
      return;
    }
    lines.push(`const ${name} = Math.floor((${rest} + 0.5) / ${glFloat(stride)});`);
    if (k < dims.length - 1) {
      lines.push(`const ${tag}${k} = ${rest} - ${name} * ${glFloat(stride)};`);
      rest = `${tag}${k}`;
    }
  });
}

/** `offset + Σ stride_d * i_d` over the axes with non-zero stride. */
export function affine(offset: number, strides: readonly number[], names: readonly string[]): string {
  const terms: string[] = [];
  strides.forEach((s, d) => {
    if (s === 0) return;
    terms.push(s === 1 ? names[d]! : `${glFloat(s)} * ${names[d]!}`);
  });
  if (offset !== 0 || terms.length === 0) terms.push(glFloat(offset));
  return terms.join(" + ");
}

/** `x ** y` for an integer `y` by repeated multiplication. */
function ipowExpr(x: string, y: number): string {
  if (y === 0) return "1.0";
  const n = Math.abs(y);
  const chain =
    n <= 16
      ? new Array<string>(n).fill(x).join(" * ")
      : `(Math.floor(${glFloat(n)} * 0.5) * 2.0 === ${glFloat(n)} ? 1.0 : (${x} < 0.0 ? -1.0 : 1.0)) * Math.pow(Math.abs(${x}), ${glFloat(n)})`;
  return y < 0 ? `(1.0 / (${chain}))` : `(${chain})`;
}

/** gpu.js source of each unary op (a row per op: a missing one is a compile error). */
export const UNARY_GL: Record<UnaryOp, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `(Math.abs(${a}) < 0.0001 ? ${a} * (1.0 - 0.5 * ${a} + ${a} * ${a} / 3.0) : Math.log(1.0 + ${a}))`,
  expm1: (a) => `(Math.abs(${a}) < 0.0001 ? ${a} * (1.0 + 0.5 * ${a} + ${a} * ${a} / 6.0) : Math.exp(${a}) - 1.0)`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  tanh: (a) => `((1.0 - Math.exp(-2.0 * Math.abs(${a}))) / (1.0 + Math.exp(-2.0 * Math.abs(${a}))) * (${a} < 0.0 ? -1.0 : 1.0))`,
  logistic: (a) => `(1.0 / (1.0 + Math.exp(-${a})))`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `(1.0 / Math.sqrt(${a}))`,
  abs: (a) => `Math.abs(${a})`,
  sign: (a) => `(${a} > 0.0 ? 1.0 : (${a} < 0.0 ? -1.0 : 0.0))`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  round: (a) => `(${a} < 0.0 ? -Math.floor(0.5 - ${a}) : Math.floor(${a} + 0.5))`,
  not: (a) => `(${a} !== 0.0 ? 0.0 : 1.0)`,
};

/** gpu.js source of each binary op on values of the result's dtype (max/min propagate NaN, as JAX). */
export const BINARY_GL: Record<BinaryOp, (a: string, b: string, dtype: DType) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b, dtype) =>
    dtype === "int32" || dtype === "bool"
      ? `(${b} === 0.0 ? 0.0 : (${a} * ${b} < 0.0 ? -1.0 : 1.0) * Math.floor((Math.abs(${a}) + 0.5) / Math.abs(${b})))`
      : `(${a} / ${b})`,
  // a negative base to a non-integer power is NaN: sqrt of the (negative) base, computed at
  // run time (GLSL has no NaN literal, and a constant such as sqrt(-1.0) may be folded to 0)
  pow: (a, b) =>
    `(${b} === 0.0 ? 1.0 : (${a} === 0.0 ? (${b} > 0.0 ? 0.0 : 3.4028234e38) : (${a} > 0.0 ? Math.pow(${a}, ${b}) : ` +
    `(Math.floor(${b}) === ${b} ? (Math.floor(${b} * 0.5) * 2.0 === ${b} ? 1.0 : -1.0) * Math.pow(-${a}, ${b}) : Math.sqrt(${a})))))`,
  // ordered (neither is NaN) exactly when one of `a <= b`, `b < a` holds (a self-comparison
  // `a !== a` may be folded away); otherwise `a + b` is NaN (a constant NaN such as
  // sqrt(-1) may be folded to 0)
  max: (a, b) => `(${a} <= ${b} || ${b} < ${a} ? Math.max(${a}, ${b}) : ${a} + ${b})`,
  min: (a, b) => `(${a} <= ${b} || ${b} < ${a} ? Math.min(${a}, ${b}) : ${a} + ${b})`,
  and: (a, b) => `(${a} !== 0.0 && ${b} !== 0.0 ? 1.0 : 0.0)`,
  or: (a, b) => `(${a} !== 0.0 || ${b} !== 0.0 ? 1.0 : 0.0)`,
};

/** gpu.js operator of each comparison. */
export const COMPARE_GL: Record<CompareOp, string> = { eq: "===", ne: "!==", lt: "<", le: "<=", gt: ">", ge: ">=" };

/** The expression of a node whose operands are the expressions in `o`. */
function nodeExpr(n: KernelNode, o: string[]): string {
  const [a, b, c] = o as [string, string, string];
  switch (n.kind) {
    case "load":
    case "const":
      throw new Error("unreachable");
    case "unary":
      return UNARY_GL[n.op](a);
    case "ipow":
      return ipowExpr(a, n.y);
    case "binary":
      return BINARY_GL[n.op](a, b, n.dtype);
    case "compare":
      return `(${a} ${COMPARE_GL[n.op]} ${b} ? 1.0 : 0.0)`;
    case "select":
      return `(${a} !== 0.0 ? ${b} : ${c})`;
    case "convert":
      if (n.dtype === "bool") return `(${a} !== 0.0 ? 1.0 : 0.0)`;
      if (n.dtype === "int32") return `(${a} < 0.0 ? Math.ceil(${a}) : Math.floor(${a}))`;
      return a;
  }
}

/** Source of one gpu.js kernel and the kernel inputs it reads, in parameter order. */
export interface OutputSource {
  source: string;
  inputs: number[];
  /** Number of elements written. */
  size: number;
  /** For two-stage reductions: the kernel reducing the first stage's block results (its only input). */
  combine?: { source: string; size: number };
}

/** Statements computing the nodes `output` needs; returns the expression of `output`. */
function emitNodes(k: Kernel, output: number, index: (map: IndexMap) => string, lines: string[], used: Set<number>): string {
  const need = new Set<number>();
  const visit = (i: number): void => {
    if (need.has(i)) return;
    need.add(i);
    for (const o of operandsOf(k.nodes[i]!)) visit(o);
  };
  visit(output);
  const expr = new Map<number, string>();
  const order = [...need].sort((x, y) => x - y);
  for (const i of order) {
    const n = k.nodes[i]!;
    if (n.kind === "const") {
      expr.set(i, glFloat(n.value));
      continue;
    }
    let e: string;
    if (n.kind === "load") {
      used.add(n.input);
      e = `in${n.input}[${index(n.map)}]`;
    } else {
      e = nodeExpr(
        n,
        operandsOf(n).map((o) => expr.get(o)!),
      );
    }
    lines.push(`const v${i} = ${e};`);
    expr.set(i, `v${i}`);
  }
  return expr.get(output)!;
}

function accumulate(op: ReduceOp, v: string): string[] {
  if (op === "sum") return [`acc = acc + ${v};`];
  // NaN propagates (as JAX's reduce_max/min): the binary max/min of the op table
  return [`if (first > 0.5) {`, `acc = ${v};`, `first = 0.0;`, `} else {`, `acc = ${BINARY_GL[op]("acc", v, "float32")};`, `}`];
}

/** The gpu.js source computing output `j` of a kernel. */
export function outputSource(k: Kernel, j: number): OutputSource {
  const out = k.outputs[j]!;
  const names = k.shape.map((_, d) => `i${d}`);
  const lines: string[] = [];
  const used = new Set<number>();
  const size = sizeOf(outputShape(k, j));
  if (!out.reduce) {
    const contiguous = contiguousStrides(k.shape);
    // loads that read the index space's own layout use the flat index directly
    const onlyContiguous = k.nodes.every(
      (n) => n.kind !== "load" || (n.map.offset === 0 && n.map.strides.every((s, d) => s === contiguous[d] || k.shape[d] === 1)),
    );
    lines.push(`const t = this.thread.x * 1.0;`);
    if (onlyContiguous) {
      const e = emitNodes(k, out.node, () => "t", lines, used);
      lines.push(`return ${e};`);
    } else {
      decompose(lines, k.shape, names, "t", "q");
      const e = emitNodes(k, out.node, (m) => affine(m.offset, m.strides, names), lines, used);
      lines.push(`return ${e};`);
    }
  } else {
    const red = new Set(k.reduceAxes);
    const outer = k.shape.map((_, d) => d).filter((d) => !red.has(d));
    lines.push(`const t = this.thread.x * 1.0;`);
    decompose(
      lines,
      outer.map((d) => k.shape[d]!),
      outer.map((d) => names[d]!),
      "t",
      "q",
    );
    const op = out.reduce;
    const reduceSize = sizeOf(k.reduceAxes.map((d) => k.shape[d]!));
    if (reduceSize > SPLIT_REDUCTION) return splitReduction(k, j, op, outer, reduceSize, size);
    lines.push(`let acc = 0.0;`);
    if (op !== "sum") lines.push(`let first = 1.0;`);
    const body: string[] = [];
    for (const d of k.reduceAxes) {
      body.push(`for (let r${d} = 0; r${d} < ${k.shape[d]!}; r${d}++) {`);
      body.push(`const ${names[d]!} = r${d} * 1.0;`);
    }
    const e = emitNodes(k, out.node, (m) => affine(m.offset, m.strides, names), body, used);
    body.push(...accumulate(op, e));
    for (let d = 0; d < k.reduceAxes.length; d++) body.push("}");
    lines.push(...body, `return acc;`);
  }
  return finish(lines, used, size);
}

function finish(lines: string[], used: Set<number>, size: number): OutputSource {
  const inputs = [...used].sort((x, y) => x - y);
  const params = inputs.map((i) => `in${i}`).join(", ");
  return { source: `function (${params}) {\n${lines.join("\n")}\n}`, inputs, size };
}

/** Reductions longer than this run in two stages (blocks of {@link REDUCTION_BLOCK}, then the block results). */
export const SPLIT_REDUCTION = 4096;
export const REDUCTION_BLOCK = 1024;

/**
 * A long reduction in two kernels: the first reduces blocks of the reduced index range
 * (one thread per output element and block), the second reduces the block results.
 * Shorter loops per thread, more threads, and a pairwise-like float32 sum.
 */
function splitReduction(k: Kernel, j: number, op: ReduceOp, outer: number[], reduceSize: number, size: number): OutputSource {
  const out = k.outputs[j]!;
  const names = k.shape.map((_, d) => `i${d}`);
  const blocks = Math.ceil(reduceSize / REDUCTION_BLOCK);
  const lines: string[] = [
    `const t = this.thread.x * 1.0;`,
    `const o = Math.floor((t + 0.5) / ${glFloat(blocks)});`,
    `const blk = t - o * ${glFloat(blocks)};`,
  ];
  decompose(
    lines,
    outer.map((d) => k.shape[d]!),
    outer.map((d) => names[d]!),
    "o",
    "q",
  );
  lines.push(`let acc = 0.0;`);
  if (op !== "sum") lines.push(`let first = 1.0;`);
  lines.push(
    `for (let jj = 0; jj < ${REDUCTION_BLOCK}; jj++) {`,
    `const r = blk * ${glFloat(REDUCTION_BLOCK)} + jj * 1.0;`,
    `if (r < ${glFloat(reduceSize)}) {`,
  );
  decompose(
    lines,
    k.reduceAxes.map((d) => k.shape[d]!),
    k.reduceAxes.map((d) => names[d]!),
    "r",
    "w",
  );
  const used = new Set<number>();
  const e = emitNodes(k, out.node, (m) => affine(m.offset, m.strides, names), lines, used);
  lines.push(...accumulate(op, e), `}`, `}`, `return acc;`);
  const first = finish(lines, used, size * blocks);
  const combine = [`const t = this.thread.x * 1.0;`, `let acc = 0.0;`, ...(op !== "sum" ? [`let first = 1.0;`] : [])];
  combine.push(`for (let c = 0; c < ${blocks}; c++) {`, `const v = p[t * ${glFloat(blocks)} + c * 1.0];`, ...accumulate(op, "v"), `}`, `return acc;`);
  return { ...first, combine: { source: `function (p) {\n${combine.join("\n")}\n}`, size } };
}

const sources = new WeakMap<Kernel, OutputSource[]>();

/** The gpu.js sources of every output of a kernel (memoized per kernel). */
export function kernelSources(k: Kernel): OutputSource[] {
  let s = sources.get(k);
  if (!s) {
    s = k.outputs.map((_, j) => outputSource(k, j));
    sources.set(k, s);
  }
  return s;
}
