/**
 * jit on random programs (op DAGs over the primitive set, random shapes): the
 * compiled function computes what the eager one does, for plain calls, pytree
 * results, repeated calls, and composed with grad and hessianVectorProduct in every
 * order. Eager evaluation is the reference; float64 agreement is to 1e-12 (the
 * compiled code may evaluate in another order), float32 to float32 tolerance.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, hessianVectorProduct, jit, np } from "../../src/index.js";
import { randomLike, seededRandom } from "../helpers/numeric.js";
import { type ProgramCase, expectAgree, programArb } from "../helpers/programs.js";

const TOL64 = 1e-12;
const TOL32 = 2e-5;

/** Gradient of the program's loss with respect to every float input. */
function gradAll(p: ProgramCase, f: (...xs: NDArray[]) => NDArray): (...xs: NDArray[]) => NDArray[] {
  return grad(f, { argnums: [...p.floatArgnums] }) as (...xs: NDArray[]) => NDArray[];
}

describe("jit(f)(x) equals f(x) on random programs", () => {
  it("float64, to 1e-12", () => {
    fc.assert(
      fc.property(programArb(), (p) => {
        const want = p.fn(...p.inputsAll);
        const jf = jit(p.fn);
        expectAgree(jf(...p.inputsAll), want, TOL64, `jit\n${p.text}`);
        // a second call reuses the trace and gives the same result
        expectAgree(jf(...p.inputsAll), want, TOL64, `jit, second call\n${p.text}`);
        expect(jf.cacheSize).toBe(1);
        // new values with the same signature
        const other = p.makeInputs(seededRandom(p.seed + 1));
        expectAgree(jf(...other), p.fn(...other), TOL64, `jit, new values\n${p.text}`);
        expect(jf.cacheSize).toBe(1);
      }),
      { numRuns: 150 },
    );
  });

  it("pytree results: { out, extra: [value] }", () => {
    fc.assert(
      fc.property(programArb({ maxSteps: 6 }), (p) => {
        const got = jit(p.multi)(...p.inputsAll);
        const want = p.multi(...p.inputsAll);
        expectAgree(got, want, TOL64, `jit(multi)\n${p.text}`);
      }),
      { numRuns: 30 },
    );
  });

  it("float32, to float32 tolerance (and dtype preserved)", () => {
    fc.assert(
      fc.property(programArb({ dtype: "float32" }), (p) => {
        const got = jit(p.fn)(...p.inputsAll);
        expect(got.dtype).toBe("float32");
        expectAgree(got, p.fn(...p.inputsAll), TOL32, `jit float32\n${p.text}`);
      }),
      { numRuns: 40 },
    );
  });
});

describe("jit composed with autodiff on random programs", () => {
  it("grad(jit(f)), jit(grad(f)) and grad(f) agree", () => {
    fc.assert(
      fc.property(programArb({ maxSteps: 7 }), (p) => {
        const want = gradAll(p, p.loss)(...p.inputsAll);
        expectAgree(gradAll(p, jit(p.loss))(...p.inputsAll), want, TOL64, `grad(jit(f))\n${p.text}`);
        expectAgree(jit(gradAll(p, p.loss))(...p.inputsAll), want, TOL64, `jit(grad(f))\n${p.text}`);
        expectAgree(jit(gradAll(p, jit(p.loss)))(...p.inputsAll), want, TOL64, `jit(grad(jit(f)))\n${p.text}`);
      }),
      { numRuns: 40 },
    );
  });

  it("jit(hessianVectorProduct(f)) and hessianVectorProduct(jit(f)) equal hessianVectorProduct(f)", () => {
    fc.assert(
      fc.property(programArb({ maxSteps: 5 }), (p) => {
        // f of the float inputs as one pytree (a list), index inputs closed over
        const f = (xs: NDArray[]): NDArray => p.loss(...p.withFloats(xs));
        const v = randomLike(seededRandom(p.seed + 7), p.args);
        const want = hessianVectorProduct(f)(p.args, v) as NDArray[];
        expectAgree(jit(hessianVectorProduct(f))(p.args, v), want, 1e-10, `jit(hvp(f))\n${p.text}`);
        expectAgree(hessianVectorProduct(jit(f))(p.args, v), want, 1e-10, `hvp(jit(f))\n${p.text}`);
      }),
      { numRuns: 25 },
    );
  });

  it("float32: grad(jit(f)) agrees with grad(f)", () => {
    fc.assert(
      fc.property(programArb({ dtype: "float32", maxSteps: 6 }), (p) => {
        const want = gradAll(p, p.loss)(...p.inputsAll);
        const got = gradAll(p, jit(p.loss))(...p.inputsAll);
        got.forEach((g) => expect(g.dtype).toBe("float32"));
        expectAgree(got, want, 1e-4, `grad(jit(f)) float32\n${p.text}`);
      }),
      { numRuns: 20 },
    );
  });
});

describe("jit on size-0 arrays", () => {
  it("reshapes to and from empty shapes, fused with elementwise ops, as eager evaluation does", () => {
    const cases: [number[], number[]][] = [
      [
        [5, 0],
        [0, 5],
      ],
      [
        [2, 0],
        [0, 3],
      ],
      [
        [0, 6],
        [3, 0, 2],
      ],
      [[0], [1, 0, 1]],
    ];
    for (const [from, to] of cases) {
      const f = (x: NDArray): NDArray => np.add(np.multiply(np.reshape(x, to), 2), 1);
      const got = jit(f)(np.zeros(from));
      expect(got.shape).toEqual(to);
      expect(got.size).toBe(0);
      expect(f(np.zeros(from)).shape).toEqual(to);
      // and the gradient of a sum over an empty array is an empty array of the input's shape
      const g = jit(grad((x: NDArray) => np.sum(f(x))))(np.zeros(from));
      expect(g.shape).toEqual(from);
    }
  });
});
