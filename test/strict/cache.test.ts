/**
 * Bounded compile caches (issue 13, 5): the LRU every cache uses, and memory that stays
 * flat past the bound — eager Wasm kernels over thousands of distinct sizes, and one
 * jitted function over thousands of shapes (its traces, compiled programs, kernels and
 * the Wasm modules on every worker). Measured in a child process run with --expose-gc.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { config, jit, np } from "../../src/index.js";
import { LruCache } from "../../src/core/lru.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

afterEach(() => config.update("jitCacheSize", 256));

describe("LruCache", () => {
  it("keeps the most recently used entries up to the bound", () => {
    let bound = 3;
    const c = new LruCache<string, number | null>(() => bound);
    for (const [k, v] of [
      ["a", 1],
      ["b", null],
      ["c", 3],
    ] as const)
      c.set(k, v);
    expect(c.get("a")).toBe(1); // a is now the most recent
    c.set("d", 4); // evicts b, the least recent
    expect([c.has("a"), c.has("b"), c.has("c"), c.has("d")]).toEqual([true, false, true, true]);
    expect(c.get("b")).toBeUndefined();
    c.set("c", 30);
    bound = 2;
    c.set("e", 5); // the new bound applies at the next insertion: keeps c and e
    expect([...c.values()]).toEqual([30, 5]);
    c.set("n", null);
    expect(c.get("n")).toBeNull(); // null is a value, not a miss
  });
  it("bounds jit's traces by jitCacheSize", () => {
    config.update("jitCacheSize", 4);
    const f = jit((x: np.Array) => x.mul(2));
    for (let n = 1; n <= 10; n++) expect(f(np.ones([n])).shape).toEqual([n]);
    expect(f.cacheSize).toBe(4);
    expect(f(np.ones([1])).toJs()).toEqual([2]); // evicted, traced again
  });
});

function grow(kind: string, marks: number[]): { rss: number[]; heap: number[]; modules: number; cacheSize: number } {
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "test/strict/cache_growth.ts", kind, "16", ...marks.map(String)], {
    cwd: root,
    encoding: "utf8",
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as never;
}

const MB = 2 ** 20;
describe("memory stays flat beyond the bound (jitCacheSize 16)", () => {
  // Unbounded (before), each distinct size kept ~4 KB of JS heap (eager) or ~15 KB (jit)
  // and ~30-40 KB of resident memory, growing linearly, and one Wasm module per size on
  // every thread. Bounded, the heap stays flat and the modules stay at the bound. The
  // resident set (rss) levels off too, but where depends on V8's heap sizing and the
  // allocator (+4 to +30 MB over these runs), so it is reported, not asserted.
  it("eager Wasm kernels over distinct sizes", () => {
    const m = grow("eager", [1000, 2200]);
    expect(m.modules).toBeLessThanOrEqual(16 + 8); // the bound, plus matmul's and gemv's own modules
    expect(m.heap[1]! - m.heap[0]!).toBeLessThan(1 * MB); // unbounded: +5 MB
    console.log(`eager: rss ${(m.rss[0]! / MB).toFixed(0)} -> ${(m.rss[1]! / MB).toFixed(0)} MB`);
  });
  it("one jitted function over distinct shapes", () => {
    const m = grow("jit", [500, 1300]);
    expect(m.cacheSize).toBe(16);
    expect(m.modules).toBeLessThanOrEqual(16 + 8);
    expect(m.heap[1]! - m.heap[0]!).toBeLessThan(1 * MB); // unbounded: +12 MB
    console.log(`jit: rss ${(m.rss[0]! / MB).toFixed(0)} -> ${(m.rss[1]! / MB).toFixed(0)} MB`);
  });
});
