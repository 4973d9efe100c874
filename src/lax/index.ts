/**
 * The `lax` namespace: JAX's `jax.lax` primitives that have no NumPy name, starting
 * with structured control flow (`cond`, `switch`, `whileLoop`, `foriLoop`, `scan`,
 * `map`), which is compiled as loops under `jit` and differentiable.
 * @module
 */
export { cond, switch, scan, map, whileLoop, foriLoop, type ScanOptions } from "./control.js";
