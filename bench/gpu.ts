/**
 * `npm run bench -- --gpu`: GFLOP/s of float32 matmul (1024, 2048, 4096) and of one
 * jitted MLP training step on every GPU path present here, beside cotangent's CPU
 * backend — a few minutes on a machine with a GPU. Every result is checked (matmul:
 * u·C·w against a float64 reference; the MLP step: its loss against the CPU's) and a
 * wrong one is printed as WRONG, never as a speed.
 *
 * GPU paths: the GPU backend on the WebGL context gpu.js gets here (headless-gl in
 * Node, which needs an X display: run under `xvfb-run -a` on a headless machine);
 * WebGPU is listed with the reason it cannot run (see docs/gpu-backend.md, "WebGPU").
 * The conv block waits for `lax.conv`, which does not exist yet.
 *
 * Options: `--quick` (matmul 1024 only, shorter timing), `--budget=SECONDS` per cell
 * (default 2).
 * @module
 */
import { type Array as A, getDefaultBackend, initGpu, jit, np, setDefaultBackend, valueAndGrad } from "../src/index.js";

interface Path {
  label: string;
  /** Selects the path, or says why it cannot run here. */
  select(): string | null;
}

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const budgetMs = 1000 * Number(args.find((a) => a.startsWith("--budget="))?.slice(9) ?? (quick ? 1 : 2));
const SIZES = quick ? [1024] : [1024, 2048, 4096];

/** Deterministic float32 data in [-1, 1). */
function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Seconds per call of `run` (after one untimed call that compiles): repeated until the budget is spent, at least once. */
function timeIt(run: () => void): number {
  run();
  let reps = 0;
  const t0 = performance.now();
  do {
    run();
    reps++;
  } while (performance.now() - t0 < budgetMs);
  return (performance.now() - t0) / 1000 / reps;
}

/** u·(A B)·w in float64, in O(n^2): (uᵀA)(B w). */
function matmulReference(a: Float32Array, b: Float32Array, u: Float64Array, w: Float64Array, n: number): number {
  const uA = new Float64Array(n);
  const bw = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) uA[k]! += u[i]! * a[i * n + k]!;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) bw[k]! += b[k * n + j]! * w[j]!;
  let s = 0;
  for (let k = 0; k < n; k++) s += uA[k]! * bw[k]!;
  return s;
}

function matmulCell(n: number): string {
  const ad = uniform(n * n, n);
  const bd = uniform(n * n, n + 1);
  const a = np.array(ad, { shape: [n, n] });
  const b = np.array(bd, { shape: [n, n] });
  const u = Float64Array.from(uniform(n, 7 * n));
  const w = Float64Array.from(uniform(n, 7 * n + 1));
  const f = jit((x: A, y: A) => np.matmul(x, y));
  // reading one number forces the device to finish (WebGL queues work)
  const sec = timeIt(() => {
    const c = f(a, b);
    c.sum().item();
    c.dispose();
  });
  const c = f(a, b).data();
  let got = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += c[i * n + j]! * w[j]!;
    got += u[i]! * row;
  }
  const want = matmulReference(ad, bd, u, w, n);
  if (!(Math.abs(got - want) <= 1e-3 * (Math.abs(want) + Math.sqrt(n)))) return `WRONG (u·C·w ${got} vs ${want})`;
  return ((2 * n ** 3) / sec / 1e9).toFixed(1);
}

const MLP = { batch: 256, sizes: [784, 512, 512, 10] };
/** Multiply-adds of one step: forward, and twice that backward (input and weight gradients). */
const mlpFlops = (): number => 3 * 2 * MLP.batch * MLP.sizes.slice(1).reduce((s, m, i) => s + MLP.sizes[i]! * m, 0);

type Params = { w: A; b: A }[];
function mlpCell(reference: number | null): { cell: string; loss: number } {
  const { batch, sizes } = MLP;
  const x = np.array(uniform(batch * sizes[0]!, 11), { shape: [batch, sizes[0]!] });
  const y = np.array(uniform(batch * sizes.at(-1)!, 12), { shape: [batch, sizes.at(-1)!] });
  let params: Params = sizes
    .slice(1)
    .map((m, i) => ({ w: np.array(uniform(sizes[i]! * m, 20 + i), { shape: [sizes[i]!, m] }).mul(1 / Math.sqrt(sizes[i]!)), b: np.zeros([m]) }));
  const loss = (p: Params): A => {
    let h = x;
    p.forEach((l, i) => {
      h = np.matmul(h, l.w).add(l.b);
      if (i < p.length - 1) h = np.tanh(h);
    });
    return np.mean(np.square(h.sub(y)));
  };
  const step = jit((p: Params): [Params, A] => {
    const [l, g] = valueAndGrad(loss)(p);
    return [p.map((q, i) => ({ w: q.w.sub(g[i]!.w.mul(0.05)), b: q.b.sub(g[i]!.b.mul(0.05)) })), l];
  });
  const first = step(params)[1].item();
  const sec = timeIt(() => {
    const [next, l] = step(params);
    l.item();
    l.dispose();
    params.forEach((q) => (q.w.dispose(), q.b.dispose()));
    params = next;
  });
  if (reference !== null && !(Math.abs(first - reference) <= 1e-3 * Math.abs(reference)))
    return { cell: `WRONG (first loss ${first} vs the CPU's ${reference})`, loss: first };
  return { cell: (mlpFlops() / sec / 1e9).toFixed(1), loss: first };
}

async function main(): Promise<void> {
  const status = await initGpu();
  const paths: Path[] = [
    { label: "cotangent cpu (jit)", select: () => (setDefaultBackend("cpu"), null) },
    {
      label: `cotangent gpu (${status.api === "webgl" ? "headless-gl, WebGL1" : (status.api ?? "WebGL")})`,
      select: () => {
        if (status.api === null) return `no GPU context: ${status.reason}`;
        setDefaultBackend("gpu", { api: status.api });
        return getDefaultBackend() === "gpu" ? null : 'setDefaultBackend("gpu") fell back to the CPU';
      },
    },
    {
      label: "cotangent gpu (WebGPU)",
      select: () => {
        try {
          setDefaultBackend("gpu", { api: "webgpu" });
          return null;
        } catch (e) {
          return (e as Error).message.replace(/^setDefaultBackend\("gpu"\): \{ api: "webgpu" \}: /, "");
        }
      },
    },
  ];
  console.log(`cotangent GPU bench (${quick ? "quick" : "full"}): GFLOP/s, float32, ${budgetMs / 1000} s per cell`);
  const rows = [...SIZES.map((n) => `matmul ${n}x${n}`), `MLP step (batch ${MLP.batch}, ${MLP.sizes.join("-")}, jit)`, "conv block"];
  const columns: { label: string; cells: string[] }[] = [];
  let cpuLoss: number | null = null;
  for (const p of paths) {
    const why = p.select();
    if (why !== null) {
      columns.push({ label: p.label, cells: rows.map(() => "–") });
      console.log(`${p.label}: not run: ${why}`);
      continue;
    }
    console.log(`${p.label} ...`);
    const cells = SIZES.map((n) => matmulCell(n));
    const mlp = mlpCell(cpuLoss);
    cpuLoss ??= mlp.loss;
    cells.push(mlp.cell, "– (lax.conv does not exist yet)");
    columns.push({ label: p.label, cells });
    setDefaultBackend("cpu");
  }
  const widths = [Math.max(...rows.map((r) => r.length), 8), ...columns.map((c) => Math.max(c.label.length, ...c.cells.map((x) => x.length)))];
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log("\n" + line(["workload", ...columns.map((c) => c.label)]));
  console.log(line(widths.map((w) => "-".repeat(w))));
  rows.forEach((r, i) => console.log(line([r, ...columns.map((c) => c.cells[i]!)])));
  console.log(`\nWebGPU adapter: ${status.webgpu.adapter ? "yes" : "no"} (${status.webgpu.detail}).`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
