/**
 * Each pass's effect on printed IR (inline snapshots, reviewed by eye), with the
 * typechecker run after every pass, and the values of the optimized program checked
 * against hand-computed results.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, type ClosedJaxpr, grad, jit, makeJaxpr, np, typecheckJaxpr } from "../../src/index.js";
import { ConcreteArray } from "../../src/core/array.js";
import { compileJaxpr } from "../../src/backends/cpu/compile.js";
import { type Pass, cse, dce, defaultPasses, foldConstants, inlineCalls, optimizeJaxpr, simplify } from "../../src/passes/index.js";
import { evalJaxpr } from "../../src/ir/jaxpr.js";
import { MAX_KERNEL_EQNS } from "../../src/passes/fuse.js";
import { broadcastTo, reshape, transpose } from "../../src/primitives/shape.js";
import { convert, neg, stopGradientArray } from "../../src/primitives/elementwise.js";

/** Typechecks a closed jaxpr and every jaxpr nested in a jit call. */
function typecheckDeep(cj: ClosedJaxpr): void {
  typecheckJaxpr(cj.jaxpr);
  for (const e of cj.jaxpr.eqns) if (e.primitive.name === "pjit") typecheckDeep(e.params.jaxpr as ClosedJaxpr);
}

/** Applies passes one at a time, typechecking after each. */
function run(cj: ClosedJaxpr, passes: readonly Pass[]): ClosedJaxpr {
  typecheckDeep(cj);
  return passes.reduce((j, p) => {
    const out = p(j);
    typecheckDeep(out);
    return out;
  }, cj);
}

/** Runs a closed jaxpr through the CPU compiler. */
function exec(cj: ClosedJaxpr, ...args: NDArray[]): number[][] {
  args.forEach((a, i) => expect(a.aval.toString()).toBe(cj.inAvals[i]!.toString()));
  return compileJaxpr(cj)(args as ConcreteArray[]).map((o) => Array.from(o.data(), Number));
}

const f64 = (xs: number[]): NDArray => np.array(xs, { dtype: "float64" });
const z64 = (...shape: number[]): NDArray => np.zeros(shape, "float64");

describe("dead-code elimination", () => {
  it("drops an unused exp and keeps the rest", () => {
    const j = makeJaxpr((x: NDArray) => {
      np.exp(x);
      return np.sin(x);
    })(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = exp a; c:f32[3] = sin a in (c) }"`);
    const out = run(j, [dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = sin a in (b) }"`);
  });

  it("drops unused constants", () => {
    const c = np.array([1, 2, 3]);
    const j = makeJaxpr((x: NDArray) => {
      np.add(x, c);
      return np.negative(x);
    })(np.zeros([3]));
    expect(j.jaxpr.constVars).toHaveLength(1);
    const out = run(j, [dce]);
    expect(out.jaxpr.constVars).toHaveLength(0);
    expect(out.consts).toHaveLength(0);
  });

  it("prunes unused outputs and inputs of a nested jit call", () => {
    const inner = jit((x: NDArray, y: NDArray) => [np.sin(x), np.exp(y)]);
    const j = makeJaxpr((x: NDArray, y: NDArray) => (inner(x, y) as NDArray[])[0]!)(np.zeros([2]), np.zeros([2]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2] b:f32[2]. let
          c:f32[2] d:f32[2] = pjit[name=fn jaxpr={ lambda ; a:f32[2] b:f32[2]. let c:f32[2] = sin a; d:f32[2] = exp b in (c, d) }] a b
        in (c) }"
    `);
    const out = run(j, [dce]);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2] b:f32[2]. let
          c:f32[2] = pjit[name=fn jaxpr={ lambda ; a:f32[2]. let b:f32[2] = sin a in (b) }] a
        in (c) }"
    `);
    expect(exec(out, f64([0, Math.PI / 2]).astype("float32"), np.zeros([2]))).toEqual([[0, 1]]);
  });
});

describe("common-subexpression elimination", () => {
  it("computes a repeated sin once", () => {
    const j = makeJaxpr((x: NDArray) => np.add(np.sin(x), np.sin(x)))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = sin a; d:f32[3] = add b c in (d) }"`);
    const out = run(j, [cse, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = add b b in (c) }"`);
  });

  it("keeps equations whose params differ", () => {
    const j = makeJaxpr((x: NDArray) => np.add(np.sum(x, { axis: 0 }), np.sum(x, { axis: 1 })))(np.zeros([2, 2]));
    const out = run(j, [cse, dce]);
    expect(out.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["reduce_sum", "reduce_sum", "add"]);
  });

  it("merges repeated work inside a nested jit call", () => {
    const inner = jit((x: NDArray) => np.multiply(np.exp(x), np.exp(x)));
    const j = makeJaxpr((x: NDArray) => inner(x))(np.zeros([2]));
    const out = run(j, [cse, dce]);
    const body = (out.jaxpr.eqns[0]!.params.jaxpr as ClosedJaxpr).jaxpr;
    expect(body.eqns.map((e) => e.primitive.name)).toEqual(["exp", "mul"]);
  });
});

describe("constant folding", () => {
  it("evaluates equations on literals and constants", () => {
    const c = np.array([1, 2, 3]);
    const j = makeJaxpr((x: NDArray) => np.add(x, np.multiply(np.multiply(c, 2), np.add(np.array(1), 2))))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda a:f32[3]; b:f32[3]. let
          c:f32[3] = mul a 2.0:f32[]
          d:f32[] = add 1.0:f32[] 2.0:f32[]
          e:f32[3] = mul c d
          f:f32[3] = add b e
        in (f) }"
    `);
    const out = run(j, [foldConstants, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda a:f32[3]; b:f32[3]. let c:f32[3] = add b a in (c) }"`);
    // (1,2,3) * 2 * 3
    expect(Array.from(out.consts[0]!.data())).toEqual([6, 12, 18]);
    expect(exec(out, np.array([1, 1, 1]))).toEqual([[7, 13, 19]]);
  });

  it("leaves a broadcast of a scalar to a large shape to the kernels", () => {
    const j = makeJaxpr((x: NDArray) => np.add(x, np.broadcastTo(np.array(2), [100, 100])))(np.zeros([100, 100]));
    const out = run(j, [foldConstants, dce]);
    expect(out.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["broadcast_to", "add"]);
  });
});

describe("algebraic simplification", () => {
  it("removes multiplications by one, additions of zero and double negation", () => {
    const j = makeJaxpr((x: NDArray) => neg(neg(np.divide(np.subtract(np.add(np.multiply(x, 1), 0), 0), 1))))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[3] = mul a 1.0:f32[]
          c:f32[3] = add b 0.0:f32[]
          d:f32[3] = sub c 0.0:f32[]
          e:f32[3] = div d 1.0:f32[]
          f:f32[3] = neg e
          g:f32[3] = neg f
        in (g) }"
    `);
    const out = run(j, [simplify, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let in (a) }"`);
  });

  it("composes shape operations", () => {
    const j = makeJaxpr((x: NDArray) => {
      const t = transpose(transpose(x, [1, 2, 0]), [2, 0, 1]); // back to x
      const r = reshape(reshape(t, [6, 4]), [24]);
      const b = broadcastTo(broadcastTo(np.sum(r), [1, 3]), [2, 3]);
      return [r, b, transpose(transpose(x, [1, 0, 2]), [0, 2, 1])];
    })(np.zeros([2, 3, 4]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2,3,4]. let
          b:f32[3,4,2] = transpose[permutation=(1,2,0)] a
          c:f32[2,3,4] = transpose[permutation=(2,0,1)] b
          d:f32[6,4] = reshape[new_sizes=(6,4)] c
          e:f32[24] = reshape[new_sizes=(24,)] d
          f:f32[] = reduce_sum[axes=(0,)] e
          g:f32[1,3] = broadcast_to[shape=(1,3)] f
          h:f32[2,3] = broadcast_to[shape=(2,3)] g
          i:f32[3,2,4] = transpose[permutation=(1,0,2)] a
          j:f32[3,4,2] = transpose[permutation=(0,2,1)] i
        in (e, h, j) }"
    `);
    const out = run(j, [simplify, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[2,3,4]. let
          b:f32[24] = reshape[new_sizes=(24,)] a
          c:f32[] = reduce_sum[axes=(0,)] b
          d:f32[2,3] = broadcast_to[shape=(2,3)] c
          e:f32[3,4,2] = transpose[permutation=(1,2,0)] a
        in (b, d, e) }"
    `);
  });

  it("drops identity conversions, lossless round trips and stop_gradient; x * -1 is a negation", () => {
    const j = makeJaxpr((x: NDArray) => [convert(convert(x, "float64"), "float32"), stopGradientArray(x), np.multiply(x, -1)])(np.zeros([2]));
    const out = run(j, [simplify, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[2]. let b:f32[2] = neg a in (a, a, b) }"`);
    expect(exec(out, np.array([1.5, -2]))).toEqual([
      [1.5, -2],
      [1.5, -2],
      [-1.5, 2],
    ]);
  });

  it("keeps lossy round trips", () => {
    const j = makeJaxpr((x: NDArray) => convert(convert(x, "int32"), "float32"))(np.zeros([2]));
    const out = run(j, [simplify, dce]);
    expect(out.jaxpr.eqns).toHaveLength(2);
    expect(exec(out, np.array([1.5, -2.5]))).toEqual([[1, -2]]);
  });

  it("recognizes a broadcast constant one (the seed of a gradient)", () => {
    const j = makeJaxpr(grad((x: NDArray) => np.sum(np.sin(x))))(np.zeros([3]));
    const out = run(j, [foldConstants, simplify, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[3]. let b:f32[3] = cos a in (b) }"`);
  });
});

describe("inlining nested jit calls", () => {
  it("grad(jit(f)) becomes one flat program", () => {
    const f = jit((x: NDArray) => np.sum(np.sin(x)));
    const j = makeJaxpr(grad(f))(np.zeros([3]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[] c:f32[3] = pjit[name=jvp(fn) jaxpr={ lambda ; a:f32[3]. let
                b:f32[3] = sin a
                c:f32[3] = cos a
                d:f32[] = reduce_sum[axes=(0,)] b
              in (d, c) }] a
          d:f32[3] = pjit[name=transpose(jvp(fn)) jaxpr={ lambda ; a:f32[3] b:f32[]. let
                c:f32[1] = reshape[new_sizes=(1,)] b
                d:f32[3] = broadcast_to[shape=(3,)] c
                e:f32[3] = mul d a
              in (e) }] c 1.0:f32[]
        in (d) }"
    `);
    const out = run(j, [inlineCalls, dce]);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3]. let
          b:f32[3] = cos a
          c:f32[1] = reshape[new_sizes=(1,)] 1.0:f32[]
          d:f32[3] = broadcast_to[shape=(3,)] c
          e:f32[3] = mul d b
        in (e) }"
    `);
    const x = np.array([0, 1, 2]);
    expect(exec(out, x)[0]).toEqual(Array.from(np.cos(x).data()));
  });

  it("a function called twice is inlined twice with fresh variables", () => {
    const f = jit((x: NDArray) => np.exp(x));
    const j = makeJaxpr((x: NDArray) => f(f(x)))(np.zeros([2]));
    const out = run(j, [inlineCalls]);
    expect(out.toString()).toMatchInlineSnapshot(`"{ lambda ; a:f32[2]. let b:f32[2] = exp a; c:f32[2] = exp b in (c) }"`);
  });
});

describe("fusion", () => {
  it("fuses an elementwise chain and its sum into one kernel", () => {
    const f = (x: NDArray) => np.sum(np.multiply(np.tanh(np.add(np.multiply(x, 2), 1)), np.exp(np.negative(np.square(x)))));
    const j = makeJaxpr(f)(np.zeros([8]));
    expect(j.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[8]. let
          b:f32[8] = mul a 2.0:f32[]
          c:f32[8] = add b 1.0:f32[]
          d:f32[8] = tanh c
          e:f32[8] = integer_pow[y=2] a
          f:f32[8] = neg e
          g:f32[8] = exp f
          h:f32[8] = mul d g
          i:f32[] = reduce_sum[axes=(0,)] h
        in (i) }"
    `);
    const out = run(j, defaultPasses);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[8]. let
          b:f32[] = fused[kernel=kernel[8] (in0:f32[8]) {
              %0:f32 = load in0[i0]
              %2:f32 = mul %0 2.0
              %4:f32 = add %2 1.0
              %5:f32 = tanh %4
              %6:f32 = ipow[y=2] %0
              %7:f32 = neg %6
              %8:f32 = exp %7
              %9:f32 = mul %5 %8
              out0:f32[] = sum %9 over (0,)
            }] a
        in (b) }"
    `);
    const x = [0.5, -1, 2, 0, 1, 3, -0.25, 0.125];
    const want = Math.fround(x.reduce((s, v) => s + Math.fround(Math.tanh(Math.fround(2 * v + 1)) * Math.exp(-v * v)), 0));
    expect(exec(out, np.array(x))[0]![0]).toBeCloseTo(want, 5);
  });

  it("reads broadcast and transposed inputs through index maps instead of materializing them", () => {
    const j = makeJaxpr((x: NDArray, b: NDArray) => np.exp(np.add(np.transpose(x), b)))(z64(3, 2), z64(3));
    const out = run(j, defaultPasses);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[3,2] b:f64[3]. let
          c:f64[2,3] = fused[kernel=kernel[2,3] (in0:f64[3,2] in1:f64[3]) {
              %0:f64 = load in0[i0 + 2*i1]
              %1:f64 = load in1[i1]
              %2:f64 = add %0 %1
              %3:f64 = exp %2
              out0:f64[2,3] = %3
            }] a b
        in (c) }"
    `);
    // x = [[0,1],[2,3],[4,5]] so x^T = [[0,2,4],[1,3,5]]; b = [1,0,-1]
    const got = exec(
      out,
      np.array(
        [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
        { dtype: "float64" },
      ),
      f64([1, 0, -1]),
    )[0]!;
    expect(got).toEqual([1, 2, 3, 2, 3, 4].map(Math.exp));
  });

  it("splits softmax where a reduction's result is needed by the same elements", () => {
    const j = makeJaxpr((x: NDArray) => {
      const e = np.exp(np.subtract(x, np.max(x, { axis: 1, keepdims: true })));
      return np.divide(e, np.sum(e, { axis: 1, keepdims: true }));
    })(z64(2, 3));
    const out = run(j, defaultPasses);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[2,3]. let
          b:f64[2] = fused[kernel=kernel[2,3] (in0:f64[2,3]) {
              %0:f64 = load in0[3*i0 + i1]
              out0:f64[2] = max %0 over (1,)
            }] a
          c:f64[2,3] d:f64[2] = fused[kernel=kernel[2,3] (in0:f64[2,3] in1:f64[2]) {
              %0:f64 = load in0[3*i0 + i1]
              %1:f64 = load in1[i0]
              %2:f64 = sub %0 %1
              %3:f64 = exp %2
              out0:f64[2,3] = %3
              out1:f64[2] = sum %3 over (1,)
            }] a b
          e:f64[2,3] = fused[kernel=kernel[2,3] (in0:f64[2,3] in1:f64[2]) {
              %0:f64 = load in0[3*i0 + i1]
              %1:f64 = load in1[i0]
              %2:f64 = div %0 %1
              out0:f64[2,3] = %2
            }] c d
        in (e) }"
    `);
    const got = exec(
      out,
      np.array(
        [
          [0, 0, 0],
          [0, Math.log(2), Math.log(5)],
        ],
        { dtype: "float64" },
      ),
    )[0]!;
    [1 / 3, 1 / 3, 1 / 3, 1 / 8, 2 / 8, 5 / 8].forEach((w, i) => expect(got[i]).toBeCloseTo(w, 14));
  });

  it("leaves matmul alone and fuses around it", () => {
    const j = makeJaxpr((w: NDArray, x: NDArray, b: NDArray) => np.maximum(np.add(np.matmul(x, w), b), 0))(np.zeros([3, 2]), np.zeros([4, 3]), np.zeros([2]));
    const out = run(j, defaultPasses);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[3,2] b:f32[4,3] c:f32[2]. let
          d:f32[4,2] = matmul b a
          e:f32[4,2] = fused[kernel=kernel[4,2] (in0:f32[4,2] in1:f32[2]) {
              %0:f32 = load in0[2*i0 + i1]
              %1:f32 = load in1[i1]
              %2:f32 = add %0 %1
              %4:f32 = max %2 0.0
              out0:f32[4,2] = %4
            }] d c
        in (e) }"
    `);
  });

  it("materializes a view that is returned, as a copy kernel (or a free reshape)", () => {
    const j = makeJaxpr((x: NDArray) => [np.transpose(x), np.reshape(x, [6]), np.sin(np.transpose(x))])(z64(2, 3));
    const out = run(j, defaultPasses);
    expect(out.toString()).toMatchInlineSnapshot(`
      "{ lambda ; a:f64[2,3]. let
          b:f64[3,2] = fused[kernel=kernel[3,2] (in0:f64[2,3]) {
              %0:f64 = load in0[i0 + 3*i1]
              out0:f64[3,2] = %0
            }] a
          c:f64[6] = reshape[new_sizes=(6,)] a
          d:f64[3,2] = fused[kernel=kernel[3,2] (in0:f64[2,3]) {
              %0:f64 = load in0[i0 + 3*i1]
              %1:f64 = sin %0
              out0:f64[3,2] = %1
            }] a
        in (b, c, d) }"
    `);
    const got = exec(
      out,
      np.array(
        [
          [1, 2, 3],
          [4, 5, 6],
        ],
        { dtype: "float64" },
      ),
    );
    expect(got[0]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(got[1]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(got[2]).toEqual([1, 4, 2, 5, 3, 6].map(Math.sin));
  });

  it("makes the gradient of 50 chained scalar ops one straight-line kernel", () => {
    const g = (x: NDArray) => {
      for (let i = 0; i < 50; i++) x = np.add(np.multiply(np.sin(x), 1.01), 0.1);
      return x;
    };
    const out = optimizeJaxpr(makeJaxpr(grad(g))(np.array(0.5)));
    typecheckDeep(out);
    expect(out.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["fused"]);
    // hand-derived reverse pass in float32
    let x = Math.fround(0.5);
    const xs: number[] = [];
    for (let i = 0; i < 50; i++) {
      xs.push(x);
      x = Math.fround(Math.fround(Math.fround(Math.sin(x)) * Math.fround(1.01)) + Math.fround(0.1));
    }
    let ct = 1;
    for (let i = 49; i >= 0; i--) ct = Math.fround(Math.fround(ct * Math.fround(1.01)) * Math.fround(Math.cos(xs[i]!)));
    expect(exec(out, np.array(0.5))[0]![0]).toBeCloseTo(ct, 12);
  });

  it("splits very long chains into kernels of bounded size (V8 leaves huge functions unoptimized)", () => {
    const g = (x: NDArray) => {
      for (let i = 0; i < 3 * MAX_KERNEL_EQNS; i++) x = np.sin(x);
      return x;
    };
    const out = optimizeJaxpr(makeJaxpr(g)(np.array(0.5, { dtype: "float64" })));
    typecheckDeep(out);
    expect(out.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["fused", "fused", "fused"]);
    let x = 0.5;
    for (let i = 0; i < 3 * MAX_KERNEL_EQNS; i++) x = Math.sin(x);
    expect(exec(out, np.array(0.5, { dtype: "float64" }))[0]![0]).toBe(x);
  });

  it("says which rule is missing when a fused kernel is differentiated", () => {
    const out = optimizeJaxpr(makeJaxpr((x: NDArray) => np.sin(np.exp(x)))(np.zeros([2])));
    expect(() => grad((x: NDArray) => np.sum(evalJaxpr(out.jaxpr, out.consts, [x])[0]!))(np.zeros([2]))).toThrow(
      /fused: a fused kernel has no jvp rule.*original function/,
    );
  });
});

describe("the pipeline", () => {
  it("jit(f).lower shows the optimized program", () => {
    const f = jit((x: NDArray) => {
      np.exp(x); // dead
      return np.multiply(np.add(np.sin(x), np.sin(x)), 1);
    });
    expect(f.lower(np.zeros([4])).text()).toMatchInlineSnapshot(`
      "{ lambda ; a:f32[4]. let
          b:f32[4] = fused[kernel=kernel[4] (in0:f32[4]) {
              %0:f32 = load in0[i0]
              %1:f32 = sin %0
              %2:f32 = add %1 %1
              out0:f32[4] = %2
            }] a
        in (b) }"
    `);
    expect(Array.from(f(np.array([0, Math.PI / 2, 0, 0])).data())).toEqual([0, 2, 0, 0]);
  });
});
