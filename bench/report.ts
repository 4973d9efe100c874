/**
 * Turns the per-column results into markdown tables: medians, speedups of each
 * cotangent column against each peer, the hessianVectorProduct/grad cost ratio, and the
 * check values against the float64 reference.
 * @module
 */
import type { Column } from "./columns.js";
import { fmtCheck, fmtMs, fmtRatio, type MachineInfo, markdownTable, relErr } from "./harness.js";
import type { OnnxBenchResult } from "./onnx.js";
import type { Cell, ColumnResult } from "./worker.js";
import type { Workload, WorkloadId } from "./workloads.js";

export interface RunReport {
  date: string;
  mode: "full" | "quick";
  machine: MachineInfo;
  loadAfter: number[];
  commit: string;
  command: string;
  columns: Column[];
  results: ColumnResult[];
  workloads: Workload<WorkloadId>[];
  references: Partial<Record<WorkloadId, number[]>>;
  totalSeconds: number;
  /** Columns whose results were reused from an earlier sitting (--reuse). */
  reused: string[];
  /** The MLP's inference exported to ONNX and run by ONNX Runtime, against cotangent's jit (informative). */
  onnx?: OnnxBenchResult;
}

/** Footnote registry: long reasons become numbered notes under a table. */
class Notes {
  private readonly list: string[] = [];
  ref(text: string): string {
    let i = this.list.indexOf(text);
    if (i < 0) i = this.list.push(text) - 1;
    return `n/a [${i + 1}]`;
  }
  render(): string {
    return this.list.map((t, i) => `[${i + 1}] ${t}`).join("  \n");
  }
  get size(): number {
    return this.list.length;
  }
}

function cellOf(r: RunReport, col: Column, w: WorkloadId): Cell | { status: "column-unsupported"; reason: string } | undefined {
  const res = r.results.find((x) => x.column === col.id);
  if (!res) return undefined;
  if (res.unsupported) return { status: "column-unsupported", reason: res.unsupported };
  return res.cells[w];
}

function msCell(c: ReturnType<typeof cellOf>, notes: Notes): string {
  if (!c) return "—";
  if (c.status === "ok") return fmtMs(c.medianMs);
  if (c.status === "error") return notes.ref(`error: ${c.message}`);
  return notes.ref(c.reason);
}

function okMs(c: ReturnType<typeof cellOf>): number | undefined {
  return c?.status === "ok" ? c.medianMs : undefined;
}

/** The tables (no surrounding prose), as markdown. */
export function renderTables(r: RunReport): string {
  const out: string[] = [];
  const ws = r.workloads;
  const cols = r.columns;
  const ours = cols.filter((c) => c.ours && r.results.some((x) => x.column === c.id && !x.unsupported));
  const peers = cols.filter((c) => !c.ours);

  // 1. Medians.
  {
    const notes = new Notes();
    const rows = ws.map((w) => [w.title, ...cols.map((c) => msCell(cellOf(r, c, w.id), notes))]);
    out.push("### Median time per call (ms, lower is better)", "", markdownTable(["workload", ...cols.map((c) => c.label)], rows));
    if (notes.size) out.push("", notes.render());
    out.push("");
  }

  // 2. Speedups of each cotangent column against each peer.
  {
    const rows: string[][] = [];
    for (const w of ws) {
      for (const o of ours) {
        const mine = okMs(cellOf(r, o, w.id));
        if (mine === undefined) continue;
        rows.push([
          w.title,
          o.label,
          ...peers.map((p) => {
            const theirs = okMs(cellOf(r, p, w.id));
            return theirs === undefined ? "—" : fmtRatio(theirs / mine);
          }),
        ]);
      }
    }
    if (rows.length && peers.length) {
      out.push(
        "### Speedup of cotangent over each peer (peer ms ÷ cotangent ms; above 1x cotangent is faster)",
        "",
        markdownTable(["workload", "cotangent", ...peers.map((p) => `vs ${p.label}`)], rows),
        "",
      );
    }
  }

  // 3. hessianVectorProduct over grad.
  {
    const notes = new Notes();
    const rows = cols
      .filter((c) => r.results.some((x) => x.column === c.id))
      .map((c) => {
        const g = cellOf(r, c, "tanhAx-grad");
        const h = cellOf(r, c, "tanhAx-hvp");
        const gm = okMs(g);
        const hm = okMs(h);
        return [
          c.label,
          msCell(g, notes),
          msCell(h, notes),
          gm !== undefined && hm !== undefined ? fmtRatio(hm / gm) : h && h.status !== "ok" ? msCell(h, notes) : "—",
        ];
      });
    if (ws.some((w) => w.id === "tanhAx-hvp")) {
      out.push(
        "### Cost of hessianVectorProduct over grad, f(x) = sum(tanh(A x)), A 1000x1000 (lower is better; the hand-derived loop needs 3 matrix-vector products against 2)",
        "",
        markdownTable(["implementation", "grad ms", "hvp ms", "hvp / grad"], rows),
      );
      if (notes.size) out.push("", notes.render());
      out.push("");
    }
  }

  // 3b. The same MLP's inference exported to ONNX (informative).
  if (r.onnx) {
    const o = r.onnx;
    out.push(
      `### Exported to ONNX: ${o.title}, ONNX Runtime (onnxruntime-node ${o.versions["onnxruntime-node"] ?? "?"}, CPU) against cotangent jit in the same process (informative)`,
      "",
      markdownTable(
        ["cotangent jit ms", "ONNX Runtime ms", "ONNX Runtime / cotangent jit", "largest |difference| of the logits"],
        [[fmtMs(o.jitMs), fmtMs(o.onnxMs), fmtRatio(o.onnxMs / o.jitMs), o.maxDiff.toExponential(1)]],
      ),
      "",
    );
  }

  // 4. Memory of the MLP step.
  {
    const probed = cols.map((c) => ({ c, m: r.results.find((x) => x.column === c.id)?.memory })).filter((x) => x.m);
    if (probed.length) {
      const steps = probed[0]!.m!.steps;
      out.push(
        `### Memory of the MLP SGD step (a process of its own per column: resident size with the library, inputs and parameters loaded, and its peak over ${steps} steps)`,
        "",
        markdownTable(
          ["implementation", "resident before the first step (MiB)", `peak over ${steps} steps (MiB)`, "peak − before (MiB)"],
          probed.map(({ c, m }) => [c.label, m!.baseMiB.toFixed(0), m!.peakMiB.toFixed(0), (m!.peakMiB - m!.baseMiB).toFixed(0)]),
        ),
        "",
      );
    }
  }

  // 5. Structured control flow and checkpoint: first call (trace + compile + run) and steady state.
  {
    const has = (id: WorkloadId) => ws.some((w) => w.id === id);
    const firstMs = (c: ReturnType<typeof cellOf>): number | undefined => (c?.status === "ok" ? c.firstCallMs : undefined);
    const fmt = (v: number | undefined) => (v === undefined ? "—" : fmtMs(v));
    if (has("rnn-grad") && has("rnn-grad-unrolled")) {
      const present = cols.filter((c) => r.results.some((x) => x.column === c.id && !x.unsupported));
      const rows = present.flatMap((c) => [
        [c.label, "scan (cotangent) / JS loop (others)", fmt(firstMs(cellOf(r, c, "rnn-grad"))), fmt(okMs(cellOf(r, c, "rnn-grad")))],
        [c.label, "JS loop", fmt(firstMs(cellOf(r, c, "rnn-grad-unrolled"))), fmt(okMs(cellOf(r, c, "rnn-grad-unrolled")))],
      ]);
      const jit = cols.find((c) => c.id === "cotangent-jit");
      const jax = cols.find((c) => c.id === "jaxjs-jit");
      const ratios: string[] = [];
      if (jit) {
        const fs = firstMs(cellOf(r, jit, "rnn-grad"));
        const fu = firstMs(cellOf(r, jit, "rnn-grad-unrolled"));
        if (fs !== undefined && fu !== undefined) ratios.push(`first call of cotangent jit(grad): JS loop ÷ lax.scan = ${fmtRatio(fu / fs)} (target ≥ 3x)`);
        const ss = okMs(cellOf(r, jit, "rnn-grad"));
        const sj = jax ? okMs(cellOf(r, jax, "rnn-grad")) : undefined;
        if (ss !== undefined && sj !== undefined)
          ratios.push(`steady state: jax-js jit (unrolled) ÷ cotangent jit with lax.scan = ${fmtRatio(sj / ss)} (target ≥ 1.5x)`);
      }
      out.push(
        "### Elman RNN (H=64, I=32, T=200) under jit(grad): first call and steady state (ms)",
        "",
        markdownTable(["implementation", "time loop", "first call", "median"], rows),
        "",
        ...ratios.map((x) => `- ${x}`),
        "",
      );
    }
    if (has("deep-grad") && has("deep-grad-remat")) {
      const rows = ours
        .map((c) => {
          const a = okMs(cellOf(r, c, "deep-grad"));
          const b = okMs(cellOf(r, c, "deep-grad-remat"));
          return a === undefined || b === undefined ? null : [c.label, fmtMs(a), fmtMs(b), fmtRatio(b / a)];
        })
        .filter((x): x is string[] => x !== null);
      if (rows.length) {
        out.push(
          "### checkpoint on a 20-layer tanh MLP: time of grad with each layer checkpointed over without (target ≤ 1.4x; the residual memory is in the notes above)",
          "",
          markdownTable(["implementation", "grad ms", "checkpointed grad ms", "ratio"], rows),
          "",
        );
      }
    }
  }

  // 5b. Rows whose first call is part of the reading, and rates of rows with a FLOP count.
  {
    const present = cols.filter((c) => r.results.some((x) => x.column === c.id && !x.unsupported));
    const firsts = ws.filter((w) => w.firstCall);
    if (firsts.length) {
      const rows = firsts.flatMap((w) =>
        present.map((c) => {
          const cell = cellOf(r, c, w.id);
          return [w.title, c.label, cell?.status === "ok" ? fmtMs(cell.firstCallMs) : "—", cell?.status === "ok" ? fmtMs(cell.medianMs) : "—"];
        }),
      );
      out.push(
        "### First call (trace + compile + run) and steady state (ms)",
        "",
        markdownTable(["workload", "implementation", "first call", "median"], rows),
        "",
      );
    }
    const rated = ws.filter((w) => w.flops);
    if (rated.length) {
      const rows = rated.map((w) => [
        w.title,
        ...present.map((c) => {
          const ms = okMs(cellOf(r, c, w.id));
          return ms === undefined ? "—" : (w.flops! / ms / 1e6).toFixed(1);
        }),
      ]);
      out.push("### Matmul rate (GFLOP/s = 2n³ ÷ median time; higher is better)", "", markdownTable(["workload", ...present.map((c) => c.label)], rows), "");
    }
  }

  // 6. Check values against the float64 reference.
  {
    const present = cols.filter((c) => r.results.some((x) => x.column === c.id && !x.unsupported));
    const rows: string[][] = [];
    const errRows: string[][] = [];
    let bad = 0;
    for (const w of ws) {
      const ref = r.references[w.id];
      w.checks.forEach((name, k) => {
        rows.push([
          w.title,
          name,
          ref ? fmtCheck(ref[k]!) : "—",
          ...present.map((c) => {
            const cell = cellOf(r, c, w.id);
            if (cell?.status !== "ok") return "—";
            const v = cell.checks[k]!;
            const ok = ref ? relErr(v, ref[k]!) <= w.tol : true;
            if (!ok) bad++;
            return ok ? fmtCheck(v) : `${fmtCheck(v)} ✗`;
          }),
        ]);
      });
      errRows.push([
        w.title,
        w.tol.toExponential(0),
        ...present.map((c) => {
          const cell = cellOf(r, c, w.id);
          if (cell?.status !== "ok" || !ref) return "—";
          const e = Math.max(...cell.checks.map((v, k) => relErr(v, ref[k]!)));
          return `${e === 0 ? "0" : e.toExponential(1)}${e <= w.tol ? "" : " ✗"}`;
        }),
      ]);
    }
    out.push(
      "### Check values (float32 results beside the float64 reference computed from the same inputs)",
      "",
      "`r·g` and `u·C·w` are inner products with fixed random probe vectors, so a permuted or sign-flipped result shows. `|Δθ|/lr` is the size of the SGD update divided by the learning rate (equal to `|grad|` in exact arithmetic).",
      "",
      markdownTable(["workload", "check", "float64 reference", ...present.map((c) => c.label)], rows),
      "",
      "Largest relative error of the check values against the reference (✗: above the tolerance):",
      "",
      markdownTable(["workload", "tolerance", ...present.map((c) => c.label)], errRows),
      "",
      bad === 0
        ? "All check values agree with the float64 reference to float32 tolerance."
        : `**${bad} check value(s) disagree with the float64 reference (marked ✗).**`,
      "",
    );
  }
  return out.join("\n");
}

/** The machine, versions and run settings, as markdown. */
export function renderSetup(r: RunReport): string {
  const m = r.machine;
  const versions: Record<string, string> = {};
  for (const res of r.results) Object.assign(versions, res.versions);
  const notes = [...new Set(r.results.flatMap((x) => x.notes))];
  const perColumn = r.results
    .map(
      (x) =>
        `${x.column}${x.ranAt ? ` at ${x.ranAt}` : ""}${x.commit && x.column.startsWith("cotangent") ? ` (tree at ${x.commit})` : ""}${x.load ? `, load ${x.load[0]} → ${x.load[1]}` : ""}, peak RSS ${x.peakRssMiB} MiB`,
    )
    .join("; ");
  return [
    `- Date: ${r.date}; commit ${r.commit}; \`${r.command}\` (${r.mode} timing, ${r.totalSeconds.toFixed(0)} s in all${r.reused.length ? `; ${r.reused.length} of ${r.results.length} columns reused from earlier sittings, see the times below` : ""})`,
    `- CPU: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.platform}; Node ${m.node}`,
    `- Load average (1, 5, 15 min) before: ${m.loadAverage.join(", ")}; after: ${r.loadAfter.join(", ")}`,
    `- Versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    ...notes.map((n) => `- ${n}`),
    `- Each column's process (UTC time, 1-minute load average before → after, peak resident memory): ${perColumn}`,
  ].join("\n");
}
