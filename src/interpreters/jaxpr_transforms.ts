/**
 * Jaxpr-to-jaxpr transforms: the JVP, partial evaluation, transposition and batching
 * of a closed jaxpr, each as a new closed jaxpr, plus closure conversion. The
 * higher-order primitives (`pjit`, the custom-rule calls, `cond`, `scan`, `while`,
 * `checkpoint`) build their rules from these: each rule transforms the inner jaxpr
 * and binds the primitive again, so the result stays one primitive (and compiled).
 *
 * Every derived jaxpr is cached per (jaxpr, masks), so a rule applied repeatedly
 * (each step of a training loop) traces once.
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { ClosedJaxpr, Jaxpr, Var, evalJaxpr } from "../ir/jaxpr.js";
import { full } from "../primitives/elementwise.js";
import { vmapFlat } from "./batching.js";
import { jvpFlat } from "./jvp.js";
import { partialEvalGeneral } from "./partial_eval.js";
import { traceToJaxpr } from "./staging.js";
import { backwardPass } from "./transpose.js";

/** A zero array of aval `a` (a broadcast scalar: free under jit). */
export const zerosOf = (a: ShapedArray): NDArray => full(a.shape, 0, a.dtype);

/** Per-jaxpr caches of derived jaxprs and executables. */
const derived = new WeakMap<object, Map<string, unknown>>();
/** `make()` once per (jaxpr, key); later calls return the cached value. `cj` may also be a list of jaxprs (cond's branches). */
export function memoJaxpr<T>(cj: ClosedJaxpr | readonly ClosedJaxpr[], key: string, make: () => T): T {
  let m = derived.get(cj);
  if (!m) derived.set(cj, (m = new Map()));
  if (!m.has(key)) m.set(key, make());
  return m.get(key) as T;
}

const bits = (mask: readonly boolean[]): string => mask.map(Number).join("");

/** A closed jaxpr as a flat function (binds each equation: works under any transform). */
export const evalClosed =
  (cj: ClosedJaxpr) =>
  (xs: readonly NDArray[]): NDArray[] =>
    evalJaxpr(cj.jaxpr, cj.consts, xs);

/**
 * Closure conversion: the constants of a traced jaxpr that are tracers of enclosing
 * transforms become its leading inputs (they must be passed per call, since each
 * enclosing transform sees them); concrete constants stay constants, unless `all`
 * (then the jaxpr has no constants left and depends only on its structure).
 */
export function closureConvert(traced: ClosedJaxpr, all = false): { jaxpr: ClosedJaxpr; consts: NDArray[] } {
  const isTracer = traced.consts.map((c) => all || !(c instanceof ConcreteArray));
  if (!isTracer.some(Boolean)) return { jaxpr: traced, consts: [] };
  const j = traced.jaxpr;
  const jaxpr = new ClosedJaxpr(
    new Jaxpr(
      j.constVars.filter((_, i) => !isTracer[i]),
      [...j.constVars.filter((_, i) => isTracer[i]), ...j.inVars],
      j.eqns,
      j.outs,
    ),
    traced.consts.filter((_, i) => !isTracer[i]),
  );
  return { jaxpr, consts: traced.consts.filter((_, i) => isTracer[i]) };
}

/** Traces `fn` on `avals` and closure-converts the result (see {@link closureConvert}). */
export function traceClosureConverted(fn: (xs: NDArray[]) => NDArray[], avals: readonly ShapedArray[]): { jaxpr: ClosedJaxpr; consts: NDArray[] } {
  return closureConvert(traceToJaxpr(fn, avals));
}

/**
 * The JVP of a jaxpr: inputs (primals, tangents of the inputs flagged in `mask`),
 * outputs (primal outputs, tangents of every output, zeros where symbolically zero).
 */
export function jvpJaxpr(cj: ClosedJaxpr, mask: readonly boolean[]): ClosedJaxpr {
  return memoJaxpr(cj, `jvp:${bits(mask)}`, () => {
    const n = cj.inAvals.length;
    const tanAvals = cj.inAvals.filter((_, i) => mask[i]);
    return traceToJaxpr(
      (ins) => {
        let k = n;
        const tangents = mask.map((m) => (m ? ins[k++]! : null));
        const [po, to] = jvpFlat(evalClosed(cj), ins.slice(0, n), tangents);
        return [...po, ...to.map((t, i) => t ?? zerosOf(po[i]!.aval))];
      },
      [...cj.inAvals, ...tanAvals],
    );
  });
}

/** A jaxpr split by {@link partialEvalJaxpr}. */
export interface SplitJaxpr {
  /** Known inputs → (known outputs, residuals). */
  known: ClosedJaxpr;
  /** (residuals, unknown inputs) → unknown outputs. */
  unknown: ClosedJaxpr;
  /** Which outputs the known inputs determine. */
  outKnown: boolean[];
  /** Number of residuals (the trailing outputs of `known`). */
  numRes: number;
}

/**
 * Splits a jaxpr into what the known inputs (`knownMask`) determine, plus the
 * residuals the rest needs, and the staged rest. Outputs flagged in `instantiate`
 * are staged (unknown) even when they could be known.
 */
export function partialEvalJaxpr(cj: ClosedJaxpr, knownMask: readonly boolean[], instantiate?: readonly boolean[]): SplitJaxpr {
  return memoJaxpr(cj, `pe:${bits(knownMask)}:${instantiate ? bits(instantiate) : ""}`, () => {
    const inAvals = cj.inAvals;
    let outKnown: boolean[] = [];
    let staged: ClosedJaxpr | undefined;
    let numRes = 0;
    const known = traceToJaxpr(
      (kIns) => {
        const r = partialEvalGeneral(
          (uIns) => {
            let a = 0;
            let b = 0;
            return evalClosed(cj)(knownMask.map((k) => (k ? kIns[a++]! : uIns[b++]!)));
          },
          inAvals.filter((_, i) => !knownMask[i]),
          (i) => instantiate?.[i] === true,
        );
        outKnown = r.outs.map((o) => o !== null);
        staged = r.jaxpr;
        numRes = r.jaxpr.consts.length;
        return [...r.outs.filter((o): o is NDArray => o !== null), ...r.jaxpr.consts];
      },
      inAvals.filter((_, i) => knownMask[i]),
    );
    const u = staged!.jaxpr;
    const unknown = new ClosedJaxpr(new Jaxpr([], [...u.constVars, ...u.inVars], u.eqns, u.outs), []);
    return { known, unknown, outKnown, numRes };
  });
}

/**
 * The transpose of a jaxpr linear in the inputs flagged in `linMask`: inputs
 * (non-linear inputs, cotangents of the outputs flagged in `ctMask`), outputs the
 * cotangents of the linear inputs (zeros where none flows).
 */
export function transposeJaxpr(cj: ClosedJaxpr, linMask: readonly boolean[], ctMask: readonly boolean[]): ClosedJaxpr {
  return transposed(cj, linMask, ctMask, true).jaxpr;
}

/**
 * Like {@link transposeJaxpr}, but the outputs are only the cotangents that are not
 * symbolically zero (`nonZero` flags which linear inputs they belong to), so a linear
 * input that receives nothing costs nothing.
 */
export function transposeJaxprSparse(cj: ClosedJaxpr, linMask: readonly boolean[], ctMask: readonly boolean[]): { jaxpr: ClosedJaxpr; nonZero: boolean[] } {
  return transposed(cj, linMask, ctMask, false);
}

function transposed(cj: ClosedJaxpr, linMask: readonly boolean[], ctMask: readonly boolean[], dense: boolean): { jaxpr: ClosedJaxpr; nonZero: boolean[] } {
  return memoJaxpr(cj, `T:${bits(linMask)}:${bits(ctMask)}:${dense}`, () => {
    const j = cj.jaxpr;
    const nonLin = j.inVars.filter((_, i) => !linMask[i]);
    const lin = j.inVars.filter((_, i) => linMask[i]);
    const rearranged = new Jaxpr([...j.constVars, ...nonLin], lin, j.eqns, j.outs);
    let nonZero: boolean[] = [];
    const jaxpr = traceToJaxpr(
      (ins) => {
        let k = nonLin.length;
        const cts = ctMask.map((m) => (m ? ins[k++]! : null));
        const res = backwardPass(rearranged, [...cj.consts, ...ins.slice(0, nonLin.length)], cts);
        nonZero = res.map((r) => dense || r !== null);
        return dense ? res.map((r, i) => r ?? zerosOf(lin[i]!.aval)) : res.filter((r): r is NDArray => r !== null);
      },
      [...nonLin.map((v) => v.aval), ...cj.outAvals.filter((_, i) => ctMask[i])],
    );
    return { jaxpr, nonZero };
  });
}

/** Which outputs of a jaxpr depend on the inputs flagged in `mask`. */
export function dependentOutputs(cj: ClosedJaxpr, mask: readonly boolean[]): boolean[] {
  const j = cj.jaxpr;
  const dep = new Set<Var>(j.inVars.filter((_, i) => mask[i]));
  for (const e of j.eqns) if (e.inputs.some((a) => a instanceof Var && dep.has(a))) for (const v of e.outVars) dep.add(v);
  return j.outs.map((a) => a instanceof Var && dep.has(a));
}

/**
 * The jaxpr over inputs batched at axis 0 (where `mask`); the outputs that depend on a
 * batched input, or are flagged in `forceOut`, are batched at axis 0 (`outMask`), the
 * others stay unbatched (as in JAX, so `vmap(jit(f), { outAxes: null })` works where
 * `vmap(f, ...)` does).
 */
export function batchJaxpr(cj: ClosedJaxpr, mask: readonly boolean[], size: number, forceOut?: readonly boolean[]): { jaxpr: ClosedJaxpr; outMask: boolean[] } {
  return memoJaxpr(cj, `vmap:${size}:${bits(mask)}:${forceOut ? bits(forceOut) : ""}`, () => {
    const outMask = dependentOutputs(cj, mask).map((d, i) => d || forceOut?.[i] === true);
    const jaxpr = traceToJaxpr(
      (ins) =>
        vmapFlat(
          evalClosed(cj),
          size,
          ins,
          mask.map((m) => (m ? 0 : null)),
          () => outMask.map((m) => (m ? 0 : null)),
        ),
      cj.inAvals.map((a, i) => (mask[i] ? new ShapedArray([size, ...a.shape], a.dtype) : a)),
    );
    return { jaxpr, outMask };
  });
}
