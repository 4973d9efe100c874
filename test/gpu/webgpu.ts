/**
 * Replays recorded gpu.js kernels (source text, output size, input values, WebGL2
 * output) through gpu.js's webgpu mode in the page and compares the outputs. Shared by
 * test/gpu/webgpu.html; it imports nothing, so it is served to the page as is after a
 * type-stripping transpile.
 */

/** One kernel run recorded on WebGL2. */
export interface RecordedKernel {
  source: string;
  n: number;
  inputs: Float32Array[];
  output: Float32Array;
}
/** The kernels one parity case ran, and the case's WebGL2 result. */
export interface RecordedCase {
  name: string;
  webgl: { ok: boolean; message: string };
  kernels: RecordedKernel[];
}
/** One case's kernels on webgpu: how many ran and agreed, and the first failure. */
export interface ReplayResult {
  name: string;
  webglOk: boolean;
  kernels: number;
  agreed: number;
  /** Empty when every kernel agreed; else what went wrong first (a build error or a value mismatch). */
  message: string;
}

interface WebGpuKernel {
  (...args: unknown[]): Promise<Float32Array>;
}
interface GpuJs {
  GPU: new (settings: Record<string, unknown>) => { createKernel(source: string, settings: Record<string, unknown>): WebGpuKernel };
}

const ATOL = 2e-4;
const RTOL = 2e-4;

/** Runs every recorded kernel through `new GPU({ mode: "webgpu" })` and compares with WebGL2's output. */
export async function replayOnWebGpu(gpujs: GpuJs, recorded: readonly RecordedCase[], log: (line: string) => void): Promise<ReplayResult[]> {
  const gpu = new gpujs.GPU({ mode: "webgpu" });
  const cache = new Map<string, WebGpuKernel>();
  const results: ReplayResult[] = [];
  for (const c of recorded) {
    let agreed = 0;
    let message = "";
    for (const k of c.kernels) {
      const key = `${k.n}|${k.inputs.map((a) => a.length).join(",")}\n${k.source}`;
      let out: Float32Array;
      try {
        let kern = cache.get(key);
        if (!kern) cache.set(key, (kern = gpu.createKernel(k.source, { output: [k.n], precision: "single", tactic: "precision" })));
        out = await kern(...k.inputs);
      } catch (e) {
        message = `kernel threw on webgpu: ${e instanceof Error ? e.message.split("\n--- generated WGSL")[0] : String(e)}\n--- gpu.js source ---\n${k.source}`;
        break;
      }
      let bad = -1;
      for (let i = 0; i < k.n; i++) {
        const a = k.output[i]!;
        const b = out[i]!;
        if (!(Math.abs(a - b) <= ATOL + RTOL * Math.abs(a)) && !(Number.isNaN(a) && Number.isNaN(b)) && a !== b) {
          bad = i;
          break;
        }
      }
      if (bad >= 0) {
        message = `output[${bad}]: WebGL2 ${k.output[bad]} vs webgpu ${out[bad]}\n--- gpu.js source ---\n${k.source}`;
        break;
      }
      agreed++;
    }
    results.push({ name: c.name, webglOk: c.webgl.ok, kernels: c.kernels.length, agreed, message });
    log(`${message ? "FAIL" : "ok  "} ${c.name} ${agreed}/${c.kernels.length}${message ? " " + message.split("\n")[0] : ""}`);
  }
  return results;
}

/** Live texture and buffer counts after a 10-step warm-up and after every 1,000 of 10,000 more steps, and the loss before and after. */
export interface FlatLoop {
  textures: number[];
  buffers: number[];
  loss: [number, number];
}

// the library is passed in (the page imports it), so only its type is named here
type Lib = typeof import("../../src/index.js");
type Arr = import("../../src/index.js").Array;

/** A 10,000-step jitted least-squares loop on the GPU, disposing what it replaces (as test/gpu/backend.test.ts does in Node). */
export async function flatLoop(L: Lib, rt: { liveTextures(): number }, liveGpuBuffers: () => number): Promise<FlatLoop> {
  L.setDefaultBackend("gpu", { api: "webgl2" });
  try {
    const x = L.np.array(
      Array.from({ length: 32 }, (_, i) => (i % 8) / 8 - 0.5),
      { shape: [8, 4] },
    );
    const y = L.np.matmul(x, L.np.array([1, -2, 0.5, 3], { shape: [4, 1] }));
    const loss = (p: { w: Arr; b: Arr }): Arr => L.np.mean(L.np.square(L.np.matmul(x, p.w).add(p.b).sub(y)));
    const step = L.jit((p: { w: Arr; b: Arr }): [{ w: Arr; b: Arr }, Arr] => {
      const [l, g] = L.valueAndGrad(loss)(p);
      return [{ w: p.w.sub(g.w.mul(0.3)), b: p.b.sub(g.b.mul(0.3)) }, l];
    });
    let params = { w: L.np.zeros([4, 1]), b: L.np.zeros([1]) };
    const run = (n: number): number => {
      let l = NaN;
      for (let i = 0; i < n; i++) {
        const [next, li] = step(params);
        params.w.dispose();
        params.b.dispose();
        params = next;
        if (i === n - 1) l = li.item();
        li.dispose();
      }
      return l;
    };
    const first = run(10);
    const textures = [rt.liveTextures()];
    const buffers = [liveGpuBuffers()];
    let last = NaN;
    for (let k = 0; k < 10; k++) {
      last = run(1000);
      textures.push(rt.liveTextures());
      buffers.push(liveGpuBuffers());
      await new Promise((r) => setTimeout(r, 0));
    }
    return { textures, buffers, loss: [first, last] };
  } finally {
    L.setDefaultBackend("cpu");
  }
}
