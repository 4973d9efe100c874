/**
 * Every backend's op table is an exhaustive record over the kernel language's op
 * unions: an op a backend lacks is a compile error (the `@ts-expect-error` lines below
 * are compiled by `npm run typecheck`, which fails if they stop being errors), and at
 * run time each table has exactly one row per op.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { BINARY_JS, COMPARE_JS, UNARY_JS } from "../../src/backends/cpu/codegen.js";
import { BINARY_GL, COMPARE_GL, UNARY_GL } from "../../src/backends/gpu/codegen.js";
import { WASM_BINARY, WASM_UNARY } from "../../src/backends/wasm/kernel.js";
import { BINARY_OPS, type BinaryOp, COMPARE_OPS, type CompareOp, UNARY_OPS, type UnaryOp } from "../../src/kernel/ir.js";

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

describe("backend op tables", () => {
  it("have exactly one row per op, in every backend", () => {
    for (const t of [UNARY_JS, UNARY_GL, WASM_UNARY]) expect(sorted(Object.keys(t))).toEqual(sorted(UNARY_OPS));
    for (const t of [BINARY_JS, BINARY_GL, WASM_BINARY]) expect(sorted(Object.keys(t))).toEqual(sorted(BINARY_OPS));
    for (const t of [COMPARE_JS, COMPARE_GL]) expect(sorted(Object.keys(t))).toEqual(sorted(COMPARE_OPS));
  });

  it("are typed as records over the op unions", () => {
    expectTypeOf(UNARY_JS).toEqualTypeOf<Record<UnaryOp, (a: string) => string>>();
    expectTypeOf(UNARY_GL).toEqualTypeOf<Record<UnaryOp, (a: string) => string>>();
    expectTypeOf<keyof typeof WASM_UNARY>().toEqualTypeOf<UnaryOp>();
    expectTypeOf<keyof typeof BINARY_JS>().toEqualTypeOf<BinaryOp>();
    expectTypeOf<keyof typeof BINARY_GL>().toEqualTypeOf<BinaryOp>();
    expectTypeOf<keyof typeof WASM_BINARY>().toEqualTypeOf<BinaryOp>();
    expectTypeOf<keyof typeof COMPARE_JS>().toEqualTypeOf<CompareOp>();
    expectTypeOf<keyof typeof COMPARE_GL>().toEqualTypeOf<CompareOp>();
  });

  it("reject a table missing an op at compile time", () => {
    const { sin: _sin, ...withoutSin } = UNARY_JS;
    // @ts-expect-error a JS table without `sin` is not a table of every unary op
    const js: Record<UnaryOp, (a: string) => string> = withoutSin;
    const { max: _max, ...withoutMax } = BINARY_GL;
    // @ts-expect-error a GPU table without `max` is not a table of every binary op
    const gl: typeof BINARY_GL = withoutMax;
    const { tanh: _tanh, ...withoutTanh } = WASM_UNARY;
    // @ts-expect-error a Wasm table without `tanh` is not a table of every unary op
    const wasm: typeof WASM_UNARY = withoutTanh;
    expect(Object.keys(js)).not.toContain("sin");
    expect(Object.keys(gl)).not.toContain("max");
    expect(Object.keys(wasm)).not.toContain("tanh");
  });
});
