/**
 * toDot and the picture pipeline: the DOT of y = (x-1)^2 + (x+1)^2, its
 * linearization and its transpose has the nodes and edges derived by hand; the
 * layered layout keeps nodes apart and edges pointing down.
 */
import { describe, expect, it } from "vitest";
import { jit, makeJaxpr, np, toDot } from "../../src/index.js";
import { type DotGraph, parseDot } from "../../scripts/lib/dot.js";
import { pictureJaxprs } from "../../scripts/lib/generate.js";
import { layoutGraph, renderPanels } from "../../scripts/lib/graph-svg.js";

const label = (g: DotGraph, id: string): string => g.nodes.get(id)?.label ?? "";
const cls = (g: DotGraph, id: string): string => g.nodes.get(id)?.class ?? "";
/** Edges as "fromLabel -> toLabel", with the first line of each label. */
const edgeNames = (g: DotGraph): string[] => g.edges.map((e) => `${label(g, e.from).split("\n")[0]} -> ${label(g, e.to).split("\n")[0]}`).sort();
const ofClass = (g: DotGraph, c: string): string[] => [...g.nodes.keys()].filter((id) => cls(g, id) === c);

describe("toDot", () => {
  const { forward, linearized, transposed } = pictureJaxprs();

  it("draws the forward graph of (x-1)^2 + (x+1)^2", () => {
    const g = parseDot(toDot(forward, { title: "f" }));
    expect(g.graphAttrs.label).toBe("f");
    expect(ofClass(g, "input").map((id) => label(g, id))).toEqual(["a: f32[]"]);
    expect(ofClass(g, "output").map((id) => label(g, id))).toEqual(["out: f32[]"]);
    expect(
      ofClass(g, "eqn")
        .map((id) => label(g, id).split("\n")[0])
        .sort(),
    ).toEqual(["add", "add", "integer_pow", "integer_pow", "sub"]);
    expect(ofClass(g, "literal").map((id) => label(g, id))).toEqual(["1.0", "1.0"]);
    expect(edgeNames(g)).toEqual(
      [
        "1.0 -> sub",
        "a: f32[] -> sub",
        "1.0 -> add",
        "a: f32[] -> add",
        "sub -> integer_pow",
        "add -> integer_pow",
        "integer_pow -> add",
        "integer_pow -> add",
        "add -> out: f32[]",
      ].sort(),
    );
    // the final add reads both squares; the output edge is labeled by its variable
    const last = g.edges.find((e) => cls(g, e.to) === "output")!;
    expect(g.edges.filter((e) => e.to === last.from).map((e) => label(g, e.from).split("\n")[0])).toEqual(["integer_pow", "integer_pow"]);
    expect(last.attrs.label).toBe("f");
    // operand order: sub reads the input first, then the literal
    const sub = ofClass(g, "eqn").find((id) => label(g, id) === "sub")!;
    expect(g.edges.filter((e) => e.to === sub).map((e) => cls(g, e.from))).toEqual(["input", "literal"]);
  });

  it("draws the linearized graph: dy = 2(x-1) dx + 2(x+1) dx, residuals 7 and 11 at x = 4.5", () => {
    const g = parseDot(toDot(linearized));
    const prims = ofClass(g, "eqn").map((id) => label(g, id));
    expect(prims.every((p) => p === "mul" || p === "add")).toBe(true);
    expect(
      ofClass(g, "literal")
        .map((id) => Number(label(g, id)))
        .sort((a, b) => a - b),
    ).toEqual([7, 11]);
    const add = ofClass(g, "eqn").find((id) => label(g, id) === "add")!;
    expect(g.edges.filter((e) => e.to === add).map((e) => label(g, e.from))).toEqual(["mul", "mul"]);
    expect(g.edges.filter((e) => cls(g, e.from) === "input").map((e) => label(g, e.to))).toEqual(["mul", "mul"]);
  });

  it("draws the transposed graph: dx = 11 dy + 7 dy", () => {
    const g = parseDot(toDot(transposed));
    expect(
      ofClass(g, "eqn")
        .map((id) => label(g, id))
        .sort(),
    ).toEqual(["add", "mul", "mul"]);
    expect(
      ofClass(g, "literal")
        .map((id) => Number(label(g, id)))
        .sort((a, b) => a - b),
    ).toEqual([7, 11]);
    expect(ofClass(g, "output")).toHaveLength(1);
  });

  it("shows constants, parameters, several outputs and literal outputs", () => {
    const w = np.array([1, 2, 3]);
    const cj = makeJaxpr((x: np.Array) => [np.sum(np.multiply(x, w), { axis: 0 }), np.array(2), x])(np.zeros([3]));
    const g = parseDot(toDot(cj));
    expect(ofClass(g, "const").map((id) => label(g, id))).toEqual(["a: f32[3]\nconst"]);
    expect(ofClass(g, "input").map((id) => label(g, id))).toEqual(["b: f32[3]"]);
    expect(ofClass(g, "eqn").map((id) => label(g, id))).toEqual(["mul", "reduce_sum\n[axes=(0,)]"]);
    expect(ofClass(g, "output").map((id) => label(g, id))).toEqual(["out 0: f32[]", "out 1: f32[]", "out 2: f32[3]"]);
    expect(edgeNames(g)).toContain("2.0 -> out 1: f32[]");
    expect(edgeNames(g)).toContain("b: f32[3] -> out 2: f32[3]");
  });

  it("draws a jitted call as one node with its jaxpr elided", () => {
    const f = jit((x: np.Array) => np.exp(x));
    const g = parseDot(toDot(makeJaxpr((x: np.Array) => f(np.sin(x)))(np.zeros([2]))));
    const labels = ofClass(g, "eqn").map((id) => label(g, id));
    expect(labels[0]).toBe("sin");
    expect(labels).toHaveLength(2);
    expect(labels[1]!.includes("\n  ")).toBe(false);
  });
});

describe("parseDot", () => {
  it("reads quoted strings with escapes, chains and defaults", () => {
    const g = parseDot('digraph g { graph [label="a\\"b"]; rankdir=LR; node [shape=box]; x [label="1\\n2"]; x -> y -> z [label=e]; /* c */ // d\n }');
    expect(g.name).toBe("g");
    expect(g.graphAttrs).toEqual({ label: 'a"b', rankdir: "LR" });
    expect([...g.nodes.keys()]).toEqual(["x", "y", "z"]);
    expect(g.nodes.get("x")!.label).toBe("1\n2");
    expect(g.edges).toEqual([
      { from: "x", to: "y", attrs: { label: "e" } },
      { from: "y", to: "z", attrs: { label: "e" } },
    ]);
    expect(() => parseDot("graph g {}")).toThrow(/digraph/);
  });
});

describe("the layered layout", () => {
  it("keeps nodes of a layer apart and every edge pointing down", () => {
    for (const cj of Object.values(pictureJaxprs())) {
      const l = layoutGraph(parseDot(toDot(cj)));
      const boxes = l.nodes.map((n) => ({ x0: n.x - n.w / 2, x1: n.x + n.w / 2, y0: n.y, y1: n.y + n.h }));
      for (let i = 0; i < boxes.length; i++)
        for (let j = i + 1; j < boxes.length; j++) {
          const a = boxes[i]!;
          const b = boxes[j]!;
          const overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
          expect(overlap, `${l.nodes[i]!.id} overlaps ${l.nodes[j]!.id}`).toBe(false);
        }
      for (const e of l.edges) for (let k = 1; k < e.points.length; k++) expect(e.points[k]![1]).toBeGreaterThan(e.points[k - 1]![1]);
      expect(l.width).toBeGreaterThan(0);
    }
  });

  it("renders the same SVG every time", () => {
    const { forward } = pictureJaxprs();
    const panel = { title: "f", graph: parseDot(toDot(forward)) };
    const a = renderPanels([panel]);
    expect(renderPanels([panel])).toBe(a);
    expect(a.startsWith("<svg")).toBe(true);
    expect(a.match(/<path d=/g)).toHaveLength(parseDot(toDot(forward)).edges.length + 1); // + arrow marker
  });
});
