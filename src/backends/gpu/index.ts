/**
 * The GPU backend: {@link Backend} over gpu.js textures: eager primitives as one GPU
 * kernel each (dispatch.ts, ops.ts), jitted programs as sequences of fused kernels
 * (compile.ts).
 * @module
 */
import type { Backend } from "../backend.js";
import { GpuBuffer } from "./buffer.js";
import { compileJaxprGpu } from "./compile.js";
import { moveToGpu, runEagerGpu } from "./dispatch.js";
import { runKernel } from "./ops.js";
import {
  API_OF_MODE,
  GPU_APIS,
  type GpuApi,
  MAX_GPU_ELEMENTS,
  type GpuRuntime,
  WEBGPU_SYNC_READ,
  gpuFailure,
  gpuRuntime,
  probeWebGpu,
  webGpuProbe,
} from "./runtime.js";

export type { GpuApi } from "./runtime.js";

function runtime(op: string): GpuRuntime {
  const rt = gpuRuntime();
  if (!rt) throw new Error(`gpuBackend.${op}: no GPU context is available (${gpuFailure()}).`);
  return rt;
}

/** The GPU backend: buffers are textures, kernels compile to gpu.js kernel source. */
export const gpuBackend: Backend<GpuBuffer> = {
  name: "gpu",
  allocate(aval) {
    return gpuBackend.upload(new Float32Array(aval.size), aval);
  },
  upload(data, aval) {
    if (aval.dtype === "float64")
      throw new Error(`gpuBackend.upload: float64 data cannot live on the GPU (WebGL computes in float32); convert to float32 first.`);
    if (aval.size > MAX_GPU_ELEMENTS) throw new Error(`gpuBackend.upload: ${aval.toString()} has more than 2^24 elements, the most a GPU array can hold.`);
    return new GpuBuffer(aval.size ? runtime("upload").upload(data.subarray(0, aval.size)) : null, aval.size);
  },
  read: (buf, aval) => buf.read(aval),
  run: (kernel, inputs) => runKernel(runtime("run"), kernel, inputs, "gpuBackend.run"),
  free: (buf) => buf.free(),
  availability: gpuFailure,
  options: { keys: ["api"], example: '{ api: "webgl2" }' },
  select: selectApi,
  compile: compileJaxprGpu,
  runEager: runEagerGpu,
  move: moveToGpu,
};

/** What {@link initGpu} found. */
export interface GpuStatus {
  /** The API `setDefaultBackend("gpu")` runs on here (`"webgl2"` in a browser, `"webgl"`: headless-gl in Node), or null when no GPU context can be had (the CPU is then used). */
  readonly api: GpuApi | null;
  /** Why `api` is null (null when it is not). */
  readonly reason: string | null;
  /** Whether a WebGPU adapter exists here, with its description or why there is none. The backend does not run on it yet: see docs/gpu-backend.md. */
  readonly webgpu: { readonly adapter: boolean; readonly detail: string };
}

/**
 * Finds out which GPU APIs can be used here. WebGPU adapter detection is asynchronous,
 * so it happens here, once, rather than inside the synchronous `setDefaultBackend`;
 * `setDefaultBackend("gpu", { api: "webgpu" })` needs it first. The WebGL context
 * (WebGL2 in a browser, headless-gl in Node) is created here too, so its failure shows
 * early.
 *
 * @example
 * ```ts
 * import { initGpu } from "cotangent";
 * const status = await initGpu();
 * console.log(status.webgpu.adapter); // false
 * ```
 */
export async function initGpu(): Promise<GpuStatus> {
  const webgpu = await probeWebGpu();
  const reason = gpuFailure();
  const rt = reason === null ? gpuRuntime() : null;
  return { api: rt ? API_OF_MODE[rt.mode] : null, reason, webgpu: { adapter: webgpu.adapter, detail: webgpu.detail } };
}

const isApi = (a: unknown): a is GpuApi => typeof a === "string" && (GPU_APIS as readonly string[]).includes(a);

/** `setDefaultBackend("gpu", { api })`: no api → whichever WebGL context exists (null, or why none); a pinned api → null, or an Error saying why it cannot be had. */
function selectApi(opts: Readonly<Record<string, unknown>>, op: string): string | null {
  const api = opts.api;
  if (api === undefined) return gpuFailure();
  if (!isApi(api)) throw new Error(`${op}: unknown api ${JSON.stringify(api)}; use ${GPU_APIS.map((a) => JSON.stringify(a)).join(", ")} (or omit api).`);
  const pin = `{ api: ${JSON.stringify(api)} }`;
  if (api === "webgpu") {
    const p = webGpuProbe();
    if (!p) throw new Error(`${op}: ${pin}: WebGPU adapter detection is asynchronous: call \`await initGpu()\` first.`);
    if (!p.adapter) throw new Error(`${op}: ${pin}: no WebGPU here: ${p.detail}. Omit api (WebGL2 or headless-gl, else the CPU), or pin { api: "webgl2" }.`);
    throw new Error(
      `${op}: ${pin}: a WebGPU adapter exists (${p.detail}), but ${WEBGPU_SYNC_READ}. Pin { api: "webgl2" } (in Node { api: "webgl" }) or omit api.`,
    );
  }
  const why = gpuFailure();
  if (why !== null) throw new Error(`${op}: ${pin}: no GPU context is available (${why}).`);
  const have = API_OF_MODE[gpuRuntime()!.mode];
  if (have !== api) {
    const hint = have === "webgl" ? "in Node the GPU backend runs on headless-gl, which is WebGL1" : "in a browser the GPU backend runs on WebGL2 only";
    throw new Error(`${op}: ${pin} is not available: ${hint}; pin { api: ${JSON.stringify(have)} } or omit api.`);
  }
  return null;
}
