/** `vmap`: vectorizing map. @module */
import type { NDArray } from "../core/array.js";
import { describeValue, fmtShape } from "../core/shape.js";
import type { BatchDim } from "../core/trace.js";
import { flatten, unflatten } from "../core/tree.js";
import { vmapFlat } from "../interpreters/batching.js";
import { checkFunction, checkTransformOptions, flattenArgs, leavesToArrays } from "./flat.js";
import type { Fn, ArgsOf, ReturnOf, ToArrays } from "./types.js";

/** An axis spec: a number, null (not mapped), or a pytree of them matching the value. */
export type AxisSpec = number | null | AxisSpec[] | { [k: string]: AxisSpec };

/** Options of {@link vmap}. */
export interface VmapOptions {
  /** Mapped axis of each argument: one number/null for all, or one entry per argument (pytrees allowed). Default 0. */
  inAxes?: AxisSpec;
  /** Where the mapped axis goes in each output (default 0; null means the output is not mapped). */
  outAxes?: AxisSpec;
}

/** An axis spec is a number, null, or a (nested) JS array / plain object of them. */
function checkAxisSpec(spec: unknown, what: string, path = ""): void {
  if (spec === undefined || spec === null || typeof spec === "number") return;
  if (Array.isArray(spec)) return spec.forEach((s, i) => checkAxisSpec(s, what, `${path}[${i}]`));
  const proto: unknown = typeof spec === "object" ? Object.getPrototypeOf(spec) : undefined;
  if (proto === Object.prototype || proto === null) return Object.entries(spec as object).forEach(([k, s]) => checkAxisSpec(s, what, `${path}.${k}`));
  throw new Error(
    `vmap: ${what}${path} must be an axis (a number), null (not mapped), or a JS array / object of them matching the arguments, got ${describeValue(spec)}.`,
  );
}

/** Expands an axis spec (a tree prefix of `value`) into one entry per leaf of `value`. */
function broadcastPrefix(op: string, spec: AxisSpec | undefined, value: unknown, what: string): BatchDim[] {
  const n = flatten(value)[0].length;
  if (spec === undefined) return new Array<BatchDim>(n).fill(0);
  if (spec === null || typeof spec === "number") return new Array<BatchDim>(n).fill(spec);
  if (Array.isArray(spec)) {
    if (!Array.isArray(value) || value.length !== spec.length) {
      throw new Error(
        `${op}: ${what} has ${spec.length} entries but the value it describes ${Array.isArray(value) ? `has ${value.length}` : "is not a JS array"}; give one entry per element.`,
      );
    }
    return spec.flatMap((s, i) => broadcastPrefix(op, s, value[i], `${what}[${i}]`));
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`${op}: ${what} is an object but the value it describes is not.`);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(
      `${op}: ${what} is an object but the value it describes is an instance of ${(value as object).constructor?.name ?? "a class"}; give one number or null for the whole instance.`,
    );
  }
  const v = value as Record<string, unknown>;
  const sk = Object.keys(spec)
    .filter((k) => (spec as Record<string, AxisSpec | undefined>)[k] !== undefined)
    .sort();
  const vk = Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort();
  if (sk.join("\u0000") !== vk.join("\u0000")) {
    throw new Error(
      `${op}: ${what} has keys {${sk.join(", ")}} but the object it describes has keys {${vk.join(", ")}}; give an entry for every key (null for unmapped ones), or one number/null for the whole object.`,
    );
  }
  return Object.keys(v)
    .sort()
    .flatMap((k) => broadcastPrefix(op, (spec as Record<string, AxisSpec>)[k] ?? null, v[k], `${what}.${k}`));
}

/**
 * Vectorizes `f` over a mapped axis of its arguments: `vmap(f)(xs)[i]` equals
 * `f(xs[i])`, computed in one batched pass. Composes with every transform
 * (`vmap(grad(f))` gives per-example gradients).
 *
 * @example
 * ```ts
 * import { vmap, grad, np } from "cotangent";
 * const dot = (a: np.Array, b: np.Array) => np.sum(np.multiply(a, b));
 * const xs = np.array([[1, 2], [3, 4]]);
 * console.log(vmap(dot)(xs, xs).toJs()); // [5, 25]
 * console.log(vmap(dot, { inAxes: [0, null] })(xs, np.array([1, 1])).toJs()); // [3, 7]
 * // per-example gradients
 * const loss = (w: np.Array, x: np.Array) => np.square(np.sum(np.multiply(w, x)));
 * console.log(vmap(grad(loss), { inAxes: [null, 0] })(np.array([1, 0]), xs).toJs()); // [[2, 4], [18, 24]]
 * ```
 */
export function vmap<F extends Fn>(f: F, opts?: VmapOptions): (...args: ArgsOf<F>) => ToArrays<ReturnOf<F>> {
  checkFunction("vmap", f, "vmap((x) => np.sum(x))");
  const o = checkTransformOptions("vmap", opts, "{ inAxes: [0, null], outAxes: 0 }", ["inAxes", "outAxes"]);
  checkAxisSpec(o.inAxes, "inAxes");
  checkAxisSpec(o.outAxes, "outAxes");
  return (...args: ArgsOf<F>): ToArrays<ReturnOf<F>> => {
    const inSpec: AxisSpec = o.inAxes === undefined ? 0 : o.inAxes;
    const dims = Array.isArray(inSpec) ? broadcastPrefix("vmap", inSpec, args, "inAxes") : broadcastPrefix("vmap", inSpec, args, "inAxes");
    const [leaves, inDef] = flattenArgs("vmap", args);
    let size: number | undefined;
    let sizeFrom = "";
    const normDims = leaves.map((l, i) => {
      const d = dims[i] ?? null;
      if (d === null) return null;
      if (!Number.isInteger(d) || d < -l.ndim || d >= l.ndim) {
        throw new Error(
          l.ndim === 0
            ? `vmap: inAxes ${String(d)} maps a 0-d argument, which has no axis to map over; use null for it.`
            : `vmap: inAxes ${String(d)} is out of range for an argument of shape ${fmtShape(l.shape)}; use an axis in ${-l.ndim}..${l.ndim - 1}, or null.`,
        );
      }
      const dd = d < 0 ? d + l.ndim : d;
      const s = l.shape[dd]!;
      if (size === undefined) {
        size = s;
        sizeFrom = `an argument of shape ${fmtShape(l.shape)} has size ${s} along axis ${dd}`;
      } else if (s !== size) {
        throw new Error(
          `vmap: the mapped axes have different sizes: ${sizeFrom}, but an argument of shape ${fmtShape(l.shape)} has size ${s} along axis ${dd}. All mapped axes must have the same size.`,
        );
      }
      return dd;
    });
    if (size === undefined) throw new Error("vmap: no argument is mapped (every inAxes entry is null); at least one argument needs a mapped axis.");
    let outDef: ReturnType<typeof flatten>[1] | undefined;
    let outTree: unknown;
    const flat = (xs: NDArray[]): NDArray[] => {
      const out = f(...(unflatten(inDef, xs) as unknown[]));
      outTree = out;
      const [ol, od] = flatten(out);
      outDef = od;
      return leavesToArrays("vmap", ol, "result");
    };
    const outs = vmapFlat(flat, size, leaves, normDims, () => broadcastPrefix("vmap", o.outAxes === undefined ? 0 : o.outAxes, outTree, "outAxes"));
    return unflatten(outDef!, outs) as ToArrays<ReturnOf<F>>;
  };
}
