/**
 * `config.update("debugNans", true)`: the checks behind it. Eagerly, `evalPrimitive`
 * scans each primitive's float results; one holding a NaN that none of its inputs held
 * throws, naming the primitive and the user's line. Under `jit`, staging records where
 * each equation was traced, and a jitted program whose results hold a new NaN is re-run
 * equation by equation (as JAX does) to find the equation that made it.
 * @module
 */
import type { ConcreteArray, NDArray } from "./array.js";
import { isFloat } from "./dtype.js";

/** True when a float array holds a NaN. */
export function hasNan(a: ConcreteArray): boolean {
  if (!isFloat(a.dtype)) return false;
  const b = a.buffer;
  for (let i = 0; i < b.length; i++) if (b[i] !== b[i]) return true;
  return false;
}

/** This library's source folder (frames under it are not the user's). */
const LIB = new URL("../", import.meta.url);
const LIB_MARKERS = [LIB.href, decodeURIComponent(LIB.pathname)];

/** The first stack frame outside cotangent, Node's internals and node_modules: where the user called in. */
export function userFrame(): string | null {
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = prev;
  for (const raw of stack.split("\n").slice(1)) {
    const line = raw.trim();
    if (!line.startsWith("at ")) continue;
    if (LIB_MARKERS.some((m) => line.includes(m)) || /node:|node_modules|<anonymous>/.test(line)) continue;
    return line.slice(3);
  }
  return null;
}

/** Where each traced equation's first output was staged (recorded only while debugNans is on). */
const tracedAt = new WeakMap<object, string>();
/** Records the user's frame for a staged equation (keyed by its first output variable). @internal */
export function recordSource(outVar: object): void {
  const f = userFrame();
  if (f !== null) tracedAt.set(outVar, f);
}
/** Where the equation with this first output variable was traced, if recorded. @internal */
export function sourceOf(outVar: object | undefined): string | null {
  return outVar === undefined ? null : (tracedAt.get(outVar) ?? null);
}

let quiet = 0;
/** Runs `fn` with the eager check off (the jit re-run checks each equation itself). @internal */
export function withoutEagerCheck<T>(fn: () => T): T {
  quiet++;
  try {
    return fn();
  } finally {
    quiet--;
  }
}

const avals = (xs: readonly NDArray[]): string => xs.map((x) => x.aval.toString()).join(", ") || "none";

/** The Error for a primitive that made a NaN. `where` adds context (the jitted equation). @internal */
export function nanError(name: string, args: readonly NDArray[], outs: readonly NDArray[], where: string): Error {
  return new Error(
    `debugNans: ${name} produced a NaN from inputs without NaN (inputs ${avals(args)}; outputs ${avals(outs)}) ${where}. ` +
      `Check the values reaching it (log or sqrt of a negative, 0/0, inf - inf, a derivative at a singular point), ` +
      `or turn the check off with config.update("debugNans", false).`,
  );
}

/** The eager check: throws when `outs` hold a NaN that `args` did not. @internal */
export function checkEager(name: string, args: readonly ConcreteArray[], outs: readonly ConcreteArray[]): void {
  if (quiet > 0 || !outs.some(hasNan) || args.some(hasNan)) return;
  const f = userFrame();
  throw nanError(name, args, outs, f ? `at ${f}` : "(no user stack frame found)");
}
