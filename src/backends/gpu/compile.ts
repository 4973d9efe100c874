/**
 * Jitted programs on the GPU: the optimized jaxpr (jit runs the same passes for every
 * backend, ending with fusion, so elementwise chains and their reductions are single
 * `fused` kernels) runs equation by equation on GPU buffers; an equation with no GPU
 * kernel runs its `impl` on the CPU. Intermediate textures are deleted
 * right after their last use, so a jitted step leaves only its outputs on the GPU.
 * @module
 */
import type { ConcreteArray } from "../../core/array.js";
import { type Atom, type ClosedJaxpr, Literal, Var } from "../../ir/jaxpr.js";
import { runOnGpu } from "./dispatch.js";
import { gpuRuntime } from "./runtime.js";

/** A compiled program over concrete arrays (inputs on any backend, outputs on the GPU). */
export type GpuExecutable = (args: readonly ConcreteArray[]) => ConcreteArray[];

/** Compiles an optimized closed jaxpr for the GPU. */
export function compileJaxprGpu(cj: ClosedJaxpr): GpuExecutable {
  const { jaxpr } = cj;
  const consts = cj.consts as ConcreteArray[];
  const eqns = jaxpr.eqns;
  const keep = new Set<Var>([...jaxpr.constVars, ...jaxpr.inVars, ...jaxpr.outs.filter((a): a is Var => a instanceof Var)]);
  const lastUse = new Map<Var, number>();
  eqns.forEach((e, i) => e.inputs.forEach((a) => a instanceof Var && lastUse.set(a, i)));
  const dying: Var[][] = eqns.map(() => []);
  for (const [v, i] of lastUse) if (!keep.has(v)) dying[i]!.push(v);
  // outputs of an equation that nothing reads die at once
  eqns.forEach((e, i) => e.outVars.forEach((v) => !lastUse.has(v) && !keep.has(v) && dying[i]!.push(v)));

  return (args) => {
    const rt = gpuRuntime()!;
    const env = new Map<Var, ConcreteArray>();
    const external = new Set<ConcreteArray>([...args, ...consts]);
    const holders = new Map<ConcreteArray, number>();
    const bindVar = (v: Var, x: ConcreteArray): void => {
      env.set(v, x);
      holders.set(x, (holders.get(x) ?? 0) + 1);
    };
    const read = (a: Atom): ConcreteArray => (a instanceof Literal ? a.val : env.get(a)!);
    jaxpr.constVars.forEach((v, i) => bindVar(v, consts[i]!));
    jaxpr.inVars.forEach((v, i) => bindVar(v, args[i]!));
    eqns.forEach((e, i) => {
      const ins = e.inputs.map(read);
      const outAvals = e.outVars.map((v) => v.aval);
      const outs = runOnGpu(rt, e.primitive, ins, e.params, outAvals) ?? e.primitive.impl(ins, e.params, outAvals);
      e.outVars.forEach((v, k) => bindVar(v, outs[k]!));
      for (const v of dying[i]!) {
        const x = env.get(v)!;
        env.delete(v);
        const h = holders.get(x)! - 1;
        holders.set(x, h);
        if (h === 0 && !external.has(x) && !(x.hasHostCopy && !x.device)) x.dispose();
      }
    });
    return jaxpr.outs.map(read);
  };
}
