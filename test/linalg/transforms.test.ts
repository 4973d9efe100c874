/**
 * np.linalg under jit and vmap, over random small well-conditioned matrices
 * (fast-check): `jit(f)(x) == f(x)`, `vmap(f)(xs)[i] == f(xs[i])` (batch axis anywhere,
 * one operand unbatched), and vmap of a gradient against the per-example gradient.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, makeJaxpr, np, vmap } from "../../src/index.js";
import { expectAgree, loopStack, unstack } from "../helpers/programs.js";
import { randomArray, seededRandom } from "../helpers/numeric.js";

const I = (n: number): NDArray => np.eye(n, "float64");
/** `count` random n×n matrices made well conditioned for `kind` (spd: x xᵀ + I; else x + 3I). */
function matrices(seed: number, count: number, n: number, kind: "spd" | "general"): NDArray[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const x = randomArray(rand, [n, n]);
    return kind === "spd" ? np.add(np.matmul(x, x.T), I(n)) : np.add(x, np.multiply(I(n), 3));
  });
}
const cat = (...xs: NDArray[]): NDArray => np.concatenate(xs.map((x) => np.reshape(x, [x.size])));
/** Sign-invariant summaries of eigenvectors / singular vectors. */
const gauge = (v: NDArray): NDArray => np.square(v);

type Case = { name: string; kind: "spd" | "general"; f: (a: NDArray) => NDArray };
const CASES: Case[] = [
  { name: "inv", kind: "general", f: (a) => np.linalg.inv(a) },
  { name: "det", kind: "general", f: (a) => np.linalg.det(a) },
  { name: "slogdet", kind: "general", f: (a) => cat(...np.linalg.slogdet(a)) },
  { name: "cholesky", kind: "spd", f: (a) => np.linalg.cholesky(a) },
  { name: "solve", kind: "general", f: (a) => np.linalg.solve(a, np.linspace(1, 2, a.shape[0]!, "float64")) },
  { name: "solveTriangular", kind: "general", f: (a) => np.linalg.solveTriangular(a, np.matmul(a, a), { lower: true, transA: true }) },
  { name: "qr", kind: "general", f: (a) => cat(...np.linalg.qr(a)) },
  {
    name: "eigh",
    kind: "spd",
    f: (a) => {
      const [w, v] = np.linalg.eigh(a);
      return cat(w, gauge(v));
    },
  },
  {
    name: "svd",
    kind: "general",
    f: (a) => {
      const [u, s, vh] = np.linalg.svd(a);
      return cat(gauge(u), s, gauge(vh));
    },
  },
];

const sizeArb = fc.integer({ min: 1, max: 4 });
const params = { numRuns: 12 };

describe("np.linalg under jit and vmap", () => {
  for (const c of CASES) {
    it(`${c.name}: jit == eager, vmap == loop, vmap(grad) == loop of grad, jit(grad) == grad`, () => {
      fc.assert(
        fc.property(sizeArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1e9 }), (n, b, axis, seed) => {
          const xs = matrices(seed, b, n, c.kind);
          expectAgree(jit(c.f)(xs[0]!), c.f(xs[0]!), 1e-12, `${c.name} jit`);
          const stacked = np.stack(xs, axis);
          const expected = loopStack(
            c.f,
            xs.map((x) => [x]),
          );
          expectAgree(vmap(c.f, { inAxes: axis })(stacked), expected, 1e-12, `${c.name} vmap inAxes=${axis}`);
          expectAgree(jit(vmap(c.f, { inAxes: axis }))(stacked), expected, 1e-12, `${c.name} jit(vmap)`);
          const scalar = (a: NDArray): NDArray => np.sum(np.sin(c.f(a)));
          const g = grad(scalar);
          expectAgree(
            vmap(g, { inAxes: axis })(stacked),
            loopStack(
              g,
              xs.map((x) => [x]),
            ),
            1e-10,
            `${c.name} vmap(grad)`,
          );
          expectAgree(jit(g)(xs[0]!), g(xs[0]!), 1e-10, `${c.name} jit(grad)`);
        }),
        params,
      );
    });
  }
  it("solve and solveTriangular with one operand unbatched", () => {
    const [a, a2] = matrices(4, 2, 3, "general") as [NDArray, NDArray];
    const bs = np.stack([np.ones([3], "float64"), np.linspace(0, 1, 3, "float64")]);
    expectAgree(
      vmap((b: NDArray) => np.linalg.solve(a, b))(bs),
      loopStack(
        (b) => np.linalg.solve(a, b),
        unstack(bs, 0, 2).map((b) => [b]),
      ),
      1e-12,
      "solve, a unbatched",
    );
    const as = np.stack([a, a2]);
    const b = np.ones([3, 2], "float64");
    expectAgree(
      vmap((x: NDArray) => np.linalg.solveTriangular(x, b))(as),
      loopStack((x) => np.linalg.solveTriangular(x, b), [[a], [a2]]),
      1e-12,
      "solveTriangular, b unbatched",
    );
    // batched operands broadcast against an unbatched one at the np level too
    expectAgree(
      np.linalg.solve(as, b),
      loopStack((x) => np.linalg.solve(x, b), [[a], [a2]]),
      1e-12,
      "solve broadcast",
    );
    // one matrix, a stack of right-hand sides (solved as the columns of one matrix)
    const rhs = np.reshape(np.linspace(-1, 1, 2 * 2 * 3 * 2, "float64"), [2, 2, 3, 2]);
    const perRhs = unstack(np.reshape(rhs, [4, 3, 2]), 0, 4).map((r) => [r]);
    expectAgree(
      np.reshape(np.linalg.solve(a, rhs), [4, 3, 2]),
      loopStack((r) => np.linalg.solve(a, r), perRhs),
      1e-12,
      "solve, stacked b",
    );
    expectAgree(
      np.reshape(np.linalg.solveTriangular(a, rhs, { lower: true }), [4, 3, 2]),
      loopStack((r) => np.linalg.solveTriangular(a, r, { lower: true }), perRhs),
      1e-12,
      "solveTriangular, stacked b",
    );
    expectAgree(
      vmap((r: NDArray) => np.linalg.solveTriangular(a, r, { transA: true }), { inAxes: 1 })(rhs),
      loopStack(
        (r) => np.linalg.solveTriangular(a, r, { transA: true }),
        unstack(rhs, 1, 2).map((r) => [r]),
      ),
      1e-12,
      "vmap solveTriangular, a unbatched",
    );
  });
  it("the primitives show in the IR with their params", () => {
    const text = makeJaxpr((a: NDArray) => np.linalg.solveTriangular(np.linalg.cholesky(a), np.ones([2], "float64"), { lower: true }))(I(2)).toString();
    expect(text).toContain("cholesky");
    expect(text).toContain("triangular_solve[left_side=true lower=true transpose_a=false unit_diagonal=false]");
  });
});
