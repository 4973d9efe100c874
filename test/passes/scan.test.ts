/**
 * The scan-loop pass (src/passes/scan.ts), the CPU loop that runs a compiled scan body
 * into buffers it owns, the small-matmul loops of compiled programs, and the simplify
 * rewrite of outer products: the IR each produces, and results equal (bit for bit) to
 * the program without them, on hand-written cases and random ones.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, type ClosedJaxpr, grad, jit, lax, makeJaxpr, np, typecheckJaxpr } from "../../src/index.js";
import type { ConcreteArray } from "../../src/core/array.js";
import type { JaxprEqn } from "../../src/ir/jaxpr.js";
import { compileJaxpr } from "../../src/backends/cpu/compile.js";
import { matmulBlocked } from "../../src/backends/cpu/matmul.js";
import { smallMatmulFunction } from "../../src/backends/cpu/small_matmul.js";
import { cleanupPasses, defaultPasses, optimizeJaxpr, scanLoops, simplify } from "../../src/passes/index.js";
import { MAX_KERNEL_DEPS } from "../../src/passes/fuse.js";
import { arrayArb } from "../helpers/arbitraries.js";

const scans = (cj: ClosedJaxpr): JaxprEqn[] => cj.jaxpr.eqns.filter((e) => e.primitive.name === "scan");
const bodyOf = (e: JaxprEqn): ClosedJaxpr => e.params.jaxpr as ClosedJaxpr;
const names = (cj: ClosedJaxpr): string[] => cj.jaxpr.eqns.map((e) => e.primitive.name);
const exec = (cj: ClosedJaxpr, args: NDArray[]): number[][] => compileJaxpr(cj)(args as ConcreteArray[]).map((o) => Array.from(o.data(), Number));
const withoutScanPass = defaultPasses.filter((p) => p !== scanLoops);

/** Cleans up (as jit does before the pass), then applies the scan pass, typechecking both. */
function cleanThenScan(cj: ClosedJaxpr): [ClosedJaxpr, ClosedJaxpr] {
  const before = optimizeJaxpr(cj, cleanupPasses);
  const after = scanLoops(before);
  typecheckJaxpr(before.jaxpr);
  typecheckJaxpr(after.jaxpr);
  for (const e of scans(after)) typecheckJaxpr(bodyOf(e).jaxpr);
  return [before, after];
}

describe("scanLoops: loop-invariant code motion", () => {
  const w = np.array([
    [1, 2],
    [3, 4],
  ]);
  const f = (w: NDArray, xs: NDArray) =>
    lax.scan(
      (h: NDArray, x: NDArray) => [np.tanh(np.add(np.matmul(np.transpose(w), h), np.sum(np.multiply(np.exp(w), x), { axis: 1 }))), h],
      np.zeros([2]),
      xs,
    );

  it("moves work on the loop constants before the loop and passes its results in", () => {
    const cj = makeJaxpr(f)(w, np.ones([3, 2]));
    const [before, after] = cleanThenScan(cj);
    const b0 = bodyOf(scans(before)[0]!);
    const b1 = bodyOf(scans(after)[0]!);
    expect(names(b0)).toContain("transpose");
    expect(names(b0)).toContain("exp");
    expect(names(b1)).not.toContain("transpose");
    expect(names(b1)).not.toContain("exp");
    // hoisted: the transpose and the exp, now outer equations before the scan
    const outer = names(after);
    expect(outer.indexOf("transpose")).toBeLessThan(outer.indexOf("scan"));
    expect(outer.indexOf("exp")).toBeLessThan(outer.indexOf("scan"));
    expect(scans(after)[0]!.params.numConsts).toBe((scans(before)[0]!.params.numConsts as number) + 2);
    expect(b1.jaxpr.eqns.length).toBe(b0.jaxpr.eqns.length - 2);
  });

  it("leaves broadcasts of loop constants in the body, as views", () => {
    const g = (c: NDArray, xs: NDArray) => lax.scan((h: NDArray, x: NDArray) => [np.add(h, np.multiply(np.broadcastTo(c, [3]), x)), null], np.zeros([3]), xs);
    const [, after] = cleanThenScan(makeJaxpr(g)(np.array(2), np.ones([4, 3])));
    expect(names(bodyOf(scans(after)[0]!))).toContain("broadcast_to");
    expect(names(after)).not.toContain("broadcast_to");
  });

  it("hoists what reads a view of a constant, computing the view outside too", () => {
    const g = (c: NDArray, xs: NDArray) =>
      lax.scan((h: NDArray, x: NDArray) => [np.add(h, np.multiply(np.exp(np.broadcastTo(c, [3])), x)), null], np.zeros([3]), xs);
    const [, after] = cleanThenScan(makeJaxpr(g)(np.array(2), np.ones([4, 3])));
    expect(names(bodyOf(scans(after)[0]!))).not.toContain("exp");
    expect(names(after).slice(0, 2)).toEqual(["broadcast_to", "exp"]);
  });

  it("leaves a loop with nothing invariant alone", () => {
    const g = (xs: NDArray) => lax.scan((h: NDArray, x: NDArray) => [np.add(h, x), np.sin(h)], np.zeros([2]), xs);
    const [before, after] = cleanThenScan(makeJaxpr(g)(np.ones([3, 2])));
    expect(after).toBe(before);
  });
});

describe("scanLoops: stacked inputs and outputs", () => {
  it("stacks a y returned twice once, and drops a y nobody reads", () => {
    const g = (xs: NDArray) => {
      const [c, ys] = lax.scan((h: NDArray, x: NDArray) => [np.add(h, x), [np.sin(h), np.sin(h), np.cos(h)]], np.zeros([2]), xs);
      return [c, np.add(ys[0]!, ys[1]!)];
    };
    const cj = makeJaxpr(g)(np.ones([3, 2]));
    const [before, after] = cleanThenScan(cj);
    expect(scans(before)[0]!.outVars).toHaveLength(4);
    expect(scans(after)[0]!.outVars).toHaveLength(2); // the carry and one sin stack
    const xs = np.array([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(exec(optimizeJaxpr(cj), [xs])).toEqual(exec(optimizeJaxpr(cj, withoutScanPass), [xs]));
  });

  it("turns a stacked input that is a broadcast value into a constant (the cotangent of summed ys)", () => {
    const g = (w: NDArray, xs: NDArray) => np.sum(lax.scan((h: NDArray, x: NDArray) => [np.tanh(np.add(np.multiply(w, h), x)), h], np.ones([2]), xs)[1]);
    const cj = makeJaxpr(grad(g))(np.array([0.5, -0.25]), np.ones([5, 2]));
    const [before, after] = cleanThenScan(cj);
    const rev = (j: ClosedJaxpr) => scans(j).find((e) => e.params.reverse === true)!;
    const xsIn = (e: JaxprEqn) => e.inputs.length - (e.params.numConsts as number) - (e.params.numCarry as number);
    expect(xsIn(rev(after))).toBe(xsIn(rev(before)) - 1);
    expect(names(bodyOf(rev(after)))[0]).toBe("broadcast_to");
    const w = np.array([0.5, -0.25]);
    const xs = np.array([
      [1, 2],
      [-1, 0.5],
      [0.25, 3],
      [2, -2],
      [0, 1],
    ]);
    expect(exec(optimizeJaxpr(cj), [w, xs])).toEqual(exec(optimizeJaxpr(cj, withoutScanPass), [w, xs]));
  });
});

describe("the CPU scan loop and its buffers", () => {
  // carries that swap, pass through, and are returned as ys: the loop's own buffers must never alias a live input
  const swap = (a: NDArray, xs: NDArray) =>
    lax.scan(
      ([p, q, r]: [NDArray, NDArray, NDArray], x: NDArray) => [
        [q, np.add(np.matmul(np.reshape(p, [1, 3]), np.ones([3, 3])).reshape([3]), x), r],
        [p, q, r, np.multiply(q, 2)],
      ],
      [a, np.multiply(a, 10), np.negative(a)],
      xs,
    );

  it("matches the hand-computed recurrence with swapping and passed-through carries", () => {
    const a = np.array([1, 2, 3]);
    const xs = np.array([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1],
    ]);
    // by hand: (p, q) → (q, sum(p)·1 + x)
    let p = [1, 2, 3];
    let q = [10, 20, 30];
    const want: number[][][] = [[], [], [], []];
    for (const x of xs.toJs() as number[][]) {
      want[0]!.push(p);
      want[1]!.push(q);
      want[2]!.push([-1, -2, -3]);
      want[3]!.push(q.map((v) => 2 * v));
      const s = p.reduce((u, v) => u + v, 0);
      [p, q] = [q, x.map((v) => s + v)];
    }
    for (const fn of [swap, jit(swap)]) {
      const [[cp, cq, cr], ys] = fn(a, xs) as [[NDArray, NDArray, NDArray], NDArray[]];
      expect(cp.toJs()).toEqual(p);
      expect(cq.toJs()).toEqual(q);
      expect(cr.toJs()).toEqual([-1, -2, -3]);
      ys.forEach((y, k) => expect(y.toJs()).toEqual(want[k]));
    }
  });

  it("runs reversed, writing each y into its own slice", () => {
    const g = (xs: NDArray) => lax.scan((c: NDArray, x: NDArray) => [np.add(c, x), np.multiply(c, x)], np.zeros([]), xs, { reverse: true });
    const [c, ys] = jit(g)(np.array([1, 2, 3, 4])) as [NDArray, NDArray];
    expect(c.item()).toBe(10);
    expect(ys.toJs()).toEqual([9 * 1, 7 * 2, 4 * 3, 0 * 4]);
  });

  it("keeps the results of an earlier call intact when called again", () => {
    const g = jit((xs: NDArray) => lax.scan((c: NDArray, x: NDArray) => [np.add(c, x), c], np.zeros([2]), xs));
    const [c1, y1] = g(np.ones([3, 2])) as [NDArray, NDArray];
    g(np.full([3, 2], 5));
    expect(c1.toJs()).toEqual([3, 3]);
    expect(y1.toJs()).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
  });
});

describe("optimized scans compute exactly what the unoptimized program computes", () => {
  /** Random recurrences mixing invariant and per-step work, in their gradient form too. */
  const program = (kind: number, reverse: boolean) => (w: NDArray, v: NDArray, xs: NDArray) => {
    const [c, ys] = lax.scan(
      (h: NDArray, x: NDArray) => {
        const wt = kind & 1 ? np.transpose(w) : w;
        const u = np.tanh(np.add(np.matmul(wt, h), np.multiply(np.exp(v), x)));
        return [kind & 2 ? np.add(u, np.sin(v)) : u, kind & 4 ? [u, u, np.outer(h, x)] : [u]];
      },
      np.zeros([3]),
      xs,
      { reverse },
    );
    return np.add(
      np.sum(c),
      (ys as NDArray[]).map((y) => np.sum(y)).reduce((a, b) => np.add(a, b)),
    );
  };
  it("values and gradients, with and without the scan pass, bitwise", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        arrayArb([3, 3], "real", "float32"),
        arrayArb([3], "real", "float32"),
        fc.integer({ min: 0, max: 5 }).chain((n) => arrayArb([n, 3], "real", "float32")),
        (kind, reverse, w, v, xs) => {
          for (const f of [program(kind, reverse), grad(program(kind, reverse), { argnums: [0, 1, 2] })]) {
            const cj = makeJaxpr(f)(w, v, xs);
            const a = exec(optimizeJaxpr(cj), [w, v, xs]);
            const b = exec(optimizeJaxpr(cj, withoutScanPass), [w, v, xs]);
            expect(a).toEqual(b);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe("small matmuls in compiled programs", () => {
  it("equal the blocked kernel bit for bit, in every layout", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("float32" as const, "float64" as const),
        fc.integer({ min: 1, max: 1000 }),
        (m, k, n, transA, transB, dtype, seed) => {
          const make = (len: number, at: (q: number) => number): Float32Array | Float64Array =>
            dtype === "float32" ? Float32Array.from({ length: len }, (_, q) => at(q)) : Float64Array.from({ length: len }, (_, q) => at(q));
          let s = seed;
          const rand = (len: number) => make(len, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1);
          const A = rand(m * k);
          const B = rand(k * n);
          // the reference on explicitly transposed copies
          const At = transA ? make(m * k, (q) => A[(q % k) * m + Math.floor(q / k)]!) : A;
          const Bt = transB ? make(k * n, (q) => B[(q % n) * k + Math.floor(q / n)]!) : B;
          const want = make(m * n, () => 0);
          matmulBlocked(At, 0, Bt, 0, want, 0, m, k, n);
          const got = make(m * n, () => Number.NaN);
          smallMatmulFunction({ m, k, n, transA, transB, dtype })(A, B, got);
          expect(Array.from(got)).toEqual(Array.from(want));
        },
      ),
    );
  });
});

describe("simplify: outer products", () => {
  it("a product contracting a length-1 axis becomes a broadcasting multiply, with the same values", () => {
    const f = (a: NDArray, b: NDArray) => np.matmul(np.reshape(a, [3, 1]), np.reshape(b, [1, 2]));
    const cj = makeJaxpr(f)(np.zeros([3]), np.zeros([2]));
    const s = simplify(cj);
    typecheckJaxpr(s.jaxpr);
    expect(names(s)).not.toContain("matmul");
    expect(names(s)).toContain("mul");
    const a = np.array([0.1, -3, 7], { dtype: "float32" });
    const b = np.array([1 / 3, 2e-8], { dtype: "float32" });
    expect(exec(s, [a, b])).toEqual(exec(cj, [a, b]));
    expect(exec(s, [a, b])[0]).toEqual(Array.from(np.outer(a, b).data(), Number));
  });
});

describe("fusion: kernels read a bounded number of producers", () => {
  it("a sum of 150 products becomes several kernels of at most MAX_KERNEL_DEPS inputs, with the sum's value", () => {
    const n = 150;
    const f = (a: NDArray, b: NDArray) => {
      let acc = np.zeros([2, 2]);
      for (let t = 0; t < n; t++) acc = np.add(acc, np.matmul(np.multiply(a, t + 1), b));
      return acc;
    };
    const a = np.array([
      [1, 2],
      [3, 4],
    ]);
    const b = np.array([
      [0.5, -1],
      [2, 0.25],
    ]);
    const cj = makeJaxpr(f)(a, b);
    const opt = optimizeJaxpr(cj);
    const fused = opt.jaxpr.eqns.filter((e) => e.primitive.name === "fused");
    expect(fused.length).toBeGreaterThan(1);
    // (a fixed bound, so that raising the limit far enough to merge everything fails here)
    expect(MAX_KERNEL_DEPS).toBeLessThan(n);
    for (const e of fused) expect(e.inputs.length).toBeLessThanOrEqual(Math.min(MAX_KERNEL_DEPS + 2, n - 1));
    // Σ_t (t+1)·(a·b) = (n(n+1)/2)·(a·b), exact in float32 at these sizes
    const ab = [
      [1 * 0.5 + 2 * 2, 1 * -1 + 2 * 0.25],
      [3 * 0.5 + 4 * 2, 3 * -1 + 4 * 0.25],
    ];
    const k = (n * (n + 1)) / 2;
    expect(exec(opt, [a, b])).toEqual([ab.flat().map((v) => k * v)]);
  });
});
