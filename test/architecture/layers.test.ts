/**
 * The layers of src/, as code: reads every import (type-only ones included) of every
 * file under src/ and checks the rules of docs/CONTRIBUTING.md:
 * - core imports only core; ir only core; the kernel language only core and ir;
 * - backends never import passes, interpreters, transforms, primitives or the
 *   user-facing modules (numpy, nn, optim, losses, random);
 * - primitives never import a concrete backend (backends/cpu, backends/wasm,
 *   backends/gpu): they ask the registry;
 * - interpreters import no backend and no pass;
 * - no import cycle between the folders of src/.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative module a file imports or re-exports (static, type-only and dynamic imports). */
function importsOf(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.[^"']+)["']/g)) out.push(m[1]!);
  for (const m of source.matchAll(/(?:^|\n)\s*import\s+["'](\.[^"']+)["']/g)) out.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["'](\.[^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The folder (layer) of a file under src/: its first directory, or `backends/<name>` for a concrete backend. */
function layerOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  if (parts.length === 1) return "(root)";
  if (parts[0] === "backends" && parts.length > 2) return `backends/${parts[1]}`;
  return parts[0]!;
}
const folderOf = (layer: string): string => layer.split("/")[0]!;

interface Edge {
  from: string;
  to: string;
  fromLayer: string;
  toLayer: string;
}

const edges: Edge[] = files(SRC).flatMap((f) =>
  importsOf(readFileSync(f, "utf8")).map((spec) => {
    const target = normalize(join(dirname(f), spec.replace(/\.js$/, ".ts")));
    return { from: relative(SRC, f), to: relative(SRC, target), fromLayer: layerOf(f), toLayer: layerOf(target) };
  }),
);

const USER_FACING = ["numpy", "nn", "optim", "losses", "random"];
const CONCRETE_BACKENDS = ["backends/cpu", "backends/wasm", "backends/gpu"];

/** The imports that break a rule: `from` in layers matching `who` importing a layer matching `forbidden`. */
function violations(who: (layer: string) => boolean, forbidden: (layer: string) => boolean): string[] {
  return edges.filter((e) => who(e.fromLayer) && forbidden(e.toLayer)).map((e) => `${e.from} -> ${e.to}`);
}

describe("layers of src/", () => {
  it("reads the import graph (sanity: the parser finds imports of every kind)", () => {
    expect(edges.length).toBeGreaterThan(200);
    expect(edges.some((e) => e.from === "index.ts" && e.to.startsWith("transforms"))).toBe(true);
    expect(importsOf(`import type { A } from "./a.js";\nexport { b } from "../b.js";\nimport "./c.js";\nconst d = await import("./d.js");`)).toEqual([
      "./a.js",
      "../b.js",
      "./c.js",
      "./d.js",
    ]);
  });

  it("core imports only core", () => {
    expect(
      violations(
        (l) => l === "core",
        (l) => l !== "core",
      ),
    ).toEqual([]);
  });

  it("ir imports only core", () => {
    expect(
      violations(
        (l) => l === "ir",
        (l) => l !== "core" && l !== "ir",
      ),
    ).toEqual([]);
  });

  it("the kernel language imports only core and ir", () => {
    expect(
      violations(
        (l) => l === "kernel",
        (l) => !["core", "ir", "kernel"].includes(l),
      ),
    ).toEqual([]);
  });

  it("backends import no pass, interpreter, transform, primitive or user-facing module", () => {
    const banned = ["passes", "interpreters", "transforms", "primitives", ...USER_FACING];
    expect(
      violations(
        (l) => folderOf(l) === "backends",
        (l) => banned.includes(l),
      ),
    ).toEqual([]);
  });

  it("primitives import no concrete backend (they ask the registry)", () => {
    expect(
      violations(
        (l) => l === "primitives",
        (l) => CONCRETE_BACKENDS.includes(l),
      ),
    ).toEqual([]);
  });

  it("interpreters import no backend and no pass", () => {
    expect(
      violations(
        (l) => l === "interpreters",
        (l) => folderOf(l) === "backends" || l === "passes",
      ),
    ).toEqual([]);
  });

  it("no import cycle between folders", () => {
    const graph = new Map<string, Set<string>>();
    for (const e of edges) {
      const a = folderOf(e.fromLayer);
      const b = folderOf(e.toLayer);
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === "done") return;
      if (state.get(n) === "open") {
        cycles.push([...path.slice(path.indexOf(n)), n].join(" -> "));
        return;
      }
      state.set(n, "open");
      for (const m of graph.get(n) ?? []) visit(m, [...path, n]);
      state.set(n, "done");
    };
    for (const n of graph.keys()) visit(n, []);
    const witnesses = cycles.map((c) => {
      const [a, b] = c.split(" -> ");
      const e = edges.find((x) => folderOf(x.fromLayer) === a && folderOf(x.toLayer) === b);
      return `${c} (e.g. ${e?.from} -> ${e?.to})`;
    });
    expect(witnesses).toEqual([]);
  });
});
