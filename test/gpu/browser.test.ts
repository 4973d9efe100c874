/**
 * The GPU backend in a browser: headless Chromium (Debian's chromium, WebGL2 on
 * SwiftShader) loads pages served on 127.0.0.1 that import the built library.
 * - the GPU parity suite (cases.ts) runs in the page and must agree with the CPU;
 * - the browser example (examples/browser/) trains a network on the GPU and plots
 *   its loss, which must fall.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserHarness, startBrowser } from "./browser.js";
import { type CaseResult, cases } from "./cases.js";

let h: BrowserHarness;
let parity: { mode: string | null; results: CaseResult[]; error?: string };
let pageErrors: string[] = [];

beforeAll(async () => {
  h = await startBrowser();
  const { page, errors } = await h.open("/test/gpu/parity.html");
  await page.waitForFunction(() => (window as unknown as { __parity?: unknown }).__parity !== undefined, null, { timeout: 240_000 });
  parity = await page.evaluate(() => (window as unknown as { __parity: typeof parity }).__parity);
  pageErrors = errors;
  await page.close();
}, 300_000);
afterAll(async () => {
  await h?.close();
});

describe("GPU backend in headless Chromium (WebGL2)", () => {
  it("runs on a WebGL2 context, with no page errors", () => {
    expect(parity.error).toBeUndefined();
    expect(parity.mode).toBe("webgl2");
    expect(pageErrors).toEqual([]);
    expect(parity.results.map((r) => r.name)).toEqual(cases.map((c) => c.name));
  });
  it.each(cases.map((c) => [c.name] as const))("%s", (name) => {
    const r = parity.results.find((x) => x.name === name)!;
    expect(r.message).toBe("");
    expect(r.ok).toBe(true);
  });
});

describe("a lost WebGL2 context", () => {
  it("reading a GPU-only array, kernel runs and uploads are Errors naming the backend (no zeros); values already read stay readable; the CPU then takes over", async () => {
    const { page, errors } = await h.open("/test/gpu/lost.html");
    await page.waitForFunction(() => (window as unknown as { __lost?: unknown }).__lost !== undefined, null, { timeout: 120_000 });
    const r = await page.evaluate(() => (window as unknown as { __lost: Record<string, unknown> }).__lost);
    await page.close();
    expect(r.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(r).toMatchObject({ before: [2, 4, 6], backend: "gpu", readCopy: { value: [2, 4, 6] }, after: "cpu", recomputed: [2, 4, 6] });
    expect(r.contexts).toBeGreaterThanOrEqual(1);
    const lost = /the GPU backend \(gpu\.js on webgl2\) cannot be used: the webgl2 context was lost .*setDefaultBackend\("cpu"\)/;
    expect((r.read as { error: string }).error).toMatch(new RegExp(`^reading an array: ${lost.source}`));
    expect((r.run as { error: string }).error).toMatch(new RegExp(`^running a GPU kernel: ${lost.source}`));
    expect((r.upload as { error: string }).error).toMatch(/cannot move an array to the GPU: no GPU context is available \(the webgl2 context was lost/);
    expect(r.warnings).toEqual([expect.stringMatching(/no GPU context is available \(the webgl2 context was lost.*using the "cpu" backend/)]);
  }, 150_000);
});

describe("Wasm kernels on Web Workers (cross-origin-isolated page)", () => {
  it("starts workers that take chunks; every chunk runs once; jit agrees with eager", async () => {
    const { page, errors } = await h.open("/test/wasm/threads.html");
    await page.waitForFunction(() => (window as unknown as { __threads?: unknown }).__threads !== undefined, null, { timeout: 120_000 });
    const t = await page.evaluate(
      () =>
        (
          window as unknown as {
            __threads: {
              isolated: boolean;
              threads: number;
              workerChunks: number;
              wrong: number;
              jitError: string | null;
              jit: { eager: number; jit: number; gradMaxDiff: number };
            };
          }
        ).__threads,
    );
    await page.close();
    expect(t.jitError).toBeNull();
    expect(errors).toEqual([]);
    expect(t.isolated).toBe(true);
    expect(t.wrong).toBe(0);
    const cores = await h.browser.newPage().then(async (p) => {
      const n = await p.evaluate(() => navigator.hardwareConcurrency);
      await p.close();
      return n;
    });
    if (cores > 1) {
      expect(t.threads).toBeGreaterThan(1);
      expect(t.workerChunks).toBeGreaterThan(0);
    }
    expect(Math.abs(t.jit.jit - t.jit.eager)).toBeLessThanOrEqual(1e-4 * Math.abs(t.jit.eager));
    expect(t.jit.gradMaxDiff).toBeLessThan(1e-5);
  }, 180_000);
});

describe("examples/browser", () => {
  it("trains a small network on the GPU and plots a falling loss", async () => {
    const { page, errors } = await h.open("/examples/browser/?steps=150");
    await page.waitForFunction(
      () => {
        const e = (window as unknown as { __example?: { done: boolean; error?: string } }).__example;
        return e !== undefined && (e.done || e.error !== undefined);
      },
      null,
      { timeout: 180_000 },
    );
    const ex = await page.evaluate(() => (window as unknown as { __example: { backend: string; losses: [number, number][]; error?: string } }).__example);
    expect(ex.error).toBeUndefined();
    expect(errors).toEqual([]);
    expect(ex.backend).toBe("gpu");
    const first = ex.losses[0]![1];
    const last = ex.losses.at(-1)![1];
    expect(ex.losses.at(-1)![0]).toBe(149);
    expect(last).toBeLessThan(first / 20);
    // the loss plot has been drawn: its canvas is not blank
    const inked = await page.evaluate(() => {
      const c = document.getElementById("loss") as HTMLCanvasElement;
      const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]! > 0) n++;
      return n;
    });
    expect(inked).toBeGreaterThan(500);
    await page.close();
  }, 200_000);
});
