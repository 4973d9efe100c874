/**
 * Small assertion helpers for the np tests: compare an array with hand-computed
 * NumPy results (shape, dtype and values) with a readable failure message.
 */
import { expect } from "vitest";
import { type Array as NDArray, type DType, type NestedArray } from "../../src/index.js";

/** Flattens nested JS data (numbers or booleans) and infers its NumPy shape. */
export function flattenNested(x: NestedArray): { shape: number[]; values: number[] } {
  const shape: number[] = [];
  let p: NestedArray = x;
  while (Array.isArray(p)) {
    shape.push(p.length);
    p = p[0] as NestedArray;
  }
  const values: number[] = [];
  const rec = (v: NestedArray): void => {
    if (Array.isArray(v)) v.forEach(rec);
    else values.push(typeof v === "boolean" ? (v ? 1 : 0) : v);
  };
  rec(x);
  return { shape, values };
}

export interface CloseOptions {
  /** Relative + absolute tolerance (|a - e| <= tol * (1 + |e|)); 0 means exact. */
  tol?: number;
  dtype?: DType;
  /** Expected shape when `expected` cannot show it (e.g. zero-size arrays). */
  shape?: number[];
}

/**
 * Expects `actual` to have the shape of `expected` (and `dtype` if given) and the same
 * values within `tol` (default: 1e-6 for float32, 1e-12 for float64, exact otherwise).
 * NaN matches NaN; infinities must match exactly.
 */
export function expectArray(actual: NDArray, expected: NestedArray, opts: CloseOptions = {}): void {
  const { shape, values } = flattenNested(expected);
  expect(actual.shape, "shape").toEqual(opts.shape ?? shape);
  if (opts.dtype) expect(actual.dtype, "dtype").toBe(opts.dtype);
  const tol = opts.tol ?? (actual.dtype === "float64" ? 1e-12 : actual.dtype === "float32" ? 1e-6 : 0);
  const got = Array.from(actual.data(), Number);
  expect(got.length).toBe(values.length);
  const bad: string[] = [];
  got.forEach((g, i) => {
    const e = values[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(g) : !Number.isFinite(e) ? g === e : Math.abs(g - e) <= tol * (1 + Math.abs(e));
    if (!ok) bad.push(`[${i}] got ${g}, expected ${e}`);
  });
  expect(bad, `values of ${actual.toString()}`).toEqual([]);
}

/** Row-major flat values of an array as plain numbers. */
export function values(x: NDArray): number[] {
  return Array.from(x.data(), Number);
}

/** Expects `f` to throw a plain `Error` (not a TypeError/RangeError) whose message matches every pattern. */
export function expectError(f: () => unknown, ...patterns: (RegExp | string)[]): string {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err, "expected an error to be thrown").toBeInstanceOf(Error);
  const e = err as Error;
  expect(e.constructor.name, `error class for: ${e.message}`).toBe("Error");
  for (const p of patterns) {
    if (typeof p === "string") expect(e.message).toContain(p);
    else expect(e.message).toMatch(p);
  }
  return e.message;
}
