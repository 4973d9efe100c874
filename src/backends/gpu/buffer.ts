/**
 * GPU buffers: a gpu.js texture owned by one array. Freed by `dispose()` / `using`, or
 * by a FinalizationRegistry when the array is garbage-collected — users never count
 * references. Arrays that share a texture (a reshape is free) hold clones of it; gpu.js
 * counts the clones and deletes the WebGL texture with the last one.
 * @module
 */
import type { ShapedArray } from "../../core/array.js";
import { type TypedArray, allocate } from "../../core/dtype.js";
import type { DeviceBuffer } from "../../core/device.js";
import { type GpuTexture, gpuRuntime } from "./runtime.js";

const registry = new FinalizationRegistry<GpuTexture>((t) => {
  live--;
  t.delete();
});
let live = 0;

/** Number of GPU buffers not yet freed (disposed or collected). */
export function liveGpuBuffers(): number {
  return live;
}

/** A texture holding one array's values (null for empty arrays). */
export class GpuBuffer implements DeviceBuffer {
  readonly backend = "gpu" as const;
  #tex: GpuTexture | null;
  #freed = false;
  constructor(
    tex: GpuTexture | null,
    /** Number of elements (the texture holds at least this many). */
    readonly size: number,
  ) {
    this.#tex = tex;
    if (tex) {
      live++;
      registry.register(this, tex, this);
    }
  }
  get freed(): boolean {
    return this.#freed;
  }
  /** The texture, for a kernel to read. */
  texture(op: string): GpuTexture | null {
    if (this.#freed)
      throw new Error(
        `${op}: an input array was disposed (its GPU memory is released); keep arrays you still use, or copy them with x.to("cpu") before dispose().`,
      );
    return this.#tex;
  }
  /** A second buffer sharing this one's texture (for free reshapes). */
  share(op: string): GpuBuffer {
    const t = this.texture(op);
    return new GpuBuffer(t ? t.clone() : null, this.size);
  }
  read(aval: ShapedArray): TypedArray {
    const out = allocate(aval.dtype, aval.size);
    const t = this.texture("reading an array");
    if (!t) return out;
    gpuRuntime()?.check("reading an array");
    const f = t.toArray();
    if (aval.dtype === "float32" || aval.dtype === "float64") out.set(f.subarray(0, aval.size));
    else if (aval.dtype === "int32") for (let i = 0; i < out.length; i++) out[i] = Math.round(f[i]!);
    else for (let i = 0; i < out.length; i++) out[i] = f[i] !== 0 ? 1 : 0;
    return out;
  }
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    if (this.#tex) {
      registry.unregister(this);
      live--;
      this.#tex.delete();
      this.#tex = null;
    }
  }
}
