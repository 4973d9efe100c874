/** Loads a JSON fixture written by scripts/fixtures_numpy.py ("NaN" / "Infinity" / "-Infinity" strings become numbers). */
import { readFileSync } from "node:fs";

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function loadFixture(name: string): any {
  const text = readFileSync(new URL(`../fixtures/${name}`, import.meta.url), "utf8");
  return JSON.parse(text, (_k, v: unknown) => (typeof v === "string" && v in SPECIAL ? SPECIAL[v] : v));
}
