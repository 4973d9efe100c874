/**
 * Runs every selected workload for ONE column in this process and writes the results
 * as JSON. Started by run.ts once per column, so that no two libraries share a heap,
 * a JIT warm-up or a Wasm memory.
 *
 *   node --import tsx bench/worker.ts --column=<id> --workloads=<a,b,...> --out=<file> [--quick]
 * @module
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { type ColumnId, COLUMNS, loadColumn } from "./columns.js";
import { FULL_TIMING, QUICK_TIMING, measure } from "./harness.js";
import { type CaseFactory, isUnsupported, WORKLOADS, type WorkloadId } from "./workloads.js";

export type Cell =
  | { status: "ok"; medianMs: number; minMs: number; samples: number; reps: number; firstCallMs: number; checks: number[] }
  | { status: "unsupported"; reason: string }
  | { status: "error"; message: string };

export interface ColumnResult {
  column: ColumnId;
  unsupported?: string;
  versions: Record<string, string>;
  notes: string[];
  cells: Partial<Record<WorkloadId, Cell>>;
  /** Peak resident set size of this process, MiB. */
  peakRssMiB: number;
  /** When the column ran (UTC, minutes) and the 1-minute load average before and after it. */
  ranAt?: string;
  load?: [number, number];
  /** The commit the working tree was at (cotangent columns run the working tree's src/). */
  commit?: string;
  /** Memory of one workload's steps, measured in a process of its own (see {@link probeMemory}). */
  memory?: MemoryProbe;
}

/** Resident memory of a process that sets up one workload and runs its step {@link MEMORY_STEPS} times. */
export interface MemoryProbe {
  workload: WorkloadId;
  /** Resident set size after the library, the inputs and the parameters are loaded, before the first step (MiB). */
  baseMiB: number;
  /** Peak resident set size of the process over the steps (MiB). */
  peakMiB: number;
  steps: number;
}

/** Steps the memory probe runs. */
export const MEMORY_STEPS = 20;

/**
 * The memory probe: in a fresh process, load the column, build the workload's inputs and
 * case, read the resident size, run the step {@link MEMORY_STEPS} times, read the peak.
 */
async function probeMemory(column: ColumnId, id: WorkloadId): Promise<MemoryProbe | string> {
  const lib = await loadColumn(column);
  if (isUnsupported(lib)) return lib.unsupported;
  const w = WORKLOADS.find((x) => x.id === id)!;
  const factory = lib.cases[id] as CaseFactory<WorkloadId> | undefined;
  if (!factory) return "not implemented";
  const c = factory(w.data());
  if (isUnsupported(c)) return c.unsupported;
  const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10;
  const baseMiB = mib(process.memoryUsage().rss);
  for (let i = 0; i < MEMORY_STEPS; i++) await c.run();
  const peakMiB = mib(process.resourceUsage().maxRSS * 1024);
  c.dispose?.();
  return { workload: id, baseMiB, peakMiB, steps: MEMORY_STEPS };
}

function arg(name: string): string | undefined {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const column = arg("column") as ColumnId | undefined;
  const out = arg("out");
  if (!column || !COLUMNS.some((c) => c.id === column) || !out) throw new Error("worker: usage: --column=<id> --workloads=<a,b> --out=<file> [--quick]");
  const ids = (arg("workloads") ?? WORKLOADS.map((w) => w.id).join(",")).split(",");
  const memoryOf = arg("memory") as WorkloadId | undefined;
  if (memoryOf) {
    const m = await probeMemory(column, memoryOf);
    writeFileSync(out, JSON.stringify(typeof m === "string" ? { unsupported: m } : m));
    return;
  }
  const timing = process.argv.includes("--quick") ? QUICK_TIMING : FULL_TIMING;
  const load0 = loadavg()[0]!;
  const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
  const result: ColumnResult = { column, versions: {}, notes: [], cells: {}, peakRssMiB: 0, ranAt: new Date().toISOString().slice(11, 16) };
  if (head.status === 0) result.commit = head.stdout.trim();
  const lib = await loadColumn(column);
  if (isUnsupported(lib)) {
    result.unsupported = lib.unsupported;
    process.stderr.write(`  ${column.padEnd(14)} n/a (${lib.unsupported})\n`);
  } else {
    result.versions = lib.versions;
    result.notes = lib.notes;
    for (const w of WORKLOADS.filter((w) => ids.includes(w.id))) {
      const factory = lib.cases[w.id] as CaseFactory<WorkloadId> | undefined;
      if (!factory) {
        result.cells[w.id] = { status: "unsupported", reason: "not implemented" };
        continue;
      }
      process.stderr.write(`  ${column.padEnd(14)} ${w.id.padEnd(15)} `);
      try {
        const data = w.data();
        const c = factory(data);
        if (isUnsupported(c)) {
          result.cells[w.id] = { status: "unsupported", reason: c.unsupported };
          process.stderr.write(`n/a (${c.unsupported})\n`);
          continue;
        }
        const t0 = performance.now();
        const pending = c.run();
        await pending;
        const firstCallMs = performance.now() - t0;
        const checks = w.summarize(c.read(), data);
        const t = await measure(() => c.run(), timing, { ms: firstCallMs, async: pending instanceof Promise });
        c.dispose?.();
        result.cells[w.id] = { status: "ok", ...t, firstCallMs, checks };
        const rate = w.flops ? `, ${(w.flops / t.medianMs / 1e6).toFixed(1)} GFLOP/s` : "";
        process.stderr.write(`${t.medianMs.toPrecision(4)} ms (first call ${firstCallMs.toPrecision(4)} ms, ${t.samples}x${t.reps}${rate})\n`);
      } catch (e) {
        const message = e instanceof Error ? e.message.split("\n")[0]! : String(e);
        result.cells[w.id] = { status: "error", message };
        process.stderr.write(`error: ${message}\n`);
      }
    }
  }
  result.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  result.load = [Math.round(load0 * 10) / 10, Math.round(loadavg()[0]! * 10) / 10];
  writeFileSync(out, JSON.stringify(result));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`worker failed: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
