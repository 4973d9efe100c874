/**
 * The `lax` namespace: JAX's `jax.lax` operations that have no NumPy name: structured
 * control flow (`cond`, `switch`, `whileLoop`, `foriLoop`, `scan`, `map`), which is
 * compiled as loops under `jit` and differentiable; convolutions and windowed
 * reductions (`convGeneralDilated`, `conv`, `reduceWindow`); dynamic slicing
 * (`dynamicSlice`, `dynamicUpdateSlice`); cumulative reductions (`cumsum`, `cumprod`,
 * `cummax`, `cummin`).
 * @module
 */
export { cond, switch, scan, map, whileLoop, foriLoop, type ScanOptions } from "./control.js";
export * from "./conv.js";
export * from "./slicing.js";
export * from "./cumulative.js";
