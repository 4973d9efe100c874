/**
 * Algebraic simplification: rewrites that remove work without changing results.
 *
 * - identities: `x * 1`, `1 * x`, `x + 0`, `0 + x`, `x - 0`, `x / 1`, `x ** 1`,
 *   `neg(neg(x))`, `stop_gradient(x)` (its only effect is on differentiation, which
 *   happened before optimization), `select(c, x, x)`, `x * -1 → neg(x)`;
 * - shape ops: broadcast/reshape/transpose to the same shape, broadcast of broadcast,
 *   reshape of reshape, transpose of transpose (composed permutation);
 * - conversions: to the same dtype, and lossless round trips (`f32 → f64 → f32`);
 * - a matrix product contracting an axis of length 1 (an outer product, as the gradient
 *   of a matrix-vector product makes) becomes a broadcasting multiply, which fusion
 *   merges with its neighbours (`acc + u vᵀ` is one loop); each element is the one
 *   product either way, so the result is unchanged.
 *
 * Constants are recognized through literals, broadcasts/reshapes of them and constant
 * arrays whose elements are all equal. (`x + 0 → x` differs from IEEE only for
 * `x = -0`, whose sum with +0 is +0; XLA makes the same rewrite.)
 * @module
 */
import type { ShapedArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import { castScalar } from "../core/dtype.js";
import { shapeEqual } from "../core/shape.js";
import type { Primitive } from "../core/trace.js";
import { allPrimitives } from "../core/trace.js";
import { type Atom, type ClosedJaxpr, type JaxprEqn, Literal, Var } from "../ir/jaxpr.js";
import { constValues, rebuild, substituter } from "./util.js";

let prims: Map<string, Primitive> | undefined;
function prim(name: string): Primitive {
  if (!prims) prims = new Map(allPrimitives().map((p) => [p.name, p]));
  const p = prims.get(name);
  if (!p) throw new Error(`simplify: primitive ${name} is not defined`);
  return p;
}

/** Widening conversions after which converting back gives the original value. */
const LOSSLESS: Record<DType, readonly DType[]> = {
  bool: ["int32", "float32", "float64"],
  int32: ["float64"],
  float32: ["float64"],
  float64: [],
};

const MAX_CONST_SCAN = 4096;

/** Rewrites algebraic identities away. */
export function simplify(cj: ClosedJaxpr): ClosedJaxpr {
  const consts = constValues(cj);
  const subst = new Map<Var, Atom>();
  const s = substituter(subst);
  const def = new Map<Var, JaxprEqn>();
  const eqns: JaxprEqn[] = [];
  let changed = false;

  /** The single value of an atom that is constant across all its elements. */
  const scalarOf = (a: Atom): number | undefined => {
    if (a instanceof Literal) return a.value;
    const c = consts.get(a);
    if (c) {
      if (c.size === 0 || c.size > MAX_CONST_SCAN) return undefined;
      const b = c.buffer;
      const v = b[0]!;
      for (let i = 1; i < b.length; i++) if (!Object.is(b[i], v)) return undefined;
      return v;
    }
    const e = def.get(a);
    if (!e) return undefined;
    const n = e.primitive.name;
    if (n === "broadcast_to" || n === "reshape") return scalarOf(e.inputs[0]!);
    if (n === "convert_element_type") {
      const v = scalarOf(e.inputs[0]!);
      return v === undefined ? undefined : castScalar(v, e.params.newDtype as DType);
    }
    return undefined;
  };
  const is = (a: Atom, v: number): boolean => scalarOf(a) === v;

  const emit = (e: JaxprEqn): void => {
    eqns.push(e);
    for (const v of e.outVars) def.set(v, e);
  };
  const newEqn = (name: string, inputs: Atom[], params: Record<string, unknown>, out: ShapedArray): Var => {
    const p = prim(name);
    const [aval] = p.abstractEval(
      inputs.map((x) => x.aval),
      params,
    );
    const v = new Var(aval ?? out);
    emit({ primitive: p, inputs, params, outVars: [v] });
    return v;
  };
  /** Replaces `out` by `x`, broadcasting when `x` is smaller. Returns false when impossible. */
  const replace = (out: Var, x: Atom): boolean => {
    if (x.aval.dtype !== out.aval.dtype) return false;
    if (shapeEqual(x.aval.shape, out.aval.shape)) {
      subst.set(out, x);
      return true;
    }
    try {
      const b = newEqn("broadcast_to", [x], { shape: [...out.aval.shape] }, out.aval);
      if (!b.aval.equals(out.aval)) return false;
      subst.set(out, b);
      return true;
    } catch {
      return false;
    }
  };

  const rewrite = (e: JaxprEqn, ins: Atom[]): boolean => {
    const out = e.outVars[0]!;
    const [x, y] = ins;
    const n = e.primitive.name;
    switch (n) {
      case "add":
        if (is(y!, 0)) return replace(out, x!);
        if (is(x!, 0)) return replace(out, y!);
        return false;
      case "sub":
        return is(y!, 0) ? replace(out, x!) : false;
      case "mul":
        if (is(y!, 1)) return replace(out, x!);
        if (is(x!, 1)) return replace(out, y!);
        if (is(y!, -1) && x!.aval.dtype !== "bool" && shapeEqual(x!.aval.shape, out.aval.shape)) {
          subst.set(out, newEqn("neg", [x!], {}, out.aval));
          return true;
        }
        return false;
      case "div":
        return is(y!, 1) ? replace(out, x!) : false;
      case "integer_pow":
        return e.params.y === 1 ? replace(out, x!) : false;
      case "stop_gradient":
        return replace(out, x!);
      case "select":
        return ins[1] === ins[2] ? replace(out, ins[1]!) : false;
      case "neg": {
        const d = x instanceof Var ? def.get(x) : undefined;
        return d?.primitive.name === "neg" ? replace(out, d.inputs[0]!) : false;
      }
      case "convert_element_type": {
        if (x!.aval.dtype === out.aval.dtype) return replace(out, x!);
        const d = x instanceof Var ? def.get(x) : undefined;
        if (d?.primitive.name === "convert_element_type") {
          const src = d.inputs[0]!;
          if (src.aval.dtype === out.aval.dtype && LOSSLESS[src.aval.dtype].includes(x!.aval.dtype)) return replace(out, src);
        }
        return false;
      }
      case "broadcast_to":
      case "reshape": {
        if (shapeEqual(x!.aval.shape, out.aval.shape)) return replace(out, x!);
        const d = x instanceof Var ? def.get(x) : undefined;
        if (d?.primitive.name === n) {
          const src = d.inputs[0]!;
          if (shapeEqual(src.aval.shape, out.aval.shape)) return replace(out, src);
          subst.set(out, newEqn(n, [src], { shape: [...out.aval.shape] }, out.aval));
          return true;
        }
        return false;
      }
      case "transpose": {
        const perm = e.params.perm as readonly number[];
        if (perm.every((p, i) => p === i)) return replace(out, x!);
        const d = x instanceof Var ? def.get(x) : undefined;
        if (d?.primitive.name === "transpose") {
          const inner = d.params.perm as readonly number[];
          const composed = perm.map((p) => inner[p]!);
          const src = d.inputs[0]!;
          if (composed.every((p, i) => p === i)) return replace(out, src);
          subst.set(out, newEqn("transpose", [src], { perm: composed }, out.aval));
          return true;
        }
        return false;
      }
      case "matmul":
      case "matmul_t":
        return outerProduct(e, out, x!, y!);
      case "reduce_sum":
      case "reduce_max":
      case "reduce_min":
        return (e.params.axes as readonly number[]).length === 0 ? replace(out, x!) : false;
    }
    return false;
  };

  /** `op(x) · op(y)` with a contracted axis of length 1, rank 2, as `bcast(x) * bcast(y)`. */
  const outerProduct = (e: JaxprEqn, out: Var, x: Atom, y: Atom): boolean => {
    if (x.aval.ndim !== 2 || y.aval.ndim !== 2 || out.aval.ndim !== 2) return false;
    const transA = e.params.transposeA === true;
    const [m, n] = out.aval.shape as [number, number];
    const k = transA ? x.aval.shape[0]! : x.aval.shape[1]!;
    if (k !== 1) return false;
    // a [m,1] / [1,m] operand holds its m elements in order either way
    const as = (v: Atom, shape: number[]): Atom => (shapeEqual(v.aval.shape, shape) ? v : newEqn("reshape", [v], { shape }, out.aval));
    const col = as(x, [m, 1]);
    const row = as(y, [1, n]);
    const a = newEqn("broadcast_to", [col], { shape: [m, n] }, out.aval);
    const b = newEqn("broadcast_to", [row], { shape: [m, n] }, out.aval);
    subst.set(out, newEqn("mul", [a, b], {}, out.aval));
    return true;
  };

  for (const e of cj.jaxpr.eqns) {
    const ins = e.inputs.map(s);
    if (e.outVars.length === 1 && rewrite(e, ins)) {
      changed = true;
      continue;
    }
    const same = ins.every((a, i) => a === e.inputs[i]);
    if (!same) changed = true;
    emit(same ? e : { ...e, inputs: ins });
  }
  if (!changed) return cj;
  return rebuild(cj, { eqns, outs: cj.jaxpr.outs.map(s) });
}
