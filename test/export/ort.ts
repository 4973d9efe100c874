/** Running exported models in ONNX Runtime (CPU) and comparing with cotangent. */
import * as ort from "onnxruntime-node";
import { expect } from "vitest";
import { type Array as NDArray, exportOnnx, jit, np, tree } from "../../src/index.js";
import type { ExportOnnxOptions } from "../../src/export/onnx.js";
import { ConcreteArray } from "../../src/core/array.js";
import type { DType } from "../../src/core/dtype.js";

/** A session with its input and output names. */
export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes);
}

export function toTensor(x: NDArray): ort.Tensor {
  const c = x as ConcreteArray;
  const d = c.dtype;
  const shape = [...c.shape];
  if (d === "bool") return new ort.Tensor("bool", Uint8Array.from(c.buffer), shape);
  if (d === "float32") return new ort.Tensor("float32", Float32Array.from(c.buffer), shape);
  if (d === "float64") return new ort.Tensor("float64", Float64Array.from(c.buffer), shape);
  return new ort.Tensor("int32", Int32Array.from(c.buffer), shape);
}

/** Runs a session on the leaves of `args` (in tree.flatten order); returns the outputs in graph order. */
export async function runSession(s: ort.InferenceSession, leaves: readonly NDArray[]): Promise<ort.Tensor[]> {
  const feeds: Record<string, ort.Tensor> = {};
  s.inputNames.forEach((n, i) => (feeds[n] = toTensor(leaves[i]!)));
  const r = await s.run(feeds);
  return s.outputNames.map((n) => r[n]!);
}

/** Exports `f`, runs the model in ONNX Runtime on `args` and returns the output leaves. */
export async function runOnnx(f: (...a: any[]) => unknown, args: unknown[], opts?: ExportOnnxOptions): Promise<ort.Tensor[]> {
  const s = await session(exportOnnx(f, args, opts));
  return runSession(s, tree.leaves(args) as NDArray[]);
}

const tolerance: Record<DType, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-5, atol: 1e-6 },
  float64: { rtol: 1e-12, atol: 1e-14 },
  int32: { rtol: 0, atol: 0 },
  bool: { rtol: 0, atol: 0 },
};

/** Expects an ONNX Runtime tensor to equal a cotangent array: same shape, dtype and values (to the dtype's tolerance). */
export function expectMatches(got: ort.Tensor, want: NDArray, what: string, tol = tolerance[want.dtype]): void {
  const ortType: Record<DType, string> = { float32: "float32", float64: "float64", int32: "int32", bool: "bool" };
  expect(got.type, `${what}: dtype`).toBe(ortType[want.dtype]);
  expect([...got.dims], `${what}: shape`).toEqual([...want.shape]);
  const w = (want as ConcreteArray).buffer;
  const g = got.data as ArrayLike<number | boolean>;
  for (let i = 0; i < w.length; i++) {
    const a = Number(g[i]);
    const b = w[i]!;
    if (Number.isNaN(b)) {
      expect(Number.isNaN(a), `${what}[${i}]: NaN`).toBe(true);
      continue;
    }
    if (a === b) continue; // infinities included
    const err = Math.abs(a - b);
    if (!(err <= tol.atol + tol.rtol * Math.abs(b))) expect.fail(`${what}[${i}]: ONNX Runtime gives ${a}, cotangent ${b} (error ${err})`);
  }
}

/** Exports `f`, runs it in ONNX Runtime and compares every output leaf with `jit(f)` (or `f`). */
export async function expectParity(f: (...a: any[]) => unknown, args: unknown[], what = f.name, reference: "jit" | "eager" = "jit"): Promise<void> {
  const got = await runOnnx(f, args);
  const want = tree.leaves(reference === "jit" ? jit(f)(...args) : f(...args)) as NDArray[];
  expect(got.length, `${what}: number of outputs`).toBe(want.length);
  want.forEach((w, i) => expectMatches(got[i]!, w, `${what} output ${i}`));
}

/** Deterministic pseudo-random values in [lo, hi) (integers for int32, coin flips for bool). */
export function rand(shape: number[], dtype: DType = "float32", lo = -2, hi = 2, seed = 1): NDArray {
  let s = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => lo + (hi - lo) * next());
  if (dtype === "bool")
    return np.reshape(
      np.array(
        v.map((x) => x > (lo + hi) / 2),
        { dtype: "bool" },
      ),
      shape,
    );
  if (dtype === "int32") return np.reshape(np.array(v.map(Math.floor), { dtype: "int32" }), shape);
  return np.reshape(np.array(v, { dtype }), shape);
}
