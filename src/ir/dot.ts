/**
 * Pictures of the IR: {@link toDot} writes a jaxpr as a Graphviz DOT graph.
 * @module
 */
import { isFloat } from "../core/dtype.js";
import { checkOptions } from "../core/shape.js";
import { type Atom, ClosedJaxpr, type Jaxpr, type JaxprEqn, Literal, Var, formatNumber, formatParam, varName } from "./jaxpr.js";

/** Options of {@link toDot}. */
export interface DotOptions {
  /** The graph's title, drawn above it (default: none). */
  title?: string;
  /** The graph's name in the DOT source (default `"jaxpr"`). */
  name?: string;
}

/** A DOT string literal. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function attrs(a: Record<string, string>): string {
  return `[${Object.entries(a)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(", ")}]`;
}

/** The equation's parameters on one short line (nested jaxprs shown as `{...}`). */
function paramsText(e: JaxprEqn): string {
  if (e.primitive.printParams) {
    const p = e.primitive.printParams(e.params);
    if (!p.includes("\n") && p.length <= 48) return p;
  }
  const keys = Object.keys(e.params).filter((k) => e.params[k] !== undefined);
  if (keys.length === 0) return "";
  return `[${keys.map((k) => `${k}=${formatParam(e.params[k])}`).join(" ")}]`;
}

/**
 * Writes a jaxpr as a Graphviz DOT digraph, for pictures of traced programs.
 *
 * Nodes: one per input (`in0`, `in1`, …, class `input`), per constant (`c0`, …,
 * class `const`), per equation (`e0`, …, a box labeled by its primitive and
 * parameters, class `eqn`), per literal operand (`l<eqn>_<operand>`, class `literal`)
 * and per output (`out0`, …, class `output`). Edges run from the node that defines a
 * variable to each node that reads it, labeled by the variable's name as the printed
 * jaxpr shows it; an equation's incoming edges are listed in operand order. Render the
 * result with Graphviz (`dot -Tsvg`) or any DOT viewer. Accepts a {@link Jaxpr} or a
 * {@link ClosedJaxpr} (such as {@link makeJaxpr} returns); never throws on a
 * well-formed jaxpr.
 *
 * @param jaxpr - the program to draw.
 * @param opts - an optional title and graph name.
 * @returns the DOT source text.
 * @example
 * ```ts
 * import { makeJaxpr, toDot, np } from "cotangent";
 * const jaxpr = makeJaxpr((x: np.Array) => np.multiply(np.sin(x), 2))(np.zeros([3]));
 * const dot = toDot(jaxpr, { title: "2 sin(x)" });
 * console.log(dot.split("\n")[0]); // digraph "jaxpr" {
 * console.log(dot.includes('e0 [label="sin"')); // true
 * console.log(dot.includes('e0 -> e1 [label="b"]')); // true
 * ```
 */
export function toDot(jaxpr: Jaxpr | ClosedJaxpr, opts: DotOptions = {}): string {
  opts = checkOptions("toDot", opts, `{ title: "f" }`, ["title", "name"]);
  const j = jaxpr instanceof ClosedJaxpr ? jaxpr.jaxpr : jaxpr;
  const names = new Map<Var, string>();
  const source = new Map<Var, string>();
  const name = (v: Var): string => {
    let s = names.get(v);
    if (s === undefined) {
      s = varName(names.size);
      names.set(v, s);
    }
    return s;
  };
  // Name variables in the printer's order: constants, inputs, then each equation's outputs.
  j.constVars.forEach(name);
  j.inVars.forEach(name);
  j.eqns.forEach((e) => e.outVars.forEach(name));

  const lines: string[] = [];
  const edges: string[] = [];
  lines.push(`digraph ${quote(opts.name ?? "jaxpr")} {`);
  lines.push(`  graph [rankdir="TB"${opts.title === undefined ? "" : `, label=${quote(opts.title)}, labelloc="t"`}];`);
  lines.push(`  node [fontname="monospace", fontsize="12"];`);
  lines.push(`  edge [fontname="monospace", fontsize="10"];`);
  j.constVars.forEach((v, i) => {
    source.set(v, `c${i}`);
    lines.push(`  c${i} ${attrs({ label: `${name(v)}: ${v.aval.toString()}\nconst`, shape: "ellipse", class: "const" })};`);
  });
  j.inVars.forEach((v, i) => {
    source.set(v, `in${i}`);
    lines.push(`  in${i} ${attrs({ label: `${name(v)}: ${v.aval.toString()}`, shape: "ellipse", class: "input" })};`);
  });
  const literalNode = (id: string, l: Literal): void => {
    lines.push(`  ${id} ${attrs({ label: formatNumber(l.value, isFloat(l.aval.dtype)), shape: "plaintext", class: "literal" })};`);
  };
  const edgeFrom = (a: Atom, to: string, literalId: string): void => {
    if (a instanceof Literal) {
      literalNode(literalId, a);
      edges.push(`  ${literalId} -> ${to};`);
      return;
    }
    const from = source.get(a);
    if (from === undefined)
      throw new Error(`toDot: variable ${name(a)}:${a.aval.toString()} is read before it is defined; the jaxpr is malformed (run typecheckJaxpr on it).`);
    edges.push(`  ${from} -> ${to} ${attrs({ label: name(a) })};`);
  };
  j.eqns.forEach((e, i) => {
    const id = `e${i}`;
    const ps = paramsText(e);
    lines.push(`  ${id} ${attrs({ label: ps ? `${e.primitive.name}\n${ps}` : e.primitive.name, shape: "box", class: "eqn" })};`);
    e.inputs.forEach((a, k) => edgeFrom(a, id, `l${i}_${k}`));
    e.outVars.forEach((v) => source.set(v, id));
  });
  j.outs.forEach((a, i) => {
    lines.push(`  out${i} ${attrs({ label: `out${j.outs.length > 1 ? ` ${i}` : ""}: ${a.aval.toString()}`, shape: "ellipse", class: "output" })};`);
    edgeFrom(a, `out${i}`, `lout${i}`);
  });
  return [...lines, ...edges, "}", ""].join("\n");
}
