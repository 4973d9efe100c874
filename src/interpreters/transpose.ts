/**
 * Transposition: runs a linear jaxpr backwards, from output cotangents to input
 * cotangents, with each linear primitive's transpose rule.
 * @module
 */
import type { NDArray } from "../core/array.js";
import { activeBufferLog } from "../core/pool.js";
import { UndefPrimal, bind } from "../core/trace.js";
import { type Atom, type Jaxpr, Literal, Var } from "../ir/jaxpr.js";
import { addAny } from "../primitives/elementwise.js";

/**
 * Cotangents of `jaxpr`'s inputs (all linear) given cotangents of its outputs;
 * constants are the non-linear residuals. null is a zero cotangent.
 */
export function backwardPass(jaxpr: Jaxpr, consts: readonly NDArray[], cts: readonly (NDArray | null)[]): (NDArray | null)[] {
  // an eager grad in progress records the buffers built-in rules create here (core/pool.ts)
  const log = activeBufferLog();
  const primal = new Map<Var, NDArray>();
  jaxpr.constVars.forEach((v, i) => primal.set(v, consts[i]!));
  const linear = new Set<Var>(jaxpr.inVars);
  const linearEqns = [];
  for (const e of jaxpr.eqns) {
    if (e.inputs.some((a) => a instanceof Var && linear.has(a))) {
      e.outVars.forEach((v) => linear.add(v));
      linearEqns.push(e);
    } else {
      const outs = bind(
        e.primitive,
        e.inputs.map((a) => (a instanceof Literal ? a.val : primal.get(a)!)),
        e.params,
      );
      log?.note(e.primitive, outs);
      e.outVars.forEach((v, i) => primal.set(v, outs[i]!));
    }
  }
  const ctEnv = new Map<Var, NDArray>();
  const accum = (v: Var, ct: NDArray | null): void => {
    if (ct === null) return;
    const prev = ctEnv.get(v);
    ctEnv.set(v, prev ? addAny(prev, ct) : ct);
  };
  jaxpr.outs.forEach((a, i) => {
    if (a instanceof Var && linear.has(a)) accum(a, cts[i] ?? null);
  });
  const read = (a: Atom): NDArray | UndefPrimal => (a instanceof Literal ? a.val : linear.has(a) ? new UndefPrimal(a.aval) : primal.get(a)!);
  for (let k = linearEqns.length - 1; k >= 0; k--) {
    const e = linearEqns[k]!;
    const ctsOut = e.outVars.map((v) => ctEnv.get(v) ?? null);
    for (const v of e.outVars) ctEnv.delete(v);
    if (ctsOut.every((c) => c === null)) continue;
    if (!e.primitive.transpose)
      throw new Error(`vjp: primitive '${e.primitive.name}' is not linear and has no transpose rule; it should not appear in a linearized program.`);
    let ctsIn: (NDArray | null)[];
    if (log !== null && log.check(e.primitive)) {
      log.capturing++;
      try {
        ctsIn = e.primitive.transpose(ctsOut, e.inputs.map(read), e.params);
      } finally {
        log.capturing--;
      }
    } else {
      ctsIn = e.primitive.transpose(ctsOut, e.inputs.map(read), e.params);
    }
    e.inputs.forEach((a, i) => {
      if (a instanceof Var && linear.has(a)) accum(a, ctsIn[i] ?? null);
    });
  }
  return jaxpr.inVars.map((v) => ctEnv.get(v) ?? null);
}
