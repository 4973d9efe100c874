/**
 * The primitive and transform suite run a second time on the GPU backend (headless-gl
 * in Node) and compared with the CPU backend to float32 tolerance. See cases.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as L from "../../src/index.js";
import * as E from "../../src/primitives/elementwise.js";
import { gpuFailure } from "../../src/backends/gpu/runtime.js";
import { cases, runCase } from "./cases.js";
import { ensureDisplay } from "./display.js";

beforeAll(ensureDisplay);

describe("GPU backend (headless-gl) agrees with the CPU backend", () => {
  it("has a GPU context", () => {
    expect(gpuFailure()).toBeNull(); // otherwise: the reason, e.g. headless-gl did not build
    L.setDefaultBackend("gpu");
    expect(L.getDefaultBackend()).toBe("gpu");
    L.setDefaultBackend("cpu");
  });
  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const r = runCase(L, E, c);
    expect(r.message).toBe("");
    expect(r.ok).toBe(true);
  });
});
