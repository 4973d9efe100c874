/**
 * Structured control flow as higher-order primitives, as JAX's `cond`, `scan`,
 * `while` and `checkpoint` (`remat`). Each carries closed jaxprs (traced once) and
 * has every rule: abstract evaluation (which checks the branch / body / carry types),
 * a CPU implementation that runs the compiled body in a JS loop, JVP, partial
 * evaluation (so `linearize`, `vjp` and `grad` work), transposition and batching.
 *
 * The rules transform the inner jaxprs with interpreters/jaxpr_transforms.ts and bind
 * the primitive again, so a transformed loop is still one loop. Every derived jaxpr
 * is cached on the jaxpr it comes from, so applying a rule again (each step of a
 * training loop) neither retraces nor recompiles.
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { type TypedArray, allocateForWrite, isFloat } from "../core/dtype.js";
import { type BatchDim, type Params, type Primitive, UndefPrimal, bind, definePrimitive } from "../core/trace.js";
import { type Atom, ClosedJaxpr, Jaxpr, type JaxprEqn, Literal, Var, printJaxpr } from "../ir/jaxpr.js";
import { moveBatchAxis } from "../interpreters/batching.js";
import { batchJaxpr, dependentOutputs, evalClosed, jvpJaxpr, memoJaxpr, partialEvalJaxpr, transposeJaxpr, zerosOf } from "../interpreters/jaxpr_transforms.js";
import { callRules } from "../interpreters/call_rules.js";
import type { PartialEvalTrace, PartialEvalTracer } from "../interpreters/partial_eval.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { executableFor } from "../transforms/jit.js";
import type { Executable } from "../backends/backend.js";
import { addAny, convert, equal, greater, maximum, minimum, where } from "../primitives/elementwise.js";
import { reduceMax } from "../primitives/reduce.js";
import { moveAxis, reshape } from "../primitives/shape.js";

/**
 * The compiled executable of a body / branch jaxpr: compiled once per jaxpr (through
 * jit's compile path) and reused by every iteration and every later call.
 */
export function compiledBody(cj: ClosedJaxpr): Executable {
  return executableFor(cj);
}

// ---------------------------------------------------------------- helpers

const count = (m: readonly boolean[]): number => m.filter(Boolean).length;
const bits = (m: readonly boolean[]): string => m.map(Number).join("");
const isNonNull = <T>(x: T | null): x is T => x !== null;
const sameMask = (a: readonly boolean[], b: readonly boolean[]): boolean => a.every((x, i) => x === b[i]);

/** `(f32[3], i32[])`: how errors show a list of types. */
export function fmtAvals(avals: readonly ShapedArray[]): string {
  return `(${avals.map(String).join(", ")})`;
}

/** True when two lists of avals are equal. */
export function sameAvals(a: readonly ShapedArray[], b: readonly ShapedArray[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i]!));
}

/**
 * The jaxpr `cj` with its inputs and outputs rewired: new input i is old input
 * `ins[i]` (a number), or a new unused input of the given aval; the outputs are the
 * old outputs at the indices `outs`. Every old input must appear once in `ins`.
 */
function rewire(cj: ClosedJaxpr, ins: readonly (number | ShapedArray)[], outs: readonly number[]): ClosedJaxpr {
  const j = cj.jaxpr;
  const inVars = ins.map((k) => (typeof k === "number" ? j.inVars[k]! : new Var(k)));
  return new ClosedJaxpr(
    new Jaxpr(
      j.constVars,
      inVars,
      j.eqns,
      outs.map((k) => j.outs[k]!),
    ),
    cj.consts,
  );
}

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, i) => a + i);

/** Indices of the true / false entries of a mask, offset by `base`. */
function where_(mask: readonly boolean[], want: boolean, base = 0): number[] {
  const r: number[] = [];
  mask.forEach((m, i) => {
    if (m === want) r.push(base + i);
  });
  return r;
}

function batchSize(args: readonly NDArray[], dims: readonly BatchDim[]): number {
  const i = dims.findIndex((d) => d !== null);
  return args[i]!.shape[dims[i]!]!;
}

function printInner(name: string, cj: ClosedJaxpr): string {
  return `${name}=${printJaxpr(cj.jaxpr, 2).replace(/\n/g, "\n  ")}`;
}

/** Splits a partial-eval call's tracers into known values and which are known. */
function knownness(ts: readonly PartialEvalTracer[]): boolean[] {
  return ts.map((t) => t.known !== null);
}

// ---------------------------------------------------------------- cond

interface CondParams extends Params {
  /** One closed jaxpr per branch, each from the operands to the outputs. */
  branches: readonly ClosedJaxpr[];
}

/** The cached value of `make()` for (the branches of a cond, key). */
function memoBranches<T>(branches: readonly ClosedJaxpr[], key: string, make: () => T): T {
  return memoJaxpr(branches, key, make);
}

/** Which branch an index selects (clamped to the branch range, as JAX). */
function clampIndex(i: number, n: number): number {
  return Math.min(Math.max(Math.trunc(i), 0), n - 1);
}

/**
 * `cond`: inputs `[index, ...operands]`, where `index` (an int32 scalar) selects the
 * branch to run; all branches take the operands and return the same types.
 */
export const cond_p: Primitive<CondParams> = definePrimitive<CondParams>({
  name: "cond",
  abstractEval([index, ...ops], { branches }) {
    if (index!.dtype !== "int32" || index!.shape.length !== 0) throw new Error(`cond: the branch index must be an int32 scalar, got ${index!.toString()}.`);
    const out = branches[0]!.outAvals;
    branches.forEach((b, k) => {
      if (!sameAvals(b.inAvals, ops)) throw new Error(`cond: branch ${k} takes ${fmtAvals(b.inAvals)} but the operands are ${fmtAvals(ops)}.`);
      if (!sameAvals(b.outAvals, out))
        throw new Error(
          `cond: branch 0 returns ${fmtAvals(out)} but branch ${k} returns ${fmtAvals(b.outAvals)}; every branch must return the same structure, shapes and dtypes.`,
        );
    });
    return out;
  },
  impl([index, ...ops], { branches }) {
    return compiledBody(branches[clampIndex(index!.buffer[0]!, branches.length)]!)(ops);
  },
  jvp([index, ...ops], [, ...tangents], p) {
    const mask = tangents.map((t) => t !== null);
    const branches = memoBranches(p.branches, `jvp:${bits(mask)}`, () => p.branches.map((b) => jvpJaxpr(b, mask)));
    const outs = bind(cond_p, [index!, ...ops, ...tangents.filter(isNonNull)], { branches });
    const n = p.branches[0]!.outAvals.length;
    return [outs.slice(0, n), outs.slice(n)];
  },
  partialEval(trace, tracers, p) {
    const pe = trace as PartialEvalTrace;
    const [index, ...ops] = tracers as PartialEvalTracer[];
    const outAvals = p.branches[0]!.outAvals;
    if (index!.known === null) return pe.stage(cond_p, [index!, ...ops], p, outAvals);
    const knownMask = knownness(ops);
    const split = memoBranches(p.branches, `pe:${bits(knownMask)}`, () => splitCond(p.branches, knownMask));
    const kOuts = bind(cond_p, [index!.known, ...ops.filter((t) => t.known !== null).map((t) => t.known!)], { branches: split.known });
    const nKnown = count(split.outKnown);
    const res = kOuts.slice(nKnown).map((r) => pe.known(r));
    const uOuts = pe.stage(cond_p, [index!, ...res, ...ops.filter((t) => t.known === null)], { branches: split.unknown }, split.unknown[0]!.outAvals);
    let a = 0;
    let b = 0;
    return split.outKnown.map((k) => (k ? pe.known(kOuts[a++]!) : uOuts[b++]!));
  },
  transpose(cts, [index, ...ops], p) {
    if (index instanceof UndefPrimal) throw new Error("internal: cond's branch index cannot be linear");
    const linMask = ops.map((a) => a instanceof UndefPrimal);
    const ctMask = cts.map((c) => c !== null);
    if (!ctMask.some(Boolean)) return [null, ...ops.map(() => null)];
    const branches = memoBranches(p.branches, `T:${bits(linMask)}:${bits(ctMask)}`, () => p.branches.map((b) => transposeJaxpr(b, linMask, ctMask)));
    const outs = bind(cond_p, [index!, ...(ops.filter((a) => !(a instanceof UndefPrimal)) as NDArray[]), ...cts.filter(isNonNull)], { branches });
    let k = 0;
    return [null, ...ops.map((a) => (a instanceof UndefPrimal ? outs[k++]! : null))];
  },
  batch([index, ...ops], [indexDim, ...dims], p) {
    const size = batchSize([index!, ...ops], [indexDim!, ...dims]);
    const moved = ops.map((a, i) => (dims[i] === null ? a : moveAxis(a, dims[i]!, 0)));
    const mask = dims.map((d) => d !== null);
    if (indexDim !== null) {
      // a batched predicate: every branch runs on the whole batch and a select picks per example
      const all = p.branches[0]!.outAvals.map(() => true);
      const outsPer = p.branches.map((b) => evalClosed(batchJaxpr(b, mask, size, all).jaxpr)(moved));
      const i = minimum(maximum(moveAxis(index!, indexDim!, 0), 0), p.branches.length - 1);
      let outs = outsPer[0]!;
      for (let k = 1; k < outsPer.length; k++) {
        const pick = equal(i, k);
        outs = outs.map((o, j) => where(reshape(pick, [size, ...o.shape.slice(1).map(() => 1)]), outsPer[k]![j]!, o));
      }
      return [outs, outs.map(() => 0)];
    }
    const batched = memoBranches(p.branches, `vmap:${size}:${bits(mask)}`, () => {
      const union = p.branches.map((b) => batchJaxpr(b, mask, size).outMask).reduce((u, m) => u.map((x, i) => x || m[i]!));
      return { branches: p.branches.map((b) => batchJaxpr(b, mask, size, union).jaxpr), outMask: union };
    });
    const outs = bind(cond_p, [index!, ...moved], { branches: batched.branches });
    return [outs, batched.outMask.map((m) => (m ? 0 : null))];
  },
  printParams: (p) => `[${p.branches.map((b, k) => printInner(`branch${k}`, b)).join(" ")}]`,
});

/**
 * Partial evaluation of cond's branches on the same known operands: an output is
 * known when every branch knows it; the residuals of all branches are joined (each
 * branch returns zeros for the others'), so the known and the staged conds each have
 * branches of one type.
 */
function splitCond(branches: readonly ClosedJaxpr[], knownMask: boolean[]): { known: ClosedJaxpr[]; unknown: ClosedJaxpr[]; outKnown: boolean[] } {
  let splits = branches.map((b) => partialEvalJaxpr(b, knownMask));
  const outKnown = splits[0]!.outKnown.map((_, i) => splits.every((s) => s.outKnown[i]));
  if (splits.some((s) => !sameMask(s.outKnown, outKnown))) {
    splits = branches.map((b) =>
      partialEvalJaxpr(
        b,
        knownMask,
        outKnown.map((k) => !k),
      ),
    );
  }
  const nKnown = count(outKnown);
  const resAvals = splits.flatMap((s) => s.known.outAvals.slice(nKnown));
  const offsets: number[] = [];
  let off = 0;
  for (const s of splits) {
    offsets.push(off);
    off += s.numRes;
  }
  const known = splits.map((s, k) =>
    traceToJaxpr((ins) => {
      const o = evalClosed(s.known)(ins);
      const own = offsets[k]!;
      return [...o.slice(0, nKnown), ...resAvals.map((a, r) => (r >= own && r < own + s.numRes ? o[nKnown + r - own]! : zerosOf(a)))];
    }, s.known.inAvals),
  );
  const nUnknownIns = count(knownMask.map((k) => !k));
  const unknown = splits.map((s, k) =>
    rewire(
      s.unknown,
      [...resAvals.map((a, r) => (r >= offsets[k]! && r < offsets[k]! + s.numRes ? r - offsets[k]! : a)), ...range(s.numRes, s.numRes + nUnknownIns)],
      range(0, s.unknown.outAvals.length),
    ),
  );
  return { known, unknown, outKnown };
}

// ---------------------------------------------------------------- scan

interface ScanParams extends Params {
  /** The body: (consts, carry, x) → (carry, y). */
  jaxpr: ClosedJaxpr;
  numConsts: number;
  numCarry: number;
  length: number;
  reverse: boolean;
  /** How many iterations one step of the compiled loop runs (kept for the API; the CPU loop runs one). */
  unroll: number;
}

function scanCounts(p: ScanParams): { nc: number; nk: number; nx: number; ny: number } {
  const nc = p.numConsts;
  const nk = p.numCarry;
  return { nc, nk, nx: p.jaxpr.inAvals.length - nc - nk, ny: p.jaxpr.outAvals.length - nk };
}

const stacked = (a: ShapedArray, n: number): ShapedArray => new ShapedArray([n, ...a.shape], a.dtype);

/**
 * `scan`: inputs `[...consts, ...carry, ...xs]`, outputs `[...carry, ...ys]`. The body
 * runs `length` times (backwards when `reverse`), on the carry and the slice of each
 * `xs` at the step; the `ys` it returns are stacked on a new leading axis.
 */
export const scan_p: Primitive<ScanParams> = definePrimitive<ScanParams>({
  name: "scan",
  abstractEval(avals, p) {
    const { nc, nk, nx } = scanCounts(p);
    const b = p.jaxpr.inAvals;
    if (avals.length !== nc + nk + nx) throw new Error(`scan: expected ${nc + nk + nx} operands, got ${avals.length}.`);
    const carryIn = avals.slice(nc, nc + nk);
    const bodyCarry = b.slice(nc, nc + nk);
    if (!sameAvals(avals.slice(0, nc), b.slice(0, nc)))
      throw new Error(`scan: the constants have types ${fmtAvals(avals.slice(0, nc))} but the body takes ${fmtAvals(b.slice(0, nc))}.`);
    if (!sameAvals(carryIn, bodyCarry))
      throw new Error(`scan: the initial carry has types ${fmtAvals(carryIn)} but the body takes a carry of types ${fmtAvals(bodyCarry)}.`);
    const carryOut = p.jaxpr.outAvals.slice(0, nk);
    if (!sameAvals(carryOut, bodyCarry))
      throw new Error(
        `scan: the body returns a carry of types ${fmtAvals(carryOut)} but takes a carry of types ${fmtAvals(bodyCarry)}; the carry must keep its shapes and dtypes.`,
      );
    avals.slice(nc + nk).forEach((x, i) => {
      const want = stacked(b[nc + nk + i]!, p.length);
      if (!x.equals(want))
        throw new Error(
          `scan: xs ${i} has type ${x.toString()} but the body takes slices ${b[nc + nk + i]!.toString()} of a length-${p.length} stack (${want.toString()}).`,
        );
    });
    return [...carryOut, ...p.jaxpr.outAvals.slice(nk).map((a) => stacked(a, p.length))];
  },
  impl(args, p) {
    const { nc, nk, ny } = scanCounts(p);
    const exe = compiledBody(p.jaxpr);
    const T = p.length;
    const xs = args.slice(nc + nk);
    const carryAvals = p.jaxpr.outAvals.slice(0, nk);
    const xAvals = p.jaxpr.inAvals.slice(nc + nk);
    const yAvals = p.jaxpr.outAvals.slice(nk);
    const xBufs = xs.map((x) => x.buffer);
    const yBufs = yAvals.map((a) => allocateForWrite(a.dtype, T * a.size));
    // Two buffers per carry, the loop's own: each iteration offers the program the one
    // its carry input is not, to compute the new carry into; the ys are offered their
    // slice of the stacked output. What the program does not write there is copied.
    const pingPong = carryAvals.map((a) => [allocateForWrite(a.dtype, a.size), allocateForWrite(a.dtype, a.size)] as const);
    const into: (TypedArray | undefined)[] = new Array(nk + ny);
    const ins: ConcreteArray[] = args.slice();
    const carryUses = (buf: TypedArray): boolean => {
      for (let k = 0; k < nk; k++) {
        const c = ins[nc + k]!;
        if (c.device === null && c.buffer === buf) return true;
      }
      return false;
    };
    for (let it = 0; it < T; it++) {
      const i = p.reverse ? T - 1 - it : it;
      for (let k = 0; k < nk; k++) {
        // a buffer of the pair that no carry input is (carries may pass their buffers to
        // each other); a carry on a device is not read back just to compare
        const [a, b] = pingPong[k]!;
        into[k] = ins[nc + k]!.device !== null ? undefined : !carryUses(a) ? a : !carryUses(b) ? b : undefined;
      }
      for (let k = 0; k < ny; k++) into[nk + k] = yBufs[k]!.subarray(i * yAvals[k]!.size, (i + 1) * yAvals[k]!.size);
      for (let k = 0; k < xs.length; k++) {
        const a = xAvals[k]!;
        ins[nc + nk + k] = new ConcreteArray(a, xBufs[k]!.subarray(i * a.size, (i + 1) * a.size));
      }
      const outs = exe(ins, into);
      for (let k = 0; k < nk; k++) ins[nc + k] = outs[k]!;
      for (let k = 0; k < ny; k++) {
        const y = outs[nk + k]!.buffer;
        if (y !== into[nk + k]) into[nk + k]!.set(y);
      }
    }
    return [...ins.slice(nc, nc + nk), ...yAvals.map((a, k) => new ConcreteArray(stacked(a, T), yBufs[k]!))];
  },
  jvp(primals, tangents, p) {
    const { nc, nk, nx, ny } = scanCounts(p);
    const inAvals = p.jaxpr.inAvals;
    const constMask = tangents.slice(0, nc).map((t) => t !== null);
    const xsMask = tangents.slice(nc + nk).map((t) => t !== null);
    let carryMask = tangents.slice(nc, nc + nk).map((t) => t !== null);
    // fixpoint: a carry has a tangent when its initial value does or the body gives it one
    for (;;) {
      const dep = dependentOutputs(p.jaxpr, [...constMask, ...carryMask, ...xsMask]).slice(0, nk);
      const next = carryMask.map((m, i) => m || (dep[i]! && isFloat(inAvals[nc + i]!.dtype)));
      if (sameMask(next, carryMask)) break;
      carryMask = next;
    }
    const mask = [...constMask, ...carryMask, ...xsMask];
    const body = memoJaxpr(p.jaxpr, `scan-jvp:${bits(mask)}`, () => {
      const jj = jvpJaxpr(p.jaxpr, mask);
      const base = nc + nk + nx;
      const nct = count(constMask);
      const nkt = count(carryMask);
      return rewire(
        jj,
        [
          ...range(0, nc),
          ...range(base, base + nct),
          ...range(nc, nc + nk),
          ...range(base + nct, base + nct + nkt),
          ...range(nc + nk, base),
          ...range(base + nct + nkt, base + count(mask)),
        ],
        [...range(0, nk), ...where_(carryMask, true, nk + ny), ...range(nk, nk + ny), ...range(nk + ny + nk, nk + ny + nk + ny)],
      );
    });
    const carryT = tangents.slice(nc, nc + nk).map((t, i) => (carryMask[i] ? (t ?? zerosOf(inAvals[nc + i]!)) : null));
    const outs = bind(
      scan_p,
      [
        ...primals.slice(0, nc),
        ...tangents.slice(0, nc).filter(isNonNull),
        ...primals.slice(nc, nc + nk),
        ...carryT.filter(isNonNull),
        ...primals.slice(nc + nk),
        ...tangents.slice(nc + nk).filter(isNonNull),
      ],
      { ...p, jaxpr: body, numConsts: nc + count(constMask), numCarry: nk + count(carryMask) },
    );
    const nkt = count(carryMask);
    let k = nk;
    const carryTOut = carryMask.map((m) => (m ? outs[k++]! : null));
    const ys = outs.slice(nk + nkt, nk + nkt + ny);
    const ysT = outs.slice(nk + nkt + ny);
    return [
      [...outs.slice(0, nk), ...ys],
      [...carryTOut, ...ysT],
    ];
  },
  partialEval(trace, tracers, p) {
    const pe = trace as PartialEvalTrace;
    const ts = tracers as PartialEvalTracer[];
    const { nc, nk, ny } = scanCounts(p);
    const known = knownness(ts);
    const split = memoJaxpr(p.jaxpr, `scan-pe:${bits(known)}`, () => splitScan(p, known));
    const { carryK, ysK, hoisted } = split;
    const kc = ts.slice(0, nc).filter((t) => t.known !== null);
    const kOuts = bind(
      scan_p,
      [...kc, ...ts.slice(nc, nc + nk).filter((_, i) => carryK[i]), ...ts.slice(nc + nk).filter((t) => t.known !== null)].map((t) => t.known!),
      { ...p, jaxpr: split.knownBody, numConsts: kc.length, numCarry: count(carryK) },
    );
    const nkk = count(carryK);
    const nky = count(ysK);
    const stackedRes = kOuts.slice(nkk + nky).map((r) => pe.known(r));
    const hoistedRes = hoisted.map((h) => (h.kind === "const" ? ts[h.index]! : pe.known(h.value)));
    const uOuts = pe.stage(
      scan_p,
      [
        ...hoistedRes,
        ...ts.slice(0, nc).filter((t) => t.known === null),
        ...ts.slice(nc, nc + nk).filter((_, i) => !carryK[i]),
        ...stackedRes,
        ...ts.slice(nc + nk).filter((t) => t.known === null),
      ],
      { ...p, jaxpr: split.unknownBody, numConsts: hoisted.length + count(known.slice(0, nc).map((k) => !k)), numCarry: nk - nkk },
      [
        ...p.jaxpr.inAvals.slice(nc, nc + nk).filter((_, i) => !carryK[i]),
        ...p.jaxpr.outAvals
          .slice(nk)
          .filter((_, i) => !ysK[i])
          .map((a) => stacked(a, p.length)),
      ],
    );
    let a = 0;
    let b = nkk;
    let u = 0;
    const carry = carryK.map((k) => (k ? pe.known(kOuts[a++]!) : uOuts[u++]!));
    const ys = range(0, ny).map((i) => (ysK[i] ? pe.known(kOuts[b++]!) : uOuts[u++]!));
    return [...carry, ...ys];
  },
  transpose(cts, args, p) {
    const { nc, nk, nx, ny } = scanCounts(p);
    // the carry is linear even where its initial value is a known (zero) tangent, as in JAX
    const lin = args.map((a, i) => a instanceof UndefPrimal || (i >= nc && i < nc + nk));
    if (cts.every((c) => c === null)) return args.map(() => null);
    const constLin = lin.slice(0, nc);
    const xsLin = lin.slice(nc + nk);
    const inAvals = p.jaxpr.inAvals;
    const outAvals = p.jaxpr.outAvals;
    const body = memoJaxpr(p.jaxpr, `scan-T:${bits(lin)}`, () => {
      const tb = transposeJaxpr(
        p.jaxpr,
        lin,
        outAvals.map(() => true),
      );
      const cNL = where_(constLin, false).map((i) => inAvals[i]!);
      const cL = where_(constLin, true).map((i) => inAvals[i]!);
      const xNL = where_(xsLin, false, nc + nk).map((i) => inAvals[i]!);
      const carry = inAvals.slice(nc, nc + nk);
      return traceToJaxpr(
        (ins) => {
          let o = 0;
          const take = (n: number): NDArray[] => ins.slice(o, (o += n));
          const [consts, acc, ctC, ctY, xs] = [take(cNL.length), take(cL.length), take(nk), take(ny), take(xNL.length)];
          const g = evalClosed(tb)([...consts, ...xs, ...ctC, ...ctY]);
          return [...acc.map((a, i) => addAny(a, g[i]!)), ...g.slice(cL.length)];
        },
        [...cNL, ...cL, ...carry, ...outAvals.slice(nk), ...xNL],
      );
    });
    const nonLin = (from: number, to: number): NDArray[] => args.slice(from, to).filter((a) => !(a instanceof UndefPrimal)) as NDArray[];
    const constsL = where_(constLin, true).map((i) => inAvals[i]!);
    const outs = bind(
      scan_p,
      [
        ...nonLin(0, nc),
        ...constsL.map((a) => zerosOf(a)),
        ...cts.slice(0, nk).map((c, i) => c ?? zerosOf(outAvals[i]!)),
        ...cts.slice(nk).map((c, i) => c ?? zerosOf(stacked(outAvals[nk + i]!, p.length))),
        ...nonLin(nc + nk, nc + nk + nx),
      ],
      { ...p, jaxpr: body, numConsts: nc - constsL.length, numCarry: constsL.length + nk, reverse: !p.reverse },
    );
    let c = 0;
    let x = constsL.length + nk;
    return args.map((a, i) => {
      if (i < nc) return lin[i] ? outs[c++]! : null;
      if (i < nc + nk) return a instanceof UndefPrimal ? outs[constsL.length + i - nc]! : null;
      return lin[i] ? outs[x++]! : null;
    });
  },
  batch(args, dims, p) {
    const { nc, nk, ny } = scanCounts(p);
    const size = batchSize(args, dims);
    const constB = dims.slice(0, nc).map((d) => d !== null);
    const xsB = dims.slice(nc + nk).map((d) => d !== null);
    let carryB = dims.slice(nc, nc + nk).map((d) => d !== null);
    for (;;) {
      const dep = dependentOutputs(p.jaxpr, [...constB, ...carryB, ...xsB]).slice(0, nk);
      const next = carryB.map((b, i) => b || dep[i]!);
      if (sameMask(next, carryB)) break;
      carryB = next;
    }
    const { jaxpr, outMask } = batchJaxpr(p.jaxpr, [...constB, ...carryB, ...xsB], size, [...carryB, ...range(0, ny).map(() => false)]);
    const moved = args.map((a, i) => {
      const d = dims[i]!;
      if (i < nc) return d === null ? a : moveAxis(a, d, 0);
      if (i < nc + nk) return carryB[i - nc] ? moveBatchAxis(a, d, 0, size) : a;
      return d === null ? a : moveAxis(a, d, 1);
    });
    const outs = bind(scan_p, moved, { ...p, jaxpr });
    return [outs, outs.map((_, i) => (i < nk ? (carryB[i] ? 0 : null) : outMask[i] ? 1 : null))];
  },
  printParams: (p) => `[length=${p.length} reverse=${p.reverse} num_consts=${p.numConsts} num_carry=${p.numCarry} ${printInner("jaxpr", p.jaxpr)}]`,
});

type Hoisted = { kind: "const"; index: number } | { kind: "value"; value: NDArray };

/**
 * Partial evaluation of a scan body: the carry's knownness is a fixpoint (a carry is
 * known when its initial value is and the body keeps it known); the known scan
 * returns the residuals the staged scan needs stacked as extra ys, except residuals
 * that are loop-invariant (a known constant), which the staged scan takes as constants.
 */
function splitScan(
  p: ScanParams,
  known: boolean[],
): { carryK: boolean[]; ysK: boolean[]; knownBody: ClosedJaxpr; unknownBody: ClosedJaxpr; hoisted: Hoisted[] } {
  const { nc, nk, nx, ny } = scanCounts(p);
  const constK = known.slice(0, nc);
  const xsK = known.slice(nc + nk);
  let carryK = known.slice(nc, nc + nk);
  let split;
  for (;;) {
    split = partialEvalJaxpr(p.jaxpr, [...constK, ...carryK, ...xsK], [...carryK.map((k) => !k), ...range(0, ny).map(() => false)]);
    const next = carryK.map((k, i) => k && split!.outKnown[i]!);
    if (sameMask(next, carryK)) break;
    carryK = next;
  }
  const ysK = split.outKnown.slice(nk);
  const nKnownOut = count(split.outKnown);
  const kj = split.known.jaxpr;
  const nkc = count(constK);
  const hoisted: Hoisted[] = [];
  const stackedRes: number[] = [];
  const resPos: ({ hoisted: number } | { stacked: number })[] = [];
  const knownConstIdx = where_(constK, true);
  for (let r = 0; r < split.numRes; r++) {
    const atom: Atom = kj.outs[nKnownOut + r]!;
    const inIdx = atom instanceof Var ? kj.inVars.indexOf(atom) : -1;
    const cIdx = atom instanceof Var ? kj.constVars.indexOf(atom) : -1;
    if (inIdx >= 0 && inIdx < nkc) {
      resPos.push({ hoisted: hoisted.length });
      hoisted.push({ kind: "const", index: knownConstIdx[inIdx]! });
    } else if (cIdx >= 0 || atom instanceof Literal) {
      resPos.push({ hoisted: hoisted.length });
      hoisted.push({ kind: "value", value: atom instanceof Literal ? atom.val : split.known.consts[cIdx]! });
    } else {
      resPos.push({ stacked: stackedRes.length });
      stackedRes.push(nKnownOut + r);
    }
  }
  const knownBody = rewire(split.known, range(0, split.known.inAvals.length), [...range(0, nKnownOut), ...stackedRes]);
  // the staged body: (res, unknown consts, unknown carry, unknown xs) → scan form
  // (hoisted res, unknown consts; unknown carry; stacked res, unknown xs)
  const nR = split.numRes;
  const nuc = nc - nkc;
  const nuk = nk - count(carryK);
  const nux = nx - count(xsK);
  const hoistedIdx = resPos.flatMap((r, i) => ("hoisted" in r ? [i] : []));
  const stackedIdx = resPos.flatMap((r, i) => ("stacked" in r ? [i] : []));
  const unknownBody = rewire(
    split.unknown,
    [...hoistedIdx, ...range(nR, nR + nuc), ...range(nR + nuc, nR + nuc + nuk), ...stackedIdx, ...range(nR + nuc + nuk, nR + nuc + nuk + nux)],
    range(0, split.unknown.outAvals.length),
  );
  return { carryK, ysK, knownBody, unknownBody, hoisted };
}

// ---------------------------------------------------------------- while

interface WhileParams extends Params {
  /** (cond consts, carry) → bool scalar. */
  cond: ClosedJaxpr;
  /** (body consts, carry) → carry. */
  body: ClosedJaxpr;
  condNConsts: number;
  bodyNConsts: number;
}

/** The Error of reverse-mode differentiation through a while loop (as JAX). */
export function whileReverseError(): Error {
  return new Error(
    "lax.whileLoop: reverse-mode differentiation (grad, vjp, jacrev) of a while loop is not supported, as in JAX: its trip count is known only at run time, so the values of every iteration would have to be kept. " +
      "Use lax.scan, or lax.foriLoop with JS-number bounds (a static trip count), which are reverse-differentiable; forward mode (jvp, jacfwd) works on whileLoop.",
  );
}

/** `while`: inputs `[...condConsts, ...bodyConsts, ...carry]`; runs the body while the cond is true. */
export const while_p: Primitive<WhileParams> = definePrimitive<WhileParams>({
  name: "while",
  abstractEval(avals, p) {
    const ncc = p.condNConsts;
    const nbc = p.bodyNConsts;
    const carry = avals.slice(ncc + nbc);
    const bodyIn = p.body.inAvals.slice(nbc);
    if (!sameAvals(avals.slice(0, ncc), p.cond.inAvals.slice(0, ncc)) || !sameAvals(avals.slice(ncc, ncc + nbc), p.body.inAvals.slice(0, nbc))) {
      throw new Error(
        `while: the constants have types ${fmtAvals(avals.slice(0, ncc + nbc))} but the cond and body take ${fmtAvals([...p.cond.inAvals.slice(0, ncc), ...p.body.inAvals.slice(0, nbc)])}.`,
      );
    }
    if (!sameAvals(carry, bodyIn)) throw new Error(`while: the initial value has types ${fmtAvals(carry)} but the body takes ${fmtAvals(bodyIn)}.`);
    if (!sameAvals(p.body.outAvals, bodyIn))
      throw new Error(`while: the body returns ${fmtAvals(p.body.outAvals)} but takes ${fmtAvals(bodyIn)}; the loop value must keep its shapes and dtypes.`);
    const c = p.cond.outAvals;
    if (c.length !== 1 || c[0]!.dtype !== "bool" || c[0]!.shape.length !== 0) throw new Error(`while: the cond must return a bool scalar, got ${fmtAvals(c)}.`);
    return carry;
  },
  impl(args, p) {
    const cc = args.slice(0, p.condNConsts);
    const bc = args.slice(p.condNConsts, p.condNConsts + p.bodyNConsts);
    let carry = args.slice(p.condNConsts + p.bodyNConsts);
    const ce = compiledBody(p.cond);
    const be = compiledBody(p.body);
    while (ce([...cc, ...carry])[0]!.buffer[0]) carry = be([...bc, ...carry]);
    return carry;
  },
  jvp(primals, tangents, p) {
    const ncc = p.condNConsts;
    const nbc = p.bodyNConsts;
    const nk = primals.length - ncc - nbc;
    const bcMask = tangents.slice(ncc, ncc + nbc).map((t) => t !== null);
    let carryMask = tangents.slice(ncc + nbc).map((t) => t !== null);
    for (;;) {
      const dep = dependentOutputs(p.body, [...bcMask, ...carryMask]);
      const next = carryMask.map((m, i) => m || (dep[i]! && isFloat(p.body.outAvals[i]!.dtype)));
      if (sameMask(next, carryMask)) break;
      carryMask = next;
    }
    const nbt = count(bcMask);
    const nkt = count(carryMask);
    const mask = [...bcMask, ...carryMask];
    const { cond, body } = memoJaxpr(p.body, `while-jvp:${bits(mask)}:${ncc}`, () => {
      const jb = jvpJaxpr(p.body, mask);
      const base = nbc + nk;
      return {
        body: rewire(
          jb,
          [...range(0, nbc), ...range(base, base + nbt), ...range(nbc, base), ...range(base + nbt, base + nbt + nkt)],
          [...range(0, nk), ...where_(carryMask, true, nk)],
        ),
        cond: rewire(p.cond, [...range(0, ncc + nk), ...where_(carryMask, true).map((i) => p.body.inAvals[nbc + i]!)], [0]),
      };
    });
    const carryT = tangents.slice(ncc + nbc).map((t, i) => (carryMask[i] ? (t ?? zerosOf(primals[ncc + nbc + i]!.aval)) : null));
    const outs = bind(
      while_p,
      [...primals.slice(0, ncc + nbc), ...tangents.slice(ncc, ncc + nbc).filter(isNonNull), ...primals.slice(ncc + nbc), ...carryT.filter(isNonNull)],
      { cond, body, condNConsts: ncc, bodyNConsts: nbc + nbt },
    );
    let k = nk;
    return [outs.slice(0, nk), carryMask.map((m) => (m ? outs[k++]! : null))];
  },
  partialEval(trace, tracers, p) {
    const pe = trace as PartialEvalTrace;
    const ts = tracers as PartialEvalTracer[];
    const ncc = p.condNConsts;
    const nbc = p.bodyNConsts;
    const known = knownness(ts);
    const outAvals = p.body.outAvals;
    const split = memoJaxpr(p.body, `while-pe:${bits(known)}:${ncc}`, () => {
      const ccK = known.slice(0, ncc);
      const bcK = known.slice(ncc, ncc + nbc);
      let carryK = known.slice(ncc + nbc);
      let s;
      for (;;) {
        s = partialEvalJaxpr(
          p.body,
          [...bcK, ...carryK],
          carryK.map((k) => !k),
        );
        const next = carryK.map((k, i) => k && s!.outKnown[i]!);
        if (sameMask(next, carryK)) break;
        carryK = next;
      }
      const c = partialEvalJaxpr(p.cond, [...ccK, ...carryK]);
      if (!c.outKnown[0] || !carryK.some(Boolean)) return null;
      return {
        carryK,
        cond: rewire(c.known, range(0, c.known.inAvals.length), [0]),
        body: rewire(s.known, range(0, s.known.inAvals.length), range(0, count(carryK))),
      };
    });
    // everything is staged when the cond depends on unknown values (the staged loop's transpose is the error)
    if (split === null) return pe.stage(while_p, ts, p, outAvals);
    const kv = (from: number, to: number, mask: readonly boolean[] = known.slice(from, to)): NDArray[] =>
      ts
        .slice(from, to)
        .filter((_, i) => mask[i])
        .map((t) => t.known!);
    const kOuts = bind(while_p, [...kv(0, ncc), ...kv(ncc, ncc + nbc), ...kv(ncc + nbc, ts.length, split.carryK)], {
      cond: split.cond,
      body: split.body,
      condNConsts: count(known.slice(0, ncc)),
      bodyNConsts: count(known.slice(ncc, ncc + nbc)),
    });
    const staged = pe.stage(while_p, ts, p, outAvals);
    let a = 0;
    return split.carryK.map((k, i) => (k ? pe.known(kOuts[a++]!) : staged[i]!));
  },
  transpose() {
    throw whileReverseError();
  },
  batch(args, dims, p) {
    const ncc = p.condNConsts;
    const nbc = p.bodyNConsts;
    const size = batchSize(args, dims);
    const ccB = dims.slice(0, ncc).map((d) => d !== null);
    const bcB = dims.slice(ncc, ncc + nbc).map((d) => d !== null);
    let carryB = dims.slice(ncc + nbc).map((d) => d !== null);
    let predB = false;
    for (;;) {
      const dep = dependentOutputs(p.body, [...bcB, ...carryB]);
      predB = dependentOutputs(p.cond, [...ccB, ...carryB])[0]!;
      const next = carryB.map((b, i) => predB || b || dep[i]!);
      if (sameMask(next, carryB)) break;
      carryB = next;
    }
    const moved = args.map((a, i) => {
      const d = dims[i]!;
      if (i < ncc + nbc) return d === null ? a : moveAxis(a, d, 0);
      return carryB[i - ncc - nbc] ? moveBatchAxis(a, d, 0, size) : a;
    });
    const key = `while-vmap:${size}:${bits(ccB)}:${bits(bcB)}:${bits(carryB)}:${ncc}`;
    const outDims = carryB.map((b) => (b ? 0 : null));
    if (!predB) {
      const { cond, body } = memoJaxpr(p.body, key, () => ({
        cond: batchJaxpr(p.cond, [...ccB, ...carryB], size).jaxpr,
        body: batchJaxpr(p.body, [...bcB, ...carryB], size, carryB).jaxpr,
      }));
      return [bind(while_p, moved, { ...p, cond, body }), outDims];
    }
    // a batched predicate: run until every example is done; finished examples keep their value
    const { cond, body } = memoJaxpr(p.body, key, () => {
      const bc = batchJaxpr(p.cond, [...ccB, ...carryB], size, [true]).jaxpr;
      const bb = batchJaxpr(p.body, [...bcB, ...carryB], size, carryB).jaxpr;
      const ccAvals = bc.inAvals.slice(0, ncc);
      const carryAvals = bc.inAvals.slice(ncc);
      const bcAvals = bb.inAvals.slice(0, nbc);
      return {
        cond: traceToJaxpr((ins) => [greater(reduceMax(convert(evalClosed(bc)(ins)[0]!, "int32"), [0]), 0)], [...ccAvals, ...carryAvals]),
        body: traceToJaxpr(
          (ins) => {
            const cc = ins.slice(0, ncc);
            const carry = ins.slice(ncc + nbc);
            const pred = evalClosed(bc)([...cc, ...carry])[0]!;
            const next = evalClosed(bb)(ins.slice(ncc));
            return next.map((n, i) => where(reshape(pred, [size, ...n.shape.slice(1).map(() => 1)]), n, carry[i]!));
          },
          [...ccAvals, ...bcAvals, ...carryAvals],
        ),
      };
    });
    return [bind(while_p, [...moved.slice(0, ncc), ...moved], { cond, body, condNConsts: ncc, bodyNConsts: ncc + nbc }), outDims];
  },
  printParams: (p) => `[${printInner("cond_jaxpr", p.cond)} ${printInner("body_jaxpr", p.body)}]`,
});

// ---------------------------------------------------------------- checkpoint (remat)

/** Which intermediate values a checkpointed function saves for the backward pass. */
export type RematPolicy = "nothing_saveable" | "dots_saveable" | "everything_saveable";
/** The policies {@link RematPolicy} names. */
export const REMAT_POLICIES: readonly RematPolicy[] = ["nothing_saveable", "dots_saveable", "everything_saveable"];

interface RematParams extends Params {
  jaxpr: ClosedJaxpr;
  policy: RematPolicy;
}

const DOT_PRIMITIVES = new Set(["matmul", "matmul_t", "dot_general"]);

function saveable(e: JaxprEqn, policy: RematPolicy): boolean {
  if (policy === "everything_saveable") return true;
  if (policy === "dots_saveable") return DOT_PRIMITIVES.has(e.primitive.name);
  return false;
}

/**
 * Partial evaluation for checkpoint: the known jaxpr computes the known outputs and
 * the values the policy saves; the staged jaxpr takes those plus every input and
 * recomputes the rest of the known work (that is the rematerialization).
 */
function splitRemat(
  cj: ClosedJaxpr,
  knownMask: readonly boolean[],
  policy: RematPolicy,
): { known: ClosedJaxpr; unknown: ClosedJaxpr; outKnown: boolean[]; numSaved: number } {
  const j = cj.jaxpr;
  const knownVars = new Set<Var>(j.constVars);
  j.inVars.forEach((v, i) => {
    if (knownMask[i]) knownVars.add(v);
  });
  const isKnown = (a: Atom): boolean => a instanceof Literal || knownVars.has(a);
  const knownEqns: JaxprEqn[] = [];
  const stagedEqns: JaxprEqn[] = [];
  const saved: Var[] = [];
  for (const e of j.eqns) {
    if (e.inputs.every(isKnown)) {
      knownEqns.push(e);
      for (const v of e.outVars) knownVars.add(v);
      if (saveable(e, policy)) {
        saved.push(...e.outVars);
        continue;
      }
    }
    stagedEqns.push(e);
  }
  const outKnown = j.outs.map(isKnown);
  const known = new ClosedJaxpr(
    new Jaxpr(
      j.constVars,
      j.inVars.filter((_, i) => knownMask[i]),
      knownEqns,
      [...j.outs.filter((_, i) => outKnown[i]), ...saved],
    ),
    cj.consts,
  );
  const unknown = new ClosedJaxpr(
    new Jaxpr(
      j.constVars,
      [...saved, ...j.inVars],
      stagedEqns,
      j.outs.filter((_, i) => !outKnown[i]),
    ),
    cj.consts,
  );
  return { known, unknown, outKnown, numSaved: saved.length };
}

/**
 * `checkpoint` (remat): evaluates its jaxpr; under reverse mode its partial
 * evaluation keeps no residuals (or only those its policy saves), so the backward
 * pass recomputes the forward values from the inputs.
 */
export const remat_p: Primitive<RematParams> = definePrimitive<RematParams>({
  name: "checkpoint",
  abstractEval(avals, p) {
    if (!sameAvals(avals, p.jaxpr.inAvals)) throw new Error(`checkpoint: called with ${fmtAvals(avals)} but traced for ${fmtAvals(p.jaxpr.inAvals)}.`);
    return p.jaxpr.outAvals;
  },
  impl: (args, p) => compiledBody(p.jaxpr)(args),
  ...callRules<RematParams>(
    () => remat_p,
    (p, jaxpr) => ({ jaxpr, policy: p.policy }),
    (p, knownMask) => ({
      ...memoJaxpr(p.jaxpr, `remat-pe:${p.policy}:${bits(knownMask)}`, () => splitRemat(p.jaxpr, knownMask, p.policy)),
      unknownTakes: "all",
    }),
  ),
  printParams: (p) => `[policy=${p.policy} ${printInner("jaxpr", p.jaxpr)}]`,
});
