/**
 * `exportOnnx`: a jitted function as an ONNX model, for ONNX Runtime (CPU, CUDA,
 * TensorRT, Triton, browsers). The function is traced as `jit(f)` at the example
 * arguments' shapes and dtypes, cleaned up by the IR passes (without fusion, whose
 * kernels are backend-specific), and each equation is written as ONNX nodes by its row
 * of the table in `onnx_ops.ts`. Nested `jit` calls and custom-derivative functions are
 * inlined. The model is serialized with protobufjs from ONNX's own schema.
 * @module
 */
import { ConcreteArray, type NDArray, type ShapedArray } from "../core/array.js";
import { checkOptions } from "../core/shape.js";
import { type TreeDef, flatten, unflatten as inDefUnflatten } from "../core/tree.js";
import { type Atom, type ClosedJaxpr, type Jaxpr, Literal, Var } from "../ir/jaxpr.js";
import { traceToJaxpr } from "../interpreters/staging.js";
import { cleanupPasses, optimizeJaxpr } from "../passes/index.js";
import { jit } from "../transforms/jit.js";
import { flattenArgs } from "../transforms/flat.js";
import { ModelProto } from "./onnx_proto.js";
import { type OnnxAttr, type OnnxElem, type OnnxEmitter, type OnnxGraph, type OnnxValueType, onnxDataType, onnxRules } from "./onnx_ops.js";

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** The ONNX opset the model declares, 13 to 21. Default 18. */
  opset?: number;
  /** One name per leaf of `tree.flatten(exampleArgs)`, in that order. Default: `args` plus the pytree path (`args[0]`, `args[1].w`). */
  inputNames?: string[];
  /** One name per leaf of the output, in flattening order. Default: `out` plus the pytree path (`out`, `out.loss`, `out[0]`). */
  outputNames?: string[];
}

const OPTION_KEYS = ["opset", "inputNames", "outputNames"] as const;
const MIN_OPSET = 13;
const MAX_OPSET = 21;
const DEFAULT_OPSET = 18;
/** The ONNX IR version that goes with each opset. */
const IR_VERSION: Record<number, number> = { 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** The pytree path of every leaf of `def` after `prefix`, in flattening order: `args[0].w`, `out.loss`, ... */
function leafPaths(def: TreeDef, prefix: string, out: string[] = []): string[] {
  const n = def.node;
  switch (n.kind) {
    case "leaf":
      out.push(prefix);
      break;
    case "array":
      n.children.forEach((c, i) => leafPaths(c, `${prefix}[${i}]`, out));
      break;
    case "object":
      n.children.forEach((c, i) => leafPaths(c, `${prefix}.${n.keys[i]!}`, out));
      break;
    case "none":
      break;
  }
  return out;
}

function checkNames(op: string, key: string, names: unknown, count: number, what: string): string[] | undefined {
  if (names === undefined) return undefined;
  if (!Array.isArray(names) || names.some((s) => typeof s !== "string" || s === "")) {
    throw new Error(`${op}: ${key} must be an array of non-empty strings, got ${JSON.stringify(names)}.`);
  }
  if (names.length !== count) {
    throw new Error(`${op}: ${key} has ${names.length} name(s) but ${what} has ${count} leaves; give one name per leaf, in tree.flatten order.`);
  }
  const dup = names.find((s, i) => names.indexOf(s) !== i);
  if (dup !== undefined) throw new Error(`${op}: ${key} repeats the name "${dup}"; names must be distinct.`);
  return names as string[];
}

type Msg = Record<string, unknown>;

function attribute(name: string, v: OnnxAttr): Msg {
  if (typeof v === "string") return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === "number") return { name, type: 2, i: v };
  if ("graph" in v) return { name, type: 5, g: v.graph };
  return { name, type: 7, ints: [...v] };
}

function rawBytes(values: ArrayLike<number>, elem: OnnxElem): Uint8Array {
  const n = values.length;
  let arr: ArrayBufferView;
  switch (elem) {
    case "float32":
      arr = Float32Array.from(values);
      break;
    case "float64":
      arr = Float64Array.from(values);
      break;
    case "int32":
      arr = Int32Array.from(values);
      break;
    case "int64":
      arr = BigInt64Array.from(Array.from({ length: n }, (_, i) => BigInt(values[i]!)));
      break;
    case "bool":
      arr = Uint8Array.from(values, (v) => (v ? 1 : 0));
      break;
  }
  // ONNX raw_data is little-endian, as typed arrays are on every platform Node runs on
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).slice();
}

function valueInfo(name: string, t: ShapedArray | OnnxValueType): Msg {
  const elem = "elem" in t ? t.elem : t.dtype;
  return {
    name,
    type: { tensor_type: { elem_type: onnxDataType(elem), shape: { dim: t.shape.map((d) => ({ dim_value: d })) } } },
  };
}

/** What the main graph and its subgraphs share: value names, constants (initializers live in the main graph, visible to every subgraph). */
interface ModelState {
  readonly opset: number;
  readonly op: string;
  readonly reserved: ReadonlySet<string>;
  readonly initializers: Msg[];
  readonly constCache: Map<string, string>;
  readonly constArrays: Map<NDArray, string>;
  counter: number;
  /** The primitive being lowered, for error messages. */
  current: string;
}

/** Writes one graph (the model's, or a subgraph of a control-flow node): its nodes, and names of values. */
class GraphWriter implements OnnxEmitter {
  readonly nodes: Msg[] = [];

  constructor(private readonly m: ModelState) {}

  get opset(): number {
    return this.m.opset;
  }

  get initializers(): Msg[] {
    return this.m.initializers;
  }

  fresh(prefix: string): string {
    let s: string;
    do s = `${prefix}${this.m.counter++}`;
    while (this.m.reserved.has(s));
    return s;
  }

  op(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, OnnxAttr>> = {}): string {
    return this.ops(opType, inputs, 1, attrs)[0]!;
  }

  ops(opType: string, inputs: readonly string[], numOutputs: number, attrs: Readonly<Record<string, OnnxAttr>> = {}): string[] {
    const outs = Array.from({ length: numOutputs }, () => this.fresh("_v"));
    this.node(opType, inputs, outs, attrs);
    return outs;
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Readonly<Record<string, OnnxAttr>> = {}): void {
    this.nodes.push({
      op_type: opType,
      name: this.fresh(`${opType}_`),
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
  }

  subgraph(inputs: readonly OnnxValueType[], body: (sub: OnnxEmitter, inputs: string[]) => string[], outputs: readonly OnnxValueType[]): OnnxGraph {
    const sub = new GraphWriter(this.m);
    const ins = inputs.map(() => sub.fresh("_in"));
    const results = body(sub, ins);
    if (results.length !== outputs.length) this.fail(`a subgraph's body gave ${results.length} outputs for ${outputs.length}.`);
    const outNames = results.map((r) => {
      const o = sub.fresh("_out");
      sub.node("Identity", [r], [o]);
      return o;
    });
    return {
      graph: {
        name: sub.fresh("body"),
        node: sub.nodes,
        input: inputs.map((t, i) => valueInfo(ins[i]!, t)),
        output: outputs.map((t, i) => valueInfo(outNames[i]!, t)),
      },
    };
  }

  constant(values: readonly number[], elem: OnnxElem, shape: readonly number[]): string {
    const key = `${elem}|${shape.join(",")}|${values.map((v) => (Object.is(v, -0) ? "-0" : String(v))).join(",")}`;
    let name = this.m.constCache.get(key);
    if (name === undefined) {
      name = this.fresh("_c");
      this.initializers.push({ name, data_type: onnxDataType(elem), dims: [...shape], raw_data: rawBytes(values, elem) });
      this.m.constCache.set(key, name);
    }
    return name;
  }

  /** A closed-over array as an initializer (once per array). */
  array(c: NDArray): string {
    let name = this.m.constArrays.get(c);
    if (name === undefined) {
      if (!(c instanceof ConcreteArray)) {
        throw new Error(
          `${this.m.op}: the function closes over a traced value (${c.aval.toString()}); call exportOnnx outside other transforms, and pass such values as arguments.`,
        );
      }
      name = this.fresh("_c");
      this.initializers.push({ name, data_type: onnxDataType(c.dtype), dims: [...c.shape], raw_data: rawBytes(c.buffer, c.dtype) });
      this.m.constArrays.set(c, name);
    }
    return name;
  }

  fail(why: string): never {
    throw new Error(`${this.m.op}: primitive ${this.m.current} cannot be exported to ONNX: ${why}`);
  }

  jaxpr(cj: ClosedJaxpr, inputs: readonly string[]): string[] {
    if (cj.jaxpr.inVars.length !== inputs.length) this.fail(`a jaxpr that takes ${cj.jaxpr.inVars.length} inputs was given ${inputs.length}.`);
    return this.eqns(cj.jaxpr, cj.consts, inputs);
  }

  /** Writes the equations of `jaxpr` given the names of its constants and inputs; returns the names of its outputs. */
  private eqns(j: Jaxpr, consts: readonly NDArray[], inputs: readonly string[]): string[] {
    const env = new Map<Var, string>();
    j.constVars.forEach((v, i) => env.set(v, this.array(consts[i]!)));
    j.inVars.forEach((v, i) => env.set(v, inputs[i]!));
    const read = (a: Atom): string => (a instanceof Literal ? this.constant([a.value], a.aval.dtype, []) : env.get(a)!);
    for (const e of j.eqns) {
      const name = e.primitive.name;
      const rule = onnxRules[name];
      this.m.current = name;
      if (rule === undefined) {
        this.fail(
          `it has no entry in the ONNX mapping table (src/export/onnx_ops.ts). Add a row for "${name}" there, or compute this part outside the exported function.`,
        );
      }
      const ins = e.inputs.map(read);
      let outs: string[];
      if ("noOnnxForm" in rule) this.fail(rule.noOnnxForm);
      if ("inline" in rule) {
        outs = this.jaxpr(rule.inline(e.params), ins);
      } else {
        outs = rule.lower(this, {
          inputs: ins,
          inAvals: e.inputs.map((a) => a.aval),
          outAvals: e.outVars.map((v) => v.aval),
          params: e.params,
        });
      }
      if (outs.length !== e.outVars.length) this.fail(`its ONNX rule gave ${outs.length} outputs for ${e.outVars.length}.`);
      e.outVars.forEach((v, i) => env.set(v, outs[i]!));
    }
    return j.outs.map(read);
  }
}

/**
 * Exports `jit(f)` at the shapes and dtypes of `exampleArgs` as an ONNX model (the bytes
 * of a ModelProto) that ONNX Runtime runs with the same results. `f` may be any
 * composition of transforms: an inference function, a gradient, a whole training step.
 *
 * The model has one input per leaf of `tree.flatten(exampleArgs)` and one output per
 * leaf of `f`'s result, in that order, named from their pytree paths (`args[0]`,
 * `args[1].w`, ... for inputs; `out`, `out[0]`, `out.loss`, ... for outputs) or by
 * `opts.inputNames` / `opts.outputNames`. Values of the example arguments are never baked in: only their
 * shapes and dtypes are; arrays that `f` closes over become initializers (constants).
 * `lax` control flow stays control flow: `cond`/`switch` become ONNX `If`, `whileLoop` and
 * `scan` become `Loop` (src/export/onnx_control.ts).
 * Supported dtypes: float32, float64, int32, bool. Random numbers drawn from a key that is
 * an argument are exported too (the same Threefry bits; opset 18 or later). A primitive
 * with no ONNX form (`random.permutation`, for one) throws an Error naming it and the
 * exported function.
 *
 * @param f The function to export (it is traced like `jit(f)`).
 * @param exampleArgs The arguments `f` is traced with (a list, one entry per parameter).
 * @param opts `opset` (13 to 21, default 18), `inputNames`, `outputNames`.
 * @returns The serialized ONNX model, for `InferenceSession.create(bytes)` or a `.onnx` file.
 *
 * @example
 * ```ts
 * import { exportOnnx, np } from "cotangent";
 * const w = np.array([[1, 2], [3, 4]]);
 * const predict = (x: np.Array) => np.tanh(np.matmul(x, w));
 * const bytes = exportOnnx(predict, [np.zeros([8, 2])], { inputNames: ["x"], outputNames: ["y"] });
 * console.log(bytes instanceof Uint8Array, bytes.length > 100); // true true
 * // ONNX Runtime: (await InferenceSession.create(bytes)).run({ x: new Tensor("float32", data, [8, 2]) })
 * try {
 *   exportOnnx(predict, [np.zeros([8, 2])], { inputNames: ["x", "extra"] });
 * } catch (e) {
 *   console.log((e as Error).message.startsWith("exportOnnx(predict): inputNames has 2 name(s)")); // true
 * }
 * ```
 */
export function exportOnnx(f: (...args: any[]) => unknown, exampleArgs: unknown[], opts?: ExportOnnxOptions): Uint8Array {
  const fname = typeof f === "function" && f.name ? f.name : "fn";
  const op = `exportOnnx(${fname})`;
  if (typeof f !== "function")
    throw new Error(`exportOnnx: expects a function, got ${typeof f}; pass the function itself, e.g. exportOnnx((x) => np.sin(x), [np.zeros([3])]).`);
  if (!Array.isArray(exampleArgs)) {
    throw new Error(
      `${op}: exampleArgs must be an array with one entry per argument of the function, e.g. [np.zeros([8, 2])], got ${exampleArgs === null ? "null" : typeof exampleArgs}.`,
    );
  }
  const o = checkOptions(op, opts, "{ opset: 18, inputNames: ['x'], outputNames: ['y'] }", OPTION_KEYS);
  const opset = o.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new Error(`${op}: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${String(opset)}.`);
  }

  const [leaves, inDef] = flattenArgs(op, exampleArgs);
  for (const l of leaves) {
    if (!(l instanceof ConcreteArray))
      throw new Error(`${op}: call exportOnnx outside other transforms (an example argument is a traced value ${l.aval.toString()}).`);
  }
  const jf = jit(f);
  let outDef: TreeDef | undefined;
  const traced = traceToJaxpr(
    (xs) => {
      const [outLeaves, od] = flatten(jf(...(inDefUnflatten(inDef, xs) as unknown[])));
      outDef = od;
      return outLeaves as NDArray[];
    },
    leaves.map((l) => l.aval),
  );
  const cj = optimizeJaxpr(traced, cleanupPasses);

  const inNames = checkNames(op, "inputNames", o.inputNames, leaves.length, "exampleArgs") ?? leafPaths(inDef, "args");
  const outPaths = leafPaths(outDef!, "out");
  const outNames = checkNames(op, "outputNames", o.outputNames, cj.outAvals.length, "the output") ?? outPaths;
  const clash = outNames.find((n) => inNames.includes(n));
  if (clash !== undefined) throw new Error(`${op}: "${clash}" names both an input and an output; ONNX needs distinct names (pass inputNames/outputNames).`);

  const w = new GraphWriter({
    opset,
    op,
    reserved: new Set([...inNames, ...outNames]),
    initializers: [],
    constCache: new Map(),
    constArrays: new Map(),
    counter: 0,
    current: "",
  });
  const results = w.jaxpr(cj, inNames);
  results.forEach((r, i) => w.node("Identity", [r], [outNames[i]!]));

  const model = {
    ir_version: IR_VERSION[opset]!,
    opset_import: [{ domain: "", version: opset }],
    producer_name: "cotangent",
    producer_version: "0.1.0",
    doc_string: `exportOnnx(${fname})`,
    graph: {
      name: fname,
      node: w.nodes,
      initializer: w.initializers,
      input: leaves.map((l, i) => valueInfo(inNames[i]!, l.aval)),
      output: cj.outAvals.map((a, i) => valueInfo(outNames[i]!, a)),
    },
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`${op}: internal error building the ONNX model: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
