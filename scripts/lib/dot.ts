/**
 * A parser for the subset of Graphviz DOT that `toDot` writes (and a little more):
 * one `digraph` with `graph`/`node`/`edge` default attributes, node statements
 * `id [k="v", ...];` and edge statements `a -> b [k="v"];`. IDs may be bare words,
 * numbers or quoted strings; `//` and `/* *\/` comments are skipped.
 */

export type Attrs = Record<string, string>;

export interface DotGraph {
  name: string;
  graphAttrs: Attrs;
  /** Nodes in order of first mention, with their attributes. */
  nodes: Map<string, Attrs>;
  /** Edges in order of appearance. */
  edges: { from: string; to: string; attrs: Attrs }[];
}

type Tok = { t: "id"; v: string } | { t: "p"; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (src.startsWith("//", i)) {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (src.startsWith("/*", i)) {
      const e = src.indexOf("*/", i + 2);
      if (e < 0) throw new Error("parseDot: unterminated comment");
      i = e + 2;
    } else if (src.startsWith("->", i)) {
      out.push({ t: "p", v: "->" });
      i += 2;
    } else if ("{}[]=;,".includes(c)) {
      out.push({ t: "p", v: c });
      i++;
    } else if (c === '"') {
      let s = "";
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === "\\" && i + 1 < src.length) {
          const n = src[i + 1]!;
          s += n === "n" ? "\n" : n;
          i += 2;
        } else s += src[i++];
      }
      if (i >= src.length) throw new Error("parseDot: unterminated string");
      i++;
      out.push({ t: "id", v: s });
    } else {
      const m = /^[A-Za-z0-9_.\-]+/.exec(src.slice(i));
      if (!m) throw new Error(`parseDot: unexpected character ${JSON.stringify(c)} at offset ${i}`);
      out.push({ t: "id", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

/** Parses DOT source text; throws an Error naming the problem on anything else. */
export function parseDot(src: string): DotGraph {
  const toks = tokenize(src);
  let k = 0;
  const peek = (): Tok | undefined => toks[k];
  const next = (): Tok => {
    const t = toks[k++];
    if (!t) throw new Error("parseDot: unexpected end of input");
    return t;
  };
  const expect = (v: string): void => {
    const t = next();
    if (t.t !== "p" || t.v !== v) throw new Error(`parseDot: expected "${v}", got "${t.v}"`);
  };
  const id = (): string => {
    const t = next();
    if (t.t !== "id") throw new Error(`parseDot: expected an identifier, got "${t.v}"`);
    return t.v;
  };
  const attrList = (): Attrs => {
    const a: Attrs = {};
    while (peek()?.t === "p" && peek()!.v === "[") {
      next();
      while (!(peek()?.t === "p" && peek()!.v === "]")) {
        const key = id();
        expect("=");
        a[key] = id();
        const p = peek();
        if (p?.t === "p" && (p.v === "," || p.v === ";")) next();
      }
      expect("]");
    }
    return a;
  };
  const kw = id();
  if (kw !== "digraph") throw new Error(`parseDot: expected "digraph", got "${kw}"`);
  let name = "";
  if (peek()?.t === "id") name = id();
  expect("{");
  const g: DotGraph = { name, graphAttrs: {}, nodes: new Map(), edges: [] };
  const touch = (n: string): void => {
    if (!g.nodes.has(n)) g.nodes.set(n, {});
  };
  while (!(peek()?.t === "p" && peek()!.v === "}")) {
    const p = peek();
    if (p?.t === "p" && p.v === ";") {
      next();
      continue;
    }
    const first = id();
    if ((first === "graph" || first === "node" || first === "edge") && peek()?.t === "p" && peek()!.v === "[") {
      const a = attrList();
      if (first === "graph") Object.assign(g.graphAttrs, a);
    } else if (peek()?.t === "p" && peek()!.v === "=") {
      next();
      g.graphAttrs[first] = id();
    } else if (peek()?.t === "p" && peek()!.v === "->") {
      const chain = [first];
      while (peek()?.t === "p" && peek()!.v === "->") {
        next();
        chain.push(id());
      }
      const a = attrList();
      chain.forEach(touch);
      for (let i = 0; i + 1 < chain.length; i++) g.edges.push({ from: chain[i]!, to: chain[i + 1]!, attrs: { ...a } });
    } else {
      touch(first);
      Object.assign(g.nodes.get(first)!, attrList());
    }
  }
  expect("}");
  return g;
}
