/** Jacobians and Hessians of functions of pytrees. @module */
import type { NDArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { full } from "../primitives/elementwise.js";
import { concatenateArrays, reshape } from "../primitives/shape.js";
import { linearize, vjp } from "./ad.js";
import { flattenArgs, leavesToArrays, normalizeArgnums } from "./flat.js";

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
    if (!isFloat(l.dtype)) throw new Error(`${op}: cannot differentiate with respect to an ${l.dtype} input (${l.aval.toString()}); convert it with astype("float32") or leave it out of argnums.`);
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

function oneHot(x: NDArray, k: number): NDArray {
  const z = full([x.size], 0, x.dtype).data();
  z[k] = 1;
  return reshape(fromData(z, x), x.aval.shape);
}
import { ConcreteArray } from "../core/array.js";
import { ShapedArray } from "../core/array.js";
function fromData(buf: ReturnType<NDArray["data"]>, like: NDArray): NDArray {
  return new ConcreteArray(new ShapedArray([buf.length], like.dtype), buf);
}

/** Stacks `cols` (each of shape S) along a new last axis, then shapes it S ++ inShape. */
function assemble(cols: NDArray[], outShape: readonly number[], inShape: readonly number[], outerIsOut: boolean): NDArray {
  if (cols.length === 0) return full([...(outerIsOut ? outShape : inShape), ...(outerIsOut ? inShape : outShape)], 0, "float32");
  const expanded = cols.map((c) => reshape(c, [...c.aval.shape, 1]));
  const st = concatenateArrays(expanded, expanded[0]!.ndim - 1);
  return reshape(st, outerIsOut ? [...outShape, ...inShape] : [...outShape, ...inShape]);
}

function packResult(jac: NDArray[][], p: Prepared, numberArgnums: boolean): any {
  const perOut = jac.map((row) => {
    const t = unflatten(p.inDef, row) as unknown[];
    return numberArgnums ? t[0] : t;
  });
  return unflatten(p.outDef(), perOut);
}

/**
 * The Jacobian by forward mode (one JVP per input element). The Jacobian of an
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
      const cols: NDArray[][] = outLeaves.map(() => []);
      for (let k = 0; k < x.size; k++) {
        const ts = p.leaves.map((y, jj) => (jj === j ? oneHot(y, k) : full(y.aval.shape, 0, y.dtype)));
        const touts = jvpFn(...ts) as NDArray[];
        touts.forEach((t, i) => cols[i]!.push(t));
      }
      outLeaves.forEach((o, i) => jac[i]!.push(assemble(cols[i]!, o.aval.shape, x.aval.shape, true)));
    });
    return packResult(jac, p, typeof opts.argnums !== "object");
  };
}

/**
 * The Jacobian by reverse mode (one VJP per output element); same layout as
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
      const rows: NDArray[][] = p.leaves.map(() => []);
      for (let k = 0; k < o.size; k++) {
        const cts = outLeaves.map((y, ii) => (ii === i ? oneHot(y, k) : full(y.aval.shape, 0, y.dtype)));
        const g = vjpFn(cts) as NDArray[];
        g.forEach((gj, j) => rows[j]!.push(gj));
      }
      return p.leaves.map((x, j) => {
        const rs = rows[j]!;
        if (rs.length === 0) return full([...o.aval.shape, ...x.aval.shape], 0, x.dtype);
        const st = concatenateArrays(
          rs.map((r) => reshape(r, [1, ...r.aval.shape])),
          0,
        );
        return reshape(st, [...o.aval.shape, ...x.aval.shape]);
      });
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
