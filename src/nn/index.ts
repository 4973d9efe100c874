/**
 * Neural-network building blocks in JAX's functional style: activations, and layers
 * whose parameters are plain pytrees (`{ weight, bias }`) passed explicitly to pure
 * `apply` functions, so `grad(loss)(params)` has the same structure as `params`.
 *
 * ```ts
 * import { grad, nn, np, random } from "cotangent";
 * const params = nn.mlp.init(random.key(0), [2, 8, 1]);
 * const loss = (p: typeof params) => np.mean(np.square(nn.mlp.apply(p, np.ones([4, 2]))));
 * const g = grad(loss)(params); // g[0].weight has shape [8, 2]
 * ```
 * @module
 */
export { relu, leakyRelu, sigmoid, tanh, gelu, softmax, logSoftmax, oneHot, softplus, silu, elu, logSigmoid, type GeluOptions } from "./activations.js";
export {
  linear,
  mlp,
  batchNorm,
  type LinearParams,
  type MlpParams,
  type InitOptions,
  type MlpApplyOptions,
  type BatchNormParams,
  type BatchNormState,
  type BatchNormOptions,
} from "./layers.js";
export {
  layerNorm,
  embedding,
  dropout,
  multiHeadAttention,
  type LayerNormParams,
  type LayerNormOptions,
  type EmbeddingParams,
  type DropoutOptions,
  type HeadProjection,
  type MultiHeadAttentionParams,
  type AttentionOptions,
} from "./transformer.js";
export * as initializers from "./initializers.js";
export type { Initializer, VarianceScalingOptions } from "./initializers.js";
export {
  conv2d,
  maxPool2d,
  avgPool2d,
  type Conv2dParams,
  type Conv2dInitOptions,
  type Conv2dOptions,
  type Pool2dOptions,
  type AvgPool2dOptions,
  type Size2d,
} from "./conv.js";
