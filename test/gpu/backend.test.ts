/**
 * The GPU backend's contract: arrays stay on the GPU between kernels and are read back
 * only when their values are asked for; kernels are compiled once per source text;
 * memory is released by dispose()/using and by the garbage collector, and a long
 * training loop does not grow it; placement and mixing rules; float64 is an error;
 * without a display the backend says so once and uses the CPU.
 */
import { spawnSync } from "node:child_process";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  ConcreteArray,
  ShapedArray,
  devicePut,
  getDefaultBackend,
  grad,
  initGpu,
  jit,
  lax,
  np,
  random,
  setDefaultBackend,
  tree,
  valueAndGrad,
} from "../../src/index.js";
import type { Backend } from "../../src/backends/backend.js";
import { cpuBackend } from "../../src/backends/cpu/index.js";
import { GpuBuffer, liveGpuBuffers } from "../../src/backends/gpu/buffer.js";
import { gpuBackend } from "../../src/backends/gpu/index.js";
import { KernelBuilder } from "../../src/kernel/builder.js";
import { gpuRuntime } from "../../src/backends/gpu/runtime.js";
import { ensureDisplay } from "./display.js";

type A = np.Array;
beforeAll(ensureDisplay);
afterEach(() => setDefaultBackend("cpu"));

const rt = () => {
  const r = gpuRuntime();
  if (!r) throw new Error("no GPU runtime");
  return r;
};
const concrete = (x: A): ConcreteArray => x as ConcreteArray;

describe("arrays on the GPU", () => {
  it("stay on the GPU between kernels and are read back only by data()/toJs()/item()", () => {
    setDefaultBackend("gpu");
    const read = vi.spyOn(GpuBuffer.prototype, "read");
    const x = np.array([0, 1, 2, 3]);
    const y = x.sin().mul(2).add(1).reshape([2, 2]).T.sum({ axis: 0 });
    expect(y.backend).toBe("gpu");
    expect(concrete(y).device).not.toBeNull();
    expect(concrete(y).hasHostCopy).toBe(false);
    expect(read).not.toHaveBeenCalled();
    const expected = [0, 1, 2, 3].map((v) => 2 * Math.sin(v) + 1);
    const got = y.toJs() as number[];
    expect(read).toHaveBeenCalledTimes(1);
    expect(got[0]).toBeCloseTo(expected[0]! + expected[1]!, 5);
    expect(got[1]).toBeCloseTo(expected[2]! + expected[3]!, 5);
    y.data();
    y.item === undefined || expect(() => y.item()).toThrow(/one element/);
    expect(read).toHaveBeenCalledTimes(1); // the host copy is kept
    expect(np.sum(y).item()).toBeCloseTo(got[0]! + got[1]!, 5);
    read.mockRestore();
  });

  it("compiles each kernel once per source text", () => {
    setDefaultBackend("gpu");
    const f = (x: A) => np.exp(x.mul(3)).sum();
    f(np.array([1, 2, 3])).item();
    const n = rt().kernelCount();
    for (let i = 0; i < 5; i++) f(np.array([i, 2, 3])).item();
    expect(rt().kernelCount()).toBe(n);
  });

  it("runs jitted programs as fused kernels on the GPU", () => {
    setDefaultBackend("gpu");
    const f = jit((x: A, y: A) => np.sum(np.tanh(x.mul(y).add(1)), { axis: 1 }));
    const x = np.array([
      [1, 2],
      [3, 4],
    ]);
    const y = np.array([
      [0.5, -0.5],
      [0.1, 0.2],
    ]);
    const before = rt().kernelCount();
    const out = f(x, y);
    // one fused kernel (multiply, add, tanh and the sum in a single loop), compiled once
    expect(rt().kernelCount() - before).toBe(1);
    expect(out.backend).toBe("gpu");
    for (let i = 0; i < 3; i++) expect(f(x, y).backend).toBe("gpu");
    expect(rt().kernelCount() - before).toBe(1);
    expect(out.toJs()).toEqual([Math.tanh(1.5) + Math.tanh(0), Math.tanh(1.3) + Math.tanh(1.8)].map((v) => expect.closeTo(v, 5)));
  });

  it("maximum, minimum and the max/min reductions propagate NaN (as JAX), eager and jitted", () => {
    setDefaultBackend("gpu");
    const xs = [NaN, 1, 2, 5, NaN];
    const ys = [0, NaN, 3, 4, NaN];
    const x = np.array(xs);
    const y = np.array(ys);
    /** `g(scale * x, y)` elementwise, NaN where either operand is NaN. */
    const ref = (g: (a: number, b: number) => number, scale: number): number[] =>
      xs.map((a, i) => (Number.isNaN(a) || Number.isNaN(ys[i]!) ? NaN : g(scale * a, ys[i]!)));
    for (const [f, g] of [
      [np.maximum, Math.max],
      [np.minimum, Math.min],
    ] as const) {
      const eager = f(x, y);
      expect(eager.backend).toBe("gpu");
      expect(Array.from(eager.data())).toEqual(ref(g, 1));
      expect(Array.from(f(y, x).data())).toEqual(ref(g, 1));
      const jitted = jit((u: A, v: A) => np.add(f(np.multiply(u, 2), v), 0))(x, y);
      expect(jitted.backend).toBe("gpu");
      expect(Array.from(jitted.data())).toEqual(ref(g, 2));
    }
    expect(np.max(x).item()).toBeNaN();
    expect(np.min(y).item()).toBeNaN();
    expect(np.max(np.array([1, 3, 2])).item()).toBe(3);
    expect(jit((u: A) => np.max(np.multiply(u, 2)))(x).item()).toBeNaN();
    // a negative base to a non-integer power is NaN too
    const p = np.power(np.array([-8, 4, -8]), np.array([0.5, 0.5, 3]));
    expect(p.backend).toBe("gpu");
    expect(Array.from(p.data())).toEqual([NaN, 2, -512]);
    // and a NaN constant in a kernel is NaN
    const w = np.where(np.greater(np.array([1, -1, 2]), 0), np.array([5, 6, 7]), NaN);
    expect(w.backend).toBe("gpu");
    expect(Array.from(w.data())).toEqual([5, NaN, 7]);
    expect(Array.from(jit((u: A) => np.where(np.greater(u, 0), np.multiply(u, 2), NaN))(np.array([1, -1, 2])).data())).toEqual([2, NaN, 4]);
  });
});

describe("freeing GPU memory", () => {
  it("dispose() and `using` release the buffer now; a disposed array cannot be used", () => {
    setDefaultBackend("gpu");
    const x = np.array([1, 2, 3]).mul(2);
    const buffers = liveGpuBuffers();
    x.dispose();
    expect(liveGpuBuffers()).toBe(buffers - 1);
    x.dispose(); // twice is harmless
    expect(liveGpuBuffers()).toBe(buffers - 1);
    expect(() => x.add(1)).toThrow(/disposed/);
    // the WebGL texture itself is reused: running the same kernel again allocates none
    const textures = rt().liveTextures();
    const again = np.array([1, 2, 3]).mul(2);
    again.dispose();
    expect(rt().liveTextures()).toBe(textures + 1); // the upload of the new host array (freed with it); the scalar 2 is uploaded once
    const src = np.array([4, 5]).add(0);
    const before = liveGpuBuffers();
    {
      using y = src.add(1);
      expect(liveGpuBuffers()).toBe(before + 1);
      expect(y.backend).toBe("gpu");
    }
    expect(liveGpuBuffers()).toBe(before);
  });

  it("a 10,000-step jitted training loop does not grow GPU memory", () => {
    setDefaultBackend("gpu");
    const x = np.array(
      Array.from({ length: 16 * 3 }, (_, i) => Math.sin(i)),
      { shape: [16, 3] },
    );
    const y = np.sum(np.square(x), { axis: 1, keepdims: true });
    const loss = (p: { w: A; b: A }) => np.mean(np.square(np.matmul(x, p.w).add(p.b).sub(y)));
    const step = jit((p: { w: A; b: A }) => {
      const [l, g] = valueAndGrad(loss)(p);
      return [tree.map((a: A, d: A) => a.sub(d.mul(0.05)), p, g), l] as [{ w: A; b: A }, A];
    });
    let params = { w: np.zeros([3, 1]), b: np.zeros([1]) };
    const first = loss(params).item();
    const run = (n: number): number => {
      let l = NaN;
      for (let i = 0; i < n; i++) {
        const [next, li] = step(params);
        tree.leaves(params).forEach((a) => (a as A).dispose());
        params = next;
        if (i === n - 1) l = li.item();
        li.dispose();
      }
      return l;
    };
    run(10); // warm-up: kernels compiled, constants uploaded
    const textures = rt().liveTextures();
    const buffers = liveGpuBuffers();
    const last = run(10_000);
    expect(rt().liveTextures()).toBe(textures);
    expect(liveGpuBuffers()).toBe(buffers);
    expect(last).toBeLessThan(first / 10);
  }, 120_000);

  it("textures of collected arrays are freed by the FinalizationRegistry", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    setDefaultBackend("gpu");
    const f = jit((x: A) => np.tanh(x).mul(0.5).add(0.1));
    let x: A = np.ones([64]);
    for (let i = 0; i < 3; i++) x = f(x); // warm-up (gpu.js keeps one reference per kernel argument fed back into it)
    const settle = async () => {
      for (let k = 0; k < 3; k++) {
        gc();
        await new Promise((r) => setTimeout(r, 0));
      }
    };
    await settle();
    const textures = rt().liveTextures();
    for (let i = 0; i < 2000; i++) x = f(x); // no dispose: the old arrays become garbage
    expect(rt().liveTextures()).toBeGreaterThan(textures + 1000); // still held: this loop never yielded
    await settle();
    expect(rt().liveTextures()).toBe(textures);
    expect(x.backend).toBe("gpu");
  });
});

describe("placement", () => {
  it("np.array(x, { backend }) and x.to() commit arrays; results of committed arrays stay committed", () => {
    const g = np.array([1, 2], { backend: "gpu" });
    expect(g.backend).toBe("gpu");
    expect(concrete(g).committed).toBe("gpu");
    const h = g.mul(3); // default backend is the CPU, but g is committed to the GPU
    expect(h.backend).toBe("gpu");
    expect(concrete(h).committed).toBe("gpu");
    expect(h.toJs()).toEqual([3, 6]);
    const c = h.to("cpu");
    expect(c.backend).toBe("cpu");
    expect(concrete(c).device).toBeNull();
    expect(c.add(1).toJs()).toEqual([4, 7]);
  });

  it("mixing arrays committed to different backends is an error naming both and the fix", () => {
    const g = np.array([1, 2], { backend: "gpu" });
    const c = np.array([3, 4], { backend: "cpu" });
    expect(() => np.add(g, c)).toThrow(/committed to different backends.*gpu.*cpu.*to\("gpu"\)/s);
    expect(np.add(g, c.to("gpu")).toJs()).toEqual([4, 6]);
    expect(np.add(g.to("cpu"), c).toJs()).toEqual([4, 6]);
  });

  it("uncommitted arrays and JS numbers move to where the operation runs", () => {
    const g = np.array([1, 2], { backend: "gpu" });
    const host = np.array([10, 20]);
    const r = g.add(host).mul(2);
    expect(r.backend).toBe("gpu");
    expect(r.toJs()).toEqual([22, 44]);
    setDefaultBackend("gpu");
    const c = np.array([1, 2], { backend: "cpu" }).add(np.array([1, 1]));
    expect(c.backend).toBe("cpu"); // committed to the CPU wins over the default
  });

  it("jit(f, { backend }) runs on that backend whatever the arguments' placement", () => {
    const f = jit((x: A, k: number) => np.sum(np.multiply(x, k)), { backend: "gpu", staticArgnums: [1] });
    const x = np.array([1, 2, 3]); // an uncommitted CPU array; the default backend is the CPU
    const before = rt().kernelCount();
    const y = f(x, 2);
    expect(y.backend).toBe("gpu");
    expect(y.item()).toBe(12);
    expect(rt().kernelCount()).toBeGreaterThan(before);
    const c = jit((x: A) => np.sum(x), { backend: "cpu" })(np.array([1, 2], { backend: "gpu" }));
    expect(c.backend).toBe("cpu");
    expect(c.item()).toBe(3);
  });

  it("devicePut moves every array of a pytree", () => {
    const params = devicePut({ w: np.ones([2, 2]), b: [np.zeros([2]), 3] }, "gpu");
    expect(params.w.backend).toBe("gpu");
    expect((params.b[0] as A).backend).toBe("gpu");
    expect(params.b[1]).toBe(3);
    const g = grad((p: typeof params) => np.sum(np.matmul(p.w, p.b[0] as A).add(1)))(params);
    expect(g.w.backend).toBe("gpu");
    expect(g.w.toJs()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(devicePut(params, "cpu").w.backend).toBe("cpu");
  });

  it("float64 on the GPU is an error, never a silent float32", () => {
    expect(() => np.array([1, 2], { dtype: "float64", backend: "gpu" })).toThrow(/float64.*GPU.*astype\("float32"\)/s);
    setDefaultBackend("gpu");
    const x = np.array([0.5, 1], { dtype: "float64" });
    expect(() => np.sin(x)).toThrow(/sin: float64 arrays cannot run on the GPU/);
    expect(np.sin(x.astype("float32")).backend).toBe("gpu");
    expect(np.sin(x.to("cpu")).dtype).toBe("float64");
  });

  it("PRNG keys (integers beyond 2^24) stay on the CPU; the numbers match the CPU backend", () => {
    const cpu = random.normal(random.key(7), [4]).toJs();
    setDefaultBackend("gpu");
    const key = random.key(7);
    expect(random.normal(key, [4]).toJs()).toEqual(cpu);
    const [, k1] = random.split(key, 3);
    expect(k1.data().some((v) => Math.abs(v) > 2 ** 24)).toBe(true);
    expect(() => k1.to("gpu")).toThrow(/2\^24/);
    const onGpu = random.uniform(k1, [3]).toJs();
    setDefaultBackend("cpu");
    expect(random.uniform(random.split(random.key(7), 3)[1], [3]).toJs()).toEqual(onGpu);
  });
});

describe("primitives without a GPU kernel", () => {
  it("run on the CPU with the CPU's values, and say so once per primitive", () => {
    const x = random.normal(random.key(1), [2, 3, 6, 6]);
    const w = random.normal(random.key(2), [4, 3, 3, 3]);
    const want = lax.conv(x, w, [1, 1], "SAME").toJs();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      setDefaultBackend("gpu");
      const xg = x.to("gpu");
      const wg = w.to("gpu");
      const a = lax.conv(xg, wg, [1, 1], "SAME");
      const b = lax.conv(np.multiply(xg, 2), wg, [1, 1], "SAME");
      expect(a.toJs()).toEqual(want);
      expect(np.max(np.abs(np.subtract(b, np.multiply(a, 2)))).item()).toBeLessThan(1e-4);
      // jit's body runs its own primitives: the call is not reported, the conv inside once
      jit((u: A) => lax.conv(u, wg, [1, 1], "SAME"))(xg);
      const said = warn.mock.calls.flat().filter((m) => String(m).includes("has no GPU kernel"));
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/conv_general_dilated has no GPU kernel yet; on the "gpu" backend it runs on the CPU/);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('choosing the graphics API: setDefaultBackend("gpu", { api })', () => {
  it("options are validated: unknown keys, unknown apis, options for the CPU", () => {
    expect(() => setDefaultBackend("gpu", { apu: "webgl" } as never)).toThrow(/setDefaultBackend\("gpu"\): unknown option `apu` \(did you mean `api`\?\)/);
    expect(() => setDefaultBackend("gpu", { api: "vulkan" } as never)).toThrow(/unknown api "vulkan"; use "webgpu", "webgl2", "webgl"/);
    expect(() => setDefaultBackend("cpu", { api: "webgl" })).toThrow(/setDefaultBackend\("cpu"\): unknown option `api`; it takes no options/);
    expect(getDefaultBackend()).toBe("cpu");
  });

  it("webgpu needs the asynchronous initGpu() first, then says why it cannot be had here; never a silent fallback", async () => {
    expect(() => setDefaultBackend("gpu", { api: "webgpu" })).toThrow(
      /\{ api: "webgpu" \}: WebGPU adapter detection is asynchronous: call `await initGpu\(\)` first/,
    );
    expect(getDefaultBackend()).toBe("cpu");
    const status = await initGpu();
    expect(status).toEqual({ api: "webgl", reason: null, webgpu: { adapter: false, detail: expect.stringMatching(/navigator\.gpu is missing/) } });
    expect(() => setDefaultBackend("gpu", { api: "webgpu" })).toThrow(/no WebGPU here: navigator\.gpu is missing.*pin \{ api: "webgl2" \}/);
    expect(getDefaultBackend()).toBe("cpu");
  });

  it('in Node the GPU runs on headless-gl: { api: "webgl" } selects it, { api: "webgl2" } is an Error saying so', () => {
    setDefaultBackend("gpu", { api: "webgl" });
    expect(getDefaultBackend()).toBe("gpu");
    expect(np.array([1, 2]).mul(3).backend).toBe("gpu");
    setDefaultBackend("cpu");
    expect(() => setDefaultBackend("gpu", { api: "webgl2" })).toThrow(
      /\{ api: "webgl2" \} is not available: in Node the GPU backend runs on headless-gl, which is WebGL1; pin \{ api: "webgl" \}/,
    );
    expect(getDefaultBackend()).toBe("cpu");
  });
});

describe("a lost GPU context", () => {
  it('reading, running and uploading are Errors naming the backend (no zeros); setDefaultBackend("gpu") falls back to the CPU', () => {
    setDefaultBackend("gpu");
    const x = np.array([1, 2, 3]).mul(2);
    expect(x.backend).toBe("gpu");
    const lost = vi.spyOn(rt(), "lost").mockReturnValue("the headlessgl context was lost (test)");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      expect(() => x.toJs()).toThrow(
        /reading an array: the GPU backend \(gpu\.js on headlessgl\) cannot be used: the headlessgl context was lost \(test\).*setDefaultBackend\("cpu"\)/,
      );
      expect(() => x.add(1)).toThrow(/running a GPU kernel: the GPU backend \(gpu\.js on headlessgl\)/);
      expect(() => np.array([1], { backend: "gpu" })).toThrow(/context was lost/);
      setDefaultBackend("gpu");
      expect(getDefaultBackend()).toBe("cpu");
      expect(warn.mock.calls.flat().join("\n")).toMatch(/no GPU context is available \(the headlessgl context was lost \(test\)\); using the "cpu" backend/);
      expect(np.array([1, 2, 3]).mul(2).toJs()).toEqual([2, 4, 6]);
    } finally {
      lost.mockRestore();
      warn.mockRestore();
    }
    expect(x.toJs()).toEqual([2, 4, 6]);
  });
});

describe("without a GPU context", () => {
  it('setDefaultBackend("gpu") says once that there is no GPU and keeps the CPU', () => {
    const script = `
      import { setDefaultBackend, getDefaultBackend, np } from "./src/index.js";
      setDefaultBackend("gpu");
      setDefaultBackend("gpu");
      console.log("backend=" + getDefaultBackend() + " sum=" + np.sum(np.array([1, 2])).item());
    `;
    const env = { ...process.env };
    delete env.DISPLAY;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: process.cwd(),
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.stdout).toContain("backend=cpu sum=3");
    const warnings = r.stderr.split("\n").filter((l) => l.includes("no GPU context is available"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/DISPLAY is unset.*xvfb-run.*using the "cpu" backend/);
    expect(getDefaultBackend()).toBe("cpu");
  });
});

describe("the backend interface", () => {
  it("the CPU and GPU backends run the same kernel of the kernel language to the same values", () => {
    // out0 = sum over axis 1 of exp(in0) * in1 (in1 broadcast along axis 0); out1 = the elementwise product
    const b = new KernelBuilder([3, 4], [1]);
    const x = b.load(b.addInput("float32", [3, 4]), { offset: 0, strides: [4, 1] });
    const y = b.load(b.addInput("float32", [4]), { offset: 0, strides: [0, 1] });
    const prod = b.add({ kind: "binary", op: "mul", dtype: "float32", x: b.add({ kind: "unary", op: "exp", dtype: "float32", x }), y });
    b.output(prod, "sum");
    b.output(prod);
    const kernel = b.build();
    const xs = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 5);
    const ys = Float32Array.from([1, -2, 0.5, 3]);
    const run = <B>(be: Backend<B>): number[][] => {
      const ins = [be.upload(xs, new ShapedArray([3, 4], "float32")), be.upload(ys, new ShapedArray([4], "float32"))];
      const outs = be.run(kernel, ins);
      const vals = [Array.from(be.read(outs[0]!, new ShapedArray([3], "float32"))), Array.from(be.read(outs[1]!, new ShapedArray([3, 4], "float32")))];
      [...ins, ...outs].forEach((o) => be.free(o));
      return vals;
    };
    const cpu = run(cpuBackend);
    const gpu = run(gpuBackend);
    // independent reference
    const ref = [0, 1, 2].map((i) => [0, 1, 2, 3].reduce((s, j) => s + Math.exp(xs[i * 4 + j]!) * ys[j]!, 0));
    cpu[0]!.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 4));
    gpu[0]!.forEach((v, i) => expect(v).toBeCloseTo(cpu[0]![i]!, 4));
    gpu[1]!.forEach((v, i) => expect(v).toBeCloseTo(cpu[1]![i]!, 5));
    const z = gpuBackend.allocate(new ShapedArray([2, 2], "int32"));
    expect(Array.from(gpuBackend.read(z, new ShapedArray([2, 2], "int32")))).toEqual([0, 0, 0, 0]);
    gpuBackend.free(z);
    expect(() => gpuBackend.upload(new Float64Array(2), new ShapedArray([2], "float64"))).toThrow(/float64/);
  });
});
