/**
 * Scan loops: work that does not change from one iteration to the next leaves the
 * body, and the body returns only the stacked outputs that are needed, once each.
 *
 * For every `scan` equation:
 * - the body is cleaned up (common subexpressions, dead code), so a value it returns
 *   twice is one variable;
 * - **loop-invariant code motion**: an equation of the body whose inputs are all
 *   loop constants (the scan's constant operands, the body's own constants, literals,
 *   or results of equations already hoisted) is computed once, before the loop, and
 *   its result passed to the body as a new constant operand — a transpose or a
 *   conversion of a weight, a product of two constants. Broadcasts and reshapes stay in
 *   the body (reading the hoisted value): there they are free views that fusion folds
 *   into the kernels that read them, while hoisted they would become arrays passed in
 *   (a broadcast one larger than its operand);
 * - **stacked outputs**: a `y` the body returns at two positions is stacked once (the
 *   second result reads the first), and one nobody reads is not stacked at all.
 *
 * Every value is computed by the same primitive on the same operands as before, so
 * results are unchanged bit for bit. Scans nested in a body are handled when that body
 * is compiled (it goes through the same pipeline).
 * @module
 */
import { ConcreteArray, ShapedArray } from "../core/array.js";
import { type DType, allocate } from "../core/dtype.js";
import type { Primitive } from "../core/trace.js";
import { type Atom, ClosedJaxpr, Jaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { broadcast_to_p, reshape_p } from "../primitives/shape.js";
import { cse } from "./cse.js";
import { dce } from "./dce.js";
import { constValues, rebuild, substituter } from "./util.js";

/** Primitives left in the body even when loop-invariant (see the module comment). */
const VIEWS = new Set(["broadcast_to", "reshape"]);

interface ScanShape {
  jaxpr: ClosedJaxpr;
  numConsts: number;
  numCarry: number;
  length: number;
}

/** Hoists loop invariants out of every scan and prunes their stacked outputs (see the module comment). */
export function scanLoops(cj: ClosedJaxpr): ClosedJaxpr {
  const { jaxpr } = cj;
  if (!jaxpr.eqns.some((e) => e.primitive.name === "scan")) return cj;
  const known = constValues(cj);
  const producer = new Map<Var, JaxprEqn>();
  for (const e of jaxpr.eqns) for (const v of e.outVars) producer.set(v, e);
  // which outer variables are read (by equations or as outputs), to drop unread ys
  const used = new Set<Var>();
  for (const e of jaxpr.eqns) for (const a of e.inputs) if (a instanceof Var) used.add(a);
  for (const a of jaxpr.outs) if (a instanceof Var) used.add(a);

  const subst = new Map<Var, Atom>();
  const s = substituter(subst);
  const constVars = [...jaxpr.constVars];
  const consts = [...cj.consts];
  const eqns: JaxprEqn[] = [];
  let changed = false;
  for (const e0 of jaxpr.eqns) {
    const e = { ...e0, inputs: e0.inputs.map(s) };
    if (e.primitive.name !== "scan") {
      eqns.push(e);
      continue;
    }
    const r = rewriteScan(e, used, producer, known, (v, c) => {
      constVars.push(v);
      consts.push(c);
    });
    if (r === null) {
      eqns.push(e);
      continue;
    }
    changed = true;
    eqns.push(...r.before, r.scan);
    for (const [v, a] of r.subst) subst.set(v, a);
  }
  if (!changed) return cj;
  return rebuild(cj, { constVars, consts, eqns, outs: jaxpr.outs.map(s) });
}

interface Rewritten {
  /** Hoisted equations, to run before the scan. */
  before: JaxprEqn[];
  scan: JaxprEqn;
  /** Outer results of dropped duplicate ys, to read another result instead. */
  subst: Map<Var, Atom>;
}

function rewriteScan(
  e0: JaxprEqn,
  used: ReadonlySet<Var>,
  producer: ReadonlyMap<Var, JaxprEqn>,
  consts: ReadonlyMap<Var, ConcreteArray>,
  addConst: (v: Var, c: ClosedJaxpr["consts"][number]) => void,
): Rewritten | null {
  const p = e0.params as unknown as ScanShape;
  const c = dce(cse(p.jaxpr));
  // (cse and dce only drop equations and constants: the same counts mean nothing changed)
  const same = c.jaxpr.eqns.length === p.jaxpr.jaxpr.eqns.length && c.jaxpr.constVars.length === p.jaxpr.jaxpr.constVars.length;
  const cleaned = same ? p.jaxpr : c;
  const { cj: body, e, numConsts: nc } = invariantXs(e0, cleaned, producer, consts, addConst);
  const bj = body.jaxpr;
  const nk = p.numCarry;

  // ---- loop invariants
  const outer = new Map<Var, Atom>(); // body variable → outer atom holding its (invariant) value
  bj.inVars.slice(0, nc).forEach((v, i) => outer.set(v, e.inputs[i]!));
  const bodyConst = new Map(bj.constVars.map((v, i) => [v, body.consts[i]!] as const));
  const invariantAtom = (a: Atom): boolean => a instanceof Literal || outer.has(a) || bodyConst.has(a);
  /** The outer atom of an invariant body atom (a body constant becomes an outer one when first needed). */
  const outerOf = (a: Atom): Atom => {
    if (a instanceof Literal) return a;
    let o = outer.get(a);
    if (!o) {
      o = new Var(a.aval);
      addConst(o, bodyConst.get(a)!);
      outer.set(a, o);
    }
    return o;
  };
  const before: JaxprEqn[] = [];
  const hoistedOut = new Set<Var>();
  const kept: JaxprEqn[] = [];
  for (const be of bj.eqns) {
    if (!be.inputs.every(invariantAtom)) {
      kept.push(be);
      continue;
    }
    const outs = be.outVars.map((v) => new Var(v.aval));
    before.push({ ...be, inputs: be.inputs.map(outerOf), outVars: outs });
    be.outVars.forEach((v, i) => outer.set(v, outs[i]!));
    // a view is also computed outside, for hoisted equations reading it (dead code otherwise)
    if (VIEWS.has(be.primitive.name)) kept.push(be);
    else for (const v of be.outVars) hoistedOut.add(v);
  }
  // hoisted values the body still reads become new constant operands
  const newConstIn: Var[] = [];
  const newConstOuter: Atom[] = [];
  const inner = new Map<Var, Var>();
  const innerOf = (a: Atom): Atom => {
    if (!(a instanceof Var) || !hoistedOut.has(a)) return a;
    let v = inner.get(a);
    if (!v) {
      v = new Var(a.aval);
      inner.set(a, v);
      newConstIn.push(v);
      newConstOuter.push(outer.get(a)!);
    }
    return v;
  };
  const keptEqns = kept.map((k) => (k.inputs.some((a) => a instanceof Var && hoistedOut.has(a)) ? { ...k, inputs: k.inputs.map(innerOf) } : k));
  const bodyOuts = bj.outs.map(innerOf);

  // ---- stacked outputs: duplicates and unread ones dropped
  const ysOuter = e.outVars.slice(nk);
  const keepY: boolean[] = [];
  const subst = new Map<Var, Atom>();
  const firstAt = new Map<string, number>();
  bodyOuts.slice(nk).forEach((a, i) => {
    const key = a instanceof Var ? `v${a.id}` : null;
    const prev = key === null ? undefined : firstAt.get(key);
    if (prev !== undefined) {
      keepY.push(false);
      subst.set(ysOuter[i]!, ysOuter[prev]!);
    } else if (!used.has(ysOuter[i]!)) keepY.push(false);
    else {
      keepY.push(true);
      if (key !== null) firstAt.set(key, i);
    }
  });
  // a duplicate whose first occurrence is unread: keep the duplicate's reader pointed at a kept result
  for (const [v, a] of [...subst]) {
    const i = ysOuter.indexOf(a as Var);
    if (!keepY[i] && used.has(v)) {
      keepY[i] = true;
      subst.set(v, a);
    }
  }
  if (!hoistedOut.size && keepY.every(Boolean))
    return body === p.jaxpr ? null : { before: [], scan: { ...e, params: { ...e.params, jaxpr: body, numConsts: nc } }, subst };

  const inVars = [...bj.inVars.slice(0, nc), ...newConstIn, ...bj.inVars.slice(nc)];
  const outs = [...bodyOuts.slice(0, nk), ...bodyOuts.slice(nk).filter((_, i) => keepY[i])];
  const newBody = dce(new ClosedJaxpr(new Jaxpr(bj.constVars, inVars, keptEqns, outs), body.consts));
  const scan: JaxprEqn = {
    ...e,
    inputs: [...e.inputs.slice(0, nc), ...newConstOuter, ...e.inputs.slice(nc)],
    outVars: [...e.outVars.slice(0, nk), ...ysOuter.filter((_, i) => keepY[i])],
    params: { ...e.params, jaxpr: newBody, numConsts: nc + newConstIn.length },
  };
  return { before, scan, subst };
}

/**
 * Stacked inputs that are a value broadcast along the scanned axis (the cotangent of
 * summed ys, a constant fill) become constant operands: the body broadcasts the value
 * to a slice itself, a view fusion folds away, instead of reading a stacked copy.
 */
function invariantXs(
  e: JaxprEqn,
  cj: ClosedJaxpr,
  producer: ReadonlyMap<Var, JaxprEqn>,
  consts: ReadonlyMap<Var, ConcreteArray>,
  addConst: (v: Var, c: ConcreteArray) => void,
): { cj: ClosedJaxpr; e: JaxprEqn; numConsts: number } {
  const p = e.params as unknown as ScanShape;
  const nc = p.numConsts;
  const start = nc + p.numCarry;
  const bj = cj.jaxpr;
  const newConsts: Var[] = [];
  const newOuter: Atom[] = [];
  const prologue: JaxprEqn[] = [];
  const dropped = new Set<number>();
  /** The body's slice i becomes `broadcast_to(src)` (dropping src's size-1 leading axis, if it has one). */
  const broadcastInBody = (i: number, src: Atom): void => {
    const xv = bj.inVars[i]!;
    let operand: Atom = src;
    if (src instanceof Var) {
      operand = new Var(src.aval);
      newConsts.push(operand);
      newOuter.push(src);
    }
    if (operand.aval.ndim > xv.aval.ndim) {
      const r = new Var(new ShapedArray(operand.aval.shape.slice(1), operand.aval.dtype));
      prologue.push({ primitive: reshape_p as Primitive, inputs: [operand], params: { shape: [...r.aval.shape] }, outVars: [r] });
      operand = r;
    }
    prologue.push({ primitive: broadcast_to_p as Primitive, inputs: [operand], params: { shape: [...xv.aval.shape] }, outVars: [xv] });
    dropped.add(i);
  };
  const scalar = (v: number, dtype: DType): Literal => {
    const b = allocate(dtype, 1);
    b[0] = v;
    return new Literal(new ConcreteArray(new ShapedArray([], dtype), b));
  };
  e.inputs.forEach((a, i) => {
    if (i < start || !(a instanceof Var)) return;
    const value = consts.get(a);
    if (value) {
      const v = repeatedSlice(value);
      if (v === null) return;
      if (typeof v === "number") broadcastInBody(i, scalar(v, value.dtype));
      else {
        const c = new Var(v.aval);
        addConst(c, v);
        broadcastInBody(i, c);
      }
      return;
    }
    const d = producer.get(a);
    if (!d || d.primitive !== (broadcast_to_p as Primitive)) return;
    // a broadcast that adds the scanned axis, or grows it from 1
    const src = d.inputs[0]!;
    const srcValue = src instanceof Var ? consts.get(src) : undefined;
    const v = srcValue ? repeatedSlice(srcValue) : null;
    if (typeof v === "number") broadcastInBody(i, scalar(v, src.aval.dtype));
    else if (src.aval.ndim < a.aval.ndim || src.aval.shape[0] === 1) broadcastInBody(i, src);
  });
  if (!dropped.size) return { cj, e, numConsts: nc };
  const keep = <T>(xs: readonly T[]): T[] => xs.filter((_, i) => !dropped.has(i));
  const inVars = keep(bj.inVars);
  const inputs = keep(e.inputs);
  return {
    cj: new ClosedJaxpr(new Jaxpr(bj.constVars, [...inVars.slice(0, nc), ...newConsts, ...inVars.slice(nc)], [...prologue, ...bj.eqns], bj.outs), cj.consts),
    e: { ...e, inputs: [...inputs.slice(0, nc), ...newOuter, ...inputs.slice(nc)], params: { ...e.params, numConsts: nc + newConsts.length } },
    numConsts: nc + newConsts.length,
  };
}

/** Largest constant (elements) whose slices are compared. */
const MAX_CONST_SCAN = 1 << 20;

/** A constant stack's one value (every element equal), its one slice (every slice equal), or null. */
function repeatedSlice(c: ConcreteArray): number | ConcreteArray | null {
  const b = c.buffer;
  if (c.size === 0 || c.size > MAX_CONST_SCAN) return null;
  const v = b[0]!;
  let same = true;
  for (let i = 1; i < b.length && same; i++) same = Object.is(b[i], v);
  if (same) return v;
  const n = c.size / c.shape[0]!;
  for (let i = n; i < b.length; i++) if (!Object.is(b[i], b[i % n])) return null;
  return new ConcreteArray(new ShapedArray(c.shape.slice(1), c.dtype), b.slice(0, n));
}
