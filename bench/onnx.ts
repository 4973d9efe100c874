/**
 * Informative: the MLP of the `mlp-sgd` workload (784-512-512-10, batch 128, its
 * weights closed over) as an inference function, run by cotangent's `jit` and, exported
 * with `exportOnnx`, by ONNX Runtime (onnxruntime-node, CPU), in one process, one after
 * the other. Reports both medians and their ratio. Run by bench/run.ts:
 *
 *   node --import tsx bench/onnx.ts --out=<file> [--quick]
 * @module
 */
import { writeFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { type Array as A, exportOnnx, jit, np } from "../src/index.js";
import { FULL_TIMING, QUICK_TIMING, measure, packageVersion } from "./harness.js";
import { WORKLOADS } from "./workloads.js";
import type { MlpData } from "./workloads.js";

/** What the ONNX row of the report shows. */
export interface OnnxBenchResult {
  title: string;
  jitMs: number;
  onnxMs: number;
  /** Largest |difference| between the two outputs (logits). */
  maxDiff: number;
  versions: Record<string, string>;
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const outArg = process.argv.find((a) => a.startsWith("--out="));
  if (!outArg) throw new Error("bench/onnx.ts: pass --out=<file>");
  const timing = quick ? QUICK_TIMING : FULL_TIMING;
  const d = WORKLOADS.find((w) => w.id === "mlp-sgd")!.data() as MlpData;
  const layers = d.sizes.length - 1;
  const w = d.w.map((v, l) => np.reshape(np.array(v), [d.sizes[l]!, d.sizes[l + 1]!]));
  const b = d.b.map((v) => np.array(v));
  const x = np.reshape(np.array(d.x), [d.batch, d.sizes[0]!]);
  const predict = (batch: A): A => {
    let h = batch;
    for (let l = 0; l < layers; l++) {
      const z = np.add(np.matmul(h, w[l]!), b[l]!);
      h = l < layers - 1 ? np.maximum(z, 0) : z;
    }
    return h;
  };

  const jf = jit(predict);
  let t0 = performance.now();
  let mine = jf(x);
  const jitFirst = performance.now() - t0;
  const jitT = await measure(() => void (mine = jf(x)), timing, { ms: jitFirst, async: false });

  const session = await ort.InferenceSession.create(exportOnnx(predict, [x], { inputNames: ["x"], outputNames: ["logits"] }));
  const feeds = { x: new ort.Tensor("float32", d.x, [d.batch, d.sizes[0]!]) };
  let theirs: ort.Tensor | undefined;
  t0 = performance.now();
  theirs = (await session.run(feeds)).logits;
  const onnxFirst = performance.now() - t0;
  const onnxT = await measure(async () => void (theirs = (await session.run(feeds)).logits), timing, { ms: onnxFirst, async: true });

  const a = mine.data() as Float32Array;
  const t = theirs!.data as Float32Array;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - t[i]!));
  const result: OnnxBenchResult = {
    title: `MLP ${d.sizes.join("-")} inference, batch ${d.batch}`,
    jitMs: jitT.medianMs,
    onnxMs: onnxT.medianMs,
    maxDiff,
    versions: { "onnxruntime-node": packageVersion("onnxruntime-node") },
  };
  writeFileSync(outArg.slice("--out=".length), JSON.stringify(result));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
