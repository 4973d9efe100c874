/**
 * Runs every documented example: the ```ts blocks of TSDoc `@example` tags in src/,
 * and the ```ts blocks of README.md and docs/*.md. `console.log(...); // expected`
 * comments are checked against what is printed; the convention is described in
 * scripts/lib/examples.ts and docs/CONTRIBUTING.md.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as lib from "../../src/index.js";
import { collectExamples, outputMatches, prepareExample, runExample, typecheckExamples } from "../../scripts/lib/examples.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const all = collectExamples(root);
// EXAMPLES=docs/pytrees.md npx vitest run test/docs/examples.test.ts runs only matching examples
const only = process.env.EXAMPLES;
const examples = only ? all.examples.filter((e) => e.where.includes(only)) : all.examples;
const problems = all.problems;

describe("the example-comment convention", () => {
  it("compares tokens, numbers with a tolerance, ignoring whitespace and quote marks", () => {
    expect(outputMatches("[ 2, 0.4000000059604645, 0.05999999865889549 ]", "[2, 0.4, 0.06]")).toBe(true);
    expect(outputMatches("[ 2, 0.41 ]", "[2, 0.4]")).toBe(false);
    expect(outputMatches("5 [ 2, 4 ]", "5 [2, 4]")).toBe(true);
    expect(outputMatches("[ 'a', 'b' ]", '["a", "b"]')).toBe(true);
    expect(outputMatches("[ 2 ] float32", '[2] "float32"')).toBe(true);
    expect(outputMatches("float32", "float64")).toBe(false);
    expect(outputMatches("{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b) }", "{ lambda ; a:f32[3]. let\n  b:f32[3] = sin a\n in (b) }")).toBe(true);
    expect(outputMatches("a:f32[3]", "a:f64[3]")).toBe(false);
    expect(outputMatches("NaN -Infinity true", "NaN -Infinity true")).toBe(true);
    expect(outputMatches("1e-7", "0")).toBe(true);
    expect(outputMatches("1e-5", "0")).toBe(false);
    expect(outputMatches("[ 1, 2, 3, 4 ]", "[1, ...]")).toBe(true);
    expect(outputMatches("[ 1, 2, 3, 4 ]", "[1, ..., 4]")).toBe(true);
    expect(outputMatches("[ 1, 2, 3, 4 ]", "[2, ...]")).toBe(false);
    expect(outputMatches("1 2", "1")).toBe(false);
  });

  it("rewrites imports and checked console.log calls", () => {
    const p = prepareExample(
      [
        'import { np, type DType, grad as g } from "cotangent";',
        'const d: DType = "float32";',
        "console.log(np.zeros([2], d).toJs()); // [0, 0]",
        "console.log('unchecked');",
        "",
        "console.log('two');",
        "// lines",
      ].join("\n"),
    );
    expect(p.js).toContain("const { np, grad: g } = __cotangent;");
    expect(p.js).not.toContain("DType");
    expect(p.expectations).toEqual([
      { line: 3, expected: "[0, 0]" },
      { line: 6, expected: "lines" },
    ]);
    expect(p.js).toContain("__check[0](np.zeros");
    expect(p.js).toContain("console.log('unchecked')");
    expect(() => prepareExample('import { x } from "fs";')).toThrow(/only from "cotangent"/);
  });

  it("reports a mismatch with the file and line", async () => {
    const ex = { file: "x.ts", line: 10, where: "x.ts:10", code: 'import { np } from "cotangent";\nconsole.log(np.array([1, 2]).toJs()); // [1, 3]' };
    await expect(runExample(ex, lib)).rejects.toThrow(/x\.ts:11: console\.log printed\n\s+\[ 1, 2 \]\n\s+but the comment says\n\s+\[1, 3\]/);
  });
});

describe("documentation examples", () => {
  it("were found", () => {
    expect(all.examples.length).toBeGreaterThan(50);
  });

  it("every @example tag holds a ```ts code block", () => {
    expect(problems.map((p) => `${p.where}: ${p.message}`)).toEqual([]);
  });

  for (const ex of examples) {
    it(`runs ${ex.where}`, async () => {
      await runExample(ex, lib);
    });
  }

  it("typecheck against the public API", () => {
    expect(typecheckExamples(root, examples)).toEqual([]);
  });
});
