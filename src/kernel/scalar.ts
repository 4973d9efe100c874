/**
 * Scalar functions of kernel ops that JavaScript's `Math` lacks (erf, lgamma, ...), in
 * one place: a primitive's reference implementation uses its function from here, and
 * the CPU backend's generated JavaScript calls the same function as
 * `$scalar.<name>(x)` (the code generator hands this object to every compiled
 * function), so the eager, jitted and fused paths compute the same values.
 * @module
 */

/** The scalar functions generated kernels may call, by name. */
export const scalarFunctions: Record<string, (...xs: number[]) => number> = {};
