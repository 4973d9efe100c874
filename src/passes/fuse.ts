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
 * How each primitive lowers to kernel nodes is the table {@link kernelLowerings}.
 * @module
 */
import type { ConcreteArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { shapeEqual, sizeOf } from "../core/shape.js";
import type { Params, Primitive } from "../core/trace.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { KernelBuilder } from "../backends/kernel/builder.js";
import { fused_p } from "../backends/kernel/fused.js";
import {
  BINARY_OPS,
  type BinaryOp,
  COMPARE_OPS,
  type CompareOp,
  type ReduceOp,
  UNARY_OPS,
  type UnaryOp,
  broadcastMap,
  contiguousStrides,
} from "../backends/kernel/ir.js";
import { reshape_p } from "../primitives/shape.js";
import { constValues, rebuild } from "./util.js";

/** Lowers one elementwise equation: operand nodes in, result node out. */
export type KernelLowering = (b: KernelBuilder, operands: number[], params: Params, outDtype: DType) => number;

/** How each elementwise primitive (by name) becomes kernel nodes. */
export const kernelLowerings = new Map<string, KernelLowering>();
for (const op of UNARY_OPS) kernelLowerings.set(op, (b, [x], _p, dtype) => b.add({ kind: "unary", op: op as UnaryOp, x: x!, dtype }));
for (const op of BINARY_OPS) kernelLowerings.set(op, (b, [x, y], _p, dtype) => b.add({ kind: "binary", op: op as BinaryOp, x: x!, y: y!, dtype }));
for (const op of COMPARE_OPS) kernelLowerings.set(op, (b, [x, y]) => b.add({ kind: "compare", op: op as CompareOp, x: x!, y: y!, dtype: "bool" }));
kernelLowerings.set("select", (b, [c, x, y], _p, dtype) => b.add({ kind: "select", cond: c!, x: x!, y: y!, dtype }));
kernelLowerings.set("convert_element_type", (b, [x], _p, dtype) => b.add({ kind: "convert", x: x!, dtype }));
kernelLowerings.set("integer_pow", (b, [x], p, dtype) => b.add({ kind: "ipow", x: x!, y: p.y as number, dtype }));
kernelLowerings.set("stop_gradient", (_b, [x]) => x!);

const REDUCE_OPS: Record<string, ReduceOp> = { reduce_sum: "sum", reduce_max: "max", reduce_min: "min" };
const VIEW_PRIMS = new Set(["broadcast_to", "reshape", "transpose", "slice"]);

/** A strided view of a base array: element (c0, c1, ...) is base[offset + Σ strides[j] * c_j]. */
interface View {
  base: Atom;
  offset: number;
  strides: number[];
}

/** Strides of `newShape` viewing the same elements as `shape` with `strides`, or null when that is not a view. */
export function reshapeStrides(shape: readonly number[], strides: readonly number[], newShape: readonly number[]): number[] | null {
  const od = shape.map((d, i) => ({ d, s: strides[i]! })).filter((x) => x.d !== 1);
  const nd = newShape.map((d, i) => ({ d, i })).filter((x) => x.d !== 1);
  const out = newShape.map(() => 0);
  let oi = 0;
  let ni = 0;
  while (oi < od.length && ni < nd.length) {
    // find the smallest groups od[oi..oj), nd[ni..nj) with equal products
    let op = od[oi]!.d;
    let np = nd[ni]!.d;
    let oj = oi + 1;
    let nj = ni + 1;
    while (op !== np) {
      if (op < np) op *= od[oj++]!.d;
      else np *= nd[nj++]!.d;
    }
    // the old axes of the group must be contiguous with each other
    for (let k = oi; k < oj - 1; k++) if (od[k]!.s !== od[k + 1]!.s * od[k + 1]!.d) return null;
    let s = od[oj - 1]!.s;
    for (let k = nj - 1; k >= ni; k--) {
      out[nd[k]!.i] = s;
      s *= nd[k]!.d;
    }
    oi = oj;
    ni = nj;
  }
  return out;
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

/** Fuses elementwise chains and their reductions into kernels. */
export function fuse(cj: ClosedJaxpr): ClosedJaxpr {
  const { jaxpr } = cj;
  const eqns = jaxpr.eqns;
  const consts = constValues(cj);
  const n = eqns.length;

  // ---------------------------------------------------------------- classify and resolve views
  const views = new Map<Var, View>();
  const viewOf = (a: Atom): View => {
    if (a instanceof Var) {
      const v = views.get(a);
      if (v) return v;
    }
    return { base: a, offset: 0, strides: contiguousStrides(a.aval.shape) };
  };
  const kind: ("elementwise" | "reduce" | "view" | "other")[] = eqns.map((e) => {
    const name = e.primitive.name;
    if (kernelLowerings.has(name) && e.outVars.length === 1) return "elementwise";
    if (name in REDUCE_OPS && e.outVars[0]!.aval.dtype !== "bool") return "reduce";
    if (VIEW_PRIMS.has(name)) {
      const x = e.inputs[0]!;
      const v = viewOf(x);
      const out = e.outVars[0]!;
      const inShape = x.aval.shape;
      let view: View | null = null;
      if (name === "broadcast_to") {
        const shape = e.params.shape as readonly number[];
        const lead = shape.length - inShape.length;
        view = { ...v, strides: shape.map((d, i) => (i < lead || (inShape[i - lead] === 1 && d !== 1) ? 0 : v.strides[i - lead]!)) };
      } else if (name === "transpose") {
        view = { ...v, strides: (e.params.perm as readonly number[]).map((p) => v.strides[p]!) };
      } else if (name === "slice") {
        const starts = e.params.starts as readonly number[];
        view = { ...v, offset: v.offset + starts.reduce((o, s, j) => o + s * v.strides[j]!, 0) };
      } else {
        const st = reshapeStrides(inShape, v.strides, out.aval.shape);
        if (st) view = { ...v, strides: st };
      }
      if (view) {
        views.set(out, view);
        return "view";
      }
    }
    return "other";
  });

  // ---------------------------------------------------------------- grouping
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

  eqns.forEach((e, i) => {
    const deps = inputNodes(e);
    const k = kind[i]!;
    const id = newNode(deps, i);
    if (k === "view" || k === "other") {
      for (const v of e.outVars) producer.set(v, id);
      return;
    }
    if (k === "elementwise") {
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
        if (!sameAxes(g.reduceAxes, gc.reduceAxes) || g.members.length + gc.members.length > MAX_KERNEL_EQNS) continue;
        if (!acyclic(new Set([r, c]))) continue;
        merge(c, r);
        root = c;
      }
      return;
    }
    // reduction
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
  });

  // ---------------------------------------------------------------- which values are needed as arrays
  const groupOf = new Map<number, number>(); // eqn index -> group root
  for (const g of groups.values()) {
    g.members.sort((a, b) => a - b);
    for (const m of g.members) groupOf.set(m, g.id);
  }
  const jaxprOuts = new Set(jaxpr.outs.filter((a): a is Var => a instanceof Var));
  /** Variables read by kernels through views never need the view materialized. */
  const materializedViews = new Set<Var>();
  const usedOutside = new Map<Var, Set<number | "out">>(); // var -> consumers (group roots or eqn indices of others)
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
        const base = viewOf(a).base;
        if (base instanceof Var) addUse(base, g);
      } else {
        addUse(a, i);
        if (views.has(a)) materializedViews.add(a);
      }
    }
  });
  for (const v of jaxprOuts) {
    addUse(v, "out");
    if (views.has(v)) materializedViews.add(v);
  }
  for (const v of materializedViews) {
    const base = views.get(v)!.base;
    if (base instanceof Var) addUse(base, -1);
  }

  // ---------------------------------------------------------------- build the new equations
  const newEqns: { eqn: JaxprEqn; order: number }[] = [];
  const literalOf = (a: Atom): number | undefined => {
    if (a instanceof Literal) return a.value;
    const c: ConcreteArray | undefined = consts.get(a);
    return c && c.size === 1 ? c.buffer[0]! : undefined;
  };

  for (const g of groups.values()) {
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
      const v = viewOf(a);
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
        b.output(operand(e.inputs[0]!), REDUCE_OPS[e.primitive.name]!);
        outVars.push(out);
        continue;
      }
      const node = kernelLowerings.get(e.primitive.name)!(b, e.inputs.map(operand), e.params, out.aval.dtype);
      nodeOf.set(out, node);
      const uses = usedOutside.get(out);
      if (uses && [...uses].some((u) => u !== g.id)) {
        b.output(node);
        outVars.push(out);
      }
    }
    if (!outVars.length) continue;
    const kernel = b.build();
    newEqns.push({ eqn: { primitive: fused_p as Primitive, inputs: inputs, params: { kernel }, outVars }, order: g.members[0]! });
  }

  eqns.forEach((e, i) => {
    if (kind[i] === "other") newEqns.push({ eqn: e, order: i });
    if (kind[i] !== "view" || !materializedViews.has(e.outVars[0]!)) return;
    const out = e.outVars[0]!;
    const v = views.get(out)!;
    const shape = out.aval.shape;
    if (v.base instanceof Var && v.offset === 0 && v.base.aval.size === sizeOf(shape) && isContiguous(shape, v.strides)) {
      // the same elements in the same order: a reshape of the base, which costs nothing
      newEqns.push({ eqn: { primitive: reshape_p as Primitive, inputs: [v.base], params: { shape: [...shape] }, outVars: [out] }, order: i });
      return;
    }
    const b = new KernelBuilder(shape);
    const lit = literalOf(v.base);
    let node: number;
    const ins: Var[] = [];
    if (lit !== undefined) node = b.constant(lit, out.aval.dtype);
    else {
      const base = v.base as Var;
      ins.push(base);
      node = b.load(b.addInput(base.aval.dtype, base.aval.shape), { offset: v.offset, strides: v.strides });
    }
    b.output(node);
    newEqns.push({ eqn: { primitive: fused_p as Primitive, inputs: ins, params: { kernel: b.build() }, outVars: [out] }, order: i });
  });

  return rebuild(cj, { eqns: topoSort(newEqns) });
}

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (strides[d] !== acc) return false;
    acc *= shape[d]!;
  }
  return true;
}

/** Orders equations so each follows the producers of its inputs, otherwise keeping program order. */
function topoSort(items: { eqn: JaxprEqn; order: number }[]): JaxprEqn[] {
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
