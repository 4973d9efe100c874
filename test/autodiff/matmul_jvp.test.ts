/**
 * The JVP of a matrix times a narrow operand (a vector, or one or two columns) computes
 * the primal and the tangent in one product (`A · [x ẋ]`) when both can be combined:
 * eagerly and under jit, but never under partial evaluation (grad/linearize), where the
 * primal is known and the tangent is not. These tests compare every layout and every
 * transform composition against float64 loops written out by hand.
 */
import { describe, expect, it } from "vitest";
import { grad, hessianVectorProduct, jit, jvp, linearize, makeJaxpr, np, vmap, type Array as NDArray } from "../../src/index.js";
import { matmulT } from "../../src/primitives/dot.js";
import { expectClose, randomArray, seededRandom } from "../helpers/numeric.js";

/** Large enough that the joint product is taken (the wide operand has ≥ 65536 elements). */
const N = 260;
const rand = seededRandom(2026);
const A = randomArray(rand, [N, N], -1 / Math.sqrt(N), 1 / Math.sqrt(N));
const a = Array.from(A.data(), Number);

/** `op(M) · X` in float64 with plain loops; `M` is N×N row-major, `X` N×c. */
function matTimes(M: number[], X: number[][], transposed: boolean): number[][] {
  return X.map((col) => Array.from({ length: N }, (_, i) => col.reduce((s, xp, p) => s + (transposed ? M[p * N + i]! : M[i * N + p]!) * xp, 0)));
}
const vec = (x: NDArray): number[] => Array.from(x.data(), Number);

/** The Hessian-vector product of sum(tanh(A x)) by hand: Aᵀ diag(-2 t (1 - t²)) A v with t = tanh(A x). */
function hvpByHand(x: number[], v: number[]): number[] {
  const [ax, av] = matTimes(a, [x, v], false);
  const w = ax!.map((z, i) => {
    const t = Math.tanh(z);
    return -2 * t * (1 - t * t) * av![i]!;
  });
  return matTimes(a, [w], true)[0]!;
}
function gradByHand(x: number[]): number[] {
  const [ax] = matTimes(a, [x], false);
  return matTimes(a, [ax!.map((z) => 1 - Math.tanh(z) ** 2)], true)[0]!;
}

const f = (x: NDArray) => np.sum(np.tanh(np.matmul(A, x)));
const x = randomArray(rand, [N]);
const v = randomArray(rand, [N]);
const tol = { rtol: 1e-10, atol: 1e-12 };

describe("JVP of a matrix times a narrow operand", () => {
  it("hessianVectorProduct agrees with the hand-derived product, eagerly, under jit and under vmap", () => {
    const want = hvpByHand(vec(x), vec(v));
    const h = hessianVectorProduct(f);
    expectClose(vec(h(x, v)), want, tol, "eager");
    expectClose(vec(jit(h)(x, v)), want, tol, "jit");
    const vs = np.stack([v, np.multiply(v, -2), np.zerosLike(v)]);
    const hv = vmap((u: NDArray) => h(x, u))(vs);
    expectClose(vec(hv), [...want, ...want.map((t) => -2 * t), ...want.map(() => 0)], tol, "vmap");
  });

  it("grad and linearize (known primal, unknown tangent) keep primal and tangent apart", () => {
    expectClose(vec(grad(f)(x)), gradByHand(vec(x)), tol, "grad");
    expectClose(vec(jit(grad(f))(x)), gradByHand(vec(x)), tol, "jit(grad)");
    const [y, lin] = linearize((u: NDArray) => np.matmul(A, u), x);
    const [ax, av] = matTimes(a, [vec(x), vec(v)], false);
    expectClose(vec(y), ax!, tol, "linearize primal");
    expectClose(vec(lin(v) as NDArray), av!, tol, "linearize tangent");
    // the linear function holds one matmul of the tangent, not a product of the primal with it
    const lines = makeJaxpr((u: NDArray) => lin(u))(v).toString();
    expect(lines.match(/matmul/g)?.length).toBe(1);
    expect(lines).not.toMatch(/concatenate/);
  });

  it("jvp takes one product for primal and tangent eagerly and under jit", () => {
    const fn = (u: NDArray) => np.matmul(A, u);
    const [y, t] = jvp(fn, [x], [v]);
    const [ax, av] = matTimes(a, [vec(x), vec(v)], false);
    expectClose(vec(y), ax!, tol, "primal");
    expectClose(vec(t), av!, tol, "tangent");
    const staged = makeJaxpr((u: NDArray, du: NDArray) => jvp(fn, [u], [du]))(x, v).toString();
    expect(staged.match(/matmul/g)?.length).toBe(1);
    expect(staged).toMatch(/concatenate/);
  });

  it("every layout: narrow right operand (1 or 2 columns) and narrow left operand (1 or 2 rows)", () => {
    for (const width of [1, 2]) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          // op(A) · op(B) with op(B) N×width: B stored N×width, or width×N when transposed
          const B = randomArray(rand, transB ? [width, N] : [N, width]);
          const dB = randomArray(rand, transB ? [width, N] : [N, width]);
          const cols = (M: NDArray) => {
            const m = vec(M);
            return Array.from({ length: width }, (_, c) => Array.from({ length: N }, (_, p) => (transB ? m[c * N + p]! : m[p * width + c]!)));
          };
          const rowMajor = (colsOut: number[][]) => Array.from({ length: N * width }, (_, k) => colsOut[k % width]![Math.floor(k / width)]!);
          const [y, t] = jvp((u: NDArray) => matmulT(A, u, transA, transB), [B], [dB]);
          const what = `A${transA ? "ᵀ" : ""}·B${transB ? "ᵀ" : ""}, ${width} column(s)`;
          expectClose(vec(y), rowMajor(matTimes(a, cols(B), transA)), tol, `${what}: primal`);
          expectClose(vec(t), rowMajor(matTimes(a, cols(dB), transA)), tol, `${what}: tangent`);

          // op(L) · op(A) with op(L) width×N: the same products transposed, (op(A)ᵀ · op(L)ᵀ)ᵀ
          const L = randomArray(rand, transB ? [N, width] : [width, N]);
          const dL = randomArray(rand, transB ? [N, width] : [width, N]);
          const rows = (M: NDArray) => {
            const m = vec(M);
            return Array.from({ length: width }, (_, r) => Array.from({ length: N }, (_, p) => (transB ? m[p * width + r]! : m[r * N + p]!)));
          };
          const [yl, tl] = jvp((u: NDArray) => matmulT(u, A, transB, transA), [L], [dL]);
          const what2 = `L${transB ? "ᵀ" : ""}·A${transA ? "ᵀ" : ""}, ${width} row(s)`;
          expectClose(vec(yl), matTimes(a, rows(L), !transA).flat(), tol, `${what2}: primal`);
          expectClose(vec(tl), matTimes(a, rows(dL), !transA).flat(), tol, `${what2}: tangent`);
        }
      }
    }
  });

  it("a tangent on the wide operand too takes the general rule", () => {
    const dA = randomArray(rand, [N, N]);
    const [y, t] = jvp((m: NDArray, u: NDArray) => np.matmul(m, u), [A, x], [dA, v]);
    const da = vec(dA);
    const [ax, av] = matTimes(a, [vec(x), vec(v)], false);
    const [dax] = matTimes(da, [vec(x)], false);
    expectClose(vec(y), ax!, tol, "primal");
    expectClose(
      vec(t),
      av!.map((q, i) => q + dax![i]!),
      tol,
      "tangent",
    );
  });
});
