/** Jacobians and Hessians of functions of pytrees. @module */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { allocate, isFloat } from "../core/dtype.js";
import { describeValue } from "../core/shape.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { full, stopGradientArray } from "../primitives/elementwise.js";
import { moveAxis, reshape } from "../primitives/shape.js";
import { linearize, vjp } from "./ad.js";
import { checkFunction, checkNotPromise, checkTransformOptions, flattenArgs, leavesToArrays, normalizeArgnums } from "./flat.js";
import type { Argnums, Fn, HessianResult, JacobianResult, ArgsOf } from "./types.js";
import { vmap } from "./vmap.js";

/**
 * Options of {@link jacfwd}, {@link jacrev} and {@link hessian}. The type parameters
 * record the literal `argnums` and `hasAux` given, from which the result type is computed.
 */
export interface JacobianOptions<A extends Argnums = Argnums, H extends boolean = boolean> {
  /** Which argument(s) to differentiate (default 0); an array gives a JS array of Jacobians at each output leaf. */
  argnums?: A;
  /** `f` returns `[out, aux]`: the Jacobian is of `out`, and the result is `[jacobian, aux]` (aux undifferentiated). */
  hasAux?: H;
}

const JAC_KEYS = ["argnums", "hasAux"] as const;

interface Prepared {
  leaves: NDArray[];
  inDef: TreeDef;
  /** The flat function: the output leaves, then the aux leaves (with a zero derivative). */
  flat: (xs: NDArray[]) => NDArray[];
  outDef: () => TreeDef;
  /** The number of output leaves (the rest of `flat`'s results are aux leaves). */
  numOut: () => number;
  /** The aux value rebuilt from its leaves. */
  aux: (auxLeaves: NDArray[]) => unknown;
}

function prepare(op: string, f: Fn, args: unknown[], argnums: number[], hasAux: boolean): Prepared {
  const [leaves, inDef] = flattenArgs(
    op,
    argnums.map((i) => args[i]),
  );
  leaves.forEach((l) => {
    if (!isFloat(l.dtype))
      throw new Error(
        `${op}: cannot differentiate with respect to ${l.dtype === "int32" ? "an" : "a"} ${l.dtype} input (${l.aval.toString()}); convert it with astype("float32") or leave it out of argnums.`,
      );
  });
  let outDef: TreeDef | undefined;
  let auxDef: TreeDef | undefined;
  let numOut = 0;
  const flat = (xs: NDArray[]): NDArray[] => {
    const sel = unflatten(inDef, xs) as unknown[];
    const all = [...args];
    argnums.forEach((a, i) => (all[a] = sel[i]));
    let out = f(...all);
    checkNotPromise(op, out);
    let auxLeaves: NDArray[] = [];
    if (hasAux) {
      if (!Array.isArray(out) || out.length !== 2)
        throw new Error(`${op}: with hasAux, f must return [out, aux], got ${Array.isArray(out) ? `a JS array of length ${out.length}` : describeValue(out)}.`);
      const [al, ad] = flatten(out[1]);
      auxDef = ad;
      auxLeaves = leavesToArrays(op, al, "aux value").map((a) => stopGradientArray(a));
      out = out[0];
    }
    const [ol, od] = flatten(out);
    outDef = od;
    numOut = ol.length;
    return [...leavesToArrays(op, ol, "result"), ...auxLeaves];
  };
  return { leaves, inDef, flat, outDef: () => outDef!, numOut: () => numOut, aux: (al) => (hasAux ? unflatten(auxDef!, al) : undefined) };
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

function packResult(jac: NDArray[][], p: Prepared, numberArgnums: boolean, auxLeaves: NDArray[], hasAux: boolean): unknown {
  const perOut = jac.map((row) => {
    const t = unflatten(p.inDef, row) as unknown[];
    return numberArgnums ? t[0] : t;
  });
  const j = unflatten(p.outDef(), perOut);
  return hasAux ? [j, p.aux(auxLeaves)] : j;
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
 * const [J2, aux] = jacfwd((x: np.Array) => [np.sin(x), np.sum(x)] as const, { hasAux: true })(np.array([0, 0]));
 * console.log(J2.toJs(), aux.item()); // [[1, 0], [0, 1]] 0
 * ```
 */
export function jacfwd<F extends Fn, const A extends Argnums = 0, H extends boolean = false>(
  f: F,
  opts?: JacobianOptions<A, H>,
): (...args: ArgsOf<F>) => JacobianResult<F, A, H> {
  checkFunction("jacfwd", f, "jacfwd((x) => np.sin(x))");
  const o: JacobianOptions = checkTransformOptions("jacfwd", opts, "{ argnums: 0, hasAux: false }", JAC_KEYS);
  const hasAux = o.hasAux === true;
  return (...args: ArgsOf<F>) => {
    const argnums = normalizeArgnums("jacfwd", o.argnums, args.length);
    const p = prepare("jacfwd", f, args, argnums, hasAux);
    const [outs, jvpFn] = linearize((...xs: NDArray[]) => p.flat(xs), ...p.leaves);
    const nOut = p.numOut();
    const jac: NDArray[][] = outs.slice(0, nOut).map(() => []);
    p.leaves.forEach((x, j) => {
      const push = (t: NDArray): NDArray[] => jvpFn(...p.leaves.map((y, jj) => (jj === j ? t : full(y.aval.shape, 0, y.dtype)))).slice(0, nOut);
      const cols = vmap(push)(basis(x));
      cols.forEach((c, i) => jac[i]!.push(basisLast(c, x.aval.shape)));
    });
    return packResult(jac, p, typeof o.argnums !== "object", outs.slice(nOut), hasAux) as JacobianResult<F, A, H>;
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
 * const [dJ, n] = jacrev((x: np.Array, y: np.Array) => [np.multiply(x, y), x.size] as const, { argnums: [0, 1], hasAux: true })(np.array(2), np.array(3));
 * console.log(dJ[0].item(), dJ[1].item(), n.item()); // 3 2 1
 * ```
 */
export function jacrev<F extends Fn, const A extends Argnums = 0, H extends boolean = false>(
  f: F,
  opts?: JacobianOptions<A, H>,
): (...args: ArgsOf<F>) => JacobianResult<F, A, H> {
  checkFunction("jacrev", f, "jacrev((x) => np.sin(x))");
  const o: JacobianOptions = checkTransformOptions("jacrev", opts, "{ argnums: 0, hasAux: false }", JAC_KEYS);
  const hasAux = o.hasAux === true;
  return (...args: ArgsOf<F>) => {
    const argnums = normalizeArgnums("jacrev", o.argnums, args.length);
    const p = prepare("jacrev", f, args, argnums, hasAux);
    const [outs, vjpFn] = vjp((...xs: NDArray[]) => p.flat(xs), ...p.leaves);
    const nOut = p.numOut();
    const jac: NDArray[][] = outs.slice(0, nOut).map((o, i) => {
      const pull = (ct: NDArray): NDArray[] => vjpFn(outs.map((y, ii) => (ii === i ? ct : full(y.aval.shape, 0, y.dtype))));
      const rows = vmap(pull)(basis(o));
      return rows.map((r) => reshape(r, [...o.aval.shape, ...r.aval.shape.slice(1)]));
    });
    return packResult(jac, p, typeof o.argnums !== "object", outs.slice(nOut), hasAux) as JacobianResult<F, A, H>;
  };
}

/**
 * The Hessian of a scalar function: `jacfwd(jacrev(f))`, of shape `I ++ I`. With
 * `hasAux`, `f` returns `[out, aux]` and the result is `[hessian, aux]`.
 *
 * @example
 * ```ts
 * import { hessian, np } from "cotangent";
 * const H = hessian((x: np.Array) => np.sum(np.power(x, 3)))(np.array([1, 2]));
 * console.log(H.toJs()); // [[6, 0], [0, 12]]
 * ```
 */
export function hessian<F extends Fn, const A extends Argnums = 0, H extends boolean = false>(
  f: F,
  opts?: JacobianOptions<A, H>,
): (...args: ArgsOf<F>) => HessianResult<F, A, H> {
  checkFunction("hessian", f, "hessian((x) => np.sum(np.power(x, 3)))");
  const o: JacobianOptions = checkTransformOptions("hessian", opts, "{ argnums: 0, hasAux: false }", JAC_KEYS);
  return jacfwd(jacrev(f, o), o) as (...args: ArgsOf<F>) => HessianResult<F, A, H>;
}
