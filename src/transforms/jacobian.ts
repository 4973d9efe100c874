/** Jacobians and Hessians of functions of pytrees. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate, isFloat } from "../core/dtype.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { full } from "../primitives/elementwise.js";
import { moveAxis, reshape } from "../primitives/shape.js";
import { linearize, vjp } from "./ad.js";
import { flattenArgs, leavesToArrays, normalizeArgnums } from "./flat.js";
import { vmap } from "./vmap.js";

/** Options of {@link jacfwd}, {@link jacrev} and {@link hessian}. */
export interface JacobianOptions {
  /** Which argument(s) to differentiate (default 0). */
  argnums?: number | number[];
}

interface Prepared {
  leaves: NDArray[];
  inDef: TreeDef;
  flat: (xs: NDArray[]) => NDArray[];
  outDef: () => TreeDef;
}

function prepare(op: string, f: (...a: any[]) => any, args: unknown[], argnums: number[]): Prepared {
  const [leaves, inDef] = flattenArgs(op, argnums.map((i) => args[i]));
  leaves.forEach((l) => {
    if (!isFloat(l.dtype)) throw new Error(`${op}: cannot differentiate with respect to ${l.dtype === "int32" ? "an" : "a"} ${l.dtype} input (${l.aval.toString()}); convert it with astype("float32") or leave it out of argnums.`);
  });
  let outDef: TreeDef | undefined;
  const flat = (xs: NDArray[]): NDArray[] => {
    const sel = unflatten(inDef, xs) as unknown[];
    const all = [...args];
    argnums.forEach((a, i) => (all[a] = sel[i]));
    const [ol, od] = flatten(f(...all));
    outDef = od;
    return leavesToArrays(op, ol, "result");
  };
  return { leaves, inDef, flat, outDef: () => outDef! };
}

/** The identity basis for `x`: shape `[x.size, ...x.shape]`. */
function basis(x: NDArray): NDArray {
  const n = x.size;
  const buf = allocate(x.dtype, n * n);
  for (let i = 0; i < n; i++) buf[i * n + i] = 1;
  return new ConcreteArray(new ShapedArray([n, ...x.aval.shape], x.dtype), buf);
}

/** Moves the leading basis axis of `y` (shape `[n, ...S]`) to the end and splits it to `inShape`. */
function basisLast(y: NDArray, inShape: readonly number[]): NDArray {
  const s = y.aval.shape.slice(1);
  return reshape(moveAxis(y, 0, y.ndim - 1), [...s, ...inShape]);
}

function packResult(jac: NDArray[][], p: Prepared, numberArgnums: boolean): any {
  const perOut = jac.map((row) => {
    const t = unflatten(p.inDef, row) as unknown[];
    return numberArgnums ? t[0] : t;
  });
  return unflatten(p.outDef(), perOut);
}

/**
 * The Jacobian by forward mode: `vmap` of the linearized JVP over the standard basis. The Jacobian of an
 * output of shape `O` with respect to an input of shape `I` has shape `O ++ I`.
 *
 * @example
 * ```ts
 * import { jacfwd, np } from "cotangent";
 * const J = jacfwd((x: np.Array) => np.multiply(x, x))(np.array([1, 2]));
 * console.log(J.toJs()); // [[2, 0], [0, 4]]
 * ```
 */
export function jacfwd(f: (...args: any[]) => any, opts: JacobianOptions = {}): (...args: any[]) => any {
  return (...args: any[]) => {
    const argnums = normalizeArgnums("jacfwd", opts.argnums, args.length);
    const p = prepare("jacfwd", f, args, argnums);
    const [outs, jvpFn] = linearize((...xs: NDArray[]) => p.flat(xs), ...p.leaves);
    const outLeaves = outs as NDArray[];
    const jac: NDArray[][] = outLeaves.map(() => []);
    p.leaves.forEach((x, j) => {
      const push = (t: NDArray) => jvpFn(...p.leaves.map((y, jj) => (jj === j ? t : full(y.aval.shape, 0, y.dtype)))) as NDArray[];
      const cols = vmap(push)(basis(x)) as NDArray[];
      cols.forEach((c, i) => jac[i]!.push(basisLast(c, x.aval.shape)));
    });
    return packResult(jac, p, typeof opts.argnums !== "object");
  };
}

/**
 * The Jacobian by reverse mode: `vmap` of the VJP over the standard basis; same layout as
 * {@link jacfwd}.
 *
 * @example
 * ```ts
 * import { jacrev, np } from "cotangent";
 * const J = jacrev((x: np.Array) => np.sum(np.square(x)))(np.array([1, 2]));
 * console.log(J.toJs()); // [2, 4]
 * ```
 */
export function jacrev(f: (...args: any[]) => any, opts: JacobianOptions = {}): (...args: any[]) => any {
  return (...args: any[]) => {
    const argnums = normalizeArgnums("jacrev", opts.argnums, args.length);
    const p = prepare("jacrev", f, args, argnums);
    const [outs, vjpFn] = vjp((...xs: NDArray[]) => p.flat(xs), ...p.leaves);
    const outLeaves = outs as NDArray[];
    const jac: NDArray[][] = outLeaves.map((o, i) => {
      const pull = (ct: NDArray) => vjpFn(outLeaves.map((y, ii) => (ii === i ? ct : full(y.aval.shape, 0, y.dtype)))) as NDArray[];
      const rows = vmap(pull)(basis(o)) as NDArray[];
      return rows.map((r) => reshape(r, [...o.aval.shape, ...r.aval.shape.slice(1)]));
    });
    return packResult(jac, p, typeof opts.argnums !== "object");
  };
}

/**
 * The Hessian of a scalar function: `jacfwd(jacrev(f))`, of shape `I ++ I`.
 *
 * @example
 * ```ts
 * import { hessian, np } from "cotangent";
 * const H = hessian((x: np.Array) => np.sum(np.power(x, 3)))(np.array([1, 2]));
 * console.log(H.toJs()); // [[6, 0], [0, 12]]
 * ```
 */
export function hessian(f: (...args: any[]) => any, opts: JacobianOptions = {}): (...args: any[]) => any {
  return jacfwd(jacrev(f, opts), opts);
}
