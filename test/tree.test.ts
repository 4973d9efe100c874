/**
 * Pytrees: flatten / unflatten / map / leaves / structure, treedef equality and
 * printing, null/undefined as empty subtrees, and structure-mismatch errors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, np, tree } from "../src/index.js";

describe("flatten and unflatten", () => {
  it("leaves come depth-first with object keys sorted (as JAX sorts dict keys)", () => {
    const t = { w: [1, 2], b: { z: 3, a: 4 }, c: 5 };
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([4, 3, 5, 1, 2]);
    expect(def.numLeaves).toBe(5);
    expect(tree.unflatten(def, leaves)).toEqual(t);
  });
  it("arrays are leaves, kept by identity", () => {
    const x = np.array([1, 2]);
    const y = np.zeros([3]);
    const [leaves, def] = tree.flatten({ layer: { w: x, b: y } });
    expect(leaves[0]).toBe(y);
    expect(leaves[1]).toBe(x);
    const back = tree.unflatten(def, leaves) as { layer: { w: NDArray; b: NDArray } };
    expect(back.layer.w).toBe(x);
    expect(back.layer.b).toBe(y);
  });
  it("a single leaf, empty containers and class instances", () => {
    expect(tree.flatten(7)[0]).toEqual([7]);
    expect(tree.structure(7).toString()).toBe("PyTreeDef(*)");
    expect(tree.leaves([])).toEqual([]);
    expect(tree.leaves({})).toEqual([]);
    expect(tree.leaves([[], {}, [[]]])).toEqual([]);
    class Point {
      constructor(readonly x: number) {}
    }
    const p = new Point(1);
    expect(tree.leaves([p])).toEqual([p]);
    expect(tree.leaves(["s", true])).toEqual(["s", true]);
  });
  it("null and undefined are empty subtrees that are kept in the structure", () => {
    const t = { a: null, b: [undefined, 1], c: 2 };
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([1, 2]);
    expect(def.numLeaves).toBe(2);
    expect(def.toString()).toBe("PyTreeDef({a: null, b: [undefined, *], c: *})");
    expect(tree.unflatten(def, [10, 20])).toEqual({ a: null, b: [undefined, 10], c: 20 });
    expect(tree.leaves(null)).toEqual([]);
    expect(tree.structure(null).equals(tree.structure(undefined))).toBe(false);
  });
  it("holes in sparse JS arrays are empty subtrees", () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const [leaves, def] = tree.flatten(sparse);
    expect(leaves).toEqual([1, 3]);
    expect(def.toString()).toBe("PyTreeDef([*, undefined, *])");
  });
  it("unflatten checks the number of leaves and its arguments", () => {
    const def = tree.structure([1, [2, 3]]);
    expect(() => tree.unflatten(def, [1, 2])).toThrow(/PyTreeDef\(\[\*, \[\*, \*\]\]\) has 3 leaves but 2 were given/);
    expect(() => tree.unflatten({} as never, [])).toThrow(/must be a TreeDef/);
    expect(() => tree.unflatten(def, "abc" as never)).toThrow(/leaves must be a JS array/);
  });
  it("a cycle is a clear error, not a stack overflow", () => {
    const a: unknown[] = [1];
    a.push(a);
    let err: unknown;
    try {
      tree.flatten(a);
    } catch (e) {
      err = e;
    }
    expect((err as Error).constructor).toBe(Error);
    expect((err as Error).message).toMatch(/cycle/);
    // shared (non-cyclic) subtrees are fine
    const shared = { x: 1 };
    expect(tree.leaves([shared, shared])).toEqual([1, 1]);
  });
});

describe("treedefs", () => {
  it("compare equal by structure, whatever the leaves and key order", () => {
    const s1 = tree.structure({ a: 1, b: [2, 3] });
    const s2 = tree.structure({ b: [np.zeros([2]), "x"], a: 9 });
    expect(s1.equals(s2)).toBe(true);
    expect(s1.equals(tree.structure({ a: 1, b: [2] }))).toBe(false);
    expect(s1.equals(tree.structure({ a: 1, c: [2, 3] }))).toBe(false);
    expect(s1.equals(tree.structure([1, [2, 3]]))).toBe(false);
    expect(tree.structure([1, 2]).equals(tree.structure({ 0: 1, 1: 2 }))).toBe(false);
    expect(tree.structure([null]).equals(tree.structure([1]))).toBe(false);
  });
  it("print readably", () => {
    expect(tree.structure([np.zeros([2]), { w: 1, b: 2 }]).toString()).toBe("PyTreeDef([*, {b: *, w: *}])");
    expect(tree.structure({ layers: [{ w: 1 }, { w: 2 }] }).toString()).toBe("PyTreeDef({layers: [{w: *}, {w: *}]})");
    expect(String(tree.structure([]))).toBe("PyTreeDef([])");
  });
});

describe("tree.map", () => {
  it("applies fn leafwise, keeping the structure", () => {
    expect(tree.map((x: number) => x * 10, { a: [1, 2], b: 3 })).toEqual({ a: [10, 20], b: 30 });
    const params = { w: np.array([1, 2]), b: np.array(3) };
    const scaled = tree.map((p: NDArray) => p.mul(2), params) as typeof params;
    expect(scaled.w.toJs()).toEqual([2, 4]);
    expect(scaled.b.toJs()).toBe(6);
  });
  it("with several trees: fn gets the corresponding leaves", () => {
    const out = tree.map((a: number, b: number, c: number) => a + 10 * b + 100 * c, [1, { x: 2 }], [3, { x: 4 }], [5, { x: 6 }]);
    expect(out).toEqual([531, { x: 642 }]);
  });
  it("null / undefined subtrees are skipped and kept", () => {
    const calls: unknown[] = [];
    const out = tree.map((x: number) => (calls.push(x), x + 1), { a: null, b: 1, c: [undefined] });
    expect(out).toEqual({ a: null, b: 2, c: [undefined] });
    expect(calls).toEqual([1]);
  });
  it("mismatched structures are an error naming both structures", () => {
    expect(() => tree.map((a: number, b: number) => a + b, { a: 1, b: 2 }, { a: 1 })).toThrow(
      /tree\.map: tree 1 has structure PyTreeDef\(\{a: \*\}\) but the first has PyTreeDef\(\{a: \*, b: \*\}\)/,
    );
    expect(() => tree.map((a: number, b: number) => a + b, [1, 2], [1, [2]])).toThrow(/tree 1 has structure/);
    expect(() => tree.map((a: number, b: number, c: number) => a + b + c, [1], [1], { x: 1 })).toThrow(/tree 2 has structure/);
    expect(() => tree.map("nope" as never, [1])).toThrow(/must be a function/);
  });
});

describe("properties", () => {
  // random pytrees of numbers, nulls, arrays and objects
  const { node } = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.integer({ min: -50, max: 50 }),
      fc.constant(null),
      fc.array(tie("node"), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom("a", "b", "c", "w", "bias"), tie("node"), { maxKeys: 3 }),
    ),
  }));

  it("unflatten(flatten(t)) rebuilds t, and structure is stable under map", () => {
    fc.assert(
      fc.property(node, (t) => {
        const [leaves, def] = tree.flatten(t);
        expect(leaves.every((l) => typeof l === "number")).toBe(true);
        expect(leaves).toHaveLength(def.numLeaves);
        expect(tree.unflatten(def, leaves)).toEqual(t);
        const mapped = tree.map((x: number) => x * 2, t);
        expect(tree.structure(mapped).equals(def)).toBe(true);
        expect(tree.leaves(mapped)).toEqual(leaves.map((x) => (x as number) * 2));
        expect(tree.structure(mapped).toString()).toBe(def.toString());
      }),
      { numRuns: 150 },
    );
  });
});
