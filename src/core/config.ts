/**
 * Global settings, as `jax.config`: `config.update(name, value)` with the name and the
 * value's type checked.
 * @module
 */
import { describeValue, nearestKey } from "./shape.js";

/** The settings and their types. */
export interface ConfigValues {
  /**
   * `true`: the first primitive that produces a NaN from inputs without one throws an
   * Error naming the primitive and the line of user code that called it, eagerly and
   * under `jit` (where the jitted program is re-run equation by equation to find it), as
   * `jax_debug_nans`. Costs a scan of every result; default `false`.
   */
  debugNans: boolean;
  /**
   * The most entries each compile cache keeps (eager kernels, the traces and compiled
   * programs of each jitted function, WebAssembly modules): the least recently used is
   * dropped beyond it. Default 256.
   */
  jitCacheSize: number;
}

const DEFAULTS: ConfigValues = { debugNans: false, jitCacheSize: 256 };
const values: ConfigValues = { ...DEFAULTS };

const CHECKS: { [K in keyof ConfigValues]: (v: unknown) => string | null } = {
  debugNans: (v) => (typeof v === "boolean" ? null : "a boolean (true or false)"),
  jitCacheSize: (v) => (typeof v === "number" && Number.isInteger(v) && v >= 1 ? null : "a positive integer"),
};

function checkName(op: string, name: unknown): asserts name is keyof ConfigValues {
  const names = Object.keys(DEFAULTS);
  if (typeof name === "string" && names.includes(name)) return;
  const near = typeof name === "string" ? nearestKey(name.replace(/^jax_/, ""), names) : null;
  throw new Error(
    `${op}: unknown setting ${typeof name === "string" ? `\`${name}\`` : describeValue(name)}${near ? ` (did you mean \`${near}\`?)` : ""}; the settings are ${names.map((n) => `\`${n}\``).join(", ")}.`,
  );
}

/**
 * cotangent's global settings (JAX's `jax.config`).
 *
 * @example
 * ```ts
 * import { config, np } from "cotangent";
 * config.update("debugNans", true);
 * try {
 *   np.log(np.array(-1));
 * } catch (e) {
 *   console.log((e as Error).message.startsWith("debugNans: log produced a NaN")); // true
 * }
 * config.update("debugNans", false);
 * console.log(config.get("jitCacheSize")); // 256
 * ```
 * @namespace
 */
export const config = {
  /**
   * Sets a setting: `"debugNans"` (boolean) or `"jitCacheSize"` (positive integer). An
   * unknown name or a value of the wrong type throws.
   *
   * @example
   * ```ts
   * import { config } from "cotangent";
   * config.update("jitCacheSize", 64);
   * console.log(config.get("jitCacheSize")); // 64
   * config.update("jitCacheSize", 256);
   * ```
   */
  update<K extends keyof ConfigValues>(name: K, value: ConfigValues[K]): void {
    checkName("config.update", name);
    const want = CHECKS[name](value);
    if (want !== null) throw new Error(`config.update: "${name}" takes ${want}, got ${describeValue(value)}.`);
    values[name] = value;
  },
  /**
   * The current value of a setting.
   *
   * @example
   * ```ts
   * import { config } from "cotangent";
   * console.log(config.get("debugNans")); // false
   * ```
   */
  get<K extends keyof ConfigValues>(name: K): ConfigValues[K] {
    checkName("config.get", name);
    return values[name];
  },
};

/** The debugNans flag, read on every eager primitive (a plain property read). @internal */
export function debugNansOn(): boolean {
  return values.debugNans;
}

/** The bound of every compile cache. @internal */
export function cacheLimit(): number {
  return values.jitCacheSize;
}
