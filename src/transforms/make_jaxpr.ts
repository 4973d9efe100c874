/** `makeJaxpr`: trace a function into its IR. @module */
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { checkArgnums, checkFunction, checkTransformOptions, flattenArgs, flattenFun, normalizeArgnums } from "./flat.js";
import type { Fn, ArgsOf } from "./types.js";

/** Options of {@link makeJaxpr}. */
export interface MakeJaxprOptions {
  /** Arguments that are plain JS values baked into the trace (as `jit`'s `staticArgnums`): a position or a JS array of distinct positions. */
  staticArgnums?: number | readonly number[];
}

/**
 * Traces `f` on the shapes and dtypes of `args` and returns its IR (a closed jaxpr),
 * which prints in JAX's style. Values are abstract while tracing; the arguments
 * listed in `staticArgnums` are passed to `f` as they are (and appear as constants).
 *
 * @example
 * ```ts
 * import { makeJaxpr, np } from "cotangent";
 * const jaxpr = makeJaxpr((x: np.Array) => np.multiply(np.sin(x), 2))(np.zeros([3]));
 * console.log(jaxpr.toString());
 * // { lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c) }
 * const repeat = (x: np.Array, n: number) => {
 *   for (let i = 0; i < n; i++) x = np.sin(x); // n is static: a JS number while tracing
 *   return x;
 * };
 * console.log(makeJaxpr(repeat, { staticArgnums: [1] })(np.zeros([2]), 2).toString());
 * // { lambda ; a:f32[2]. let b:f32[2] = sin a; c:f32[2] = sin b in (c) }
 * ```
 */
export function makeJaxpr<F extends Fn>(f: F, opts?: MakeJaxprOptions): (...args: ArgsOf<F>) => ClosedJaxpr {
  checkFunction("makeJaxpr", f, "makeJaxpr((x) => np.sin(x))");
  const o = checkTransformOptions("makeJaxpr", opts, "{ staticArgnums: [1] }", ["staticArgnums"]);
  if (o.staticArgnums !== undefined) checkArgnums("makeJaxpr", o.staticArgnums, "staticArgnums");
  return (...args: ArgsOf<F>) => {
    const statics = new Set(o.staticArgnums === undefined ? [] : normalizeArgnums("makeJaxpr", o.staticArgnums, args.length, "staticArgnums"));
    const [leaves, inDef] = flattenArgs(
      "makeJaxpr",
      args.filter((_, i) => !statics.has(i)),
    );
    const g = (...dyn: unknown[]): unknown => {
      let k = 0;
      return f(...args.map((a, i) => (statics.has(i) ? a : dyn[k++])));
    };
    const [flat] = flattenFun("makeJaxpr", g, inDef);
    return traceToJaxpr(
      flat,
      leaves.map((l) => l.aval),
    );
  };
}
