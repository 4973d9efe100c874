/**
 * io.save / io.load in the safetensors format (issue 13, 7): bit-exact round trips in
 * float32 and float64 (NaN payloads, -0, infinities, subnormals included), a file
 * compared byte by byte with one written by hand (scripts/safetensors_fixture.py), the
 * pytree paths and the metadata, and clear errors on malformed files.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConcreteArray, ShapedArray, io, np, tree, type Array as NDArray } from "../../src/index.js";
import { expectError } from "../numpy/util.js";

const ref = JSON.parse(readFileSync(new URL("../fixtures/safetensors_reference.json", import.meta.url), "utf8")) as {
  f32Bits: number[];
  biasBits: number[];
  base64: string;
};
const refBytes = new Uint8Array(Buffer.from(ref.base64, "base64"));

const f32FromBits = (bits: number[], shape: number[]): NDArray =>
  new ConcreteArray(new ShapedArray(shape, "float32"), new Float32Array(new Uint32Array(bits).buffer));
/** The bit patterns of a float32 array. */
const bitsOf = (x: NDArray): number[] => Array.from(new Uint32Array((x.data() as Float32Array).buffer));

describe("io.save matches a file written by hand, byte by byte", () => {
  const tree = {
    __metadata__: { format: "pt", note: "hand-written" },
    layers: [{ weight: f32FromBits(ref.f32Bits, [2, 3]), bias: f32FromBits(ref.biasBits, [2]) }, { weight: np.array([[0.1, -1e308]], { dtype: "float64" }) }],
    step: np.array(-7, { dtype: "int32" }),
    mask: np.array([true, false, true]),
    empty: np.zeros([0]),
  };
  it("the same bytes", () => {
    const bytes = io.save(tree);
    expect(bytes.length).toBe(refBytes.length);
    const diff = bytes.findIndex((b, i) => b !== refBytes[i]);
    expect(diff, `first differing byte ${diff}`).toBe(-1);
  });
  it("loading the reference rebuilds the tree, lists and metadata", () => {
    const t = io.load(refBytes) as unknown as typeof tree;
    expect(Object.keys(t).sort()).toEqual(["__metadata__", "empty", "layers", "mask", "step"]);
    expect(t.__metadata__).toEqual({ format: "pt", note: "hand-written" });
    expect(Array.isArray(t.layers)).toBe(true);
    expect(bitsOf(t.layers[0]!.weight)).toEqual(ref.f32Bits);
    expect(bitsOf(t.layers[0]!.bias!)).toEqual(ref.biasBits);
    expect(t.layers[0]!.weight.shape).toEqual([2, 3]);
    expect(t.layers[1]!.weight.toJs()).toEqual([[0.1, -1e308]]);
    expect(t.layers[1]!.weight.dtype).toBe("float64");
    expect([t.step.dtype, t.step.shape, t.step.item()]).toEqual(["int32", [], -7]);
    expect([t.mask.dtype, t.mask.toJs()]).toEqual(["bool", [true, false, true]]);
    expect(t.empty.shape).toEqual([0]);
  });
  it("a Node Buffer at an odd offset loads too", () => {
    const big = Buffer.alloc(refBytes.length + 3);
    big.set(refBytes, 3);
    const t = io.load(big.subarray(3)) as unknown as typeof tree;
    expect(bitsOf(t.layers[0]!.weight)).toEqual(ref.f32Bits);
  });
});

describe("round trips are bit-exact", () => {
  it("float32, any bit pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 40 }), (bits) => {
        const x = f32FromBits(bits, [bits.length]);
        const back = (io.load(io.save({ x })) as { x: NDArray }).x;
        expect(bitsOf(back)).toEqual(bits);
      }),
      { numRuns: 50 },
    );
  });
  it("float64, any bit pattern", () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 40 }), (bits) => {
        const x = new ConcreteArray(new ShapedArray([bits.length], "float64"), new Float64Array(new BigUint64Array(bits).buffer));
        const back = (io.load(io.save({ nested: { x } })) as { nested: { x: NDArray } }).nested.x;
        expect(Array.from(new BigUint64Array((back.data() as Float64Array).buffer))).toEqual(bits);
      }),
      { numRuns: 50 },
    );
  });
  it("int32, bool and shapes; nested lists of objects; a list at the root", () => {
    const tree = { a: [[np.array([[1, 2]], { dtype: "int32" })], { b: np.array(false) }] };
    const back = io.load(io.save(tree)) as unknown as typeof tree;
    expect((back.a[0] as NDArray[])[0]!.toJs()).toEqual([[1, 2]]);
    expect((back.a[1] as { b: NDArray }).b.toJs()).toBe(false);
    const list = io.load(io.save([np.ones([1]), np.zeros([2])])) as NDArray[];
    expect(Array.isArray(list) && list.map((x) => x.shape)).toEqual([[1], [2]]);
    // keys that are not exactly 0..n-1 stay an object
    expect(Array.isArray((io.load(io.save({ m: { 0: np.ones([1]), 2: np.ones([1]) } })) as { m: unknown }).m)).toBe(false);
  });
});

describe("registered pytree classes", () => {
  it("are saved by their children's positions and load as lists", () => {
    class Pair {
      constructor(
        readonly a: NDArray,
        readonly b: NDArray,
      ) {}
    }
    tree.register(Pair, { flatten: (p: Pair) => [[p.a, p.b], null], unflatten: (_, [a, b]) => new Pair(a, b) });
    const back = io.load(io.save({ p: new Pair(np.array([1]), np.array([2])) })) as { p: NDArray[] };
    expect(back.p.map((x) => x.toJs())).toEqual([[1], [2]]);
  });
});

describe("errors name io.save / io.load, what they got and the fix", () => {
  it("save", () => {
    expectError(() => io.save({ w: 3 }), "io.save", '"w"', "3", "np.array");
    expectError(() => io.save({ "a.b": np.ones([1]) }), "io.save", '"a.b"', "'.'");
    expectError(() => io.save(np.ones([1])), "io.save", "{ weight: x }");
    expectError(() => io.save({ __metadata__: { n: 1 }, w: np.ones([1]) }), "io.save", "__metadata__", "strings");
  });
  it("load", () => {
    expectError(() => io.load(new Uint8Array(4)), "io.load", "4 bytes", "too short");
    expectError(() => io.load(refBytes.subarray(0, 100)), "io.load", "truncated");
    expectError(() => io.load(refBytes.subarray(0, refBytes.length - 2)), "io.load", "truncated");
    const withDtype = (code: string): Uint8Array => {
      const h = new TextEncoder().encode(JSON.stringify({ x: { dtype: code, shape: [1], data_offsets: [0, 2] } }));
      const b = new Uint8Array(8 + h.length + 2);
      new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
      b.set(h, 8);
      return b;
    };
    expectError(() => io.load(withDtype("BF16")), "io.load", '"x"', "BF16", "F32, F64, I32 and BOOL");
    expectError(() => io.load(withDtype("F32")), "io.load", '"x"', "needs 4 bytes", "[0, 2]");
    expectError(() => io.load("abc" as never), "io.load", "Uint8Array");
  });
});
