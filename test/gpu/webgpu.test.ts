/**
 * WebGPU in headless Chromium (`--enable-unsafe-webgpu` gives a SwiftShader adapter;
 * see docs/gpu-backend.md, "WebGPU"):
 * - the library sees the adapter (`initGpu()`) and says precisely why the backend does
 *   not run on it (`setDefaultBackend("gpu", { api: "webgpu" })` is an Error naming the
 *   reason), while `{ api: "webgl2" }` selects WebGL2;
 * - every gpu.js kernel the GPU parity suite generates runs through gpu.js's webgpu
 *   mode (WGSL compute shaders) to the same values as on WebGL2;
 * - a 10,000-step jitted loop on the browser's GPU path keeps a flat texture count.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserHarness, startBrowser } from "./browser.js";
import { cases } from "./cases.js";
import type { FlatLoop, ReplayResult } from "./webgpu.js";

interface PageResult {
  probe: { api: string | null; reason: string | null; webgpu: { adapter: boolean; detail: string } } | null;
  pinWebgpu: string | null;
  mode: string | null;
  results: ReplayResult[];
  memory: FlatLoop | null;
  error?: string;
}

let h: BrowserHarness;
let page: PageResult;
let pageErrors: string[] = [];

beforeAll(async () => {
  h = await startBrowser(["--enable-unsafe-webgpu"]);
  const { page: p, errors } = await h.open("/test/gpu/webgpu.html");
  await p.waitForFunction(() => (window as unknown as { __webgpu?: unknown }).__webgpu !== undefined, null, { timeout: 420_000 });
  page = await p.evaluate(() => (window as unknown as { __webgpu: PageResult }).__webgpu);
  pageErrors = errors;
  await p.close();
}, 480_000);
afterAll(async () => {
  await h?.close();
});

describe("WebGPU in headless Chromium (--enable-unsafe-webgpu, SwiftShader)", () => {
  it("initGpu() finds the adapter; the backend runs on WebGL2; pinning webgpu is an Error saying why", () => {
    expect(page.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
    expect(page.probe).toEqual({ api: "webgl2", reason: null, webgpu: { adapter: true, detail: expect.stringMatching(/swiftshader/i) } });
    expect(page.pinWebgpu).toMatch(
      /^setDefaultBackend\("gpu"\): \{ api: "webgpu" \}: a WebGPU adapter exists \(.*swiftshader.*\), but gpu\.js's webgpu kernels return Promises/i,
    );
    expect(page.mode).toBe("webgl2");
    expect(page.results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
  });
  it.each(cases.map((c) => [c.name] as const))("kernels of %s agree on webgpu and WebGL2", (name) => {
    const r = page.results.find((x) => x.name === name)!;
    expect(r.webglOk).toBe(true);
    expect(r.message).toBe("");
    expect(r.agreed).toBe(r.kernels);
  });
  it("kernels ran: the parity suite exercises the webgpu mode", () => {
    expect(page.results.reduce((n, r) => n + r.kernels, 0)).toBeGreaterThan(300);
  });
  it("a 10,000-step jitted loop on WebGL2 keeps a flat texture and buffer count", () => {
    // counted after every 1,000 steps; they may drop below the start (the finalizers of
    // the parity cases' garbage run meanwhile), never rise above it
    const m = page.memory!;
    expect(m.textures).toHaveLength(11);
    expect(Math.max(...m.textures)).toBe(m.textures[0]);
    expect(Math.max(...m.buffers)).toBe(m.buffers[0]);
    expect(m.loss[1]).toBeLessThan(m.loss[0] / 10);
  });
});
