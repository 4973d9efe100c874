/**
 * `jit`: trace once per input signature, optimize the IR, run compiled kernels.
 *
 * A jitted call is the higher-order primitive `pjit`, which carries its jaxpr and
 * has its own JVP, partial-evaluation, transpose and batching rules. Each rule
 * traces the corresponding interpreter over the inner jaxpr into a new jaxpr and
 * binds `pjit` again, so `grad(jit(f))`, `jit(grad(f))`, `vmap(jit(f))` and
 * `jit(hessianVectorProduct(f))` all stay compiled.
 * @module
 */
import { ConcreteArray, type NDArray, ShapedArray } from "../core/array.js";
import { type Params, type Primitive, bind, definePrimitive, isEager } from "../core/trace.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import type { BackendName, Executable } from "../backends/backend.js";
import { checkBackendName, compileForBackend, deviceInUse, putTree } from "../backends/registry.js";
import { type Atom, type ClosedJaxpr, Literal, type Var, printJaxpr } from "../ir/jaxpr.js";
import { debugNansOn } from "../core/config.js";
import { hasNan, nanError, sourceOf, userFrame, withoutEagerCheck } from "../core/debug_nans.js";
import { LruCache } from "../core/lru.js";
import { callRules } from "../interpreters/call_rules.js";
import { closureConvert, memoJaxpr, partialEvalJaxpr } from "../interpreters/jaxpr_transforms.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { optimizeJaxpr } from "../passes/index.js";
import { checkArgnums, checkFunction, checkTransformOptions, flattenArgs, leavesToArrays } from "./flat.js";
import type { Fn, ArgsOf, ReturnOf, ToArrays } from "./types.js";

interface JitParams extends Params {
  jaxpr: ClosedJaxpr;
  name: string;
}

/**
 * The optimized form of a traced jaxpr (what runs, and what `lower` shows). pjit's
 * params keep the traced jaxpr: the transformation rules work on it, since the
 * optimized one may hold backend-specific equations (fused kernels) with no rules.
 */
function optimizedFor(cj: ClosedJaxpr): ClosedJaxpr {
  return memoJaxpr(cj, "opt", () => optimizeJaxpr(cj));
}

/** The executable of a traced jaxpr on the current backend (see backends/registry.ts). @internal */
export function executableFor(cj: ClosedJaxpr): Executable {
  return compileForBackend(optimizedFor(cj));
}

/**
 * debugNans under jit: when the compiled program turned inputs without NaN into a result
 * with one, re-run its jaxpr equation by equation (eagerly, as JAX does) and throw at the
 * first equation that makes a NaN, naming it and where it was traced.
 */
function findNanEquation(cj: ClosedJaxpr, name: string, args: readonly ConcreteArray[], outs: readonly ConcreteArray[]): void {
  if (!outs.some(hasNan) || args.some(hasNan)) return;
  const { jaxpr, consts } = cj;
  const env = new Map<Var, NDArray>();
  const read = (a: Atom): NDArray => (a instanceof Literal ? a.val : env.get(a)!);
  jaxpr.constVars.forEach((v, i) => env.set(v, consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, args[i]!));
  withoutEagerCheck(() =>
    jaxpr.eqns.forEach((e, k) => {
      const ins = e.inputs.map(read);
      const res = bind(e.primitive, ins, e.params);
      e.outVars.forEach((v, i) => env.set(v, res[i]!));
      const concrete = (xs: NDArray[]): ConcreteArray[] => xs.filter((x): x is ConcreteArray => x instanceof ConcreteArray);
      if (concrete(res).some(hasNan) && !concrete(ins).some(hasNan)) {
        const traced = sourceOf(e.outVars[0]);
        const called = userFrame();
        throw nanError(
          e.primitive.name,
          ins,
          res,
          `in equation ${k + 1} of ${jaxpr.eqns.length} of jit(${name})${traced ? `, traced at ${traced}` : ""}${called ? `; the jitted function was called at ${called}` : ""}`,
        );
      }
    }),
  );
}

function indent(s: string, by: string): string {
  return s.replace(/\n/g, `\n${by}`);
}

/** The primitive of a jitted call. */
export const pjit_p: Primitive<JitParams> = definePrimitive<JitParams>({
  name: "pjit",
  abstractEval(avals, { jaxpr, name }) {
    const want = jaxpr.inAvals;
    if (avals.length !== want.length || avals.some((a, i) => !a.equals(want[i]!))) {
      throw new Error(`jit(${name}): called with ${avals.map(String).join(", ")} but traced for ${want.map(String).join(", ")}.`);
    }
    return jaxpr.outAvals;
  },
  impl(args, { jaxpr, name }) {
    const outs = executableFor(jaxpr)(args);
    if (debugNansOn()) findNanEquation(jaxpr, name, args, outs);
    return outs;
  },
  ...callRules<JitParams>(
    () => pjit_p,
    (p, jaxpr, role) => ({ jaxpr, name: role === "known" || role === "unknown" ? p.name : `${role}(${p.name})` }),
    (p, knownMask) => ({ ...partialEvalJaxpr(p.jaxpr, knownMask), unknownTakes: "unknown" }),
  ),
  printParams: (p) => `[name=${p.name} jaxpr=${indent(printJaxpr(p.jaxpr.jaxpr), "  ")}]`,
});

/** Options of {@link jit}. */
export interface JitOptions {
  /** Arguments that are plain JS values baked into the trace (a new trace per distinct value): a position or a JS array of distinct positions. */
  staticArgnums?: number | readonly number[];
  /** Run on this backend: array arguments are put there (as `devicePut`) at each call. Default: where the arguments live. */
  backend?: BackendName;
}

/** The result of {@link Jitted.lower}: the optimized IR for one input signature. */
export interface Lowered {
  /** The optimized closed jaxpr. */
  readonly jaxpr: ClosedJaxpr;
  /** The IR printed in JAX's style. */
  text(): string;
}

/** A jitted function: call it like the original; `lower(...args)` shows its IR. */
export interface Jitted<F extends Fn> {
  (...args: ArgsOf<F>): ToArrays<ReturnOf<F>>;
  /** Traces (or reuses the trace) for these arguments and returns the optimized IR. */
  lower(...args: ArgsOf<F>): Lowered;
  /** How many distinct input signatures have been traced. */
  readonly cacheSize: number;
}

interface Entry {
  jaxpr: ClosedJaxpr;
  outDef: TreeDef;
  /** Number of leading inputs that are closed-over tracers (passed per call). */
  numTracerConsts: number;
  tracerConsts: NDArray[];
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
/**
 * The cache key of a static argument: primitives by type and value, plain JS arrays
 * and objects by their contents, functions and other objects by identity. Arrays
 * (NDArray) are rejected anywhere inside, since their values are not part of the key.
 */
function staticKey(v: unknown, i: number, name: string, path = "", seen: Set<object> = new Set()): string {
  if (v !== null && typeof v === "object" && "aval" in (v as object) && "shape" in (v as object)) {
    throw new Error(
      `jit(${name}): static argument ${i}${path} is an array; static arguments must be plain JS values (numbers, strings, booleans, or objects of them). Pass arrays as ordinary (traced) arguments.`,
    );
  }
  if (typeof v === "function" || (typeof v === "object" && v !== null)) {
    const o = v as object;
    const proto = typeof v === "object" ? Object.getPrototypeOf(o) : undefined;
    const plain = Array.isArray(v) || proto === Object.prototype || proto === null;
    if (plain && !seen.has(o)) {
      seen.add(o);
      const parts = Array.isArray(v)
        ? v.map((x, k) => staticKey(x, i, name, `${path}[${k}]`, seen))
        : Object.keys(o)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${staticKey((o as Record<string, unknown>)[k], i, name, `${path}.${k}`, seen)}`);
      seen.delete(o);
      return Array.isArray(v) ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
    }
    if (!objectIds.has(o)) objectIds.set(o, nextObjectId++);
    return `#${objectIds.get(o)}`;
  }
  return typeof v === "string" ? `s${JSON.stringify(v)}` : `${typeof v}:${String(v)}`;
}

/**
 * Compiles `f`: the first call with a given input signature (pytree structure,
 * shapes, dtypes and static values) traces `f` into a jaxpr, optimizes it and
 * compiles it; later calls with the same signature reuse it. Inside `f`, array
 * values are abstract: reading one (`item()`, a JS `if` on a value) throws an error
 * that suggests `staticArgnums`. Composes with every transform.
 *
 * @example
 * ```ts
 * import { jit, grad, np } from "cotangent";
 * const f = jit((x: np.Array) => np.sum(np.multiply(np.tanh(x), 2)));
 * console.log(f(np.array([0, 0])).item()); // 0
 * console.log(grad(f)(np.array([0, 0])).toJs()); // [2, 2]
 * console.log(f.lower(np.array([0, 0])).text().startsWith("{ lambda")); // true
 * const scale = jit((x: np.Array, k: number) => np.multiply(x, k), { staticArgnums: [1] });
 * console.log(scale(np.array([1, 2]), 3).toJs()); // [3, 6]
 * ```
 */
export function jit<F extends Fn>(f: F, options?: JitOptions): Jitted<F> {
  checkFunction("jit", f, "jit((x) => np.sin(x))");
  const opts = checkTransformOptions("jit", options, "{ staticArgnums: [1] }", ["staticArgnums", "backend"]);
  if (opts.staticArgnums !== undefined) checkArgnums("jit", opts.staticArgnums, "staticArgnums");
  const name = f.name || "fn";
  const statics = new Set(typeof opts.staticArgnums === "number" ? [opts.staticArgnums] : (opts.staticArgnums ?? []));
  if (opts.backend !== undefined) checkBackendName(`jit(${name})`, opts.backend);
  const cache = new LruCache<string, Entry>();

  const prepare = (args: unknown[]): [Entry, NDArray[]] => {
    for (const s of statics)
      if (s >= args.length || s < 0) throw new Error(`jit(${name}): staticArgnums contains ${s} but the function was called with ${args.length} argument(s).`);
    const dyn = args.filter((_, i) => !statics.has(i));
    const [leaves, inDef] = flattenArgs(`jit(${name})`, dyn);
    const sKey = [...statics]
      .sort((a, b) => a - b)
      .map((i) => staticKey(args[i], i, name))
      .join(";");
    // a trace made while debugNans is on records where each equation was traced
    const key = `${inDef.toString()}|${leaves.map((l) => l.aval.toString()).join(",")}|${sKey}${debugNansOn() ? "|debugNans" : ""}`;
    const hit = cache.get(key);
    if (hit) return [hit, leaves];
    let outDef: TreeDef | undefined;
    const flat = (xs: NDArray[]): NDArray[] => {
      const dynArgs = unflatten(inDef, xs) as unknown[];
      let k = 0;
      const all = args.map((a, i) => (statics.has(i) ? a : dynArgs[k++]));
      const [ol, od] = flatten(f(...all));
      outDef = od;
      return leavesToArrays(`jit(${name})`, ol, "result");
    };
    // Closure conversion: constants that are tracers of enclosing transforms become inputs.
    const { jaxpr, consts: tracerConsts } = closureConvert(
      traceToJaxpr(
        flat,
        leaves.map((l) => l.aval),
      ),
    );
    const entry: Entry = { jaxpr, outDef: outDef!, numTracerConsts: tracerConsts.length, tracerConsts };
    if (!tracerConsts.length) cache.set(key, entry);
    return [entry, leaves];
  };

  // Fast path for the common eager call: the arguments are concrete arrays with the
  // avals of the previous such call, so the trace-cache lookup (pytree flattening, key
  // strings) and the dispatch through bind can be skipped.
  let fast: { avals: ShapedArray[]; exe: Executable; outDef: TreeDef; single: boolean } | undefined;
  const wrapped = ((...args: unknown[]) => {
    if (opts.backend) args = args.map((a, i) => (statics.has(i) ? a : putTree(a, opts.backend!, `jit(${name})`)));
    const fa = fast;
    if (
      fa &&
      !deviceInUse() &&
      !debugNansOn() &&
      args.length === fa.avals.length &&
      isEager() &&
      args.every((a, i) => a instanceof ConcreteArray && a.aval.equals(fa.avals[i]!))
    ) {
      const outs = fa.exe(args as ConcreteArray[]);
      return fa.single ? outs[0] : unflatten(fa.outDef, outs);
    }
    const [entry, leaves] = prepare(args);
    if (!statics.size && !entry.tracerConsts.length && isEager() && args.every((a) => a instanceof ConcreteArray)) {
      fast = { avals: leaves.map((l) => l.aval), exe: executableFor(entry.jaxpr), outDef: entry.outDef, single: entry.outDef.toString() === "PyTreeDef(*)" };
    }
    const outs = bind(pjit_p, [...entry.tracerConsts, ...leaves], { jaxpr: entry.jaxpr, name });
    return unflatten(entry.outDef, outs);
  }) as unknown as Jitted<F>;
  Object.defineProperty(wrapped, "lower", {
    value: (...args: unknown[]): Lowered => {
      const [entry] = prepare(args);
      const opt = optimizedFor(entry.jaxpr);
      return { jaxpr: opt, text: () => opt.toString() };
    },
  });
  Object.defineProperty(wrapped, "cacheSize", { get: () => cache.size });
  return wrapped;
}
