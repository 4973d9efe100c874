import { describe, expect, it } from "vitest";
import { FuncBuilder, I32 } from "../../src/backends/wasm/emit.js";
import {
  HEAP_BASE,
  MAX_CHUNKS,
  setThreadCount,
  workerChunkCount,
  loadModule,
  parallelFor,
  reserveHeap,
  threadCount,
  wasmAvailable,
  wasmMemory,
} from "../../src/backends/wasm/runtime.js";

// mark(chunk, base, value): mem32[base/4 + chunk] += value  (a chunk run twice shows as 2*value)
function markModule() {
  const f = new FuncBuilder([I32, I32, I32]);
  const addr = f.local(I32);
  f.get(0).i32(4).op(0x6c).get(1).op(0x6a).set(addr);
  f.get(addr).get(addr).op(0x28, 2, 0).get(2).op(0x6a).op(0x36, 2, 0); // i32.load / i32.store
  // trap(chunk): unreachable when chunk == 3
  const t = new FuncBuilder([I32]);
  t.get(0).i32(3).op(0x46).op(0x04, 0x40).op(0x00).op(0x0b); // if (chunk == 3) unreachable
  return loadModule([
    { name: "mark", fn: f },
    { name: "trap", fn: t },
  ]);
}

describe.runIf(wasmAvailable())("wasm runtime", () => {
  it("runs every chunk exactly once, job after job, whatever thread takes it", () => {
    const mod = markModule();
    const base = reserveHeap(4 * 5000);
    expect(base).toBe(HEAP_BASE);
    const view = () => new Int32Array(wasmMemory().buffer, base, 5000);
    for (let job = 0; job < 300; job++) {
      const chunks = 1 + ((job * 37) % 4999);
      view().fill(0, 0, chunks);
      parallelFor(mod, "mark", chunks, [base, job + 1]);
      const v = view();
      for (let c = 0; c < chunks; c++) if (v[c] !== job + 1) throw new Error(`job ${job}: chunk ${c} holds ${v[c]}, expected ${job + 1}`);
    }
    expect(threadCount()).toBeGreaterThanOrEqual(1);
  });

  it("a worker that wakes late never takes a chunk of the next job (short and long jobs back to back)", () => {
    // A late worker may read the next job's chunk count while the finished job's
    // generation is still current; the job is closed before the next one is written, so
    // such a worker can neither run an extra chunk (a slot at 2·value) nor miscount the
    // next job's finished chunks (a slot left at 0 when the call returns).
    const mod = markModule();
    const base = reserveHeap(4 * 64);
    const view = () => new Int32Array(wasmMemory().buffer, base, 64);
    for (let job = 0; job < 20000; job++) {
      const chunks = job % 2 === 0 ? 2 : 48;
      view().fill(0);
      parallelFor(mod, "mark", chunks, [base, job + 1]);
      const v = view();
      for (let c = 0; c < 64; c++) {
        const want = c < chunks ? job + 1 : 0;
        if (v[c] !== want) throw new Error(`job ${job} (${chunks} chunks): slot ${c} holds ${v[c]}, expected ${want}`);
      }
    }
  });

  it("a module loaded after the workers started runs on them too", () => {
    markModule(); // makes sure the pool exists
    const mod = markModule();
    const base = reserveHeap(4 * 1000);
    const v = new Int32Array(wasmMemory().buffer, base, 1000).fill(0);
    parallelFor(mod, "mark", 1000, [base, 7]);
    expect(Array.from(new Int32Array(wasmMemory().buffer, base, 1000)).every((x) => x === 7)).toBe(true);
    expect(v.length).toBe(1000);
  });

  it("a trap in any chunk becomes an error of the call, and the next call works", () => {
    const mod = markModule();
    expect(() => parallelFor(mod, "trap", 64, [])).toThrow();
    const base = reserveHeap(4 * 8);
    new Int32Array(wasmMemory().buffer, base, 8).fill(0);
    parallelFor(mod, "mark", 8, [base, 1]);
    expect(Array.from(new Int32Array(wasmMemory().buffer, base, 8))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it("worker threads take chunks when there is more than one core", async () => {
    const spin = new FuncBuilder([I32, I32]);
    const n = spin.local(I32);
    spin.get(1).set(n);
    spin.whileLoop(
      () => spin.get(n).op(0x45), // i32.eqz: exit when n == 0
      () => spin.get(n).i32(1).op(0x6b).set(n),
    );
    const mod = loadModule([{ name: "spin", fn: spin }]);
    if (threadCount() === 1) return;
    await new Promise((r) => setTimeout(r, 300)); // workers start asynchronously
    const before = workerChunkCount();
    parallelFor(mod, "spin", 64, [2_000_000]);
    expect(workerChunkCount()).toBeGreaterThan(before);
  });

  it("setThreadCount(1) keeps every chunk on the calling thread, and raising it again brings the workers back", async () => {
    const mod = markModule();
    const base = reserveHeap(4 * 64);
    const start = threadCount();
    setThreadCount(1);
    expect(threadCount()).toBe(1);
    const before = workerChunkCount();
    for (let j = 0; j < 50; j++) parallelFor(mod, "mark", 64, [base, 1]);
    expect(workerChunkCount()).toBe(before);
    setThreadCount(start);
    expect(threadCount()).toBe(start);
    expect(() => setThreadCount(0)).toThrow(/setThreadCount: the thread count must be a positive integer, got 0/);
  });

  it("refuses more chunks than it can count and a heap beyond the maximum", () => {
    const mod = markModule();
    expect(() => parallelFor(mod, "mark", MAX_CHUNKS + 1, [HEAP_BASE, 1])).toThrow(/chunks/);
    expect(reserveHeap(2 ** 31)).toBe(-1);
  });
});
