/**
 * The `fused` primitive: a kernel (see {@link Kernel}) applied to arrays. jit's fusion
 * pass introduces it after tracing, so it has no differentiation or batching rules;
 * transforms apply to the traced program before it is optimized.
 * @module
 */
import { ConcreteArray } from "../core/array.js";
import { allocate } from "../core/dtype.js";
import { fmtShape, shapeEqual, sizeOf } from "../core/shape.js";
import { type Params, definePrimitive } from "../core/trace.js";
import { hostBackend } from "../backends/registry.js";
import { type Kernel, kernelOutAvals } from "../kernel/ir.js";
import { printKernel } from "../kernel/print.js";

export interface FusedParams extends Params {
  kernel: Kernel;
}

const noRule = (what: string) => (): never => {
  throw new Error(
    `fused: a fused kernel has no ${what} rule. Fused kernels only appear in jaxprs that jit has already optimized (jit(f).lower(...).jaxpr); ` +
      `apply ${what === "batching" ? "vmap" : "grad/jvp/vjp"} to the original function (or to the jitted function itself) instead of to an optimized jaxpr.`,
  );
};

/** The primitive that runs a generated kernel. */
export const fused_p = definePrimitive<FusedParams>({
  name: "fused",
  freshOutputs: true,
  abstractEval(avals, { kernel }) {
    const want = kernel.inputs;
    if (avals.length !== want.length) throw new Error(`fused: the kernel takes ${want.length} inputs but ${avals.length} were given.`);
    avals.forEach((a, i) => {
      const w = want[i]!;
      if (a.dtype !== w.dtype || !shapeEqual(a.shape, w.shape)) {
        throw new Error(`fused: input ${i} is ${a.toString()} but the kernel reads ${w.dtype}${fmtShape(w.shape)}.`);
      }
    });
    return kernelOutAvals(kernel);
  },
  impl(args, { kernel }, outAvals) {
    const f = hostBackend.kernelFunction(kernel); // the CPU: WebAssembly SIMD for big kernels it compiles, else JS
    const outs = outAvals.map((a) => allocate(a.dtype, sizeOf(a.shape)));
    f(...args.map((a) => a.buffer), ...outs);
    return outs.map((b, j) => new ConcreteArray(outAvals[j]!, b));
  },
  jvp: noRule("jvp"),
  transpose: noRule("transpose"),
  batch: noRule("batching"),
  printParams: (p) => `[kernel=${printKernel(p.kernel).replace(/\n/g, "\n  ")}]`,
});
