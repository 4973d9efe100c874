/**
 * Custom differentiation rules: `customJvp` and `customVjp`, as JAX's `custom_jvp`
 * and `custom_vjp`.
 * @module
 */
import { type NDArray, ShapedArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { fmtShape, shapeEqual } from "../core/shape.js";
import { type Params, UndefPrimal, bind, definePrimitive, findTopMain, fullRaise } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { JvpTrace, JvpTracer } from "../interpreters/jvp.js";
import { full } from "../primitives/elementwise.js";
import { flattenArgs, leavesToArrays } from "./flat.js";

const zerosOf = (a: ShapedArray): NDArray => full(a.shape, 0, a.dtype);

/**
 * Applies `fun` to flat `args`; under a JVP trace, `rule(primals, tangents)` gives the
 * outputs and their tangents instead of differentiating `fun`.
 * @internal
 */
export function customJvpFlat(
  fun: (xs: NDArray[]) => NDArray[],
  rule: (primals: NDArray[], tangents: NDArray[]) => [NDArray[], NDArray[]],
  args: NDArray[],
): NDArray[] {
  const main = findTopMain(args);
  if (main.kind !== "jvp") return fun(args);
  const trace = main.makeTrace(main) as JvpTrace;
  const ts = args.map((a) => fullRaise(trace, a) as JvpTracer);
  const primals = ts.map((t) => t.primal);
  if (ts.every((t) => t.tangent === null)) {
    return customJvpFlat(fun, rule, primals).map((p) => new JvpTracer(trace, p, null));
  }
  const tangents = ts.map((t) => t.tangent ?? zerosOf(t.aval));
  const [po, to] = rule(primals, tangents);
  if (po.length !== to.length) throw new Error(`customJvp: the rule returned ${po.length} primal outputs but ${to.length} tangents.`);
  return po.map((p, i) => {
    const t = to[i]!;
    if (!shapeEqual(p.aval.shape, t.aval.shape)) throw new Error(`customJvp: the rule's tangent output ${i} has shape ${fmtShape(t.shape)} but the primal output has shape ${fmtShape(p.shape)}.`);
    return new JvpTracer(trace, p, isFloat(p.dtype) ? (t.dtype === p.dtype ? t : t.astype(p.dtype)) : null);
  });
}

/**
 * Defines a function with a custom forward-mode rule (JAX's `custom_jvp`). Reverse
 * mode (`grad`, `vjp`) is derived from it by transposition, so the rule must be linear
 * in the tangents.
 *
 * @param f - the function.
 * @param jvpRule - `(primals, tangents) => [f(...primals), tangentOut]`.
 * @example
 * ```ts
 * import { customJvp, grad, np } from "cotangent";
 * // log(1 + e^x) with the derivative written as the stable sigmoid
 * const f = (x: np.Array) => np.log1p(np.exp(x));
 * const softplus = customJvp(f, ([x], [t]) => [f(x), np.multiply(t, np.sigmoid(x))]);
 * console.log(grad((x) => softplus(x))(np.array(0)).item()); // 0.5
 * ```
 */
export function customJvp<F extends (...args: any[]) => any>(f: F, jvpRule: (primals: any[], tangents: any[]) => [any, any]): F {
  const wrapped = (...args: unknown[]): unknown => {
    const [leaves, inDef] = flattenArgs("customJvp", args);
    let outDef: TreeDef | undefined;
    const fun = (xs: NDArray[]): NDArray[] => {
      const [ol, od] = flatten(f(...(unflatten(inDef, xs) as unknown[])));
      outDef = od;
      return leavesToArrays("customJvp", ol, "result");
    };
    const rule = (ps: NDArray[], ts: NDArray[]): [NDArray[], NDArray[]] => {
      const [po, to] = jvpRule(unflatten(inDef, ps) as unknown[], unflatten(inDef, ts) as unknown[]);
      const [pl, pd] = flatten(po);
      const [tl, td] = flatten(to);
      if (!pd.equals(td)) throw new Error(`customJvp: the rule's primal output ${pd.toString()} and tangent output ${td.toString()} have different structures.`);
      outDef = pd;
      return [leavesToArrays("customJvp", pl, "result"), leavesToArrays("customJvp", tl, "tangent")];
    };
    const outs = customJvpFlat(fun, rule, leaves);
    return unflatten(outDef!, outs);
  };
  return wrapped as F;
}

function forwardModeError(): Error {
  return new Error(
    "customVjp: forward-mode differentiation (jvp, jacfwd, linearize) of a customVjp function is not supported, as in JAX; reverse mode and forward-over-reverse (grad, vjp, jacrev, hessianVectorProduct) are. For forward mode define the derivative with customJvp instead, which supports both modes.",
  );
}

interface CustomVjpParams extends Params {
  numRes: number;
  outAvals: readonly ShapedArray[];
  bwd: (res: NDArray[], cts: NDArray[]) => NDArray[];
}

/** The tangent map of a customVjp function: linear in its tangents; transposes to `bwd`. */
export const custom_vjp_lin_p = definePrimitive<CustomVjpParams>({
  name: "custom_vjp_lin",
  abstractEval: (_avals, p) => [...p.outAvals],
  impl() {
    throw forwardModeError();
  },
  // only forward mode evaluates (or batches, in jacfwd) this primitive; reverse mode transposes it
  batch() {
    throw forwardModeError();
  },
  transpose(cts, args, p) {
    const res = args.slice(0, p.numRes) as NDArray[];
    const ins = args.slice(p.numRes);
    const full_ = cts.map((c, i) => c ?? zerosOf(p.outAvals[i]!));
    const g = p.bwd(res, full_);
    if (g.length !== ins.length) throw new Error(`customVjp: bwd returned ${g.length} cotangent leaves but the function has ${ins.length} input leaves.`);
    g.forEach((c, i) => {
      const a = ins[i]!.aval;
      if (!shapeEqual(c.aval.shape, a.shape)) throw new Error(`customVjp: bwd's cotangent ${i} has shape ${fmtShape(c.shape)} but its input has shape ${fmtShape(a.shape)}.`);
    });
    return [...res.map(() => null), ...ins.map((x, i) => (x instanceof UndefPrimal ? g[i]! : null))];
  },
  printParams: (p) => `[num_res=${p.numRes}]`,
});

/**
 * Defines a function with a custom reverse-mode rule (JAX's `custom_vjp`).
 *
 * @param f - the function.
 * @param fwd - `(...args) => [f(...args), residuals]`; residuals are any pytree of arrays.
 * @param bwd - `(residuals, cotangent) => [ct_arg0, ct_arg1, ...]`, one per argument.
 * @example
 * ```ts
 * import { customVjp, grad, np } from "cotangent";
 * // clip the gradient flowing back through an identity
 * const clipGrad = customVjp(
 *   (x: np.Array) => x,
 *   (x: np.Array) => [x, null],
 *   (_res: null, g: np.Array) => [np.clip(g, -1, 1)],
 * );
 * console.log(grad((x) => np.multiply(clipGrad(x), 5))(np.array(2)).item()); // 1
 * ```
 */
export function customVjp<F extends (...args: any[]) => any>(f: F, fwd: (...args: any[]) => [any, any], bwd: (res: any, ct: any) => any[]): F {
  const wrapped = (...args: unknown[]): unknown => {
    const [leaves, inDef] = flattenArgs("customVjp", args);
    const main = findTopMain(leaves);
    if (main.kind !== "jvp") return f(...args);
    const trace = main.makeTrace(main) as JvpTrace;
    const ts = leaves.map((a) => fullRaise(trace, a) as JvpTracer);
    const primals = ts.map((t) => t.primal);
    const primalArgs = unflatten(inDef, primals) as unknown[];
    if (ts.every((t) => t.tangent === null)) return wrapped(...primalArgs);
    const [out, res] = fwd(...primalArgs);
    const [ol, outDef] = flatten(out);
    const outs = leavesToArrays("customVjp", ol, "result");
    const [rl, resDef] = flatten(res);
    const resLeaves = leavesToArrays("customVjp", rl, "residual");
    const bwdFlat = (r: NDArray[], cts: NDArray[]): NDArray[] => {
      const g = bwd(unflatten(resDef, r), unflatten(outDef, cts));
      if (!Array.isArray(g)) throw new Error("customVjp: bwd must return a JS array with one cotangent per argument of f.");
      const [gl, gd] = flatten(g);
      if (!gd.equals(inDef)) throw new Error(`customVjp: bwd returned cotangents of structure ${gd.toString()} but the arguments have ${inDef.toString()}.`);
      return leavesToArrays("customVjp", gl, "cotangent");
    };
    const tangents = ts.map((t) => t.tangent ?? zerosOf(t.aval));
    const touts = bind(custom_vjp_lin_p, [...resLeaves, ...tangents], {
      numRes: resLeaves.length,
      outAvals: outs.map((o) => o.aval),
      bwd: bwdFlat,
    });
    return unflatten(
      outDef,
      outs.map((p, i) => new JvpTracer(trace, p, isFloat(p.dtype) ? touts[i]! : null)),
    );
  };
  return wrapped as F;
}
export { ShapedArray };
