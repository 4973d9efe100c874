/**
 * The `lax` namespace: JAX's lower-level operations (`jax.lax`) — dynamic slicing and cumulative reductions here.
 * @module
 */
export * from "./slicing.js";
export * from "./cumulative.js";
