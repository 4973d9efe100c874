/**
 * How each primitive becomes ONNX: one row per primitive, keyed by its name. A row
 * either lowers an equation to ONNX nodes, inlines a primitive that holds a jaxpr
 * (nested `jit`, custom derivatives), or says why the primitive has no ONNX form.
 * A primitive without a row is rejected by the exporter with an Error naming it, so a
 * new primitive needs one new row here (test/export/parity.test.ts fails until it has
 * one, and until a parity case exercises it).
 *
 * Control flow maps to ONNX's `If`/`Loop`/`Scan`: a row writes the primitive's jaxprs
 * as subgraphs with `em.subgraph` (inputs and outputs typed, the body written by
 * `sub.jaxpr(closedJaxpr, inputNames)`), and the node with `em.ops` (several outputs).
 * The rows of `cond`, `while` and `scan` are in onnx_control.ts; test/export/subgraphs.test.ts
 * has an `If` row and a `Loop` row for stand-in primitives.
 * @module
 */
import type { ShapedArray } from "../core/array.js";
import type { DType } from "../core/dtype.js";
import type { Params } from "../core/trace.js";
import type { ClosedJaxpr } from "../ir/jaxpr.js";
import { ints, scalar } from "./onnx_consts.js";
import { controlRules } from "./onnx_control.js";
import { convRules } from "./onnx_conv.js";
import { normalizedIndices, numpyRules } from "./onnx_numpy.js";
import { randomRules } from "./onnx_random.js";

/** The element types the exporter writes (int64 for ONNX's shape and index operands). */
export type OnnxElem = DType | "int64";

/** The type of a subgraph's input or output. */
export interface OnnxValueType {
  readonly elem: OnnxElem;
  readonly shape: readonly number[];
}

/** A subgraph (the body of an If, Loop or Scan node), made by {@link OnnxEmitter.subgraph}; pass it as a graph attribute. */
export interface OnnxGraph {
  readonly graph: Readonly<Record<string, unknown>>;
}

/** An ONNX attribute value: an integer, a list of integers, a string, or a subgraph. */
export type OnnxAttr = number | readonly number[] | string | OnnxGraph;

/** What a lowering rule can do: add nodes and constants to the graph being written. */
export interface OnnxEmitter {
  /** The opset the model declares. */
  readonly opset: number;
  /** Adds one node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs?: Readonly<Record<string, OnnxAttr>>): string;
  /** Adds one node with `numOutputs` outputs (Loop, Scan, If, Split...); returns their names. */
  ops(opType: string, inputs: readonly string[], numOutputs: number, attrs?: Readonly<Record<string, OnnxAttr>>): string[];
  /** Writes the equations of a jaxpr (nested jaxprs of control-flow params) on the given input names; returns its output names. */
  jaxpr(cj: ClosedJaxpr, inputs: readonly string[]): string[];
  /**
   * A subgraph for a control-flow node's graph attribute: `body` writes it with its own
   * emitter, given the names of the subgraph's inputs, and returns the names of its
   * outputs. The body may also read values of the enclosing graph by name.
   */
  subgraph(inputs: readonly OnnxValueType[], body: (sub: OnnxEmitter, inputs: string[]) => string[], outputs: readonly OnnxValueType[]): OnnxGraph;
  /** A constant tensor (an initializer); returns its name. */
  constant(values: readonly number[], elem: OnnxElem, shape: readonly number[]): string;
  /** Throws the exporter's error for this equation, with `why` appended. */
  fail(why: string): never;
}

/** One equation as a rule sees it: ONNX names of its inputs, their avals, its params and output avals. */
export interface OnnxEqn {
  readonly inputs: readonly string[];
  readonly inAvals: readonly ShapedArray[];
  readonly outAvals: readonly ShapedArray[];
  readonly params: Params;
}

/** A row of the table. */
export type OnnxRule =
  /** Lowers to ONNX nodes; returns the names of the outputs. */
  | { readonly lower: (em: OnnxEmitter, eqn: OnnxEqn) => string[] }
  /** Holds a jaxpr whose inputs are the equation's inputs: its body is exported in place. */
  | { readonly inline: (params: Params) => ClosedJaxpr }
  /** Has no ONNX form: the reason and what to do instead. */
  | { readonly noOnnxForm: string };

const onnxElem: Record<OnnxElem, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 };
/** TensorProto.DataType of an element type. */
export function onnxDataType(e: OnnxElem): number {
  return onnxElem[e];
}

const unary = (opType: string): OnnxRule => ({ lower: (em, e) => [em.op(opType, e.inputs)] });
const binary = unary;

/** A reduction over `axes` (none: the identity); ReduceSum takes axes as an input from opset 13, the others from 18. */
function reduction(opType: string, axesInputSince: number): OnnxRule {
  return {
    lower(em, e) {
      const axes = e.params.axes as readonly number[];
      const [x] = e.inputs as [string];
      if (axes.length === 0) return [em.op("Identity", [x])];
      if (em.opset >= axesInputSince) return [em.op(opType, [x, ints(em, axes)], { keepdims: 0 })];
      return [em.op(opType, [x], { axes, keepdims: 0 })];
    },
  };
}

function argReduction(opType: string): OnnxRule {
  return {
    lower: (em, e) => [em.op("Cast", [em.op(opType, e.inputs, { axis: e.params.axis as number, keepdims: 0 })], { to: onnxElem.int32 })],
  };
}

const noLinalg = "ONNX has no operator for this matrix factorization or solve; compute it outside the exported function and pass the result in as an input.";

/**
 * The table: one row per primitive name.
 */
export const onnxRules: Readonly<Record<string, OnnxRule>> = {
  // ---------------------------------------------------------------- shapes
  broadcast_to: { lower: (em, e) => [em.op("Expand", [e.inputs[0]!, ints(em, e.params.shape as number[])])] },
  reshape: {
    lower: (em, e) => [em.op("Reshape", [e.inputs[0]!, ints(em, e.params.shape as number[])], em.opset >= 14 ? { allowzero: 1 } : {})],
  },
  transpose: { lower: (em, e) => [em.op("Transpose", e.inputs, { perm: e.params.perm as number[] })] },
  slice: {
    lower(em, e) {
      const starts = e.params.starts as number[];
      const limits = e.params.limits as number[];
      const axes = starts.map((_, i) => i);
      return [em.op("Slice", [e.inputs[0]!, ints(em, starts), ints(em, limits), ints(em, axes)])];
    },
  },
  pad: {
    lower(em, e) {
      const lo = e.params.lo as number[];
      const hi = e.params.hi as number[];
      return [em.op("Pad", [e.inputs[0]!, ints(em, [...lo, ...hi]), scalar(em, 0, e.inAvals[0]!.dtype)], { mode: "constant" })];
    },
  },
  concatenate: { lower: (em, e) => [em.op("Concat", e.inputs, { axis: e.params.axis as number })] },

  // ---------------------------------------------------------------- reductions
  reduce_sum: reduction("ReduceSum", 13),
  reduce_max: reduction("ReduceMax", 18),
  reduce_min: reduction("ReduceMin", 18),
  argmax: argReduction("ArgMax"),
  argmin: argReduction("ArgMin"),

  // ---------------------------------------------------------------- elementwise
  neg: unary("Neg"),
  exp: unary("Exp"),
  log: unary("Log"),
  // log1p, expm1, tan and the functions ONNX Runtime has no float64 kernel for: src/export/onnx_numpy.ts
  sin: unary("Sin"),
  cos: unary("Cos"),
  tanh: unary("Tanh"),
  logistic: unary("Sigmoid"),
  sqrt: unary("Sqrt"),
  rsqrt: { lower: (em, e) => [em.op("Reciprocal", [em.op("Sqrt", e.inputs)])] },
  abs: unary("Abs"),
  sign: unary("Sign"),
  floor: unary("Floor"),
  ceil: unary("Ceil"),
  // half away from zero (ONNX Round is half to even): sign(x) · (f + 1 where |x| - f = 0.5, else round(|x|)), f = floor(|x|)
  round: {
    lower(em, e) {
      const [x] = e.inputs as [string];
      const d = e.inAvals[0]!.dtype;
      const a = em.op("Abs", [x]);
      const f = em.op("Floor", [a]);
      const tie = em.op("Equal", [em.op("Sub", [a, f]), scalar(em, 0.5, d)]);
      const r = em.op("Where", [tie, em.op("Add", [f, scalar(em, 1, d)]), em.op("Round", [a])]);
      return [em.op("Mul", [em.op("Sign", [x]), r])];
    },
  },
  not: unary("Not"),
  stop_gradient: unary("Identity"),
  integer_pow: {
    lower(em, e) {
      const y = e.params.y as number;
      const [x] = e.inputs as [string];
      const d = e.inAvals[0]!.dtype;
      if (y === 0) return [em.op("Expand", [scalar(em, 1, d), em.op("Shape", [x])])];
      if (y === 1) return [em.op("Identity", [x])];
      if (y === 2) return [em.op("Mul", [x, x])];
      if (y < 0 && d === "int32") {
        // x ** y truncated toward zero: 1 at x = 1, ±1 at x = -1, 0 elsewhere (x = 0 included, as cotangent)
        const one = scalar(em, 1, d);
        const atMinusOne = scalar(em, y % 2 === 0 ? 1 : -1, d);
        const zeroElse = em.op("Where", [em.op("Equal", [x, scalar(em, -1, d)]), atMinusOne, scalar(em, 0, d)]);
        return [em.op("Where", [em.op("Equal", [x, one]), one, zeroElse])];
      }
      return [em.op("Pow", [x, scalar(em, y, d)])];
    },
  },
  convert_element_type: { lower: (em, e) => [em.op("Cast", e.inputs, { to: onnxElem[e.params.newDtype as DType] })] },
  add: binary("Add"),
  sub: binary("Sub"),
  mul: binary("Mul"),
  // int32 division as cotangent's (truncating; x / 0 is 0, INT_MIN / -1 wraps): ONNX Runtime's
  // integer Div would trap on a zero or overflowing divisor, so those divisors never reach it
  div: {
    lower(em, e) {
      const [x, y] = e.inputs as [string, string];
      if (e.outAvals[0]!.dtype !== "int32") return [em.op("Div", [x, y])];
      const zero = em.op("Equal", [y, scalar(em, 0, "int32")]);
      const minusOne = em.op("Equal", [y, scalar(em, -1, "int32")]);
      const safe = em.op("Where", [em.op("Or", [zero, minusOne]), scalar(em, 1, "int32"), y]);
      const q = em.op("Where", [minusOne, em.op("Neg", [x]), em.op("Div", [x, safe])]);
      return [em.op("Where", [zero, scalar(em, 0, "int32"), q])];
    },
  },
  pow: binary("Pow"),
  max: binary("Max"),
  min: binary("Min"),
  eq: binary("Equal"),
  ne: { lower: (em, e) => [em.op("Not", [em.op("Equal", e.inputs)])] },
  lt: binary("Less"),
  le: binary("LessOrEqual"),
  gt: binary("Greater"),
  ge: binary("GreaterOrEqual"),
  and: binary("And"),
  or: binary("Or"),
  select: binary("Where"),

  // ---------------------------------------------------------------- products and indexing
  matmul: binary("MatMul"),
  matmul_t: {
    lower(em, e) {
      const swap = (name: string, a: ShapedArray): string => {
        const perm = a.shape.map((_, i) => i);
        perm[a.ndim - 2] = a.ndim - 1;
        perm[a.ndim - 1] = a.ndim - 2;
        return em.op("Transpose", [name], { perm });
      };
      const [a, b] = e.inputs as [string, string];
      const A = e.params.transposeA ? swap(a, e.inAvals[0]!) : a;
      const B = e.params.transposeB ? swap(b, e.inAvals[1]!) : b;
      return [em.op("MatMul", [A, B])];
    },
  },
  take: { lower: (em, e) => [em.op("Gather", e.inputs, { axis: e.params.axis as number })] },
  // out[..., idx[j], ...] += u[..., j, ...]: the scattered axis and the index axes moved to the front, ScatterND with reduction add
  scatter_add: {
    lower(em, e) {
      if (em.opset < 16) em.fail("ScatterND with reduction='add' needs opset 16 or later; pass { opset: 16 } or higher.");
      const [u, idx] = e.inputs as [string, string];
      const axis = e.params.axis as number;
      const shape = e.params.shape as number[];
      const ni = e.inAvals[1]!.ndim;
      const nu = e.inAvals[0]!.ndim;
      const n = shape[axis]!;
      const idxAxes = Array.from({ length: ni }, (_, i) => axis + i);
      const rest = Array.from({ length: nu }, (_, i) => i).filter((i) => i < axis || i >= axis + ni);
      const uT = em.op("Transpose", [u], { perm: [...idxAxes, ...rest] });
      const coords = em.op("Unsqueeze", [normalizedIndices(em, idx, [n]), ints(em, [ni])]);
      const dataShape = [n, ...shape.filter((_, i) => i !== axis)];
      const zeros = em.op("Expand", [scalar(em, 0, e.inAvals[0]!.dtype), ints(em, dataShape)]);
      const scattered = em.op("ScatterND", [zeros, coords, uT], { reduction: "add" });
      const back = Array.from({ length: shape.length }, (_, i) => (i < axis ? i + 1 : i === axis ? 0 : i));
      return [em.op("Transpose", [scattered], { perm: back })];
    },
  },

  // ---------------------------------------------------------------- primitives that hold a jaxpr
  pjit: { inline: (p) => p.jaxpr as ClosedJaxpr },
  custom_jvp_call: { inline: (p) => p.jaxpr as ClosedJaxpr },
  custom_vjp_call: { inline: (p) => p.jaxpr as ClosedJaxpr },
  custom_vjp_lin: {
    noOnnxForm:
      "it is the linearized half of a customVjp function, which calls a JavaScript bwd function; it only appears in a jaxpr that has been linearized but not transposed. Export grad/vjp of the function instead.",
  },
  fused: { noOnnxForm: "it is a backend kernel built by jit's fusion pass, which the exporter does not run; this is a bug in the exporter if you see it." },

  // recomputation is a differentiation concern: the exported graph computes the body once
  checkpoint: { inline: (p) => p.jaxpr as ClosedJaxpr },

  // ---------------------------------------------------------------- linear algebra: no ONNX operator
  cholesky: { noOnnxForm: noLinalg },
  triangular_solve: { noOnnxForm: noLinalg },
  lu: { noOnnxForm: noLinalg },
  qr: { noOnnxForm: noLinalg },
  eigh: { noOnnxForm: noLinalg },
  svd: { noOnnxForm: noLinalg },

  // ---------------------------------------------------------------- random numbers (src/export/onnx_random.ts)
  ...randomRules,

  // ---------------------------------------------------------------- NumPy-level primitives (src/export/onnx_numpy.ts)
  ...numpyRules,

  // ---------------------------------------------------------------- control flow: If and Loop (src/export/onnx_control.ts)
  ...controlRules,

  // ---------------------------------------------------------------- convolutions and windows (src/export/onnx_conv.ts)
  ...convRules,
};
