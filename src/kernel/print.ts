/**
 * The kernel printer: a readable, backend-neutral text form, used in printed IR and as
 * part of cache keys.
 *
 * ```
 * kernel[8] (in0:f32[8]) {
 *   %0:f32 = load in0[i0]
 *   %1:f32 = mul %0 2.0
 *   out0:f32[] = sum %1 over (0,)
 * }
 * ```
 * @module
 */
import { isFloat, shortName } from "../core/dtype.js";
import { formatNumber } from "../ir/jaxpr.js";
import type { IndexMap, Kernel, KernelNode } from "./ir.js";
import { outputShape } from "./ir.js";

/** `in0[8*i0 + i1 + 3]` style text of a load. */
export function formatIndex(map: IndexMap): string {
  const terms: string[] = [];
  map.strides.forEach((s, d) => {
    if (s === 0) return;
    terms.push(s === 1 ? `i${d}` : `${s}*i${d}`);
  });
  if (map.offset !== 0 || terms.length === 0) terms.push(String(map.offset));
  return terms.join(" + ");
}

function formatNode(k: Kernel, n: KernelNode): string {
  const r = (i: number): string => {
    const m = k.nodes[i]!;
    return m.kind === "const" ? formatNumber(m.value, isFloat(m.dtype)) : `%${i}`;
  };
  switch (n.kind) {
    case "load":
      return `load in${n.input}[${formatIndex(n.map)}]`;
    case "const":
      return `const ${formatNumber(n.value, isFloat(n.dtype))}`;
    case "unary":
      return `${n.op} ${r(n.x)}`;
    case "ipow":
      return `ipow[y=${n.y}] ${r(n.x)}`;
    case "binary":
    case "compare":
      return `${n.op} ${r(n.x)} ${r(n.y)}`;
    case "select":
      return `select ${r(n.cond)} ${r(n.x)} ${r(n.y)}`;
    case "convert":
      return `convert ${r(n.x)}`;
  }
}

/** The text form of a kernel (constants are written inline where they are used). */
export function printKernel(k: Kernel): string {
  const ins = k.inputs.map((x, i) => `in${i}:${shortName(x.dtype)}[${x.shape.join(",")}]`).join(" ");
  const lines = [`kernel[${k.shape.join(",")}] (${ins}) {`];
  k.nodes.forEach((n, i) => {
    if (n.kind === "const") return;
    lines.push(`  %${i}:${shortName(n.dtype)} = ${formatNode(k, n)}`);
  });
  const axes = `(${k.reduceAxes.join(",")}${k.reduceAxes.length === 1 ? "," : ""})`;
  k.outputs.forEach((o, j) => {
    const n = k.nodes[o.node]!;
    const src = n.kind === "const" ? formatNumber(n.value, isFloat(n.dtype)) : `%${o.node}`;
    const decl = `out${j}:${shortName(n.dtype)}[${outputShape(k, j).join(",")}]`;
    lines.push(o.reduce ? `  ${decl} = ${o.reduce} ${src} over ${axes}` : `  ${decl} = ${src}`);
  });
  lines.push("}");
  return lines.join("\n");
}
