/**
 * A small deterministic layered (Sugiyama-style) layout of DOT graphs written by
 * `toDot`, rendered to SVG without Graphviz:
 *
 * 1. layers: inputs and constants on top, each equation one below its deepest
 *    operand, outputs at the bottom, each literal right above its consumer;
 * 2. long edges are split by invisible dummy nodes, one per layer crossed;
 * 3. order within layers: barycenter sweeps down and up, keeping the order with the
 *    fewest crossings;
 * 4. x positions: repeated sweeps pulling each node toward the mean of its neighbors,
 *    then projecting onto the non-overlap constraints (isotonic regression);
 * 5. edges: vertical cubic curves through the dummies, spread over the bottom of the
 *    source and the top of the target in left-to-right order.
 *
 * Node styles follow the `class` attribute (`input`, `const`, `eqn`, `literal`,
 * `output`). Text widths are estimated from a monospace font, so the output is the
 * same on every machine.
 */
import type { DotGraph } from "./dot.js";

const CHAR_W = 7.2; // width of a 12px monospace character
const SMALL_CHAR_W = 6.0; // 10px
const LINE_H = 15;
const LAYER_GAP = 42;
const NODE_GAP = 22;
const DUMMY_W = 10;
const MARGIN = 16;

interface LNode {
  id: string;
  label: string[];
  cls: string;
  w: number;
  h: number;
  dummy: boolean;
  layer: number;
  order: number;
  x: number; // center
  y: number; // top
}

interface LEdge {
  from: string;
  to: string;
  label: string;
  /** The chain of node ids from `from` to `to`, through dummies. */
  path: string[];
}

/** A graph laid out: node boxes and edge routes, in its own coordinates. */
export interface Layout {
  width: number;
  height: number;
  nodes: LNode[];
  edges: { label: string; points: [number, number][]; fromId: string; toId: string }[];
}

function nodeSize(label: string[], cls: string): [number, number] {
  const chars = Math.max(1, ...label.map((l) => l.length));
  if (cls === "literal") return [chars * SMALL_CHAR_W + 8, 16];
  if (cls === "eqn") return [chars * CHAR_W + 20, label.length * LINE_H + 12];
  return [chars * CHAR_W + 30, label.length * LINE_H + 14];
}

/** Number of crossings between consecutive layers. */
function crossings(layers: LNode[][], succ: Map<string, string[]>, byId: Map<string, LNode>): number {
  let total = 0;
  for (let r = 0; r + 1 < layers.length; r++) {
    const pairs: [number, number][] = [];
    for (const n of layers[r]!) for (const s of succ.get(n.id) ?? []) pairs.push([n.order, byId.get(s)!.order]);
    for (let i = 0; i < pairs.length; i++)
      for (let j = i + 1; j < pairs.length; j++) {
        const [a1, b1] = pairs[i]!;
        const [a2, b2] = pairs[j]!;
        if ((a1 - a2) * (b1 - b2) < 0) total++;
      }
  }
  return total;
}

/** Least-squares non-decreasing fit (pool adjacent violators). */
function isotonic(values: number[]): number[] {
  const blocks: { sum: number; n: number }[] = [];
  for (const v of values) {
    blocks.push({ sum: v, n: 1 });
    while (blocks.length > 1 && blocks[blocks.length - 2]!.sum / blocks[blocks.length - 2]!.n > blocks[blocks.length - 1]!.sum / blocks[blocks.length - 1]!.n) {
      const b = blocks.pop()!;
      blocks[blocks.length - 1]!.sum += b.sum;
      blocks[blocks.length - 1]!.n += b.n;
    }
  }
  return blocks.flatMap((b) => Array<number>(b.n).fill(b.sum / b.n));
}

/** Lays out a DOT graph as written by `toDot`. */
export function layoutGraph(g: DotGraph): Layout {
  const byId = new Map<string, LNode>();
  const nodes: LNode[] = [];
  for (const [id, a] of g.nodes) {
    const label = (a.label ?? id).split("\n");
    const cls = a.class ?? "eqn";
    const [w, h] = nodeSize(label, cls);
    const n: LNode = { id, label, cls, w, h, dummy: false, layer: 0, order: 0, x: 0, y: 0 };
    nodes.push(n);
    byId.set(id, n);
  }
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const n of nodes) {
    preds.set(n.id, []);
    succs.set(n.id, []);
  }
  for (const e of g.edges) {
    preds.get(e.to)!.push(e.from);
    succs.get(e.from)!.push(e.to);
  }

  // 1. layers (longest path from the inputs; literals and outputs placed afterwards)
  const layerOf = new Map<string, number>();
  const visiting = new Set<string>();
  const depth = (id: string): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) throw new Error(`layoutGraph: the graph has a cycle through ${id}`);
    visiting.add(id);
    const ps = preds.get(id)!.filter((p) => byId.get(p)!.cls !== "literal");
    const d = ps.length === 0 ? 0 : Math.max(...ps.map(depth)) + 1;
    visiting.delete(id);
    layerOf.set(id, d);
    return d;
  };
  for (const n of nodes) if (n.cls !== "literal") n.layer = depth(n.id);
  const maxEqn = Math.max(0, ...nodes.filter((n) => n.cls !== "output" && n.cls !== "literal").map((n) => n.layer));
  for (const n of nodes) if (n.cls === "output") n.layer = maxEqn + 1;
  for (const n of nodes)
    if (n.cls === "literal") {
      const ss = succs.get(n.id)!;
      n.layer = ss.length ? Math.max(0, Math.min(...ss.map((s) => byId.get(s)!.layer)) - 1) : 0;
    }

  // 2. dummies on long edges
  const edges: LEdge[] = [];
  const fullSucc = new Map<string, string[]>();
  const fullPred = new Map<string, string[]>();
  const link = (a: string, b: string): void => {
    if (!fullSucc.has(a)) fullSucc.set(a, []);
    if (!fullPred.has(b)) fullPred.set(b, []);
    fullSucc.get(a)!.push(b);
    fullPred.get(b)!.push(a);
  };
  g.edges.forEach((e, k) => {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    const path = [a.id];
    for (let r = a.layer + 1; r < b.layer; r++) {
      const d: LNode = { id: `~${k}_${r}`, label: [], cls: "dummy", w: DUMMY_W, h: 0, dummy: true, layer: r, order: 0, x: 0, y: 0 };
      nodes.push(d);
      byId.set(d.id, d);
      path.push(d.id);
    }
    path.push(b.id);
    for (let i = 0; i + 1 < path.length; i++) link(path[i]!, path[i + 1]!);
    edges.push({ from: e.from, to: e.to, label: e.attrs.label ?? "", path });
  });

  // 3. ordering
  const nLayers = Math.max(0, ...nodes.map((n) => n.layer)) + 1;
  const layers: LNode[][] = Array.from({ length: nLayers }, () => []);
  for (const n of nodes) layers[n.layer]!.push(n); // declaration order, dummies last
  const rank = (cls: string): number => (cls === "const" ? 0 : cls === "input" ? 1 : 2);
  layers[0]!.sort((a, b) => rank(a.cls) - rank(b.cls));
  layers.forEach((l) => l.forEach((n, i) => (n.order = i)));
  const sortBy = (layer: LNode[], nbrs: Map<string, string[]>): void => {
    const key = new Map<LNode, number>();
    for (const n of layer) {
      const ns = (nbrs.get(n.id) ?? []).map((m) => byId.get(m)!.order);
      key.set(n, ns.length ? ns.reduce((s, v) => s + v, 0) / ns.length : n.order);
    }
    layer.sort((a, b) => key.get(a)! - key.get(b)! || a.order - b.order);
    layer.forEach((n, i) => (n.order = i));
  };
  let best = layers.map((l) => l.map((n) => n.id));
  let bestC = crossings(layers, fullSucc, byId);
  for (let it = 0; it < 8 && bestC > 0; it++) {
    if (it % 2 === 0) for (let r = 1; r < nLayers; r++) sortBy(layers[r]!, fullPred);
    else for (let r = nLayers - 2; r >= 0; r--) sortBy(layers[r]!, fullSucc);
    const c = crossings(layers, fullSucc, byId);
    if (c < bestC) {
      bestC = c;
      best = layers.map((l) => l.map((n) => n.id));
    }
  }
  best.forEach((ids, r) => {
    layers[r] = ids.map((id) => byId.get(id)!);
    layers[r]!.forEach((n, i) => (n.order = i));
  });

  // 4. x coordinates
  for (const l of layers) {
    let x = 0;
    for (const n of l) {
      n.x = x + n.w / 2;
      x += n.w + NODE_GAP;
    }
  }
  const place = (l: LNode[], desired: number[]): void => {
    const off: number[] = [0];
    for (let i = 1; i < l.length; i++) off.push(off[i - 1]! + (l[i - 1]!.w + l[i]!.w) / 2 + (l[i - 1]!.dummy && l[i]!.dummy ? 4 : NODE_GAP));
    const y = isotonic(desired.map((d, i) => d - off[i]!));
    l.forEach((n, i) => (n.x = y[i]! + off[i]!));
  };
  const mean = (n: LNode, nbrs: Map<string, string[]>[]): number => {
    const xs = nbrs.flatMap((m) => (m.get(n.id) ?? []).map((id) => byId.get(id)!.x));
    return xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : n.x;
  };
  for (let it = 0; it < 24; it++) {
    const dirs = it % 3 === 0 ? [fullPred] : it % 3 === 1 ? [fullSucc] : [fullPred, fullSucc];
    const order = it % 3 === 1 ? [...layers].reverse() : layers;
    for (const l of order)
      place(
        l,
        l.map((n) => mean(n, dirs)),
      );
  }
  const minX = Math.min(...nodes.map((n) => n.x - n.w / 2));
  for (const n of nodes) n.x += MARGIN - minX;

  // y coordinates
  let y = MARGIN;
  const layerMid: number[] = [];
  for (const l of layers) {
    const h = Math.max(0, ...l.map((n) => n.h));
    for (const n of l) n.y = y + (h - n.h) / 2;
    layerMid.push(y + h / 2);
    y += h + LAYER_GAP;
  }
  const height = y - LAYER_GAP + MARGIN;
  const width = Math.max(...nodes.map((n) => n.x + n.w / 2)) + MARGIN;

  // 5. edge routes: ports spread over the bottom of the source, the top of the target
  const inPorts = new Map<string, LEdge[]>();
  const outPorts = new Map<string, LEdge[]>();
  for (const e of edges) {
    if (!inPorts.has(e.to)) inPorts.set(e.to, []);
    inPorts.get(e.to)!.push(e);
    if (!outPorts.has(e.from)) outPorts.set(e.from, []);
    outPorts.get(e.from)!.push(e);
  }
  const portX = (n: LNode, k: number, count: number, spread: number): number => {
    if (count <= 1) return n.x;
    const span = Math.min(n.w * spread, (count - 1) * 16);
    return n.x - span / 2 + (span * k) / (count - 1);
  };
  for (const list of outPorts.values()) list.sort((a, b) => byId.get(a.path[1]!)!.x - byId.get(b.path[1]!)!.x);
  // incoming edges enter left to right in the order of where they come from (no crossings at the port)
  for (const list of inPorts.values()) list.sort((a, b) => byId.get(a.path[a.path.length - 2]!)!.x - byId.get(b.path[b.path.length - 2]!)!.x);
  const routed = edges.map((e) => {
    const a = byId.get(e.from)!;
    const b = byId.get(e.to)!;
    const outs = outPorts.get(e.from)!;
    const ins = inPorts.get(e.to)!;
    const pts: [number, number][] = [[portX(a, outs.indexOf(e), outs.length, 0.4), a.y + a.h]];
    for (const id of e.path.slice(1, -1)) {
      const d = byId.get(id)!;
      pts.push([d.x, layerMid[d.layer]!]);
    }
    pts.push([portX(b, ins.indexOf(e), ins.length, 0.6), b.y]);
    return { label: e.label, points: pts, fromId: e.from, toId: e.to };
  });
  return { width, height, nodes: nodes.filter((n) => !n.dummy), edges: routed };
}

// ------------------------------------------------------------------ SVG

const num = (v: number): string => String(Math.round(v * 10) / 10);

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const STYLE: Record<string, { fill: string; stroke: string }> = {
  input: { fill: "#dbeafe", stroke: "#2563eb" },
  const: { fill: "#fef3c7", stroke: "#b45309" },
  eqn: { fill: "#ffffff", stroke: "#374151" },
  output: { fill: "#dcfce7", stroke: "#15803d" },
};

function renderNode(n: LNode, dx: number, dy: number): string {
  const x = n.x + dx;
  const top = n.y + dy;
  const out: string[] = [];
  if (n.cls === "literal") {
    out.push(`<text x="${num(x)}" y="${num(top + 12)}" class="lit">${esc(n.label.join(" "))}</text>`);
    return out.join("");
  }
  const st = STYLE[n.cls] ?? STYLE.eqn!;
  if (n.cls === "eqn")
    out.push(`<rect x="${num(x - n.w / 2)}" y="${num(top)}" width="${num(n.w)}" height="${num(n.h)}" rx="4" fill="${st.fill}" stroke="${st.stroke}"/>`);
  else out.push(`<ellipse cx="${num(x)}" cy="${num(top + n.h / 2)}" rx="${num(n.w / 2)}" ry="${num(n.h / 2)}" fill="${st.fill}" stroke="${st.stroke}"/>`);
  const first = top + n.h / 2 - ((n.label.length - 1) * LINE_H) / 2 + 4;
  n.label.forEach((l, i) => {
    const cls = n.cls === "eqn" ? (i === 0 ? "prim" : "param") : i === 0 ? "name" : "param";
    out.push(`<text x="${num(x)}" y="${num(first + i * LINE_H)}" class="${cls}">${esc(l)}</text>`);
  });
  return out.join("");
}

function renderEdge(e: Layout["edges"][number], dx: number, dy: number): string {
  const p = e.points.map(([x, y]) => [x + dx, y + dy] as [number, number]);
  let d = `M${num(p[0]![0])},${num(p[0]![1])}`;
  for (let i = 1; i < p.length; i++) {
    const [x0, y0] = p[i - 1]!;
    const [x1, y1] = p[i]!;
    const m = (y1 - y0) / 2;
    d += ` C${num(x0)},${num(y0 + m)} ${num(x1)},${num(y1 - m)} ${num(x1)},${num(y1)}`;
  }
  let label = "";
  if (e.label) {
    // at the middle of the first segment, nudged to the right of the curve
    const [x0, y0] = p[0]!;
    const [x1, y1] = p[1]!;
    const lx = (x0 + x1) / 2 + 5;
    const ly = (y0 + y1) / 2 + 4;
    label = `<text x="${num(lx)}" y="${num(ly)}" class="var">${esc(e.label)}</text>`;
  }
  return `<path d="${d}" class="edge" marker-end="url(#arrow)"/>${label}`;
}

/** One titled graph of a picture. */
export interface Panel {
  title: string;
  subtitle?: string;
  graph: DotGraph;
}

/** Renders graphs side by side, each under its title, as one SVG document. */
export function renderPanels(panels: Panel[], caption?: string): string {
  const layouts = panels.map((p) => layoutGraph(p.graph));
  const headH = 44;
  const gap = 28;
  const capH = caption ? 26 : 0;
  const widths = layouts.map((l, i) =>
    Math.max(l.width, panels[i]!.title.length * 8.4 + 2 * MARGIN, (panels[i]!.subtitle ?? "").length * SMALL_CHAR_W + 2 * MARGIN),
  );
  const bodyH = Math.max(...layouts.map((l) => l.height));
  const panelsW = widths.reduce((s, w) => s + w, 0) + gap * (panels.length - 1);
  const width = Math.max(panelsW + 2 * MARGIN, (caption ?? "").length * CHAR_W + 2 * MARGIN);
  const height = capH + headH + bodyH + MARGIN;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace">`,
  );
  parts.push(
    "<style>" +
      ".prim{font-size:12px;font-weight:bold;fill:#111827;text-anchor:middle}" +
      ".param{font-size:10px;fill:#4b5563;text-anchor:middle}" +
      ".name{font-size:12px;fill:#111827;text-anchor:middle}" +
      ".lit{font-size:10px;fill:#6b7280;text-anchor:middle}" +
      ".var{font-size:10px;font-style:italic;fill:#1f2937;paint-order:stroke;stroke:#ffffff;stroke-width:3px}" +
      ".edge{fill:none;stroke:#6b7280;stroke-width:1.2}" +
      ".title{font-size:14px;font-weight:bold;fill:#111827;text-anchor:middle}" +
      ".subtitle{font-size:10px;fill:#4b5563;text-anchor:middle}" +
      ".caption{font-size:12px;fill:#374151}" +
      "</style>",
  );
  parts.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7280"/></marker></defs>`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  if (caption) parts.push(`<text x="${MARGIN}" y="${MARGIN + 8}" class="caption">${esc(caption)}</text>`);
  let x0 = (width - panelsW) / 2;
  layouts.forEach((l, i) => {
    const w = widths[i]!;
    const p = panels[i]!;
    const top = capH + 6;
    if (i > 0) parts.push(`<line x1="${num(x0 - gap / 2)}" y1="${num(top)}" x2="${num(x0 - gap / 2)}" y2="${num(height - MARGIN)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${num(x0 + w / 2)}" y="${num(top + 16)}" class="title">${esc(p.title)}</text>`);
    if (p.subtitle) parts.push(`<text x="${num(x0 + w / 2)}" y="${num(top + 32)}" class="subtitle">${esc(p.subtitle)}</text>`);
    const dx = x0 + (w - l.width) / 2;
    const dy = capH + headH;
    parts.push(`<g>`);
    for (const e of l.edges) parts.push(renderEdge(e, dx, dy));
    for (const n of l.nodes) parts.push(renderNode(n, dx, dy));
    parts.push(`</g>`);
    x0 += w + gap;
  });
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
