/**
 * Building kernels node by node, with structural sharing: asking twice for the same
 * node (same operation, same operands) returns the same position.
 * @module
 */
import type { DType } from "../core/dtype.js";
import { castScalar } from "../core/dtype.js";
import type { IndexMap, Kernel, KernelInput, KernelNode, KernelOutput, ReduceOp } from "./ir.js";
import { validateKernel } from "./ir.js";

function nodeKey(n: KernelNode): string {
  switch (n.kind) {
    case "load":
      return `L${n.input}@${n.map.offset}:${n.map.strides.join(",")}`;
    case "const":
      return `C${n.dtype}:${Object.is(n.value, -0) ? "-0" : String(n.value)}`;
    case "unary":
      return `U${n.op}.${n.dtype}(${n.x})`;
    case "ipow":
      return `P${n.y}.${n.dtype}(${n.x})`;
    case "binary":
      return `B${n.op}.${n.dtype}(${n.x},${n.y})`;
    case "compare":
      return `K${n.op}(${n.x},${n.y})`;
    case "select":
      return `S.${n.dtype}(${n.cond},${n.x},${n.y})`;
    case "convert":
      return `V${n.dtype}(${n.x})`;
  }
}

/** Accumulates the nodes of one kernel. */
export class KernelBuilder {
  readonly inputs: KernelInput[] = [];
  readonly nodes: KernelNode[] = [];
  readonly outputs: KernelOutput[] = [];
  private readonly index = new Map<string, number>();
  constructor(
    readonly shape: readonly number[],
    public reduceAxes: readonly number[] = [],
  ) {}

  /** Adds a node (or finds the equal one already present) and returns its position. */
  add(n: KernelNode): number {
    const key = nodeKey(n);
    const hit = this.index.get(key);
    if (hit !== undefined) return hit;
    this.nodes.push(Object.freeze(n));
    this.index.set(key, this.nodes.length - 1);
    return this.nodes.length - 1;
  }
  addInput(dtype: DType, shape: readonly number[]): number {
    this.inputs.push(Object.freeze({ dtype, shape: Object.freeze([...shape]) }));
    return this.inputs.length - 1;
  }
  load(input: number, map: IndexMap): number {
    const dtype = this.inputs[input]!.dtype;
    return this.add({ kind: "load", dtype, input, map: Object.freeze({ offset: map.offset, strides: Object.freeze([...map.strides]) }) });
  }
  constant(value: number, dtype: DType): number {
    return this.add({ kind: "const", dtype, value: castScalar(value, dtype) });
  }
  output(node: number, reduce?: ReduceOp): number {
    this.outputs.push(Object.freeze(reduce ? { node, reduce } : { node }));
    return this.outputs.length - 1;
  }
  /** The finished (frozen, validated) kernel. */
  build(): Kernel {
    const k: Kernel = Object.freeze({
      shape: Object.freeze([...this.shape]),
      inputs: Object.freeze([...this.inputs]),
      nodes: Object.freeze([...this.nodes]),
      outputs: Object.freeze([...this.outputs]),
      reduceAxes: Object.freeze([...this.reduceAxes]),
    });
    validateKernel(k);
    return k;
  }
}
