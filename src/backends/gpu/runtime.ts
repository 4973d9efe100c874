/**
 * The GPU runtime: one gpu.js instance on one WebGL context, a cache of compiled
 * kernels keyed by their source text, uploads and a count of live textures.
 *
 * Mode choice: in a browser WebGL2 (`canvas.getContext("webgl2")`); in Node headless-gl
 * (the `gl` package gpu.js lists as optional), which needs an X display — under CI,
 * `xvfb-run -a`. gpu.js is found as the global `GPU` (the browser bundle
 * `gpu-browser.min.js` loaded by a script tag) or, in Node, required from node_modules.
 *
 * Every kernel is a gpu.js `function (...) {}` source string compiled once per text and
 * output size, in pipeline mode with `immutable: true`: each run returns a new texture
 * that the caller owns and deletes (see {@link GpuBuffer}).
 * @module
 */

/** The parts of a gpu.js texture this backend uses. */
export interface GpuTexture {
  toArray(): Float32Array;
  delete(): void;
  clone(): GpuTexture;
}
/** A compiled gpu.js kernel (pipeline mode: returns a texture). */
export interface GpuKernel {
  (...args: unknown[]): GpuTexture;
  setOutput(output: number[]): GpuKernel;
}
interface GpuJsInstance {
  createKernel(source: string, settings: Record<string, unknown>): GpuKernel;
}
interface GpuJsModule {
  GPU: new (settings: Record<string, unknown>) => GpuJsInstance;
}
interface GlLike {
  createTexture(): unknown;
  deleteTexture(t: unknown): void;
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
  isContextLost?(): boolean;
  MAX_TEXTURE_SIZE: number;
  MAX_TEXTURE_IMAGE_UNITS: number;
}

/**
 * The graphics APIs gpu.js offers, as `setDefaultBackend("gpu", { api })` names them:
 * `"webgl2"` (a browser's WebGL2), `"webgl"` (WebGL1: headless-gl in Node) and
 * `"webgpu"` (gpu.js's compute-shader mode, which the backend cannot use yet: see docs/gpu-backend.md, "WebGPU").
 */
export type GpuApi = "webgpu" | "webgl2" | "webgl";
/** Every {@link GpuApi}, in order of preference. */
export const GPU_APIS: readonly GpuApi[] = ["webgpu", "webgl2", "webgl"];
/** The API each runtime mode runs on. */
export const API_OF_MODE = { webgl2: "webgl2", headlessgl: "webgl" } as const satisfies Record<GpuRuntime["mode"], GpuApi>;

/**
 * Why the backend cannot run on WebGPU even where an adapter exists: gpu.js's webgpu
 * kernels return Promises (every run, even in pipeline mode) and read back through
 * `mapAsync`, while the backend interface and the array API (`x.toJs()`, a primitive's
 * CPU fallback reading its inputs) read synchronously. The generated kernels themselves
 * do run on gpu.js's webgpu mode (test/gpu/webgpu.test.ts replays them).
 */
export const WEBGPU_SYNC_READ =
  "gpu.js's webgpu kernels return Promises and read results back asynchronously (mapAsync), while cotangent reads arrays synchronously (x.toJs()); " +
  "the GPU backend cannot run on WebGPU yet";

/** What {@link probeWebGpu} found: whether a WebGPU adapter exists, and its description or why not. */
export interface WebGpuProbe {
  readonly adapter: boolean;
  /** The adapter's vendor and architecture (e.g. "google swiftshader"), or why there is none. */
  readonly detail: string;
}
let webgpuProbe: WebGpuProbe | null = null;

/** The result of the last {@link probeWebGpu}, or null when it has not run. */
export function webGpuProbe(): WebGpuProbe | null {
  return webgpuProbe;
}

interface NavigatorGpu {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

/** Asks for a WebGPU adapter (asynchronous, as WebGPU is); remembers and returns the answer. */
export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: NavigatorGpu } }).navigator?.gpu;
  if (!gpu) {
    webgpuProbe = { adapter: false, detail: "navigator.gpu is missing (Node, or a browser without WebGPU)" };
  } else {
    try {
      const a = await gpu.requestAdapter();
      webgpuProbe = a
        ? { adapter: true, detail: [a.info?.vendor, a.info?.architecture, a.info?.description].filter((x) => x).join(" ") || "an adapter" }
        : { adapter: false, detail: "navigator.gpu.requestAdapter() gave no adapter (headless Chromium gives one only with --enable-unsafe-webgpu)" };
    } catch (e) {
      webgpuProbe = { adapter: false, detail: `navigator.gpu.requestAdapter() threw: ${e instanceof Error ? e.message : String(e)}` };
    }
  }
  return webgpuProbe;
}

/** Arrays on the GPU are indexed with float32 arithmetic: flat indices must stay exact. */
export const MAX_GPU_ELEMENTS = 1 << 24;

/** A live GPU context. */
export interface GpuRuntime {
  /** `"webgl2"` in a browser, `"headlessgl"` in Node. */
  readonly mode: "webgl2" | "headlessgl";
  /**
   * The compiled kernel for `source` with `n` outputs reading textures of `argSizes`
   * elements (gpu.js bakes argument texture sizes into the shader, so they are part of
   * the cache key with the source text and the output size).
   */
  kernel(source: string, n: number, argSizes: readonly number[]): GpuKernel;
  /** A texture holding `data` (converted to float32). */
  upload(data: ArrayLike<number>): GpuTexture;
  /** Live WebGL textures (every texture gpu.js created and has not deleted). */
  liveTextures(): number;
  /** Number of distinct kernels compiled so far. */
  kernelCount(): number;
  /** The most input textures one kernel may read (the context's texture units, less one to spare). */
  readonly maxInputs: number;
  /** Why the context cannot be used any more (it was lost), or null while it can. */
  lost(): string | null;
  /** Throws an Error naming `op` and the backend when the context was lost: a lost context reads back zeros, never an answer. */
  check(op: string): void;
}

let runtime: GpuRuntime | null = null;
let failure: string | null = null;
let tried = false;

/** The GPU runtime, created on first use; null when no GPU context can be had (see {@link gpuFailure}). */
export function gpuRuntime(): GpuRuntime | null {
  if (!tried) {
    tried = true;
    try {
      runtime = createRuntime();
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
  }
  return runtime;
}

/** Why no GPU context exists (or the one there was is lost), or null when one can be used. */
export function gpuFailure(): string | null {
  gpuRuntime();
  return failure ?? runtime?.lost() ?? null;
}

type NodeProcess = { getBuiltinModule?: (name: string) => unknown; env?: Record<string, string | undefined>; platform?: string };

function nodeRequire(): ((id: string) => unknown) | null {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (!proc?.getBuiltinModule) return null;
  const mod = proc.getBuiltinModule("module") as { createRequire(from: string): ((id: string) => unknown) & { resolve(id: string): string } };
  return mod.createRequire(import.meta.url);
}

function loadGpuJs(): GpuJsModule {
  const g = (globalThis as unknown as { GPU?: GpuJsModule }).GPU;
  if (g && typeof g.GPU === "function") return g;
  const req = nodeRequire();
  if (!req) throw new Error('gpu.js is not loaded: add <script src="gpu-browser.min.js"> (from the gpu.js package) before importing cotangent');
  try {
    return req("gpu.js") as GpuJsModule;
  } catch (e) {
    throw new Error(`the gpu.js package cannot be loaded (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); install it with npm install gpu.js`);
  }
}

/** Counts textures created and deleted through the context. */
function instrument(gl: GlLike): { live(): number } {
  let live = 0;
  const create = gl.createTexture.bind(gl);
  const del = gl.deleteTexture.bind(gl);
  gl.createTexture = () => {
    const t = create();
    if (t) live++;
    return t;
  };
  gl.deleteTexture = (t: unknown) => {
    if (t) live--;
    del(t);
  };
  return { live: () => live };
}

function createContext(): { mode: "webgl2" | "headlessgl"; gl: GlLike; settings: Record<string, unknown> } {
  const doc = (globalThis as { document?: { createElement(tag: string): { getContext(kind: string, opts: object): unknown } } }).document;
  if (doc && typeof (globalThis as { WebGL2RenderingContext?: unknown }).WebGL2RenderingContext !== "undefined") {
    const canvas = doc.createElement("canvas");
    const gl = canvas.getContext("webgl2", {
      premultipliedAlpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      preserveDrawingBuffer: false,
    }) as GlLike | null;
    if (!gl) throw new Error("this browser did not give a WebGL2 context");
    if (!gl.getExtension("EXT_color_buffer_float"))
      throw new Error("this browser's WebGL2 cannot render to float textures (EXT_color_buffer_float is missing)");
    return { mode: "webgl2", gl, settings: { mode: "webgl2", canvas, context: gl } };
  }
  if (doc) throw new Error("this browser has no WebGL2");
  const req = nodeRequire();
  if (!req) throw new Error("neither a browser with WebGL2 nor Node with headless-gl");
  let createGl: (w: number, h: number, o: object) => GlLike | null;
  try {
    const gpujsPath = (req as unknown as { resolve(id: string): string }).resolve("gpu.js");
    const proc = (globalThis as { process?: NodeProcess }).process!;
    const mod = proc.getBuiltinModule!("module") as { createRequire(from: string): (id: string) => unknown };
    createGl = mod.createRequire(gpujsPath)("gl") as typeof createGl;
  } catch (e) {
    throw new Error(
      `headless-gl (the optional "gl" package of gpu.js) is not installed or did not build (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); on Debian install libxi-dev, libgl-dev, python3, make and g++, then npm install`,
    );
  }
  const env = (globalThis as { process?: NodeProcess }).process?.env ?? {};
  if (!env.DISPLAY) throw new Error("Node has no X display for headless-gl (DISPLAY is unset); run under `xvfb-run -a`");
  const gl = createGl(1, 1, { preserveDrawingBuffer: true });
  if (!gl) throw new Error(`headless-gl could not create a WebGL context on display ${env.DISPLAY}`);
  if (!gl.getExtension("OES_texture_float")) throw new Error("headless-gl has no float textures (OES_texture_float)");
  return { mode: "headlessgl", gl, settings: { mode: "headlessgl", context: gl } };
}

const KERNEL_SETTINGS = { pipeline: true, immutable: true, precision: "single", tactic: "precision", optimizeFloatMemory: false };

function createRuntime(): GpuRuntime {
  const gpujs = loadGpuJs();
  const { mode, gl, settings } = createContext();
  const counter = instrument(gl);
  const gpu = new gpujs.GPU(settings);
  const cache = new Map<string, GpuKernel>();
  let uploader: GpuKernel | null = null;
  const maxSize = Number(gl.getParameter(gl.MAX_TEXTURE_SIZE));
  const rt: GpuRuntime = {
    mode,
    kernel(source, n, argSizes) {
      rt.check("running a GPU kernel");
      const key = `${n}|${argSizes.join(",")}\n${source}`;
      let k = cache.get(key);
      if (!k) {
        k = gpu.createKernel(source, { ...KERNEL_SETTINGS, output: [n] });
        cache.set(key, k);
      }
      return k;
    },
    upload(data) {
      rt.check("uploading an array to the GPU");
      const n = data.length;
      uploader ??= gpu.createKernel("function (a) { return a[this.thread.x]; }", {
        ...KERNEL_SETTINGS,
        output: [1],
        dynamicOutput: true,
        dynamicArguments: true,
      });
      uploader.setOutput([n]);
      return uploader(data instanceof Float32Array ? data : Float32Array.from(data));
    },
    liveTextures: () => counter.live(),
    lost: () => (gl.isContextLost?.() ? `the ${mode} context was lost (the browser or driver reclaimed the GPU)` : null),
    check(op) {
      const why = rt.lost();
      if (why !== null)
        throw new Error(
          `${op}: the GPU backend (gpu.js on ${mode}) cannot be used: ${why}. Arrays that lived on the GPU are gone and cannot be read back; ` +
            `recompute them on the CPU: setDefaultBackend("cpu") and run again from host arrays (np.array(...)).`,
        );
    },
    maxInputs: Number(gl.getParameter(gl.MAX_TEXTURE_IMAGE_UNITS)) - 1,
    kernelCount: () => cache.size,
  };
  // a smoke test: a context that cannot run a float kernel is no GPU backend at all
  const probe = rt.upload([1.5, -2]);
  const back = probe.toArray();
  probe.delete();
  if (back[0] !== 1.5 || back[1] !== -2) throw new Error(`the ${mode} context returned wrong values from a float texture (max texture size ${maxSize})`);
  return rt;
}
