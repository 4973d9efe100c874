/**
 * The WebAssembly runtime every Wasm kernel runs on: one linear memory (shared with
 * worker threads when the engine allows it), modules instantiated against it on the
 * calling thread and on every worker, and {@link parallelFor}, which splits a kernel's
 * work into chunks run by the calling thread and the workers together.
 *
 * Memory layout: bytes `[0, HEAP_BASE)` hold the control block the threads use to
 * coordinate; kernels use `[HEAP_BASE, ...)` as scratch for their operands (copied in
 * before a call, copied out after). Calls are synchronous and never nested, so every
 * call may lay out the heap from `HEAP_BASE` as it likes.
 *
 * Every module imports the memory as `"env"."mem"`; build modules with
 * {@link loadModule}, which sets the import's flags to match this runtime's memory.
 * @module
 */
import { type FuncBuilder, type ValType, buildModule } from "./emit.js";

/** First byte of the scratch heap (the first 64 KiB page holds the control block). */
export const HEAP_BASE = 65536;
/** Largest memory the runtime will grow to (pages of 64 KiB): 1 GiB. Bigger operands fall back to JavaScript. */
export const MAX_PAGES = 16384;

/** A module instantiated against the runtime's memory. */
export interface WasmModule {
  /** Identifies the module across threads. */
  readonly id: number;
  /** The module's exports, callable on this thread. */
  readonly exports: Record<string, (...args: number[]) => number | undefined>;
  /** Export names in order (tasks name a function by its position). */
  readonly names: readonly string[];
}

/** A function for {@link loadModule}: the builder, its export name and result types. */
export interface ModuleFunction {
  name: string;
  fn: FuncBuilder;
  results?: ValType[];
}

interface State {
  memory: WebAssembly.Memory;
  shared: boolean;
  /** The loaded modules by id, held weakly: a module nobody uses any more is dropped everywhere (see {@link unload}). */
  modules: Map<number, WeakRef<WasmModule>>;
  nextId: number;
}

let state: State | null | undefined;

function probeSimd(): boolean {
  // (func (result v128) v128.const 0) — validates only where SIMD is supported
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
  ]);
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

function getState(): State | null {
  if (state !== undefined) return state;
  try {
    if (typeof WebAssembly === "undefined" || !probeSimd()) {
      state = null;
      return state;
    }
    let memory: WebAssembly.Memory;
    let shared = false;
    try {
      memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared: true });
      shared = memory.buffer instanceof SharedArrayBuffer;
    } catch {
      memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES });
    }
    state = { memory, shared, modules: new Map(), nextId: 0 };
  } catch {
    state = null;
  }
  return state;
}

/** True when WebAssembly with SIMD runs in this engine (otherwise callers use their JavaScript paths). */
export function wasmAvailable(): boolean {
  return getState() !== null;
}

function need(): State {
  const s = getState();
  if (!s) throw new Error("internal: the WebAssembly runtime is not available here; check wasmAvailable() first");
  return s;
}

/** The runtime's memory. Its `buffer` changes when the memory grows: make views after {@link reserveHeap}. */
export function wasmMemory(): WebAssembly.Memory {
  return need().memory;
}

/**
 * Makes sure the heap holds `bytes` bytes from {@link HEAP_BASE} on, growing the memory
 * when needed, and returns `HEAP_BASE`. Returns -1 when that would pass {@link MAX_PAGES}
 * (the caller falls back to JavaScript).
 */
export function reserveHeap(bytes: number): number {
  const s = need();
  const end = HEAP_BASE + bytes;
  const pages = Math.ceil(end / 65536);
  if (pages > MAX_PAGES) return -1;
  const have = s.memory.buffer.byteLength / 65536;
  if (pages > have) s.memory.grow(pages - have);
  return HEAP_BASE;
}

/** Builds and instantiates a module against the runtime's memory (on this thread and every worker). */
export function loadModule(funcs: readonly ModuleFunction[]): WasmModule {
  const s = need();
  const bytes = buildModule([...funcs], { shared: s.shared, maxPages: MAX_PAGES });
  const module = new WebAssembly.Module(bytes);
  const inst = new WebAssembly.Instance(module, { env: { mem: s.memory } });
  const m: WasmModule = { id: s.nextId++, exports: inst.exports as WasmModule["exports"], names: funcs.map((f) => f.name) };
  s.modules.set(m.id, new WeakRef(m));
  unload.register(m, m.id);
  compiled.set(m, module);
  if (pool) for (const port of pool.ports) port.postMessage(moduleMessage(m));
  return m;
}

/**
 * When a module is garbage-collected (its kernel left every compile cache, which are
 * bounded by `config.update("jitCacheSize", n)`), the workers drop their instances of it
 * too, so compiled code does not pile up on any thread.
 */
const unload = new FinalizationRegistry<number>((id) => {
  state?.modules.delete(id);
  if (pool) for (const port of pool.ports) port.postMessage({ drop: id });
});

/** How many modules are loaded (for tests of the compile-cache bound). @internal */
export function loadedModuleCount(): number {
  return state ? state.modules.size : 0;
}

/** Control-block slots (Int32 indices into the first page). */
const GEN = 0; // job generation: workers sleep on it
const NEXT = 1; // (generation & 0xffff) << 16 | next unclaimed chunk
const DONE = 2; // chunks finished in the current job
const TOTAL = 3;
const MOD = 4;
const FN = 5;
const NARGS = 6;
const ERR = 7;
const WORKER_CHUNKS = 8; // chunks run by workers since the start (diagnostics)
const ACTIVE = 9; // workers with an index below this take part in jobs
const ARGS = 16; // up to 16 i32 arguments
const MAX_ARGS = 16;
/** Most chunks one {@link parallelFor} call may have (the chunk index shares a word with the generation). */
export const MAX_CHUNKS = 0xffff;
/** The chunk index of a finished job: not below any job's chunk count. */
const CLOSED = 0xffff;

/**
 * One job, as a worker runs it (shared by the Node and browser workers): read the job
 * written before the generation word was bumped, then claim chunks with compare-and-swap
 * on NEXT, which ties each claim to the generation it was read in — a worker that wakes
 * late can never run a chunk of a newer job with an older job's function or arguments.
 * `lookup(id)` returns the module's functions, or undefined when the worker has not
 * instantiated it (the other threads then take all the chunks).
 */
const WORKER_JOB = `
function runJob(ctl, g, lookup, index) {
  if (index >= Atomics.load(ctl, ${ACTIVE})) return;
  const total = ctl[${TOTAL}], id = ctl[${MOD}], fi = ctl[${FN}], na = ctl[${NARGS}];
  const args = [];
  for (let i = 0; i < na; i++) args.push(ctl[${ARGS} + i]);
  const fs = lookup(id);
  const f = fs && fs[fi];
  if (!f) return;
  for (;;) {
    const v = Atomics.load(ctl, ${NEXT});
    if (v >>> 16 !== g || (v & 0xffff) >= total) return;
    if (Atomics.compareExchange(ctl, ${NEXT}, v, v + 1) !== v) continue;
    try {
      f(v & 0xffff, ...args);
    } catch (e) {
      Atomics.store(ctl, ${ERR}, 1);
    }
    Atomics.add(ctl, ${WORKER_CHUNKS}, 1);
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === total) Atomics.notify(ctl, ${DONE});
  }
}
`;

/**
 * A Node worker thread (CommonJS, run with `eval`): it sleeps on the generation word with
 * a blocking wait, and instantiates the modules the calling thread posts on its port,
 * draining them synchronously (`receiveMessageOnPort`) when a job names one it has not
 * seen — they were posted before the job, so they are there.
 */
const NODE_WORKER_SOURCE = `${WORKER_JOB}
const { workerData, receiveMessageOnPort } = (typeof require === "function" ? require : (id) => process.getBuiltinModule(id))("node:worker_threads");
const { memory, port, index } = workerData;
const ctl = new Int32Array(memory.buffer, 0, 64);
const fns = new Map();
function drain() {
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const { id, module, names, drop } = m.message;
    if (drop !== undefined) {
      fns.delete(drop);
      continue;
    }
    const inst = new WebAssembly.Instance(module, { env: { mem: memory } });
    fns.set(id, names.map((n) => inst.exports[n]));
  }
}
const lookup = (id) => {
  if (!fns.has(id)) drain();
  return fns.get(id);
};
drain();
let seen = Atomics.load(ctl, ${GEN});
for (let jobs = 0; ; ) {
  if (Atomics.wait(ctl, ${GEN}, seen, 1000) === "timed-out") {
    drain(); // dropped modules
    continue;
  }
  seen = Atomics.load(ctl, ${GEN});
  runJob(ctl, seen, lookup, index);
  if (++jobs % 64 === 0) drain();
}
`;

/**
 * A browser Web Worker (classic script from a Blob URL): the first message brings the
 * memory, later ones modules; it waits for jobs with `Atomics.waitAsync`, so its event
 * loop keeps receiving modules between jobs (a job naming a module that has not arrived
 * yet is left to the other threads).
 */
const BROWSER_WORKER_SOURCE = `${WORKER_JOB}
let memory = null, ctl = null, index = 0;
const fns = new Map();
onmessage = (e) => {
  const m = e.data;
  if (m.memory) {
    memory = m.memory;
    index = m.index;
    ctl = new Int32Array(memory.buffer, 0, 64);
    loop();
    return;
  }
  if (m.drop !== undefined) {
    fns.delete(m.drop);
    return;
  }
  const inst = new WebAssembly.Instance(m.module, { env: { mem: memory } });
  fns.set(m.id, m.names.map((n) => inst.exports[n]));
};
async function loop() {
  let seen = Atomics.load(ctl, ${GEN});
  for (;;) {
    const r = Atomics.waitAsync(ctl, ${GEN}, seen);
    if (r.async) await r.value;
    seen = Atomics.load(ctl, ${GEN});
    runJob(ctl, seen, (id) => fns.get(id), index);
  }
}
`;

interface NodeWorkerApi {
  Worker: new (src: string, opts: object) => { unref(): void; postMessage(m: unknown): void; on(event: "error", f: (e: unknown) => void): void };
  MessageChannel: new () => { port1: { postMessage(m: unknown): void; unref?(): void }; port2: unknown };
  cpus: () => number;
}

type NodeProcess = { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown };
const nodeProcess = (globalThis as { process?: NodeProcess }).process;

function wrapNodeApi(wt: unknown, os: unknown): NodeWorkerApi {
  const w = wt as { Worker: NodeWorkerApi["Worker"]; MessageChannel: NodeWorkerApi["MessageChannel"] };
  const o = os as { availableParallelism?: () => number; cpus: () => unknown[] };
  return { Worker: w.Worker, MessageChannel: w.MessageChannel, cpus: () => o.availableParallelism?.() ?? o.cpus().length };
}

/**
 * Node's worker_threads and os, reached without a static import so this module also
 * loads in browsers: synchronously through `process.getBuiltinModule` (Node >= 20.16),
 * else by a dynamic import started when this module loads (kernels run on one thread
 * until it resolves).
 */
let nodeApi: NodeWorkerApi | null = null;
if (nodeProcess?.versions?.node) {
  try {
    if (nodeProcess.getBuiltinModule) nodeApi = wrapNodeApi(nodeProcess.getBuiltinModule("node:worker_threads"), nodeProcess.getBuiltinModule("node:os"));
    else {
      const wtName = "node:worker_threads";
      const osName = "node:os";
      void Promise.all([import(/* @vite-ignore */ wtName), import(/* @vite-ignore */ osName)])
        .then(([wt, os]) => {
          nodeApi = wrapNodeApi(wt, os);
          if (pool === null) pool = undefined; // let the next parallel call start the workers
        })
        .catch(() => undefined);
    }
  } catch {
    nodeApi = null;
  }
}

interface Pool {
  ctl: Int32Array;
  ports: { postMessage(m: unknown): void }[];
  gen: number;
  /** Whether this thread may block in Atomics.wait (not a browser's main thread). */
  canBlock: boolean;
}
let pool: Pool | null | undefined;
let wantedThreads: number | undefined;

function envThreads(): number | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const v = env?.COTANGENT_THREADS;
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

interface BrowserGlobals {
  Worker?: new (url: string) => { postMessage(m: unknown): void };
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL?: { createObjectURL(b: unknown): string };
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
}

/** Most worker threads the runtime starts. */
const MAX_WORKERS = 15;

/** The threads this machine offers: its cores in Node, `hardwareConcurrency` in a cross-origin-isolated page, else 1. */
function machineThreads(): number {
  const g = globalThis as unknown as BrowserGlobals;
  if (nodeApi) return nodeApi.cpus();
  if (g.Worker && g.Blob && g.URL && g.crossOriginIsolated) return g.navigator?.hardwareConcurrency ?? 1;
  return 1;
}

let nodeWorkerSource = NODE_WORKER_SOURCE;
/** Replaces the Node worker's source (undefined: the real one), for tests of a worker that fails to start. @internal */
export function setNodeWorkerSource(src: string | undefined): void {
  nodeWorkerSource = src ?? NODE_WORKER_SOURCE;
}

/** Set when a worker failed to start: kernels then run on the calling thread alone. */
let workersFailed = false;
/**
 * A worker that throws while starting (an engine that runs its source differently, a
 * sandbox without threads) must not kill the process with an unhandled 'error' event:
 * stop giving jobs to workers, say so once, and run every kernel on the calling thread.
 * Workers only take chunks once they run, so no job waits on a worker that died starting.
 */
function workerFailed(e: unknown): void {
  if (pool) Atomics.store(pool.ctl, ACTIVE, 0);
  if (workersFailed) return;
  workersFailed = true;
  const why = e instanceof Error ? e.message : String(e);
  console.warn(`cotangent: worker threads could not start (${why}); WebAssembly kernels run on the calling thread alone. Results are the same, only slower.`);
}

/** Starts workers with indices `[from, to)`: Node worker threads, or Web Workers in a cross-origin-isolated page. */
function startWorkers(s: State, from: number, to: number): Pool["ports"] {
  const g = globalThis as unknown as BrowserGlobals;
  const ports: Pool["ports"] = [];
  if (workersFailed) return ports;
  if (nodeApi) {
    for (let index = from; index < to; index++) {
      const { port1, port2 } = new nodeApi.MessageChannel();
      const w = new nodeApi.Worker(nodeWorkerSource, { eval: true, workerData: { memory: s.memory, port: port2, index }, transferList: [port2] });
      w.on("error", workerFailed);
      w.unref();
      port1.unref?.();
      ports.push(port1);
    }
  } else if (g.Worker && g.Blob && g.URL && g.crossOriginIsolated && to > from) {
    const url = g.URL.createObjectURL(new g.Blob([BROWSER_WORKER_SOURCE], { type: "text/javascript" }));
    for (let index = from; index < to; index++) {
      const w = new g.Worker(url) as { postMessage(m: unknown): void; onerror?: (e: unknown) => void };
      w.onerror = workerFailed;
      w.postMessage({ memory: s.memory, index });
      ports.push(w);
    }
  }
  for (const port of ports)
    for (const ref of s.modules.values()) {
      const m = ref.deref();
      if (m) port.postMessage(moduleMessage(m));
    }
  return ports;
}

function getPool(): Pool | null {
  if (pool !== undefined) return pool;
  pool = null;
  const s = getState();
  if (!s || !s.shared) return pool;
  const workers = Math.min((wantedThreads ?? envThreads() ?? machineThreads()) - 1, MAX_WORKERS);
  if (workers < 1) return pool;
  const ctl = new Int32Array(s.memory.buffer, 0, 64);
  let ports: Pool["ports"];
  try {
    ports = startWorkers(s, 0, workers);
  } catch {
    return pool;
  }
  if (ports.length === 0) return pool;
  let canBlock = true;
  try {
    Atomics.wait(ctl, GEN, Atomics.load(ctl, GEN) + 1, 0); // "not-equal" where blocking is allowed
  } catch {
    canBlock = false; // a browser's main thread: wait by spinning
  }
  Atomics.store(ctl, ACTIVE, ports.length);
  pool = { ctl, ports, gen: Atomics.load(ctl, GEN), canBlock };
  return pool;
}

const compiled = new WeakMap<WasmModule, WebAssembly.Module>();
function moduleMessage(m: WasmModule): unknown {
  return { id: m.id, module: compiled.get(m), names: m.names };
}

/**
 * How many threads cotangent's WebAssembly kernels (matmul, and the large kernels of
 * jitted programs) split their work over, the calling thread included. By default: the
 * machine's cores in Node, `navigator.hardwareConcurrency` in a cross-origin-isolated
 * browser page (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`), 1 elsewhere; the `COTANGENT_THREADS`
 * environment variable or {@link setThreadCount} override it. Small kernels always run
 * on the calling thread alone.
 *
 * @example
 * ```ts
 * import { threadCount } from "cotangent";
 * console.log(threadCount() >= 1); // true
 * ```
 */
export function threadCount(): number {
  const p = getPool();
  return p ? Atomics.load(p.ctl, ACTIVE) + 1 : 1;
}

/** How many chunks worker threads (not the calling thread) have run so far: a diagnostic for tests. @internal */
export function workerChunkCount(): number {
  const p = getPool();
  return p ? Atomics.load(p.ctl, WORKER_CHUNKS) : 0;
}

/**
 * Sets how many threads cotangent's WebAssembly kernels may use, the calling thread
 * included (like PyTorch's `torch.set_num_threads`); 1 runs every kernel on the calling
 * thread. Results do not depend on it: every kernel splits its work the same way and
 * combines partial results in a fixed order. Where workers cannot run (no shared memory,
 * or a worker failed to start), only 1 is possible and larger counts are ignored. A
 * count above the machine's cores (or 16) is clamped to them, with a warning: more
 * threads than cores only slows every kernel down.
 *
 * @example
 * ```ts
 * import { np, setThreadCount, threadCount } from "cotangent";
 * setThreadCount(1);
 * console.log(threadCount()); // 1
 * console.log(np.sum(np.matmul(np.ones([64, 64]), np.ones([64, 64]))).item()); // 262144
 * ```
 */
export function setThreadCount(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`setThreadCount: the thread count must be a positive integer, got ${n}. Pass 1 for the calling thread alone.`);
  const most = Math.min(machineThreads(), MAX_WORKERS + 1);
  if (n > most) {
    console.warn(
      `cotangent: setThreadCount(${n}): this machine offers ${machineThreads()} threads, so ${most} are used (more threads than cores only slow kernels down).`,
    );
    n = most;
  }
  if (workersFailed) n = 1;
  if (pool === undefined) {
    wantedThreads = n;
    return;
  }
  if (pool === null) {
    // no workers yet (started with 1 thread, or none possible): start them now if asked for more
    if (n > 1) {
      wantedThreads = n;
      pool = undefined;
      getPool();
    }
    return;
  }
  const p = pool;
  const want = Math.min(n - 1, MAX_WORKERS);
  if (want > p.ports.length) {
    try {
      p.ports.push(...startWorkers(need(), p.ports.length, want));
    } catch {
      // keep the workers there are
    }
  }
  Atomics.store(p.ctl, ACTIVE, Math.min(want, p.ports.length));
}

/**
 * Runs `mod.exports[name](chunk, ...args)` for every `chunk` in `[0, chunks)`, spread
 * over the calling thread and the worker threads, and returns when all are done. The
 * chunks must write disjoint parts of memory. `args` are i32 values (at most 16).
 * `serial` runs every chunk on the calling thread (work too small to pay for waking the
 * workers, with the same chunks and so the same results).
 */
export function parallelFor(mod: WasmModule, name: string, chunks: number, args: readonly number[], serial = false): void {
  const f = mod.exports[name];
  if (!f) throw new Error(`internal: wasm module ${mod.id} has no export ${name}`);
  if (args.length > MAX_ARGS) throw new Error(`internal: parallelFor takes at most ${MAX_ARGS} arguments`);
  if (chunks > MAX_CHUNKS) throw new Error(`internal: parallelFor takes at most ${MAX_CHUNKS} chunks`);
  const p = chunks > 1 && !serial ? getPool() : null;
  if (!p || Atomics.load(p.ctl, ACTIVE) === 0) {
    for (let c = 0; c < chunks; c++) f(c, ...args);
    return;
  }
  const ctl = p.ctl;
  ctl[TOTAL] = chunks;
  ctl[MOD] = mod.id;
  ctl[FN] = mod.names.indexOf(name);
  ctl[NARGS] = args.length;
  for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i]!;
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, ERR, 0);
  const g = (p.gen = (p.gen + 1) & 0xffff);
  Atomics.store(ctl, NEXT, g << 16);
  Atomics.store(ctl, GEN, g);
  Atomics.notify(ctl, GEN);
  let error: unknown;
  for (;;) {
    const v = Atomics.load(ctl, NEXT);
    if ((v & 0xffff) >= chunks) break;
    if (Atomics.compareExchange(ctl, NEXT, v, v + 1) !== v) continue;
    try {
      f(v & 0xffff, ...args);
    } catch (e) {
      error ??= e;
    }
    Atomics.add(ctl, DONE, 1);
  }
  for (let d; (d = Atomics.load(ctl, DONE)) < chunks; ) if (p.canBlock) Atomics.wait(ctl, DONE, d, 10);
  // Close the job before the next one overwrites its arguments: a worker that wakes late
  // may read TOTAL (and the arguments) of the next job while NEXT still holds this job's
  // generation; with the chunk index at its maximum it can never claim a chunk.
  Atomics.store(ctl, NEXT, (g << 16) | CLOSED);
  if (error !== undefined) throw error;
  if (Atomics.load(ctl, ERR)) throw new Error("internal: a WebAssembly kernel failed on a worker thread");
}
