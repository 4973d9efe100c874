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
import { MAX_GPU_ELEMENTS, type GpuRuntime, gpuFailure, gpuRuntime } from "./runtime.js";

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
    if (aval.dtype === "float64") throw new Error(`gpuBackend.upload: float64 data cannot live on the GPU (WebGL computes in float32); convert to float32 first.`);
    if (aval.size > MAX_GPU_ELEMENTS) throw new Error(`gpuBackend.upload: ${aval.toString()} has more than 2^24 elements, the most a GPU array can hold.`);
    return new GpuBuffer(aval.size ? runtime("upload").upload(data.subarray(0, aval.size)) : null, aval.size);
  },
  read: (buf, aval) => buf.read(aval),
  run: (kernel, inputs) => runKernel(runtime("run"), kernel, inputs, "gpuBackend.run"),
  free: (buf) => buf.free(),
  availability: gpuFailure,
  compile: compileJaxprGpu,
  runEager: runEagerGpu,
  move: moveToGpu,
};
