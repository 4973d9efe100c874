/**
 * Parity in ONNX Runtime of the ONNX rows of the NumPy-level primitives
 * (src/export/onnx_numpy.ts): gather, scatter, rev, the inverse trigonometric and
 * hyperbolic functions, log2/log10/exp2, atan2, hypot, mod, cumulative reductions,
 * sort and argsort — each compared with `jit(f)`.
 */
import { describe, it } from "vitest";
import { expectParity } from "./ort.js";
import { float64Cases, numpyCases } from "./numpy_cases.js";

describe("exportOnnx of the NumPy-level primitives: parity with jit in ONNX Runtime", () => {
  for (const c of [...numpyCases, ...float64Cases]) it(c.name, () => expectParity(c.f, c.args, c.name));
});
