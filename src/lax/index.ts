/**
 * The `lax` namespace: JAX's `jax.lax` primitives that have no NumPy name: structured
 * control flow (`cond`, `switch`, `whileLoop`, `foriLoop`, `scan`, `map`), which is
 * compiled as loops under `jit` and differentiable, and convolutions and windowed
 * reductions (`convGeneralDilated`, `conv`, `reduceWindow`).
 * @module
 */
export { cond, switch, scan, map, whileLoop, foriLoop, type ScanOptions } from "./control.js";
export * from "./conv.js";
