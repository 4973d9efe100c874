/**
 * Custom differentiation rules: `customJvp` and `customVjp`, as JAX's `custom_jvp`
 * and `custom_vjp`.
 * @module
 */
import type { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { fmtShape, shapeEqual } from "../core/shape.js";
import { LruCache } from "../core/lru.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind, definePrimitive, isEager } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { type ClosedJaxpr, evalJaxpr } from "../ir/jaxpr.js";
import { vmapFlat } from "../interpreters/batching.js";
import { batchJaxpr, closureConvert, zerosOf } from "../interpreters/jaxpr_transforms.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { reduceSum } from "../primitives/reduce.js";
import { moveAxis } from "../primitives/shape.js";
import { checkFunction, flattenArgs, leavesToArrays } from "./flat.js";
import type { ArgsOf, CotangentsOf, Fn, Like, ReturnOf, TangentsOf, ToArrays } from "./types.js";

type FlatFn = (xs: NDArray[]) => NDArray[];
type JvpRule = (primals: NDArray[], tangents: NDArray[]) => [NDArray[], NDArray[]];

/**
 * Traces `fun` on the avals of `args` for a custom-rule call. Constants of the trace
 * that are tracers of enclosing transforms become leading inputs (closure conversion).
 * Traces without such constants are cached per input signature.
 */
function traceCall(cache: LruCache<string, ClosedJaxpr>, fun: FlatFn, args: NDArray[]): { jaxpr: ClosedJaxpr; consts: NDArray[]; key: string } {
  const key = args.map((a) => a.aval.toString()).join(",");
  const hit = cache.get(key);
  if (hit) return { jaxpr: hit, consts: [], key };
  const { jaxpr, consts } = closureConvert(
    traceToJaxpr(
      fun,
      args.map((a) => a.aval),
    ),
  );
  if (!consts.length) cache.set(key, jaxpr);
  return { jaxpr, consts, key };
}

/** Runs a flat function batched along axis 0 of the inputs in `mask`; every output batched at 0. */
function vmapAll(f: FlatFn, size: number, xs: NDArray[], mask: boolean[]): NDArray[] {
  return vmapFlat(
    f,
    size,
    xs,
    mask.map((m) => (m ? 0 : null)),
    (n) => new Array<BatchDim>(n).fill(0),
  );
}

/**
 * Batching of a custom call: moves batch dims to 0 and traces the batched function;
 * returns the batch size, the moved inputs, which are batched, and the new jaxpr.
 */
function batchCall(cj: ClosedJaxpr, args: NDArray[], dims: BatchDim[]): { size: number; moved: NDArray[]; mask: boolean[]; jaxpr: ClosedJaxpr } {
  const i0 = dims.findIndex((d) => d !== null);
  const size = args[i0]!.shape[dims[i0]!]!;
  const moved = args.map((a, i) => (dims[i] === null ? a : moveAxis(a, dims[i]!, 0)));
  const mask = dims.map((d) => d !== null);
  const { jaxpr } = batchJaxpr(
    cj,
    mask,
    size,
    mask.map(() => true),
  );
  return { size, moved, mask, jaxpr };
}

function checkTangentOuts(po: NDArray[], to: NDArray[]): NDArray[] {
  if (po.length !== to.length) throw new Error(`customJvp: the rule returned ${po.length} primal outputs but ${to.length} tangents.`);
  return po.map((p, i) => {
    const t = to[i]!;
    if (!shapeEqual(p.aval.shape, t.aval.shape))
      throw new Error(`customJvp: the rule's tangent output ${i} has shape ${fmtShape(t.shape)} but the primal output has shape ${fmtShape(p.shape)}.`);
    return isFloat(p.dtype) && t.dtype !== p.dtype ? t.astype(p.dtype) : t;
  });
}

/**
 * The JVP prologue shared by both custom calls: the function's own arguments and
 * their tangents (after its closed-over constants), or the plain call with zero
 * tangents when none of them has a tangent. A custom rule cannot see derivatives of
 * closed-over values, so those are an error.
 */
function ownTangents<P extends Params & { jaxpr: ClosedJaxpr; numConsts: number }>(
  op: string,
  prim: Primitive<P>,
  primals: NDArray[],
  tangents: (NDArray | null)[],
  p: P,
): { own: NDArray[]; ownT: (NDArray | null)[] } | { passThrough: [NDArray[], null[]] } {
  if (tangents.slice(0, p.numConsts).some((t) => t !== null)) {
    throw new Error(
      `${op}: the function closes over a value that is being differentiated (a traced value of an enclosing grad/jvp), and its custom rule cannot account for that value's derivative. Pass the value as an explicit argument of the function instead.`,
    );
  }
  const ownT = tangents.slice(p.numConsts);
  if (ownT.every((t) => t === null)) return { passThrough: [bind(prim, primals, p), p.jaxpr.outAvals.map(() => null)] };
  return { own: primals.slice(p.numConsts), ownT };
}

interface CustomJvpParams extends Params {
  /** The function, traced (closed-over tracers are its first `numConsts` inputs). */
  jaxpr: ClosedJaxpr;
  numConsts: number;
  rule: JvpRule;
}

/**
 * A call of a customJvp function. It is staged like any primitive (so `jit` keeps
 * it), evaluates its traced function, and differentiates with the user's rule.
 */
export const custom_jvp_call_p: Primitive<CustomJvpParams> = definePrimitive<CustomJvpParams>({
  name: "custom_jvp_call",
  abstractEval: (_avals, p) => p.jaxpr.outAvals,
  impl: (args, p) => evalJaxpr(p.jaxpr.jaxpr, p.jaxpr.consts, args) as ConcreteArray[],
  jvp(primals, tangents, p) {
    const split = ownTangents("customJvp", custom_jvp_call_p, primals, tangents, p);
    if (!("own" in split)) return split.passThrough;
    const { own, ownT } = split;
    const [po, to] = p.rule(
      own,
      ownT.map((t, i) => t ?? zerosOf(own[i]!.aval)),
    );
    return [po, checkTangentOuts(po, to)];
  },
  batch(args, dims, p) {
    const { size, moved, mask, jaxpr } = batchCall(p.jaxpr, args, dims);
    const own = mask.slice(p.numConsts);
    const rule: JvpRule = (ps, ts) => {
      const n = ps.length;
      const outs = vmapAll(
        (xs) => {
          const [po, to] = p.rule(xs.slice(0, n), xs.slice(n));
          return [...po, ...to];
        },
        size,
        [...ps, ...ts],
        [...own, ...own],
      );
      return [outs.slice(0, outs.length / 2), outs.slice(outs.length / 2)];
    };
    const outs = bind(custom_jvp_call_p, moved, { jaxpr, numConsts: p.numConsts, rule });
    return [outs, outs.map(() => 0)];
  },
  printParams: (p) => `[num_consts=${p.numConsts} call_jaxpr={ ... }]`,
});

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
export function customJvp<F extends Fn>(
  f: F,
  jvpRule: (primals: CotangentsOf<ArgsOf<F>>, tangents: CotangentsOf<ArgsOf<F>>) => readonly [Like<ReturnOf<F>>, Like<ReturnOf<F>>],
): F {
  checkFunction("customJvp", f, "customJvp(f, ([x], [t]) => [f(x), np.multiply(t, df(x))])");
  checkFunction("customJvp", jvpRule, "customJvp(f, ([x], [t]) => [f(x), np.multiply(t, df(x))])");
  if (arguments.length > 2)
    throw new Error(
      `customJvp: takes (f, jvpRule) and no options, got ${arguments.length} arguments; for an argument that is not differentiated (JAX's nondiff_argnums), close over it or pass it as an integer array.`,
    );
  const cache = new LruCache<string, ClosedJaxpr>();
  const outDefs = new LruCache<string, TreeDef>();
  const wrapped = (...args: unknown[]): unknown => {
    if (isEager()) return f(...args);
    const [leaves, inDef] = flattenArgs("customJvp", args);
    let outDef: TreeDef | undefined;
    const fun = (xs: NDArray[]): NDArray[] => {
      const [ol, od] = flatten(f(...(unflatten(inDef, xs) as unknown[])));
      outDef = od;
      return leavesToArrays("customJvp", ol, "result");
    };
    const rule: JvpRule = (ps, ts) => {
      const [po, to] = jvpRule(unflatten(inDef, ps) as CotangentsOf<ArgsOf<F>>, unflatten(inDef, ts) as CotangentsOf<ArgsOf<F>>);
      const [pl, pd] = flatten(po);
      const [tl, td] = flatten(to);
      if (!pd.equals(td))
        throw new Error(`customJvp: the rule's primal output ${pd.toString()} and tangent output ${td.toString()} have different structures.`);
      return [leavesToArrays("customJvp", pl, "result"), leavesToArrays("customJvp", tl, "tangent")];
    };
    const { jaxpr, consts, key } = traceCall(cache, fun, leaves);
    if (outDef) outDefs.set(key, outDef);
    else outDef = outDefs.get(key)!;
    const outs = bind(custom_jvp_call_p, [...consts, ...leaves], { jaxpr, numConsts: consts.length, rule });
    return unflatten(outDef, outs);
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
      if (!shapeEqual(c.aval.shape, a.shape))
        throw new Error(`customVjp: bwd's cotangent ${i} has shape ${fmtShape(c.shape)} but its input has shape ${fmtShape(a.shape)}.`);
    });
    return [...res.map(() => null), ...ins.map((x, i) => (x instanceof UndefPrimal ? g[i]! : null))];
  },
  printParams: (p) => `[num_res=${p.numRes}]`,
});

type VjpFwd = (primals: NDArray[]) => [NDArray[], NDArray[]];
type VjpBwd = (res: NDArray[], cts: NDArray[]) => NDArray[];

interface CustomVjpCallParams extends Params {
  jaxpr: ClosedJaxpr;
  numConsts: number;
  fwd: VjpFwd;
  bwd: VjpBwd;
}

/**
 * A call of a customVjp function: staged like any primitive, evaluates its traced
 * function; under differentiation runs `fwd` and emits `custom_vjp_lin`, whose
 * transpose is `bwd`.
 */
export const custom_vjp_call_p: Primitive<CustomVjpCallParams> = definePrimitive<CustomVjpCallParams>({
  name: "custom_vjp_call",
  abstractEval: (_avals, p) => p.jaxpr.outAvals,
  impl: (args, p) => evalJaxpr(p.jaxpr.jaxpr, p.jaxpr.consts, args) as ConcreteArray[],
  jvp(primals, tangents, p) {
    const split = ownTangents("customVjp", custom_vjp_call_p, primals, tangents, p);
    if (!("own" in split)) return split.passThrough;
    const { own, ownT } = split;
    const [outs, res] = p.fwd(own);
    const touts = bind(custom_vjp_lin_p, [...res, ...ownT.map((t, i) => t ?? zerosOf(own[i]!.aval))], {
      numRes: res.length,
      outAvals: outs.map((o) => o.aval),
      bwd: p.bwd,
    });
    return [outs, touts];
  },
  batch(args, dims, p) {
    const { size, moved, mask, jaxpr } = batchCall(p.jaxpr, args, dims);
    const own = mask.slice(p.numConsts);
    const fwd: VjpFwd = (ps) => {
      let nOut = 0;
      const outs = vmapAll(
        (xs) => {
          const [o, r] = p.fwd(xs);
          nOut = o.length;
          return [...o, ...r];
        },
        size,
        ps,
        own,
      );
      return [outs.slice(0, nOut), outs.slice(nOut)];
    };
    const bwd: VjpBwd = (res, cts) => {
      const g = vmapAll(
        (xs) => p.bwd(xs.slice(0, res.length), xs.slice(res.length)),
        size,
        [...res, ...cts],
        [...res, ...cts].map(() => true),
      );
      // an input that is the same for every example gets the sum of the per-example cotangents
      return g.map((c, i) => (own[i] ? c : reduceSum(c, [0])));
    };
    const outs = bind(custom_vjp_call_p, moved, { jaxpr, numConsts: p.numConsts, fwd, bwd });
    return [outs, outs.map(() => 0)];
  },
  printParams: (p) => `[num_consts=${p.numConsts} call_jaxpr={ ... }]`,
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
export function customVjp<F extends Fn, Res>(
  f: F,
  fwd: (...args: ArgsOf<F>) => readonly [Like<ReturnOf<F>>, Res],
  bwd: (res: ToArrays<Res>, ct: ToArrays<ReturnOf<F>>) => TangentsOf<ArgsOf<F>>,
): F {
  checkFunction("customVjp", f, "customVjp(f, fwd, bwd)");
  checkFunction("customVjp", fwd, "customVjp(f, (x) => [f(x), residuals], (residuals, ct) => [ctX])");
  checkFunction("customVjp", bwd, "customVjp(f, (x) => [f(x), residuals], (residuals, ct) => [ctX])");
  if (arguments.length > 3)
    throw new Error(
      `customVjp: takes (f, fwd, bwd) and no options, got ${arguments.length} arguments; for an argument that is not differentiated (JAX's nondiff_argnums), close over it, or return a zero cotangent for it from bwd.`,
    );
  const cache = new LruCache<string, ClosedJaxpr>();
  const outDefs = new LruCache<string, TreeDef>();
  const wrapped = (...args: unknown[]): unknown => {
    if (isEager()) return f(...args);
    const [leaves, inDef] = flattenArgs("customVjp", args);
    let outDef: TreeDef | undefined;
    const fun = (xs: NDArray[]): NDArray[] => {
      const [ol, od] = flatten(f(...(unflatten(inDef, xs) as unknown[])));
      outDef = od;
      return leavesToArrays("customVjp", ol, "result");
    };
    let resDef: TreeDef | undefined;
    const fwdFlat: VjpFwd = (ps) => {
      const [out, res] = fwd(...(unflatten(inDef, ps) as ArgsOf<F>));
      const [rl, rd] = flatten(res);
      resDef = rd;
      return [leavesToArrays("customVjp", flatten(out)[0], "result"), leavesToArrays("customVjp", rl, "residual")];
    };
    const bwdFlat: VjpBwd = (r, cts) => {
      const g: unknown = bwd(unflatten(resDef!, r) as ToArrays<Res>, unflatten(outDef!, cts) as ToArrays<ReturnOf<F>>);
      if (!Array.isArray(g)) throw new Error("customVjp: bwd must return a JS array with one cotangent per argument of f.");
      const [gl, gd] = flatten(g);
      if (!gd.equals(inDef)) throw new Error(`customVjp: bwd returned cotangents of structure ${gd.toString()} but the arguments have ${inDef.toString()}.`);
      return leavesToArrays("customVjp", gl, "cotangent");
    };
    const { jaxpr, consts, key } = traceCall(cache, fun, leaves);
    if (outDef) outDefs.set(key, outDef);
    else outDef = outDefs.get(key)!;
    const outs = bind(custom_vjp_call_p, [...consts, ...leaves], { jaxpr, numConsts: consts.length, fwd: fwdFlat, bwd: bwdFlat });
    return unflatten(outDef, outs);
  };
  return wrapped as F;
}
