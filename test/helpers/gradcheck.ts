/**
 * A battery of derivative checks for a function of float64 arrays, each against an
 * independent reference:
 *
 * - `jvp`: forward mode against central finite differences (and the primal value);
 * - `vjp`: `<vjp(u), v> == <u, jvp(v)>` (the adjoint identity), cotangent shapes;
 * - `gradgrad`: reverse-over-reverse, `grad(x => <grad g(x), v>)` against central
 *   differences of `grad g` along `v` (g = <f, w> a random scalarization);
 * - `hvp`: `hessianVectorProduct(g)(x, v)` against `hessian(g)(x)` contracted with `v`;
 * - `jac`: `jacfwd(f)` equals `jacrev(f)`, with JAX's `out.shape ++ in.shape` layout.
 *
 * And {@link checkFloat32Agreement}: the same derivatives computed in float32 agree
 * with float64 to float32 tolerance.
 */
import { type Array as NDArray, grad, hessian, hessianVectorProduct, jacfwd, jacrev, jvp, np, vjp } from "../../src/index.js";
import { castTree, centralDifference, closeness, expectClose, flatNumbers, randomLike, seededRandom, toNumbers } from "./numeric.js";

export type Check = "jvp" | "vjp" | "gradgrad" | "hvp" | "jac";
export const ALL_CHECKS: readonly Check[] = ["jvp", "vjp", "gradgrad", "hvp", "jac"];

/** Options of {@link checkDerivatives}. */
export interface DerivativeCheckOptions {
  /** Seed of the random directions, cotangents and scalarization weights. */
  seed?: number;
  /** Which checks to run (default all). */
  checks?: readonly Check[];
  /** Finite-difference step (default 1e-5; inputs should be float64). */
  eps?: number;
  /** Relative tolerance of finite-difference comparisons (default 1e-6). */
  fdTol?: number;
  /** Relative tolerance of comparisons between exact derivatives (default 1e-9). */
  exactTol?: number;
  /** A label for error messages. */
  name?: string;
}

const maxAbs = (xs: readonly number[]): number => xs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Asserts closeness with an absolute tolerance scaled by the magnitude of `expected`. */
function expectScaledClose(actual: unknown, expected: unknown, rtol: number, what: string): void {
  const scale = Math.max(1, maxAbs(flatNumbers(expected)));
  expectClose(actual, expected, { rtol, atol: rtol * scale }, what);
}

function shapeOf(x: NDArray): number[] {
  return x.shape;
}

/** Contracts `H[i][j]` (shape Ii ++ Ij, row-major) with `v[j]`: one flat list per i. */
function contractHessian(H: NDArray[][], v: NDArray[], xs: NDArray[]): number[][] {
  return H.map((row, i) => {
    const ni = xs[i]!.size;
    const out = new Array<number>(ni).fill(0);
    row.forEach((Hij, j) => {
      const vj = toNumbers(v[j]!);
      const h = toNumbers(Hij);
      for (let a = 0; a < ni; a++) for (let b = 0; b < vj.length; b++) out[a]! += h[a * vj.length + b]! * vj[b]!;
    });
    return out;
  });
}

/**
 * Runs the derivative checks on `f` (a function of float64 arrays returning one
 * float64 array) at `args`. Throws on the first disagreement, naming the check.
 */
export function checkDerivatives(f: (...xs: NDArray[]) => NDArray, args: readonly NDArray[], o: DerivativeCheckOptions = {}): void {
  const rand = seededRandom(o.seed ?? 1);
  const checks = o.checks ?? ALL_CHECKS;
  const eps = o.eps ?? 1e-5;
  const fdTol = o.fdTol ?? 1e-6;
  const exactTol = o.exactTol ?? 1e-9;
  const name = o.name ?? "f";
  const xs = [...args];
  const argnums = xs.map((_, i) => i);
  const y = f(...xs);
  const v = randomLike(rand, xs);
  const u = randomLike(rand, y);
  const w = randomLike(rand, y);

  let tangentOut: NDArray | undefined;
  const forward = (): NDArray => {
    if (!tangentOut) {
      const [y2, t] = jvp(f, xs, v) as [NDArray, NDArray];
      expectScaledClose(y2, y, 1e-12, `${name}: jvp primal output`);
      tangentOut = t;
    }
    return tangentOut;
  };

  if (checks.includes("jvp")) {
    const t = forward();
    expectScaledClose(t, centralDifference(f, xs, v, eps), fdTol, `${name}: jvp vs central differences`);
  }

  if (checks.includes("vjp")) {
    const t = forward();
    const [y3, back] = vjp(f, ...xs) as [NDArray, (ct: NDArray) => NDArray[]];
    expectScaledClose(y3, y, 1e-12, `${name}: vjp primal output`);
    const g = back(u);
    if (!Array.isArray(g) || g.length !== xs.length) throw new Error(`${name}: vjp returned ${String(g?.length)} cotangents for ${xs.length} primals`);
    g.forEach((gi, i) => {
      const s = shapeOf(gi);
      const want = shapeOf(xs[i]!);
      if (s.length !== want.length || s.some((d, k) => d !== want[k]))
        throw new Error(`${name}: vjp cotangent ${i} has shape [${s}] but the primal has [${want}]`);
      if (gi.dtype !== xs[i]!.dtype) throw new Error(`${name}: vjp cotangent ${i} has dtype ${gi.dtype}, primal ${xs[i]!.dtype}`);
    });
    const gv = flatNumbers(g);
    const vv = flatNumbers(v);
    const uu = flatNumbers(u);
    const tt = flatNumbers(t);
    let lhs = 0;
    let rhs = 0;
    let scale = 1;
    gv.forEach((a, k) => ((lhs += a * vv[k]!), (scale += Math.abs(a * vv[k]!))));
    uu.forEach((a, k) => ((rhs += a * tt[k]!), (scale += Math.abs(a * tt[k]!))));
    if (!(Math.abs(lhs - rhs) <= exactTol * scale)) throw new Error(`${name}: <vjp(u), v> = ${lhs} but <u, jvp(v)> = ${rhs}`);
  }

  const g = (...zs: NDArray[]): NDArray => np.sum(np.multiply(f(...zs), w));
  const gradAll = grad(g, { argnums }) as (...zs: NDArray[]) => NDArray[];

  if (checks.includes("gradgrad")) {
    const h = (...zs: NDArray[]): NDArray => {
      const gs = gradAll(...zs);
      return gs.reduce((acc: NDArray, gi, i) => np.add(acc, np.sum(np.multiply(gi, v[i]!))), np.zeros([], "float64"));
    };
    const hv = grad(h, { argnums })(...xs) as NDArray[];
    expectScaledClose(hv, centralDifference(gradAll, xs, v, eps), fdTol, `${name}: grad(grad) vs central differences of grad`);
  }

  if (checks.includes("hvp")) {
    const gl = (zs: NDArray[]): NDArray => g(...zs);
    const hv = hessianVectorProduct(gl)(xs, v) as NDArray[];
    const H = hessian(gl)(xs) as NDArray[][];
    H.forEach((row, i) =>
      row.forEach((Hij, j) => {
        const want = [...xs[i]!.shape, ...xs[j]!.shape];
        if (Hij.shape.length !== want.length || Hij.shape.some((d, k) => d !== want[k]))
          throw new Error(`${name}: hessian block [${i}][${j}] has shape [${Hij.shape}], expected [${want}]`);
      }),
    );
    const Hv = contractHessian(H, v, xs);
    hv.forEach((hvi, i) => {
      const msg = closeness(toNumbers(hvi), Hv[i]!, { rtol: exactTol * 10, atol: exactTol * 10 * Math.max(1, maxAbs(Hv[i]!)) });
      if (msg) throw new Error(`${name}: hessianVectorProduct vs hessian @ v, argument ${i}: ${msg}`);
    });
  }

  if (checks.includes("jac")) {
    const fl = (zs: NDArray[]): NDArray => f(...zs);
    const Jf = jacfwd(fl)(xs) as NDArray[];
    const Jr = jacrev(fl)(xs) as NDArray[];
    Jf.forEach((J, i) => {
      const want = [...y.shape, ...xs[i]!.shape];
      if (J.shape.length !== want.length || J.shape.some((d, k) => d !== want[k]))
        throw new Error(`${name}: jacfwd block ${i} has shape [${J.shape}], expected [${want}]`);
    });
    expectScaledClose(Jr, Jf, exactTol * 10, `${name}: jacrev vs jacfwd`);
  }
}

/** Options of {@link checkFloat32Agreement}. */
export interface Float32Options {
  seed?: number;
  /** Relative tolerance (default 1e-4), also scaled by each result's magnitude as atol. */
  rtol?: number;
  name?: string;
}

/**
 * Computes `f`, a jvp, a vjp and a gradient in float64 and again with the inputs cast
 * to float32 (where the results must be float32), and checks that they agree to
 * float32 tolerance.
 */
export function checkFloat32Agreement(f: (...xs: NDArray[]) => NDArray, args64: readonly NDArray[], o: Float32Options = {}): void {
  const rand = seededRandom(o.seed ?? 2);
  const rtol = o.rtol ?? 1e-4;
  const name = o.name ?? "f";
  const xs64 = [...args64];
  const xs32 = castTree(xs64, "float32");
  const v64 = randomLike(rand, xs64);
  const v32 = castTree(v64, "float32");
  const y64 = f(...xs64);
  const y32 = f(...xs32);
  if (y32.dtype !== "float32") throw new Error(`${name}: float32 inputs gave a ${y32.dtype} result`);
  const u64 = randomLike(rand, y64);
  const u32 = castTree(u64, "float32");
  const run = (xs: NDArray[], v: NDArray[], u: NDArray): unknown[] => {
    const [, t] = jvp(f, xs, v);
    const [, back] = vjp(f, ...xs);
    const ct = back(u);
    const gr = grad((...zs: NDArray[]) => np.sum(np.multiply(f(...zs), u)), { argnums: xs.map((_, i) => i) })(...xs);
    return [t, ct, gr];
  };
  const r64 = run(xs64, v64, u64);
  const r32 = run(xs32, v32, u32);
  const labels = ["value", "jvp", "vjp", "grad"];
  [y32, ...r32].forEach((res, k) => {
    for (const leaf of flatLeaves(res)) if (leaf.dtype !== "float32") throw new Error(`${name}: float32 ${labels[k]} has dtype ${leaf.dtype}`);
    expectScaledClose(castTree(res, "float64"), [y64, ...r64][k], rtol, `${name}: float32 vs float64 ${labels[k]}`);
  });
}

function flatLeaves(t: unknown): NDArray[] {
  if (Array.isArray(t)) return t.flatMap(flatLeaves);
  return [t as NDArray];
}
