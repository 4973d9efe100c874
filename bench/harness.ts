/**
 * Pure helpers of the benchmark harness: deterministic data, timing, check values,
 * and table formatting. Nothing here knows about any particular library.
 * @module
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { Bench } from "tinybench";

// ------------------------------------------------------------------ data

/** A small deterministic PRNG (mulberry32), so every process draws the same inputs. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` float32 values uniform in `[lo, hi)`, reproducible from `seed`. */
export function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** A float64 copy of float32 data (the reference sees exactly the same inputs). */
export function f64(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x);
}

// ------------------------------------------------------------------ check values

/** Euclidean norm, accumulated in float64. */
export function norm2(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** Inner product `<x, y>`, accumulated in float64. */
export function dot64(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`dot64: lengths differ (${x.length} vs ${y.length}).`);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

/** `u^T C w` for a row-major `m x n` matrix `C`, in float64. */
export function bilinear(u: ArrayLike<number>, c: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number): number {
  if (c.length !== m * n) throw new Error(`bilinear: C has ${c.length} entries, expected ${m}x${n}.`);
  let s = 0;
  for (let i = 0; i < m; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += c[i * n + j]! * w[j]!;
    s += u[i]! * row;
  }
  return s;
}

/** Relative error of `x` against `ref` (absolute when `ref` is 0). */
export function relErr(x: number, ref: number): number {
  if (!Number.isFinite(x)) return Infinity;
  const d = Math.abs(x - ref);
  return ref === 0 ? d : d / Math.abs(ref);
}

// ------------------------------------------------------------------ timing

export interface TimingOptions {
  /** Time budget per case in ms (tinybench keeps sampling until both limits are met). */
  timeMs: number;
  /** Minimum number of timed samples. */
  minSamples: number;
  /** Minimum number of samples for a call slower than `slowMs`. */
  minSamplesSlow: number;
  /** A call slower than this is "slow": fewer samples, no extra warm-up. */
  slowMs: number;
  /** Warm-up budget in ms (after the first, untimed call). */
  warmupMs: number;
  /** Calls shorter than this are repeated inside one sample, to stay above timer resolution. */
  minSampleMs: number;
  /**
   * A call shorter than `microMs` (microsecond-scale) is timed in samples of at least
   * `microSampleMs`: thousands of calls each, so that timer resolution, one-off scheduler
   * stalls and the garbage collections the calls cause are averaged inside every sample
   * rather than landing in a few samples (or none). The figure is then the median over
   * samples of the mean time per call, which includes the call's share of GC.
   */
  microMs: number;
  microSampleMs: number;
}

export const FULL_TIMING: TimingOptions = {
  timeMs: 1500,
  minSamples: 5,
  minSamplesSlow: 3,
  slowMs: 500,
  warmupMs: 300,
  minSampleMs: 0.5,
  microMs: 0.05,
  microSampleMs: 10,
};
/** Smoke check: a couple of samples; a call slower than 1 s is timed once, by its first call. */
export const QUICK_TIMING: TimingOptions = {
  timeMs: 100,
  minSamples: 2,
  minSamplesSlow: 0,
  slowMs: 1000,
  warmupMs: 0,
  minSampleMs: 0.2,
  microMs: 0.05,
  microSampleMs: 5,
};

export interface Timing {
  /** Median wall time of one call, ms. */
  medianMs: number;
  /** Fastest sample, ms per call. */
  minMs: number;
  /** Number of timed samples. */
  samples: number;
  /** Calls per sample (1 unless the call is too short to time alone). */
  reps: number;
}

/**
 * Number of calls to put in one timed sample so that a sample lasts at least
 * `minSampleMs`, given one call's estimated duration.
 */
export function repsFor(estimateMs: number, minSampleMs: number): number {
  if (!(estimateMs > 0)) return 1000;
  return Math.max(1, Math.min(100000, Math.ceil(minSampleMs / estimateMs)));
}

/**
 * Times `fn` with tinybench: the median of per-sample wall times, where a sample
 * repeats very short calls `reps` times. The caller has already made one untimed
 * call (compilation, first-touch allocation), described by `first`. `fn` may return
 * a promise (a library whose results are only ready asynchronously); then each call is
 * awaited.
 */
export async function measure(fn: () => void | Promise<void>, opts: TimingOptions, first: { ms: number; async: boolean }): Promise<Timing> {
  if (opts.minSamplesSlow === 0 && first.ms >= opts.slowMs) return { medianMs: first.ms, minMs: first.ms, samples: 1, reps: 1 };
  const isAsync = first.async;
  // One warm call (the first may include compilation) decides the repetition count and whether the call is slow.
  let t0 = performance.now();
  await fn();
  let est = performance.now() - t0;
  if (est < 1) {
    // A short call is estimated from batches (one call alone may include a GC or a deopt,
    // which would make a microsecond call look like a 60 µs one and put too few calls in
    // a sample); the first rounds also warm up the JIT and the allocator.
    for (let round = 0; round < 3; round++) {
      const k = Math.max(20, Math.min(2000, Math.ceil(5 / Math.max(est, 1e-4))));
      t0 = performance.now();
      for (let i = 0; i < k; i++) await fn();
      est = (performance.now() - t0) / k;
    }
  }
  const slow = est >= opts.slowMs;
  const reps = repsFor(est, est < opts.microMs ? opts.microSampleMs : opts.minSampleMs);
  const warm = !slow && opts.warmupMs > 0;
  const bench = new Bench({
    time: slow ? 0 : opts.timeMs,
    iterations: slow ? Math.max(1, opts.minSamplesSlow) : opts.minSamples,
    warmup: warm,
    warmupTime: warm ? opts.warmupMs : 0,
    warmupIterations: warm ? 2 : 0,
    throws: true,
  });
  if (isAsync) {
    bench.add("case", async () => {
      for (let i = 0; i < reps; i++) await fn();
    });
    await bench.run();
  } else {
    const sync = fn as () => void;
    bench.add(
      "case",
      reps === 1
        ? sync
        : () => {
            for (let i = 0; i < reps; i++) sync();
          },
    );
    bench.runSync();
  }
  const res = bench.tasks[0]!.result;
  if (res.state !== "completed") throw new Error(`measure: tinybench task ended in state ${res.state}${"error" in res ? `: ${res.error.message}` : ""}.`);
  return { medianMs: res.latency.p50 / reps, minMs: res.latency.min / reps, samples: res.latency.samplesCount, reps };
}

// ------------------------------------------------------------------ formatting

/** Milliseconds with about three significant digits. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  if (ms >= 0.01) return ms.toFixed(3);
  return ms.toPrecision(2);
}

/** A ratio like `2.35x`, `0.041x`. */
export function fmtRatio(r: number): string {
  if (!Number.isFinite(r) || r <= 0) return "—";
  if (r >= 100) return `${r.toFixed(0)}x`;
  if (r >= 10) return `${r.toFixed(1)}x`;
  if (r >= 0.1) return `${r.toFixed(2)}x`;
  return `${r.toPrecision(2)}x`;
}

/** A check value with enough digits to see float32-level agreement. */
export function fmtCheck(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return x.toExponential(6);
  return x.toPrecision(7);
}

/** A GitHub-flavoured markdown table. Cells are escaped for `|`. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ("l" | "r")[]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const line = (cells: readonly string[]) => `| ${cells.map(esc).join(" | ")} |`;
  const sep = header.map((_, i) => ((align?.[i] ?? (i === 0 ? "l" : "r")) === "r" ? "---:" : "---"));
  return [line(header), `|${sep.join("|")}|`, ...rows.map(line)].join("\n");
}

// ------------------------------------------------------------------ machine

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The installed version of a package (read from node_modules, which package exports may hide). */
export function packageVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
    return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

// ------------------------------------------------------------------ CLI

export interface CliOptions {
  quick: boolean;
  write: boolean;
  only: string[] | null;
  columns: string[] | null;
  out: string;
  json: string | null;
  gpu: boolean;
  /** Keep each column's raw results in this folder (instead of a temporary one). */
  saveDir: string | null;
  /** With saveDir: reuse a column's saved results instead of running it again. */
  reuse: boolean;
}

/**
 * Parses `--quick`, `--write`/`--no-write`, `--only=a,b`, `--columns=a,b`, `--out=path`,
 * `--json=path`, `--gpu`, `--save-dir=dir`, `--reuse`.
 */
export function parseCli(argv: readonly string[]): CliOptions {
  const o: CliOptions = {
    quick: false,
    write: true,
    only: null,
    columns: null,
    out: "docs/benchmarks.md",
    json: null,
    gpu: false,
    saveDir: null,
    reuse: false,
  };
  let writeSet = false;
  for (const a of argv) {
    const [k, v] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, ""];
    switch (k) {
      case "--quick":
        o.quick = true;
        break;
      case "--write":
        o.write = true;
        writeSet = true;
        break;
      case "--no-write":
        o.write = false;
        writeSet = true;
        break;
      case "--only":
        o.only = v.split(",").filter(Boolean);
        break;
      case "--columns":
        o.columns = v.split(",").filter(Boolean);
        break;
      case "--out":
        o.out = v;
        break;
      case "--json":
        o.json = v;
        break;
      case "--gpu":
        o.gpu = true;
        break;
      case "--budget":
        break; // seconds per cell of the GPU report; bench/gpu.ts reads it
      case "--save-dir":
        o.saveDir = v;
        break;
      case "--reuse":
        o.reuse = true;
        break;
      case "--help":
      case "-h":
        break;
      default:
        throw new Error(
          `bench: unknown option ${a}. Options: --quick --write --no-write --only=<workloads> --columns=<columns> --out=<file.md> --json=<file.json> --gpu --budget=<seconds> --save-dir=<dir> --reuse`,
        );
    }
  }
  if (o.reuse && !o.saveDir) throw new Error("bench: --reuse needs --save-dir=<dir> (the folder of an earlier run's per-column results).");
  // A quick or partial run is a smoke check: it prints but does not overwrite the docs unless asked.
  if (!writeSet && (o.quick || o.only || o.columns)) o.write = false;
  return o;
}
