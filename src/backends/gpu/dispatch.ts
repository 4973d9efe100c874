/**
 * Running one primitive on the GPU (the GPU backend's `runEager`; the registry,
 * src/backends/registry.ts, decides where each primitive runs): uploads uncommitted
 * host arguments once, and runs the primitive as one GPU kernel ({@link gpuKernelOf}).
 * A jitted program is compiled for the GPU by the registry ({@link compileJaxprGpu}).
 *
 * Primitives without a GPU kernel — the PRNG's (threefry needs exact uint32 arithmetic,
 * which float32 textures do not have) — run on the CPU and their results stay in host
 * memory until a GPU kernel reads them. int32 arrays holding values beyond ±2^24 (PRNG
 * keys) cannot be represented on the GPU either; operations on them run on the CPU.
 * float64 never runs on the GPU: it is an Error, not a silent float32.
 * @module
 */
import { ConcreteArray, ShapedArray } from "../../core/array.js";
import { shortName } from "../../core/dtype.js";
import { fmtShape } from "../../core/shape.js";
import type { Params, Primitive } from "../../core/trace.js";
import { ClosedJaxpr } from "../../ir/jaxpr.js";
import { GpuBuffer } from "./buffer.js";
import { gpuKernelOf } from "./ops.js";
import { type GpuRuntime, MAX_GPU_ELEMENTS, gpuFailure, gpuRuntime } from "./runtime.js";

function runtimeOrThrow(op: string): GpuRuntime {
  const rt = gpuRuntime();
  if (!rt) throw new Error(`${op}: no GPU context is available (${gpuFailure()}).`);
  return rt;
}

function float64Error(op: string): Error {
  return new Error(
    `${op}: float64 arrays cannot run on the GPU backend (WebGL computes in float32, and cotangent never narrows silently). ` +
      `Convert with astype("float32"), or keep float64 work on the CPU with x.to("cpu") / setDefaultBackend("cpu").`,
  );
}

/** Host arrays already uploaded (keyed by the immutable host array). */
const uploads = new WeakMap<ConcreteArray, GpuBuffer | null>();

/**
 * Uploaded one-element host arrays by dtype and value: JS numbers become new 0-d
 * arrays at every operation, so they are uploaded once per value (least recently used
 * evicted beyond {@link SCALAR_CACHE_SIZE}).
 */
const scalars = new Map<string, GpuBuffer | null>();
const SCALAR_CACHE_SIZE = 512;

/** The GPU buffer of an argument, uploading an uncommitted host array once; null when its values cannot live on the GPU. */
export function gpuBufferOf(rt: GpuRuntime, a: ConcreteArray, op: string): GpuBuffer | null {
  if (a.device) return a.device as GpuBuffer;
  if (a.size === 1 && a.dtype !== "float64") {
    const key = `${a.dtype}:${a.buffer[0]!}`;
    let s = scalars.get(key);
    if (s === undefined) {
      s = upload(rt, a, op);
      if (scalars.size >= SCALAR_CACHE_SIZE) {
        const [oldest, buf] = scalars.entries().next().value!;
        scalars.delete(oldest);
        buf?.free();
      }
    } else scalars.delete(key);
    scalars.set(key, s);
    return s;
  }
  let b = uploads.get(a);
  if (b === undefined) {
    b = upload(rt, a, op);
    uploads.set(a, b);
  }
  return b;
}

function upload(rt: GpuRuntime, a: ConcreteArray, op: string): GpuBuffer | null {
  if (a.dtype === "float64") throw float64Error(op);
  if (a.size > MAX_GPU_ELEMENTS)
    throw new Error(
      `${op}: ${a.aval.toString()} has more than 2^24 elements, the most a GPU array can hold (flat indices are computed in float32); keep it on the CPU.`,
    );
  const data = a.buffer;
  if (a.dtype === "int32") for (let i = 0; i < data.length; i++) if (Math.abs(data[i]!) > MAX_GPU_ELEMENTS) return null;
  return new GpuBuffer(a.size === 0 ? null : rt.upload(data), a.size);
}

/** Copies an array to the GPU and commits it there (`x.to("gpu")`). */
export function moveToGpu(x: ConcreteArray, op: string): ConcreteArray {
  const rt = runtimeOrThrow(op);
  if (x.device !== null && x.committed === "gpu") return x;
  let buf: GpuBuffer;
  if (x.device) buf = (x.device as GpuBuffer).share(op);
  else {
    const b = gpuBufferOf(rt, x, op)?.share(op); // the upload of a host array is cached with it
    if (!b)
      throw new Error(
        `${op}: ${x.aval.toString()} holds integers beyond ±2^24, which float32 GPU textures cannot represent exactly (PRNG keys are such arrays); keep it on the CPU.`,
      );
    buf = b;
  }
  const c = new ConcreteArray(x.aval, x.hasHostCopy ? x.buffer : null, buf);
  c.committed = "gpu";
  return c;
}

/** Runs `prim` on the GPU; null when it must run on the CPU instead. */
export function runOnGpu(
  rt: GpuRuntime,
  prim: Primitive,
  args: readonly ConcreteArray[],
  params: Params,
  outAvals: readonly ShapedArray[],
): ConcreteArray[] | null {
  const op = prim.name;
  const impl = gpuKernelOf(prim);
  if (!impl) {
    warnHostFallback(prim, params);
    return null;
  }
  // astype("float32") of a float64 host array is how float64 data reaches the GPU: convert on the CPU
  if (op === "convert_element_type" && args[0]!.dtype === "float64" && !args[0]!.device && outAvals[0]!.dtype !== "float64") return null;
  for (const a of [...args.map((x) => x.aval), ...outAvals]) {
    if (a.dtype === "float64") throw float64Error(op);
    if (a.size > MAX_GPU_ELEMENTS)
      throw new Error(`${op}: ${shortName(a.dtype)}${fmtShape(a.shape)} has more than 2^24 elements, the most a GPU array can hold; run this on the CPU.`);
  }
  const bufs: GpuBuffer[] = [];
  for (const a of args) {
    const b = gpuBufferOf(rt, a, op);
    if (!b) return null;
    bufs.push(b);
  }
  const outs = impl(
    rt,
    bufs,
    args.map((a) => a.aval),
    params,
    outAvals,
    op,
  );
  return outs.map((b, i) => new ConcreteArray(outAvals[i]!, null, b));
}

/** Primitives whose CPU fallback the module documentation already states. */
const DOCUMENTED_HOST_PRIMITIVES = new Set(["random_bits", "random_fold_in", "random_permutation", "bits_to_unit"]);
const warnedHost = new Set<string>();

/**
 * Says once per primitive that it has no GPU kernel and runs on the CPU (its operands
 * are read back and its results uploaded again when a GPU kernel reads them), so slow
 * GPU programs are explained. Primitives that evaluate a jaxpr of their own (jit, cond,
 * scan...) are not reported: their bodies run their own primitives on the GPU.
 */
function warnHostFallback(prim: Primitive, params: Params): void {
  if (DOCUMENTED_HOST_PRIMITIVES.has(prim.name) || warnedHost.has(prim.name)) return;
  const holdsJaxpr = Object.values(params).some((v) => v instanceof ClosedJaxpr || (Array.isArray(v) && v.some((b) => b instanceof ClosedJaxpr)));
  if (holdsJaxpr) return;
  warnedHost.add(prim.name);
  console.warn(
    `cotangent: ${prim.name} has no GPU kernel yet; on the "gpu" backend it runs on the CPU, reading its operands back from the GPU (said once per primitive).`,
  );
}

/** The GPU backend's `runEager`: null when the primitive runs on the CPU instead. */
export function runEagerGpu(prim: Primitive, args: readonly ConcreteArray[], params: Params, outAvals: readonly ShapedArray[]): ConcreteArray[] | null {
  return runOnGpu(runtimeOrThrow(prim.name), prim, args, params, outAvals);
}
