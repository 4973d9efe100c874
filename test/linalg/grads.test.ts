/**
 * Derivatives of np.linalg against float64 finite differences (test/helpers/gradcheck:
 * jvp, the adjoint identity, reverse-over-reverse, Hessian-vector products, jacfwd ==
 * jacrev), and the public checkGrads. Eigenvalues and singular values are distinct;
 * eigenvectors and singular vectors enter through sign-invariant functions (squared
 * projections on fixed vectors, matrix functions `v f(w) vᵀ`).
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkGrads, grad, np } from "../../src/index.js";
import { checkDerivatives, checkFloat32Agreement } from "../helpers/gradcheck.js";
import { errorMessage, randomArray, seededRandom } from "../helpers/numeric.js";

const rand = seededRandom(20261203);
const mat = (m: number, n: number): NDArray => randomArray(rand, [m, n]);
const I = (n: number): NDArray => np.eye(n, "float64");
/** A well-conditioned square matrix (random plus 3·I). */
const wellConditioned = (n: number): NDArray => np.add(mat(n, n), np.multiply(I(n), 3));
/** A symmetric positive definite matrix. */
const spd = (n: number): NDArray => {
  const x = mat(n, n);
  return np.add(np.matmul(x, x.T), I(n));
};
const flat = (x: NDArray): NDArray => np.reshape(x, [x.size]);
const cat = (...xs: NDArray[]): NDArray => np.concatenate(xs.map(flat));
/** Squared projections of the columns of `v` on fixed vectors: invariant under column sign flips. */
const projections = (v: NDArray, c: NDArray): NDArray => np.square(np.matmul(c, v));

describe("derivatives of np.linalg (float64 finite differences, to second order)", () => {
  it("cholesky", () => {
    checkDerivatives((a) => np.linalg.cholesky(a), [spd(4)], { name: "cholesky" });
    checkDerivatives((x) => np.linalg.cholesky(np.add(np.matmul(x, x.T), I(3))), [mat(3, 3)], { name: "cholesky(x xᵀ + I)" });
  });
  for (const lower of [true, false]) {
    for (const transA of [true, false]) {
      it(`solveTriangular lower=${lower} transA=${transA} (in a and b)`, () => {
        const a = wellConditioned(4);
        checkDerivatives((t, b) => np.linalg.solveTriangular(t, b, { lower, transA }), [a, mat(4, 2)], { name: "solveTriangular matrix" });
        checkDerivatives((t, b) => np.linalg.solveTriangular(t, b, { lower, transA, unitDiagonal: true }), [a, mat(4, 5)], {
          name: "solveTriangular unit, wide b",
        });
        checkDerivatives((t, b) => np.linalg.solveTriangular(t, b, { lower, transA }), [a, mat(4, 1).reshape([4])], { name: "solveTriangular vector" });
      });
    }
  }
  it("inv, solve", () => {
    checkDerivatives((a) => np.linalg.inv(a), [wellConditioned(3)], { name: "inv" });
    checkDerivatives((a, b) => np.linalg.solve(a, b), [wellConditioned(4), mat(4, 2)], { name: "solve" });
    checkDerivatives((a, b) => np.linalg.solve(a, b), [wellConditioned(3), mat(3, 1).reshape([3])], { name: "solve vector" });
  });
  it("det and slogdet (gradient inv(a)ᵀ·det and inv(a)ᵀ)", () => {
    const a = wellConditioned(4);
    checkDerivatives((x) => np.linalg.det(x), [a], { name: "det" });
    checkDerivatives((x) => np.linalg.slogdet(x)[1], [a], { name: "slogdet" });
    const ginv = np.linalg.inv(a).T;
    const g = grad((x: NDArray) => np.linalg.det(x))(a);
    const det = np.linalg.det(a).item();
    const diff = np.max(np.abs(np.subtract(g, np.multiply(ginv, det)))).item();
    expect(diff).toBeLessThan(1e-12 * Math.abs(det) * 10);
  });
  it("qr (q and r, square and tall)", () => {
    for (const [m, n] of [
      [3, 3],
      [5, 3],
    ] as const) {
      checkDerivatives((a) => cat(...np.linalg.qr(a)), [mat(m, n)], { name: `qr ${m}x${n}` });
    }
  });
  it("eigh of a 34x34 matrix (tridiagonal QL): eigenvalues and eigenvector projections, first order", () => {
    const a = mat(34, 34);
    const c = mat(2, 34);
    checkDerivatives((x) => np.linalg.eigh(x)[0], [a], { name: "eigh w (QL)", checks: ["jvp", "vjp"] });
    checkDerivatives((x) => projections(np.linalg.eigh(x)[1], c), [a], { name: "eigh v projections (QL)", checks: ["jvp", "vjp"] });
  });
  it("eigh: eigenvalues, eigenvector projections, a matrix function", () => {
    const a = mat(4, 4);
    const c = mat(2, 4);
    checkDerivatives((x) => np.linalg.eigh(x)[0], [a], { name: "eigh w" });
    checkDerivatives((x) => projections(np.linalg.eigh(x)[1], c), [a], { name: "eigh v projections" });
    checkDerivatives(
      (x) => {
        const [w, v] = np.linalg.eigh(x);
        return np.matmul(np.multiply(v, np.tanh(w)), v.T);
      },
      [a],
      { name: "v tanh(w) vᵀ" },
    );
  });
  for (const [m, n] of [
    [3, 3],
    [5, 3],
    [3, 5],
  ] as const) {
    it(`svd ${m}x${n}: singular values and singular vector projections`, () => {
      const a = mat(m, n);
      checkDerivatives((x) => np.linalg.svd(x, { fullMatrices: false })[1], [a], { name: "s" });
      const cu = mat(2, m);
      const cv = mat(n, 2);
      checkDerivatives(
        (x) => {
          const [u, , vh] = np.linalg.svd(x, { fullMatrices: false });
          return cat(projections(u, cu), np.square(np.matmul(vh, cv)));
        },
        [a],
        { name: "u, v projections" },
      );
    });
  }
  it("checkGrads (the public check) on a Gaussian log-likelihood and a least-squares solve", () => {
    const y = mat(4, 1).reshape([4]);
    const logLik = (x: NDArray): NDArray => {
      const k = np.add(np.matmul(x, x.T), I(4));
      const l = np.linalg.cholesky(k);
      const alpha = np.linalg.solveTriangular(l, y, { lower: true });
      // -αᵀα/2 - log|L| (the log-determinant of a triangular factor is the sum of log|L_ii|)
      return np.subtract(np.multiply(np.sum(np.square(alpha)), -0.5), np.linalg.slogdet(l)[1]);
    };
    checkGrads(logLik, [mat(4, 4)], { order: 2, atol: 1e-6, rtol: 1e-6 });
    checkGrads((x: NDArray) => np.sum(np.linalg.solve(np.add(np.matmul(x.T, x), I(3)), np.ones([3], "float64"))), [mat(5, 3)], {
      order: 2,
      atol: 1e-6,
      rtol: 1e-6,
    });
  });
  it("derivatives JAX does not define throw an Error naming the function and the shape", () => {
    const sumQ = (x: NDArray): NDArray => np.sum(np.linalg.qr(x)[0]);
    expect(errorMessage(() => grad(sumQ)(mat(2, 4)))).toMatch(/qr: the derivative .*m >= n.*\[2,4\]/);
    const sumU = (x: NDArray): NDArray => np.sum(np.square(np.linalg.svd(x)[0]));
    expect(errorMessage(() => grad(sumU)(mat(4, 2)))).toMatch(/svd: the derivative with fullMatrices: true .*\[4,2\].*fullMatrices: false/);
    // square matrices: full and reduced coincide, so the derivative exists
    checkDerivatives((x) => np.linalg.svd(x)[1], [mat(3, 3)], { name: "svd full, square", checks: ["jvp", "vjp"] });
  });
  it("float32: values and derivatives stay float32 and agree with float64", () => {
    const a = wellConditioned(4);
    const c = mat(2, 4);
    checkFloat32Agreement((x) => np.linalg.inv(x), [a], { name: "inv" });
    checkFloat32Agreement((x) => np.linalg.det(x), [a], { name: "det" });
    checkFloat32Agreement((x, b) => np.linalg.solveTriangular(x, b, { lower: true }), [a, mat(4, 2)], { name: "solveTriangular" });
    checkFloat32Agreement((x) => np.linalg.cholesky(np.add(np.matmul(x, x.T), I(4).astype(x.dtype))), [a], { name: "cholesky" });
    checkFloat32Agreement((x) => cat(...np.linalg.qr(x)), [mat(5, 3)], { name: "qr" });
    checkFloat32Agreement((x) => cat(np.linalg.eigh(x)[0], projections(np.linalg.eigh(x)[1], c.astype(x.dtype))), [mat(4, 4)], { name: "eigh", rtol: 1e-3 });
    checkFloat32Agreement((x) => np.linalg.svd(x, { fullMatrices: false })[1], [mat(4, 3)], { name: "svd" });
  });
});
