/**
 * Keeps the reference whole: every runtime value exported from src/index.ts, and
 * every member of the namespaces (np, tree, random, nn, losses, optim, ...) and of
 * objects of functions (np.linalg, nn.linear, ...), must have a TSDoc comment with a
 * summary and a runnable `@example` (which test/docs/examples.test.ts runs).
 * Namespaces need a `@module` comment with a summary at the top of their file, and
 * exported objects of functions a `@namespace` tag (typedoc then documents their members).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { publicExports } from "../../scripts/lib/exports.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const exports = publicExports(root);

describe("public exports", () => {
  it("include the documented API", () => {
    const names = new Set(exports.map((e) => e.name));
    for (const n of ["grad", "vjp", "makeJaxpr", "toDot", "np", "np.sum", "np.linalg", "np.linalg.norm", "tree", "tree.map", "Array"])
      expect(names, n).toContain(n);
  });

  it("every export has a TSDoc summary", () => {
    expect(exports.filter((e) => !e.hasDoc).map((e) => `${e.name} (${e.kind}, ${e.where}) has no TSDoc summary`)).toEqual([]);
  });

  it("every exported object of functions is tagged @namespace (so typedoc documents its members)", () => {
    expect(
      exports.filter((e) => e.hasNamespaceTag === false).map((e) => `${e.name} (${e.where}) is an object of functions: add @namespace to its TSDoc`),
    ).toEqual([]);
  });

  it("every export has an @example", () => {
    expect(exports.filter((e) => e.needsExample && !e.hasExample).map((e) => `${e.name} (${e.kind}, ${e.where}) has no @example`)).toEqual([]);
  });
});
