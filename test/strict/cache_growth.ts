/**
 * Run by cache.test.ts as `node --expose-gc --import tsx test/strict/cache_growth.ts <kind> <bound> <n1> <n2> ...`:
 * builds compile-cache entries for distinct shapes, then prints the memory after n1 and
 * after each later count of distinct shapes (after garbage collection) as JSON.
 */
import { config, jit, np } from "../../src/index.js";
import { loadedModuleCount } from "../../src/backends/wasm/runtime.js";

const [kind, bound, ...marks] = [process.argv[2]!, Number(process.argv[3]), ...process.argv.slice(4).map(Number)];
config.update("jitCacheSize", bound);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");

const f = jit((x: np.Array) => np.tanh(np.add(np.multiply(x, 2), 1)));
function step(i: number): void {
  const n = 4096 + i; // distinct sizes above the eager Wasm thresholds
  if (kind === "eager") np.exp(np.ones([n]));
  else f(np.ones([n]));
}

async function settle(): Promise<number> {
  for (let k = 0; k < 4; k++) {
    gc!();
    await new Promise((r) => setTimeout(r, 400)); // FinalizationRegistry callbacks, then the workers drop modules (they look every second when idle)
  }
  const m = process.memoryUsage();
  if (process.env.VERBOSE) console.error(JSON.stringify({ ...m, modules: loadedModuleCount() }));
  return m.rss;
}

const rss: number[] = [];
const heap: number[] = [];
let i = 0;
for (const n of marks) {
  for (; i < n; i++) step(i);
  rss.push(await settle());
  heap.push(process.memoryUsage().heapUsed);
}
console.log(JSON.stringify({ rss, heap, modules: loadedModuleCount(), cacheSize: kind === "jit" ? f.cacheSize : -1 }));
