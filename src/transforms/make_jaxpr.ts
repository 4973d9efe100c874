/** `makeJaxpr`: trace a function into its IR. @module */
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { flattenArgs, flattenFun } from "./flat.js";

/**
 * Traces `f` on the shapes and dtypes of `args` and returns its IR (a closed jaxpr),
 * which prints in JAX's style. Values are abstract while tracing.
 *
 * @example
 * ```ts
 * import { makeJaxpr, np } from "cotangent";
 * const jaxpr = makeJaxpr((x: np.Array) => np.multiply(np.sin(x), 2))(np.zeros([3]));
 * console.log(jaxpr.toString());
 * // { lambda ; a:f32[3]. let b:f32[3] = sin a; c:f32[3] = mul b 2.0:f32[] in (c) }
 * ```
 */
export function makeJaxpr(f: (...args: any[]) => any): (...args: any[]) => ClosedJaxpr {
  return (...args) => {
    const [leaves, inDef] = flattenArgs("makeJaxpr", args);
    const [flat] = flattenFun("makeJaxpr", f, inDef);
    return traceToJaxpr(
      flat,
      leaves.map((l) => l.aval),
    );
  };
}
