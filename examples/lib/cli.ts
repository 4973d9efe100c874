/**
 * Small helpers shared by the examples: how they were started, and where they print.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Options every example's `main` accepts (the tests pass `log` to capture output). */
export interface ExampleOptions {
  /** A smaller, quicker run (CI): set by `--fast` or `COTANGENT_FAST=1`. */
  fast?: boolean;
  /** Where lines are printed (default console.log). */
  log?: (line: string) => void;
}

/** True when the module at `url` is the script being run (`tsx examples/x.ts`). */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(resolve(script)).href === url;
}

/** Fast mode from the command line or the environment. */
export function fastFromArgs(): boolean {
  return process.argv.includes("--fast") || process.env.COTANGENT_FAST === "1";
}

/** Formats an array's values compactly for printing. */
export function show(x: { toJs(): unknown }, digits = 4): string {
  const fmt = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(fmt).join(", ")}]`;
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number(v.toPrecision(digits)).toString();
    return String(v);
  };
  return fmt(x.toJs());
}
