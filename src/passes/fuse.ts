/**
 * Fusion: groups of elementwise equations of one shape (and reductions of their
 * results) become one `fused` equation holding a {@link Kernel}, which a backend runs
 * as a single loop with no intermediate arrays.
 *
 * - An elementwise equation joins the groups that produce its inputs when they have
 *   its output shape and joining creates no cycle (no path leaves the group and comes
 *   back into it). Values that a group's members use from outside become kernel
 *   inputs, read through an index map that expresses NumPy broadcasting.
 * - A reduction (`reduce_sum`, `reduce_max`, `reduce_min`) joins the group producing
 *   its operand as a reducing output of the kernel (all reductions of a group reduce
 *   the same axes); its result can only be used by later kernels.
 * - Views (`broadcast_to`, `transpose`, `slice`, and `reshape` where it is a view) are
 *   not computed at all when only kernels read them: the reading kernel composes the
 *   view into its index map. A view that is needed as an array is materialized by a
 *   copy kernel (a reshape of a contiguous array stays a free `reshape`).
 * - Every other primitive (matmul, gather/scatter, concatenate, pad, custom rules...)
 *   stays as it is, and kernels read its results.
 *
 * How each primitive lowers to kernel nodes is part of the primitive (`prim.lower`,
 * `prim.reduceOp`, `prim.view`; see src/kernel/lowering.ts).
 * @module
 */
import type { ConcreteArray } from "../core/array.js";
import { shapeEqual, sizeOf } from "../core/shape.js";
import type { Primitive } from "../core/trace.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { KernelBuilder } from "../kernel/builder.js";
import { broadcastMap, contiguousStrides } from "../kernel/ir.js";
import { type StridedView, isContiguous } from "../kernel/views.js";
import { fused_p } from "../primitives/fused.js";
import { reshape_p } from "../primitives/shape.js";
import { constValues, rebuild } from "./util.js";

/** A strided view of a base array: element (c0, c1, ...) is base[offset + Σ strides[j] * c_j]. */
interface View extends StridedView {
  readonly base: Atom;
}

interface Group {
  id: number;
  /** Equation indices, in program order. */
  members: number[];
  shape: readonly number[];
  /** Whether elementwise equations may still join. */
  open: boolean;
  reduceAxes: readonly number[] | null;
  /** Nodes this group reads from (resolve with find; the group itself is never among them). */
  deps: Set<number>;
  minIndex: number;
  maxIndex: number;
}

/**
 * Groups stop growing at this many equations: V8 does not optimize functions whose
 * bytecode is very large, and a kernel that runs interpreted is far slower than two
 * optimized ones.
 */
export const MAX_KERNEL_EQNS = 500;
/**
 * Groups stop growing when the results they read come from more than this many other
 * equations (about the kernel's inputs): a loop reading hundreds of arrays — the sum
 * over an unrolled loop's steps of their outer products — runs far slower in V8 than a
 * few kernels reading tens each.
 */
export const MAX_KERNEL_DEPS = 64;

type Kind = "elementwise" | "reduce" | "view" | "other";

/** Fuses elementwise chains and their reductions into kernels. */
export function fuse(cj: ClosedJaxpr): ClosedJaxpr {
  const eqns = cj.jaxpr.eqns;
  const { kind, views } = classify(eqns);
  const groups = groupEquations(eqns, kind);
  const uses = findUses(cj, kind, views, groups);
  const consts = constValues(cj);
  const literalOf = (a: Atom): number | undefined => {
    if (a instanceof Literal) return a.value;
    const c: ConcreteArray | undefined = consts.get(a);
    return c && c.size === 1 ? c.buffer[0]! : undefined;
  };
  const newEqns: Ordered[] = [];
  for (const g of groups) {
    const eqn = groupKernel(eqns, kind, views, uses.usedOutside, literalOf, g);
    if (eqn) newEqns.push({ eqn, order: g.members[0]! });
  }
  eqns.forEach((e, i) => {
    if (kind[i] === "other") newEqns.push({ eqn: e, order: i });
    else if (kind[i] === "view" && uses.materializedViews.has(e.outVars[0]!))
      newEqns.push({ eqn: materializeView(e.outVars[0]!, views.get(e.outVars[0]!)!, literalOf), order: i });
  });
  return rebuild(cj, { eqns: topoSort(newEqns) });
}

/** An equation of the new program and its position in the old one (for a stable order). */
interface Ordered {
  eqn: JaxprEqn;
  order: number;
}

/** The strided view an atom is read through: its own view when it is a view's result, else the whole atom. */
function viewOf(views: ReadonlyMap<Var, View>, a: Atom): View {
  if (a instanceof Var) {
    const v = views.get(a);
    if (v) return v;
  }
  return { base: a, offset: 0, strides: contiguousStrides(a.aval.shape) };
}

/**
 * Step 1: what each equation is to fusion (from what its primitive carries), and the
 * views, resolved down to the arrays they read.
 */
function classify(eqns: readonly JaxprEqn[]): { kind: Kind[]; views: Map<Var, View> } {
  const views = new Map<Var, View>();
  const kind = eqns.map((e): Kind => {
    const p = e.primitive;
    if (p.lower !== undefined && e.outVars.length === 1) return "elementwise";
    if (p.reduceOp !== undefined && e.outVars[0]!.aval.dtype !== "bool") return "reduce";
    if (p.view !== undefined) {
      const x = e.inputs[0]!;
      const v = viewOf(views, x);
      const out = e.outVars[0]!;
      const view = p.view(v, x.aval.shape, out.aval.shape, e.params);
      if (view) {
        views.set(out, { base: v.base, offset: view.offset, strides: view.strides });
        return "view";
      }
    }
    return "other";
  });
  return { kind, views };
}

/**
 * Step 2: groups elementwise equations of one shape, and the reductions of their
 * results, into kernels (union-find over equations; see the module comment for the
 * rules). Returns each group with its members in program order.
 */
function groupEquations(eqns: readonly JaxprEqn[], kind: readonly Kind[]): Group[] {
  const producer = new Map<Var, number>(); // var -> node id
  const parent: number[] = [];
  const groups = new Map<number, Group>();
  const nodeDeps: Set<number>[] = [];
  const nodeMax: number[] = [];
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  const newNode = (deps: Set<number>, index: number): number => {
    const id = parent.length;
    parent.push(id);
    nodeDeps.push(deps);
    nodeMax.push(index);
    return id;
  };
  const inputNodes = (e: JaxprEqn): Set<number> => {
    const s = new Set<number>();
    for (const a of e.inputs) if (a instanceof Var && producer.has(a)) s.add(producer.get(a)!);
    return s;
  };
  /** True when merging `members` (group roots) creates no cycle. */
  const acyclic = (members: Set<number>): boolean => {
    let minIndex = Infinity;
    for (const m of members) minIndex = Math.min(minIndex, groups.get(m)!.minIndex);
    const stack: number[] = [];
    const seen = new Set<number>();
    for (const m of members)
      for (const d of groups.get(m)!.deps) {
        const r = find(d);
        if (!members.has(r) && !seen.has(r)) {
          seen.add(r);
          stack.push(r);
        }
      }
    while (stack.length) {
      const x = stack.pop()!;
      if (nodeMax[x]! < minIndex) continue; // created before every member: cannot depend on them
      for (const d of nodeDeps[x]!) {
        const r = find(d);
        if (members.has(r)) return false;
        if (!seen.has(r)) {
          seen.add(r);
          stack.push(r);
        }
      }
    }
    return true;
  };
  const merge = (a: number, b: number): void => {
    const ga = groups.get(a)!;
    const gb = groups.get(b)!;
    parent[b] = a;
    for (const m of gb.members) ga.members.push(m);
    const deps = new Set<number>();
    for (const src of [ga.deps, gb.deps])
      for (const d of src) {
        const r = find(d);
        if (r !== a) deps.add(r);
      }
    ga.deps = deps;
    nodeDeps[a] = deps;
    ga.minIndex = Math.min(ga.minIndex, gb.minIndex);
    ga.reduceAxes = ga.reduceAxes ?? gb.reduceAxes;
    ga.maxIndex = Math.max(ga.maxIndex, gb.maxIndex);
    nodeMax[a] = ga.maxIndex;
    groups.delete(b);
  };
  const sameAxes = (x: readonly number[] | null, y: readonly number[] | null): boolean => x === null || y === null || shapeEqual(x, y);

  /** An elementwise equation starts a group and joins the open groups of its shape that produce its inputs. */
  const addElementwise = (e: JaxprEqn, i: number, id: number, deps: Set<number>): void => {
    const shape = e.outVars[0]!.aval.shape;
    groups.set(id, { id, members: [i], shape, open: true, reduceAxes: null, deps: nodeDeps[id]!, minIndex: i, maxIndex: i });
    producer.set(e.outVars[0]!, id);
    const cands = [...new Set([...deps].map(find))].filter((r) => {
      const g = groups.get(r);
      return g && g.open && shapeEqual(g.shape, shape);
    });
    let root = id;
    for (const c of cands) {
      const r = find(root);
      const g = groups.get(r)!;
      const gc = groups.get(c)!;
      if (!sameAxes(g.reduceAxes, gc.reduceAxes) || g.members.length + gc.members.length > MAX_KERNEL_EQNS || g.deps.size + gc.deps.size > MAX_KERNEL_DEPS)
        continue;
      if (!acyclic(new Set([r, c]))) continue;
      merge(c, r);
      root = c;
    }
  };
  /** A reduction joins the group producing its operand as a reducing output, or starts a closed group of its own. */
  const addReduction = (e: JaxprEqn, i: number, id: number): void => {
    const x = e.inputs[0]!;
    const axes = e.params.axes as readonly number[];
    const p = x instanceof Var ? producer.get(x) : undefined;
    const g = p === undefined ? undefined : groups.get(find(p));
    if (g && g.open && shapeEqual(g.shape, x.aval.shape) && sameAxes(g.reduceAxes, axes)) {
      g.members.push(i);
      g.reduceAxes = axes;
      g.maxIndex = Math.max(g.maxIndex, i);
      nodeMax[g.id] = g.maxIndex;
      // the result is only available after the whole kernel: a separate node depending on the group
      nodeDeps[id] = new Set([g.id]);
      producer.set(e.outVars[0]!, id);
      return;
    }
    groups.set(id, { id, members: [i], shape: x.aval.shape, open: false, reduceAxes: axes, deps: nodeDeps[id]!, minIndex: i, maxIndex: i });
    producer.set(e.outVars[0]!, id);
  };

  eqns.forEach((e, i) => {
    const deps = inputNodes(e);
    const id = newNode(deps, i);
    const k = kind[i]!;
    if (k === "elementwise") addElementwise(e, i, id, deps);
    else if (k === "reduce") addReduction(e, i, id);
    else for (const v of e.outVars) producer.set(v, id);
  });
  const out = [...groups.values()];
  for (const g of out) g.members.sort((a, b) => a - b);
  return out;
}

/**
 * Step 3: which values are needed as arrays: for each variable, who reads it from
 * outside the kernel computing it (group roots, other equations' indices, -1 for a
 * materialized view, "out" for the program's outputs), and which views must exist as
 * arrays (those read by non-kernel equations or returned).
 */
function findUses(
  cj: ClosedJaxpr,
  kind: readonly Kind[],
  views: ReadonlyMap<Var, View>,
  groups: readonly Group[],
): { usedOutside: Map<Var, Set<number | "out">>; materializedViews: Set<Var> } {
  const { eqns, outs } = cj.jaxpr;
  const groupOf = new Map<number, number>(); // eqn index -> group root
  for (const g of groups) for (const m of g.members) groupOf.set(m, g.id);
  const materializedViews = new Set<Var>();
  const usedOutside = new Map<Var, Set<number | "out">>();
  const addUse = (v: Var, by: number | "out"): void => {
    let s = usedOutside.get(v);
    if (!s) usedOutside.set(v, (s = new Set()));
    s.add(by);
  };
  eqns.forEach((e, i) => {
    if (kind[i] === "view") return;
    const g = groupOf.get(i);
    for (const a of e.inputs) {
      if (!(a instanceof Var)) continue;
      if (g !== undefined) {
        // a kernel reads the base of a view
        const base = viewOf(views, a).base;
        if (base instanceof Var) addUse(base, g);
      } else {
        addUse(a, i);
        if (views.has(a)) materializedViews.add(a);
      }
    }
  });
  for (const v of outs) {
    if (!(v instanceof Var)) continue;
    addUse(v, "out");
    if (views.has(v)) materializedViews.add(v);
  }
  for (const v of materializedViews) {
    const base = views.get(v)!.base;
    if (base instanceof Var) addUse(base, -1);
  }
  return { usedOutside, materializedViews };
}

/**
 * Step 4: the `fused` equation of one group: its members lowered in program order (each
 * primitive lowers itself), outside values read through index maps, and an output for
 * each value used outside the group; null when nothing of the group is used.
 */
function groupKernel(
  eqns: readonly JaxprEqn[],
  kind: readonly Kind[],
  views: ReadonlyMap<Var, View>,
  usedOutside: ReadonlyMap<Var, ReadonlySet<number | "out">>,
  literalOf: (a: Atom) => number | undefined,
  g: Group,
): JaxprEqn | null {
  const reduceAxes = g.reduceAxes ?? [];
  const b = new KernelBuilder(g.shape, g.members.some((m) => kind[m] === "reduce") ? reduceAxes : []);
  const nodeOf = new Map<Var, number>();
  const inputIndex = new Map<Var, number>();
  const inputs: Var[] = [];
  const operand = (a: Atom): number => {
    if (a instanceof Var) {
      const nd = nodeOf.get(a);
      if (nd !== undefined) return nd;
    }
    const v = viewOf(views, a);
    const lit = literalOf(v.base);
    if (lit !== undefined) return b.constant(lit, a.aval.dtype);
    const base = v.base as Var;
    let k = inputIndex.get(base);
    if (k === undefined) {
      k = b.addInput(base.aval.dtype, base.aval.shape);
      inputIndex.set(base, k);
      inputs.push(base);
    }
    return b.load(k, broadcastMap(a.aval.shape, g.shape, v.offset, v.strides));
  };
  const outVars: Var[] = [];
  for (const m of g.members) {
    const e = eqns[m]!;
    const out = e.outVars[0]!;
    if (kind[m] === "reduce") {
      b.output(operand(e.inputs[0]!), e.primitive.reduceOp!);
      outVars.push(out);
      continue;
    }
    const node = e.primitive.lower!(b, e.inputs.map(operand), e.params, out.aval.dtype);
    nodeOf.set(out, node);
    const uses = usedOutside.get(out);
    if (uses && [...uses].some((u) => u !== g.id)) {
      b.output(node);
      outVars.push(out);
    }
  }
  if (!outVars.length) return null;
  return { primitive: fused_p as Primitive, inputs, params: { kernel: b.build() }, outVars };
}

/**
 * Step 5: a view needed as an array: a free `reshape` of its base when it reads the
 * same elements in the same order, else a copy kernel.
 */
function materializeView(out: Var, v: View, literalOf: (a: Atom) => number | undefined): JaxprEqn {
  const shape = out.aval.shape;
  if (v.base instanceof Var && v.offset === 0 && v.base.aval.size === sizeOf(shape) && isContiguous(shape, v.strides)) {
    return { primitive: reshape_p as Primitive, inputs: [v.base], params: { shape: [...shape] }, outVars: [out] };
  }
  const b = new KernelBuilder(shape);
  const lit = literalOf(v.base);
  const ins: Var[] = [];
  if (lit !== undefined) b.output(b.constant(lit, out.aval.dtype));
  else {
    const base = v.base as Var;
    ins.push(base);
    b.output(b.load(b.addInput(base.aval.dtype, base.aval.shape), { offset: v.offset, strides: v.strides }));
  }
  return { primitive: fused_p as Primitive, inputs: ins, params: { kernel: b.build() }, outVars: [out] };
}

/** Orders equations so each follows the producers of its inputs, otherwise keeping program order. */
function topoSort(items: Ordered[]): JaxprEqn[] {
  const prod = new Map<Var, number>();
  items.forEach((it, i) => it.eqn.outVars.forEach((v) => prod.set(v, i)));
  const waiting = items.map((it) => {
    const s = new Set<number>();
    for (const a of it.eqn.inputs) if (a instanceof Var && prod.has(a)) s.add(prod.get(a)!);
    return s;
  });
  const users = items.map(() => [] as number[]);
  waiting.forEach((s, i) => s.forEach((p) => users[p]!.push(i)));
  const pending = waiting.map((s) => s.size);
  const ready = items.map((_, i) => i).filter((i) => pending[i] === 0);
  const out: JaxprEqn[] = [];
  while (ready.length) {
    let best = 0;
    for (let k = 1; k < ready.length; k++) if (items[ready[k]!]!.order < items[ready[best]!]!.order) best = k;
    const i = ready.splice(best, 1)[0]!;
    out.push(items[i]!.eqn);
    for (const u of users[i]!) if (--pending[u]! === 0) ready.push(u);
  }
  if (out.length !== items.length) throw new Error("internal: fusion produced a cycle");
  return out;
}
