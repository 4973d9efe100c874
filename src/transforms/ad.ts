/**
 * Automatic differentiation: jvp, linearize, vjp, grad, valueAndGrad,
 * hessianVectorProduct, jacfwd, jacrev, hessian and stopGradient.
 *
 * `vjp` is `linearize` followed by transposition: the function is run once under a
 * JVP trace nested in a partial evaluator, which computes primal values now and
 * stages the tangent computation into a linear jaxpr; transposing that jaxpr gives
 * the backward pass. Nothing is special-cased for higher orders.
 * @module
 */
import { NDArray, ShapedArray } from "../core/array.js";
import { isFloat } from "../core/dtype.js";
import { withBufferLog } from "../core/pool.js";
import { fmtShape, shapeEqual } from "../core/shape.js";
import { deviceInUse } from "../backends/registry.js";
import { isEager } from "../core/trace.js";
import { type PyTree, type TreeDef, flatten, unflatten } from "../core/tree.js";
import { evalJaxpr, type ClosedJaxpr } from "../ir/jaxpr.js";
import { jvpFlat } from "../interpreters/jvp.js";
import { partialEvalFlat } from "../interpreters/partial_eval.js";
import { zerosOf } from "../interpreters/jaxpr_transforms.js";
import { backwardPass } from "../interpreters/transpose.js";
import { full, stopGradientArray } from "../primitives/elementwise.js";
import { checkFunction, checkNotPromise, checkTransformOptions, flattenArgs, flattenFun, leavesToArrays, normalizeArgnums } from "./flat.js";
import type { Argnums, CotangentsOf, ScalarFunction, Fn, GradResult, Like, ArgsOf, ReturnOf, TangentsOf, ToArrays, ValueAndGradResult } from "./types.js";

function checkTangents(op: string, primals: NDArray[], tangents: NDArray[]): void {
  if (tangents.length !== primals.length) throw new Error(`${op}: expected ${primals.length} tangent leaves to match the primals, got ${tangents.length}.`);
  primals.forEach((p, i) => {
    const t = tangents[i]!;
    if (!shapeEqual(p.aval.shape, t.aval.shape))
      throw new Error(`${op}: tangent ${i} has shape ${fmtShape(t.shape)} but its primal has shape ${fmtShape(p.shape)}; they must match.`);
    if (isFloat(p.dtype) && t.dtype !== p.dtype)
      throw new Error(`${op}: tangent ${i} has dtype ${t.dtype} but its primal has dtype ${p.dtype}; convert it with astype("${p.dtype}").`);
  });
}

/**
 * Forward-mode derivative: evaluates `f(...primals)` and the directional derivative
 * of `f` at `primals` along `tangents` (a Jacobian-vector product).
 *
 * @param f - a function of arrays (or pytrees of arrays).
 * @param primals - the point, one entry per argument of `f`.
 * @param tangents - the direction, with the structure, shapes and dtypes of `primals`.
 * @returns `[f(...primals), J·tangents]`, both with the structure of `f`'s output.
 * @example
 * ```ts
 * import { jvp, np } from "cotangent";
 * const [y, dy] = jvp((x) => np.sin(x), [np.array(0)], [np.array(1)]);
 * console.log(y.item(), dy.item()); // 0 1
 * ```
 */
export function jvp<F extends Fn>(f: F, primals: ArgsOf<F>, tangents: TangentsOf<ArgsOf<F>>): [ToArrays<ReturnOf<F>>, ToArrays<ReturnOf<F>>] {
  checkFunction("jvp", f, "jvp((x) => np.sin(x), [x], [v])");
  if (!Array.isArray(primals) || !Array.isArray(tangents))
    throw new Error("jvp: primals and tangents must be JS arrays with one entry per argument of f, e.g. jvp(f, [x], [v]).");
  const [ps, inDef] = flattenArgs("jvp", primals);
  const [tsLeaves, tDef] = flatten([...tangents]);
  if (!tDef.equals(inDef)) throw new Error(`jvp: tangents have structure ${tDef.toString()} but primals have ${inDef.toString()}.`);
  const ts = leavesToArrays("jvp", tsLeaves, "tangent");
  checkTangents("jvp", ps, ts);
  const [flat, store] = flattenFun("jvp", f, inDef);
  const [po, to] = jvpFlat(
    flat,
    ps,
    ts.map((t, i) => (isFloat(ps[i]!.dtype) ? t : null)),
  );
  const outDef = store.outDef!;
  return [
    unflatten(outDef, po) as ToArrays<ReturnOf<F>>,
    unflatten(
      outDef,
      to.map((t, i) => t ?? zerosOf(po[i]!.aval)),
    ) as ToArrays<ReturnOf<F>>,
  ];
}

interface Linearized {
  primalsOut: NDArray[];
  aux: NDArray[];
  /** Linear jaxpr from the tangents of the float inputs to the tangents of the outputs. */
  linear: ClosedJaxpr;
  /** For each input leaf, its position among the linear inputs, or -1 (no tangent). */
  tangentIndex: number[];
  outDef: TreeDef;
}

/** Linearizes a flat function; the last `numAux` outputs are carried without tangents. */
function linearizeFlat(
  op: string,
  f: (xs: NDArray[]) => NDArray[],
  primals: NDArray[],
  auxCount: (outs: NDArray[]) => number,
  outDefOf: () => TreeDef,
): Linearized {
  const tangentIndex: number[] = [];
  const tangentAvals: ShapedArray[] = [];
  for (const p of primals) {
    tangentIndex.push(isFloat(p.dtype) ? tangentAvals.length : -1);
    if (isFloat(p.dtype)) tangentAvals.push(p.aval);
  }
  let nOut = 0;
  let nAux = 0;
  const { known, jaxpr } = partialEvalFlat((tIns) => {
    const [po, to] = jvpFlat(
      f,
      primals,
      tangentIndex.map((k) => (k < 0 ? null : tIns[k]!)),
    );
    nAux = auxCount(po);
    nOut = po.length - nAux;
    return [po, to.slice(0, nOut).map((t, i) => t ?? zerosOf(po[i]!.aval))];
  }, tangentAvals);
  void op;
  return { primalsOut: known.slice(0, nOut), aux: known.slice(nOut), linear: jaxpr, tangentIndex, outDef: outDefOf() };
}

/**
 * Linearizes `f` at `primals`: evaluates `f` once and returns its output with a
 * function that applies the Jacobian to tangents without re-running `f`.
 *
 * @returns `[f(...primals), jvpFn]`; `jvpFn(...tangents)` has the output structure.
 * @example
 * ```ts
 * import { linearize, np } from "cotangent";
 * const [y, fJvp] = linearize((x) => np.exp(x), np.array(0));
 * console.log(y.item(), fJvp(np.array(2)).item()); // 1 2
 * ```
 */
export function linearize<F extends Fn>(f: F, ...primals: ArgsOf<F>): [ToArrays<ReturnOf<F>>, (...tangents: TangentsOf<ArgsOf<F>>) => ToArrays<ReturnOf<F>>] {
  checkFunction("linearize", f, "linearize((x) => np.sin(x), x)");
  const [ps, inDef] = flattenArgs("linearize", primals);
  const [flat, store] = flattenFun("linearize", f, inDef);
  const lin = linearizeFlat(
    "linearize",
    flat,
    ps,
    () => 0,
    () => store.outDef!,
  );
  const out = unflatten(lin.outDef, lin.primalsOut) as ToArrays<ReturnOf<F>>;
  const jvpFn = (...tangents: TangentsOf<ArgsOf<F>>): ToArrays<ReturnOf<F>> => {
    const [tl, tDef] = flatten(tangents);
    if (!tDef.equals(inDef)) throw new Error(`linearize: tangents have structure ${tDef.toString()} but primals have ${inDef.toString()}.`);
    const ts = leavesToArrays("linearize", tl, "tangent");
    checkTangents("linearize", ps, ts);
    const lins = ts.filter((_, i) => lin.tangentIndex[i]! >= 0);
    const outs = evalJaxpr(lin.linear.jaxpr, lin.linear.consts, lins);
    return unflatten(lin.outDef, outs) as ToArrays<ReturnOf<F>>;
  };
  return [out, jvpFn];
}

/**
 * The linear jaxpr that `linearize` and `vjp` build for `f` at `primals`: its inputs
 * are the tangents of the float input leaves, its constants the residuals kept alive
 * for the tangent/backward computation. For tests and debugging.
 * @internal
 */
export function linearizeJaxpr(f: Fn, ...primals: unknown[]): ClosedJaxpr {
  const [ps, inDef] = flattenArgs("linearize", primals);
  const [flat, store] = flattenFun("linearize", f, inDef);
  return linearizeFlat(
    "linearize",
    flat,
    ps,
    () => 0,
    () => store.outDef!,
  ).linear;
}

/** The backward function of a linearization: output cotangent leaves → input cotangent leaves. */
function makeBackward(op: string, lin: Linearized, primals: NDArray[]): (cts: NDArray[]) => NDArray[] {
  return (cts) => {
    lin.primalsOut.forEach((p, i) => {
      const c = cts[i]!;
      if (!shapeEqual(c.aval.shape, p.aval.shape))
        throw new Error(`${op}: cotangent ${i} has shape ${fmtShape(c.shape)} but the output has shape ${fmtShape(p.shape)}.`);
      if (isFloat(p.dtype) && c.dtype !== p.dtype)
        throw new Error(`${op}: cotangent ${i} has dtype ${c.dtype} but the output has dtype ${p.dtype}; convert it with astype("${p.dtype}").`);
    });
    const res = backwardPass(lin.linear.jaxpr, lin.linear.consts, cts);
    return primals.map((p, i) => {
      const k = lin.tangentIndex[i]!;
      return (k >= 0 ? res[k] : null) ?? zerosOf(p.aval);
    });
  };
}

/**
 * Reverse mode: evaluates `f(...primals)` and returns a function that maps an output
 * cotangent `v` to `vᵀJ`, one cotangent per primal (PyTorch's `y.backward(v)`).
 * Only the residuals the backward pass reads are kept alive.
 *
 * @returns `[f(...primals), vjpFn]`; `vjpFn(ct)` returns a JS array with one entry per primal.
 * @example
 * ```ts
 * import { vjp, np } from "cotangent";
 * const x = np.array([1, 2, 3]);
 * const [y, back] = vjp((x) => np.square(x), x);
 * const [gx] = back(np.array([1, 0.1, 0.01]));
 * console.log(gx.toJs()); // [2, 0.4000000059604645, 0.05999999865889549]
 * ```
 */
export function vjp<F extends Fn>(f: F, ...primals: ArgsOf<F>): [ToArrays<ReturnOf<F>>, (cotangent: Like<ReturnOf<F>>) => CotangentsOf<ArgsOf<F>>] {
  checkFunction("vjp", f, "vjp((x) => np.sin(x), x)");
  const [ps, inDef] = flattenArgs("vjp", primals);
  const [flat, store] = flattenFun("vjp", f, inDef);
  const lin = linearizeFlat(
    "vjp",
    flat,
    ps,
    () => 0,
    () => store.outDef!,
  );
  const back = makeBackward("vjp", lin, ps);
  const vjpFn = (ct: Like<ReturnOf<F>>): CotangentsOf<ArgsOf<F>> => {
    const [cl, cDef] = flatten(ct);
    if (!cDef.equals(lin.outDef))
      throw new Error(
        `vjp: the cotangent has structure ${cDef.toString()} but the output has ${lin.outDef.toString()}; pass one cotangent shaped like the output.`,
      );
    const g = back(leavesToArrays("vjp", cl, "cotangent"));
    return unflatten(inDef, g) as CotangentsOf<ArgsOf<F>>;
  };
  return [unflatten(lin.outDef, lin.primalsOut) as ToArrays<ReturnOf<F>>, vjpFn];
}

/**
 * Options of {@link grad} and {@link valueAndGrad}. The type parameters record the
 * literal `argnums` and `hasAux` given, from which the result type is computed.
 */
export interface GradOptions<A extends Argnums = Argnums, H extends boolean = boolean> {
  /** Which argument(s) to differentiate: a number (default 0) or an array of distinct numbers (then a JS array of gradients). */
  argnums?: A;
  /** `f` returns `[scalar, aux]`; aux is returned alongside, undifferentiated. */
  hasAux?: H;
}

const GRAD_KEYS = ["argnums", "hasAux"] as const;

function valueAndGradImpl(op: string, f: Fn, opts: GradOptions, args: unknown[]): { value: NDArray; aux: unknown; grads: unknown } {
  const argnums = normalizeArgnums(op, opts.argnums, args.length);
  const selected = argnums.map((i) => args[i]);
  const [ps, inDef] = flattenArgs(op, selected);
  ps.forEach((p) => {
    if (!isFloat(p.dtype)) {
      throw new Error(
        `${op}: cannot differentiate with respect to ${p.dtype === "int32" ? "an" : "a"} ${p.dtype} input (${p.aval.toString()}): gradients exist only for float32/float64 inputs. Convert it with astype("float32"), or leave it out of argnums.`,
      );
    }
  });
  let auxDef: TreeDef | undefined;
  let outDef: TreeDef | undefined;
  const flat = (xs: NDArray[]): NDArray[] => {
    const sel = unflatten(inDef, xs) as unknown[];
    const full = [...args];
    argnums.forEach((a, i) => (full[a] = sel[i]));
    let out = f(...full);
    checkNotPromise(op, out);
    let auxLeaves: NDArray[] = [];
    if (opts.hasAux) {
      if (!Array.isArray(out) || out.length !== 2)
        throw new Error(`${op}: with hasAux, f must return [scalar, aux], got ${Array.isArray(out) ? `an array of length ${out.length}` : typeof out}.`);
      const [al, ad] = flatten(out[1]);
      auxDef = ad;
      auxLeaves = leavesToArrays(op, al, "aux value");
      out = out[0];
    }
    const [ol, od] = flatten(out);
    outDef = od;
    const o = leavesToArrays(op, ol, "result");
    if (o.length !== 1 || !(o[0]!.size === 1) || !isFloat(o[0]!.dtype)) {
      const got = o.length === 1 ? o[0]!.aval.toString() : `a structure ${od.toString()}`;
      throw new Error(
        `${op}: f must return a scalar float array (shape [] or size 1) to be differentiated, but it returned ${got}. Reduce it (e.g. np.sum or np.mean), or use vjp/jacrev for non-scalar outputs.`,
      );
    }
    return [...o, ...auxLeaves];
  };
  const run = (): { value: NDArray; auxLeaves: NDArray[]; g: NDArray[] } => {
    const lin = linearizeFlat(
      op,
      flat,
      ps,
      (outs) => outs.length - 1,
      () => outDef!,
    );
    const value = lin.primalsOut[0]!;
    const back = makeBackward(op, lin, ps);
    return { value, auxLeaves: lin.aux, g: back([full(value.aval.shape, 1, value.dtype)]) };
  };
  // Eagerly, the buffers of the forward temporaries, residuals and cotangents are dead
  // once this returns: they go back to the allocation pool (core/pool.ts).
  const { value, auxLeaves, g } = isEager() && !deviceInUse() ? withBufferLog(run, (r) => [r.value, ...r.auxLeaves, ...r.g]) : run();
  const gs = unflatten(inDef, g) as unknown[];
  const grads = typeof opts.argnums === "number" || opts.argnums === undefined ? gs[0] : gs;
  const aux = opts.hasAux ? unflatten(auxDef!, auxLeaves) : undefined;
  return { value, aux, grads };
}

/**
 * The gradient of a scalar function: `grad(f)(...args)` has the structure of the
 * differentiated argument(s). `f` must return a scalar float array.
 *
 * Inside `f`, values are concrete: `x.item()`, comparisons and JS loops on values work.
 *
 * @example
 * ```ts
 * import { grad, np } from "cotangent";
 * const f = (x: np.Array) => np.add(np.square(np.subtract(x, 1)), np.square(np.add(x, 1)));
 * console.log(grad(f)(np.array(4.5)).item()); // 18
 * const loss = (p: { w: np.Array }) => np.sum(np.square(p.w));
 * console.log(grad(loss)({ w: np.array([1, 2]) }).w.toJs()); // [2, 4]
 * ```
 */
export function grad<F extends Fn, const A extends Argnums = 0, H extends boolean = false>(
  f: F & ScalarFunction<H>,
  opts?: GradOptions<A, H>,
): (...args: ArgsOf<F>) => GradResult<F, A, H> {
  checkFunction("grad", f, "grad((x) => np.sum(np.square(x)))");
  const o: GradOptions = checkTransformOptions("grad", opts, "{ argnums: 0, hasAux: false }", GRAD_KEYS);
  return (...args: ArgsOf<F>) => {
    const r = valueAndGradImpl("grad", f, o, args);
    return (o.hasAux ? [r.grads, r.aux] : r.grads) as GradResult<F, A, H>;
  };
}

/**
 * Like {@link grad}, but also returns the value: `[value, grads]`, or with `hasAux`
 * `[[value, aux], grads]`, as JAX.
 *
 * @example
 * ```ts
 * import { valueAndGrad, np } from "cotangent";
 * const [v, g] = valueAndGrad((x) => np.sum(np.square(x)))(np.array([1, 2]));
 * console.log(v.item(), g.toJs()); // 5 [2, 4]
 * ```
 */
export function valueAndGrad<F extends Fn, const A extends Argnums = 0, H extends boolean = false>(
  f: F & ScalarFunction<H>,
  opts?: GradOptions<A, H>,
): (...args: ArgsOf<F>) => ValueAndGradResult<F, A, H> {
  checkFunction("valueAndGrad", f, "valueAndGrad((x) => np.sum(np.square(x)))");
  const o: GradOptions = checkTransformOptions("valueAndGrad", opts, "{ argnums: 0, hasAux: false }", GRAD_KEYS);
  return (...args: ArgsOf<F>) => {
    const r = valueAndGradImpl("valueAndGrad", f, o, args);
    return (o.hasAux ? [[r.value, r.aux], r.grads] : [r.value, r.grads]) as ValueAndGradResult<F, A, H>;
  };
}

/**
 * Hessian-vector product of a scalar function by forward-over-reverse
 * (`jvp` of `grad`): costs a small multiple of one gradient, never forms the Hessian.
 *
 * @example
 * ```ts
 * import { hessianVectorProduct, np } from "cotangent";
 * const f = (x: np.Array) => np.sum(np.power(x, 3)); // Hessian is diag(6x)
 * const hv = hessianVectorProduct(f)(np.array([1, 2]), np.array([1, 1]));
 * console.log(hv.toJs()); // [6, 12]
 * ```
 */
export function hessianVectorProduct<F extends Fn>(f: F): (x: ArgsOf<F>[0], v: Like<ArgsOf<F>[0]>) => ToArrays<ArgsOf<F>[0]> {
  checkFunction("hessianVectorProduct", f, "hessianVectorProduct((x) => np.sum(np.power(x, 3)))");
  const g = grad(f as (x: unknown) => NDArray);
  return (x, v) => jvp(g, [x], [v])[1] as ToArrays<ArgsOf<F>[0]>;
}

/**
 * `stopGradient(x)` is `x` with a zero derivative (PyTorch's `detach`). Works on
 * pytrees; integer leaves pass through.
 *
 * @example
 * ```ts
 * import { grad, stopGradient, np } from "cotangent";
 * const g = grad((x: np.Array) => np.multiply(x, stopGradient(x)))(np.array(3));
 * console.log(g.item()); // 3
 * ```
 */
export function stopGradient<T>(x: T): ToArrays<T> {
  const [leaves, def] = flatten(x);
  return unflatten(
    def,
    leavesToArrays("stopGradient", leaves).map((l) => stopGradientArray(l)),
  ) as ToArrays<T>;
}

export type { PyTree };
