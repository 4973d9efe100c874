/**
 * The benchmark's columns: one library in one mode each, and how to load it.
 * Each column runs in its own process (see worker.ts), so libraries never share a heap.
 * @module
 */
import type { CaseTable, Unsupported } from "./workloads.js";

export type ColumnId = "cotangent" | "cotangent-jit" | "cotangent-jit-1t" | "cotangent-gpu" | "tfjs-cpu" | "tfjs-wasm" | "jaxjs" | "jaxjs-jit" | "plain";

export interface Column {
  id: ColumnId;
  /** Table header. */
  label: string;
  /** A cotangent column (speedups are reported for these against every peer column). */
  ours: boolean;
  /** Run only when asked for (`--columns=`; `--gpu` runs the GPU report of bench/gpu.ts instead). */
  optIn?: boolean;
}

export const COLUMNS: readonly Column[] = [
  { id: "cotangent", label: "cotangent eager", ours: true },
  { id: "cotangent-jit", label: "cotangent jit", ours: true },
  // The peers run on one thread in Node; this column shows what cotangent's second core adds.
  { id: "cotangent-jit-1t", label: "cotangent jit, 1 thread", ours: true },
  // The GPU backend (gpu.js) lands in its own issue; this column runs once `setDefaultBackend`
  // is exported and `--gpu` is passed. See impls/cotangent.ts.
  { id: "cotangent-gpu", label: "cotangent gpu", ours: true, optIn: true },
  { id: "tfjs-cpu", label: "tfjs cpu" },
  { id: "tfjs-wasm", label: "tfjs wasm" },
  { id: "jaxjs", label: "jax-js eager" },
  { id: "jaxjs-jit", label: "jax-js jit" },
  { id: "plain", label: "plain JS" },
].map((c) => ({ ours: false, ...c }) as Column);

/** A loaded column: its implementations, the versions it ran, and notes for the docs. */
export interface Library {
  cases: CaseTable;
  versions: Record<string, string>;
  notes: string[];
}

/** Imports only the library a column needs (the worker process loads exactly one). */
export async function loadColumn(id: ColumnId): Promise<Library | Unsupported> {
  switch (id) {
    case "cotangent":
      return (await import("./impls/cotangent.js")).load("eager");
    case "cotangent-jit":
      return (await import("./impls/cotangent.js")).load("jit");
    case "cotangent-jit-1t":
      process.env.COTANGENT_THREADS = "1"; // read when the Wasm runtime first needs workers
      return (await import("./impls/cotangent.js")).load("jit");
    case "cotangent-gpu":
      return (await import("./impls/cotangent.js")).load("gpu");
    case "tfjs-cpu":
      return (await import("./impls/tfjs.js")).load("cpu");
    case "tfjs-wasm":
      return (await import("./impls/tfjs.js")).load("wasm");
    case "jaxjs":
      return (await import("./impls/jaxjs.js")).load("eager");
    case "jaxjs-jit":
      return (await import("./impls/jaxjs.js")).load("jit");
    case "plain":
      return (await import("./impls/plainCases.js")).load();
  }
}
