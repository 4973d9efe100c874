/**
 * The `lax` namespace: JAX's lower-level operations (`jax.lax`) — convolutions and
 * windowed reductions here; structured control flow and dynamic slicing beside them.
 * @module
 */
export * from "./conv.js";
