/**
 * The transformation rules of a call-like primitive: one whose `jaxpr` param is
 * evaluated once on its inputs (`pjit`, `checkpoint`). JVP, partial evaluation,
 * transposition and batching each turn the inner jaxpr into another jaxpr and bind
 * the same primitive on it; only the params around the new jaxpr and how partial
 * evaluation splits it differ between such primitives.
 * @module
 */
import type { NDArray } from "../core/array.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { moveAxis } from "../primitives/shape.js";
import { batchJaxpr, jvpJaxpr, transposeJaxprSparse } from "./jaxpr_transforms.js";
import type { PartialEvalTrace, PartialEvalTracer } from "./partial_eval.js";

/** Which rule rebuilds the params (pjit renames its call after the transform). */
export type CallRole = "jvp" | "known" | "unknown" | "transpose" | "vmap";

/** How partial evaluation splits a call's jaxpr for the known/unknown pattern of its inputs. */
export interface CallSplit {
  /** Known inputs → the known outputs, then the residuals. */
  known: ClosedJaxpr;
  /** Residuals, then the inputs `unknownTakes` names → the unknown outputs. */
  unknown: ClosedJaxpr;
  /** Which of the call's outputs the known jaxpr computes. */
  outKnown: boolean[];
  /** Whether the unknown jaxpr takes every input after the residuals, or only the unknown ones. */
  unknownTakes: "all" | "unknown";
}

const isNonNull = <T>(x: T | null): x is T => x !== null;

/**
 * `jvp`, `partialEval`, `transpose` and `batch` for the call-like primitive `self()`.
 * `withJaxpr(p, jaxpr, role)` is its params with the inner jaxpr replaced; `split` is
 * its partial evaluation of the inner jaxpr (plain for pjit, policy-driven for
 * checkpoint).
 */
export function callRules<P extends Params & { jaxpr: ClosedJaxpr }>(
  self: () => Primitive<P>,
  withJaxpr: (p: P, jaxpr: ClosedJaxpr, role: CallRole) => P,
  split: (p: P, knownMask: boolean[]) => CallSplit,
): Required<Pick<Primitive<P>, "jvp" | "partialEval" | "transpose" | "batch">> {
  return {
    jvp(primals, tangents, p) {
      const mask = tangents.map((t) => t !== null);
      const outs = bind(self(), [...primals, ...tangents.filter(isNonNull)], withJaxpr(p, jvpJaxpr(p.jaxpr, mask), "jvp"));
      const n = p.jaxpr.outAvals.length;
      return [outs.slice(0, n), outs.slice(n)];
    },
    partialEval(trace, tracers, p) {
      const pe = trace as PartialEvalTrace;
      const ts = tracers as PartialEvalTracer[];
      const s = split(
        p,
        ts.map((t) => t.known !== null),
      );
      const kOuts = bind(
        self(),
        ts.filter((t) => t.known !== null).map((t) => t.known!),
        withJaxpr(p, s.known, "known"),
      );
      const nKnown = s.outKnown.filter(Boolean).length;
      const residuals = kOuts.slice(nKnown).map((r) => pe.known(r));
      const staged = s.unknownTakes === "all" ? ts : ts.filter((t) => t.known === null);
      const uOuts = pe.stage(self(), [...residuals, ...staged], withJaxpr(p, s.unknown, "unknown"), s.unknown.outAvals);
      let a = 0;
      let b = 0;
      return s.outKnown.map((k) => (k ? pe.known(kOuts[a++]!) : uOuts[b++]!));
    },
    transpose(cts, args, p) {
      const linMask = args.map((a) => a instanceof UndefPrimal);
      const ctMask = cts.map((c) => c !== null);
      if (!ctMask.some(Boolean)) return args.map(() => null);
      const { jaxpr, nonZero } = transposeJaxprSparse(p.jaxpr, linMask, ctMask);
      const residuals = args.filter((a): a is NDArray => !(a instanceof UndefPrimal));
      const outs = bind(self(), [...residuals, ...cts.filter(isNonNull)], withJaxpr(p, jaxpr, "transpose"));
      let k = 0;
      let l = 0;
      return args.map((a) => (a instanceof UndefPrimal && nonZero[l++] ? outs[k++]! : null));
    },
    batch(args, dims, p) {
      const i0 = dims.findIndex((d) => d !== null);
      const size = args[i0]!.shape[dims[i0]!]!;
      const moved = args.map((a, i) => (dims[i] === null ? a : moveAxis(a, dims[i]!, 0)));
      const batched = batchJaxpr(
        p.jaxpr,
        dims.map((d) => d !== null),
        size,
      );
      const outs = bind(self(), moved, withJaxpr(p, batched.jaxpr, "vmap"));
      return [outs, batched.outMask.map((m): BatchDim => (m ? 0 : null))];
    },
  };
}
