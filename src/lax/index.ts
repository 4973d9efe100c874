/**
 * The `lax` namespace: JAX's lower-level operations (`jax.lax`) — dynamic slicing here.
 * @module
 */
export * from "./slicing.js";
