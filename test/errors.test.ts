/**
 * Error messages: each class of user error throws a plain `Error` whose message
 * names the operation, the shapes/dtypes involved and what would fix it. Junk inputs
 * (strings, null, undefined, objects, ...) to every np function give a clean Error,
 * never an internal TypeError/RangeError.
 */
import { describe, expect, it } from "vitest";
import { grad, makeJaxpr, np, valueAndGrad } from "../src/index.js";
import { expectError } from "./numpy/util.js";

const x23 = np.zeros([2, 3]);

describe("each error class names the operation, the shapes/dtypes and a fix", () => {
  it("broadcasting mismatch", () => {
    expectError(() => np.add(x23, np.zeros([4])), "add", "[2,3]", "[4]", "cannot be broadcast", /equal or 1/, /reshape or expandDims/);
    expectError(() => np.multiply(np.zeros([3, 2]), x23), "multiply", "[3,2]", "[2,3]");
    expectError(() => np.where(np.array([true, false]), x23, np.zeros([2, 1])), "where", "[2]", "[2,3]");
    expectError(() => x23.sub(np.zeros([3, 3])), "sub", "[2,3]", "[3,3]");
  });
  it("matmul misalignment", () => {
    expectError(() => np.matmul(x23, np.zeros([2, 3])), "matmul", "[2,3]", "not aligned", "3 (last axis of the first) != 2", /Transpose one operand/);
    expectError(() => np.matmul(np.zeros([4]), x23), "matmul", "[4]", "[2,3]");
    expectError(() => np.matmul(x23, 2), "matmul", "at least 1-d", "np.multiply");
    expectError(() => np.matmul(np.zeros([2, 2, 3]), np.zeros([3, 3, 1])), "matmul", "batch", "[2,2,3]", "[3,3,1]");
    expectError(() => x23.matmul(x23), "matmul", "[2,3]");
  });
  it("reshape size mismatch", () => {
    expectError(() => np.reshape(x23, [4]), "reshape", "[2,3]", "6 elements", "[4]", "4 elements", /sizes must match/);
    expectError(() => np.reshape(x23, [4, -1]), "reshape", "[2,3]", "[4,-1]", /must divide 6/);
    expectError(() => np.reshape(x23, [-1, -1]), "reshape", "only one dimension can be -1");
    expectError(() => x23.reshape([5]), "reshape", "[5]");
    expectError(() => np.array([1, 2, 3], { shape: [2, 2] }), "np.array", "3 values", "[2,2]");
  });
  it("bad axis", () => {
    expectError(() => np.sum(x23, { axis: 2 }), "sum", "axis 2", "rank 2", "-2..1");
    expectError(() => np.mean(x23, { axis: -3 }), "mean", "axis -3");
    expectError(() => np.expandDims(x23, 3), "expandDims", "axis 3", "-3..2");
    expectError(() => np.concatenate([x23, x23], 2), "concatenate", "axis 2");
    expectError(() => np.split(x23, 1, -3), "split", "axis -3");
    expectError(() => np.take(x23, [0], 2), "take", "axis 2");
    expectError(() => np.transpose(x23, [0, 2]), "transpose", "axis 2");
    expectError(() => np.transpose(x23, [0, 0]), "transpose", "(0,0)", "not a permutation", "[2,3]");
    expectError(() => np.sum(x23, { axis: 0.5 }), "sum", "integer", "0.5");
    expectError(() => np.sum(np.array(3), { axis: 0 }), "sum", "rank 0", "0-d");
  });
  it("ragged nested array", () => {
    expectError(() => np.array([[1, 2], [3]]), "np.array", "ragged", "[1]", "length 1", "length 2", /same length/);
    expectError(() => np.array([[1, 2], 3] as never), "np.array", "ragged", "[1]");
    expectError(() => np.array([1, [2, 3]] as never), "np.array", "ragged", "[1]");
    expectError(
      () =>
        np.array([
          [[1], [2]],
          [[3], [4, 5]],
        ]),
      "np.array",
      "ragged",
      "[1][1]",
    );
  });
  it("take index out of range names the index and the size", () => {
    expectError(() => np.take(np.arange(5), [1, 7]), "take", "index 7", "size 5", "-5..4");
    expectError(() => np.take(x23, [-4], 1), "take", "index -4", "axis 1", "size 3");
    expectError(() => np.take(x23, [0.5]), "take", "integers", "0.5");
    expectError(() => np.take(x23, np.array([0])), "take", "int32", "f32[1]", "astype");
  });
  it("bad dtype", () => {
    expectError(() => np.zeros([2], "int64" as never), "np.zeros", '"int64"', '"float32"', '"float64"', '"int32"', '"bool"');
    expectError(() => np.array([1], { dtype: "f32" as never }), "np.array", '"f32"');
    expectError(() => x23.astype("double" as never), "astype", '"double"', "float64");
    expectError(() => np.arange(3, undefined, 1, "uint8" as never), "np.arange", "uint8");
    expectError(() => np.logicalAnd(x23, x23), "logicalAnd", "bool", "f32[2,3]", "astype");
    expectError(() => np.logicalNot(np.array([1, 2])), "logicalNot", "bool", "f32[2]");
    expectError(() => np.where(x23, 1, 0), "where", "bool", "f32[2,3]", "np.greater");
    expectError(() => np.matmul(np.array([true]), np.array([true])), "matmul", "bool", "astype");
  });
  it("squeeze of an axis that is not 1", () => {
    expectError(() => np.squeeze(x23, 1), "squeeze", "axis 1", "[2,3]", "size 3", "only size-1 axes");
    expectError(() => np.squeeze(np.zeros([1, 2]), [0, 1]), "squeeze", "axis 1", "size 2");
  });
  it("split not divisible", () => {
    expectError(() => np.split(np.arange(5), 2), "split", "size 5", "2 equal sections", "split indices");
    expectError(() => np.split(x23, 2, 1), "split", "axis 1", "size 3", "[2,3]");
    expectError(() => np.split(x23, 0), "split", "0 equal sections");
  });
  it("grad of a non-scalar function gives the shape received", () => {
    expectError(() => grad((x: np.Array) => np.sin(x))(np.array([1, 2])), "grad", "scalar", "f32[2]", "np.sum");
    expectError(() => valueAndGrad((x: np.Array) => np.multiply(x, x))(np.zeros([2, 2])), "valueAndGrad", "scalar", "f32[2,2]");
    expectError(() => grad((x: np.Array) => np.sum(x))(np.array([1], { dtype: "int32" })), "grad", "int32", "astype");
    expectError(() => grad("f" as never), "grad", "function");
  });
  it("other shape errors", () => {
    expectError(() => np.concatenate([x23, np.zeros([3, 2])]), "concatenate", "[2,3]", "[3,2]", "every axis except axis 0");
    expectError(() => np.stack([x23, np.zeros([3])]), "stack", "[2,3]", "[3]", "same shape");
    expectError(() => np.slice(x23, [0, 2], [2, 1]), "slice", "axis 1", "size 3", "[2,3]");
    expectError(() => np.broadcastTo(x23, [3, 3]), "broadcastTo", "[2,3]", "[3,3]");
    expectError(() => np.arange(0, 1, 0), "np.arange", "step", "non-zero");
    expectError(() => np.eye(-1), "np.eye", "non-negative integer");
    expectError(() => np.zeros([2, -1]), "np.zeros", "non-negative integers", "[2,-1]");
    expectError(() => np.ones([2]).item(), "item()", "[2]");
    expectError(() => np.max(np.zeros([0])), "max", "[0]");
  });
  it("reading a value while tracing says it is abstract", () => {
    expectError(() => makeJaxpr((x: np.Array) => x.item())(np.array(1)), "item()", "abstract", "staticArgnums");
  });
});

describe("junk inputs never leak internal errors", () => {
  const junk: [string, unknown][] = [
    ["a string", "abc"],
    ["null", null],
    ["undefined", undefined],
    ["an empty object", {}],
    ["an object", { shape: [2] }],
    ["a mixed list", [1, "x"]],
    ["NaN", NaN],
    ["a function", () => 1],
    ["a symbol", Symbol("s")],
    ["a bigint", 3n],
    ["a Map", new Map()],
  ];
  const good = np.array([
    [1, 2],
    [3, 4],
  ]);
  const fns = Object.entries(np).filter(([, v]) => typeof v === "function") as [string, (...a: unknown[]) => unknown][];
  const all: [string, (...a: unknown[]) => unknown][] = [...fns, ["linalg.norm", np.linalg.norm as (...a: unknown[]) => unknown]];

  it("covers the whole np namespace", () => {
    const names = all.map(([n]) => n);
    for (const n of ["array", "zeros", "add", "sum", "var", "matmul", "reshape", "take", "split", "where", "clip", "linalg.norm"]) expect(names).toContain(n);
    expect(names.length).toBeGreaterThan(60);
  });

  for (const [name, f] of all) {
    it(`np.${name}`, () => {
      for (let pos = 0; pos < 3; pos++) {
        for (const [what, j] of junk) {
          // good arguments elsewhere: an array, or a valid shape / list for creation functions
          const args: unknown[] = ["zeros", "ones", "full"].includes(name)
            ? [[2], 1, "float32"]
            : ["concatenate", "stack"].includes(name)
              ? [[good, good], 0]
              : [good, good, good];
          args[pos] = j;
          let err: unknown = null;
          try {
            f(...args);
          } catch (e) {
            err = e;
          }
          if (err === null) continue; // junk in an ignored or number-accepting slot (e.g. NaN) is fine
          const e = err as Error;
          expect(e.constructor, `np.${name} with ${what} at position ${pos}: ${String(e)}`).toBe(Error);
          expect(e.message).not.toMatch(/Cannot read prop|is not a function|is not iterable|Invalid (typed )?array length|Cannot convert|undefined is not/);
          expect(e.message.length).toBeGreaterThan(20);
          if (pos === 0 && !["concatenate", "stack"].includes(name)) {
            // the message names the function (creation functions as np.zeros etc.)
            const base = name === "var" ? "var" : name;
            expect(e.message.toLowerCase(), `np.${name} with ${what}: ${e.message}`).toContain(base.toLowerCase());
          }
        }
      }
    });
  }

  it("options must be objects, with an example in the message", () => {
    expectError(() => np.sum(good, 0 as never), "sum", "options", "{ axis: 0");
    expectError(() => np.var(good, "x" as never), "var", "options");
    expectError(() => np.argmax(good, 1 as never), "argmax", "options");
    expectError(() => np.linalg.norm(good, 2 as never), "linalg.norm", "options");
    expectError(() => np.array([1], "float64" as never), "np.array", "options", "dtype");
    expectError(() => np.var(good, { ddof: "1" as never }), "var", "ddof");
    expectError(() => np.linalg.norm(good, { ord: "nuc" as never }), "linalg.norm", "ord", '"nuc"');
  });
  it("JS arrays where an Array is needed suggest np.array", () => {
    expectError(() => np.add([1, 2] as never, 1), "add", "np.array");
    expectError(() => np.sin([1, 2] as never), "sin", "np.array");
    expectError(() => np.sum([1, 2] as never), "sum", "np.array");
  });
  it("fluent methods give the same clean errors", () => {
    expectError(() => good.add("a" as never), "add", '"a"');
    expectError(() => good.reshape("a" as never), "reshape", '"a"');
    expectError(() => good.sum({ axis: 7 }), "sum", "axis 7");
    expectError(() => good.transpose([1] as never), "transpose");
  });
});
