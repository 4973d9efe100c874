/**
 * Random small smooth op DAGs over broadcast-compatible arrays, for derivative
 * property tests: every program is smooth on all of R^n (no kinks, no poles, no
 * ties, no data-dependent branches), so derivatives can be checked against finite
 * differences at any input. (For richer programs with shape ops, indices and
 * interval-tracked domains, see programs.ts.)
 *
 * Every node's shape stays a "sub-shape" of the common broadcast shape of the inputs
 * (unary ops keep it, binary ops broadcast, reductions keep dims), so any two nodes
 * can be combined.
 */
import fc from "fast-check";
import { type Array as NDArray, np } from "../../src/index.js";
import { type Shape, arrayArb, broadcastShape, broadcastableShapesArb } from "./arbitraries.js";

/** One generated DAG: a function of `args.length` arrays, and a readable listing. */
export interface SmoothDag {
  f: (...xs: NDArray[]) => NDArray;
  args: NDArray[];
  text: string;
}

type Unary = [string, (x: NDArray) => NDArray];
type Binary = [string, (x: NDArray, y: NDArray) => NDArray];

/** Smooth unary ops defined on all reals. */
export const SMOOTH_UNARY: readonly Unary[] = [
  ["sin", (x) => np.sin(x)],
  ["cos", (x) => np.cos(x)],
  ["tanh", (x) => np.tanh(x)],
  ["sigmoid", (x) => np.sigmoid(x)],
  ["exp∘tanh", (x) => np.exp(np.tanh(x))],
  ["square", (x) => np.square(x)],
  ["cube", (x) => np.power(x, 3)],
  ["neg", (x) => np.negative(x)],
  ["log(1+x²)", (x) => np.log(np.add(1, np.square(x)))],
  ["log1p(x²)", (x) => np.log1p(np.square(x))],
  ["sqrt(1+x²)", (x) => np.sqrt(np.add(np.square(x), 1))],
  ["rsqrt(1+x²)", (x) => np.rsqrt(np.add(np.square(x), 1))],
  ["expm1∘tanh", (x) => np.expm1(np.tanh(x))],
  ["x/(1+x²)", (x) => np.divide(x, np.add(1, np.multiply(x, x)))],
  ["2x-0.5", (x) => np.subtract(np.multiply(x, 2), 0.5)],
];

/** Smooth binary ops (with NumPy broadcasting) defined on all reals. */
export const SMOOTH_BINARY: readonly Binary[] = [
  ["add", (x, y) => np.add(x, y)],
  ["sub", (x, y) => np.subtract(x, y)],
  ["mul", (x, y) => np.multiply(x, y)],
  ["x/(1+y²)", (x, y) => np.divide(x, np.add(np.square(y), 1))],
  ["(1+x²)^tanh(y)", (x, y) => np.power(np.add(np.square(x), 1), np.tanh(y))],
  ["where(mask,x,y)", (x, y) => np.where(checkerboard(broadcastShape(x.shape, y.shape)), x, y)],
];

/** A fixed checkerboard bool mask of a shape (not a function of any input). */
function checkerboard(shape: Shape): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Array.from({ length: n }, (_, i) => i % 2 === 0),
    { dtype: "bool", shape },
  );
}

interface NodeSpec {
  kind: number;
  op: number;
  a: number;
  b: number;
  axes: number;
}

/** Options of {@link smoothDagArb}. */
export interface SmoothDagOptions {
  minInputs?: number;
  maxInputs?: number;
  maxNodes?: number;
  maxRank?: number;
  maxDim?: number;
}

/**
 * A random smooth DAG. Nodes are unary ops, binary ops between any earlier values,
 * or keepdims reductions (sum, mean, logSumExp) over random axes. The output is the
 * last node plus 0.25·Σ sin(xᵢ) broadcast together (so every input matters).
 */
export function smoothDagArb(o: SmoothDagOptions = {}): fc.Arbitrary<SmoothDag> {
  return fc
    .integer({ min: o.minInputs ?? 1, max: o.maxInputs ?? 3 })
    .chain((k) => broadcastableShapesArb(k, { maxRank: o.maxRank ?? 3, maxDim: o.maxDim ?? 3 }))
    .chain(({ shapes }) =>
      fc.tuple(
        fc.tuple(...shapes.map((s) => arrayArb(s, "real"))),
        fc.array(
          fc.record({
            kind: fc.integer({ min: 0, max: 9 }),
            op: fc.nat(),
            a: fc.nat(),
            b: fc.nat(),
            axes: fc.nat(),
          }),
          { minLength: 1, maxLength: o.maxNodes ?? 6 },
        ),
      ),
    )
    .map(([args, specs]) => build(args, specs));
}

function build(args: NDArray[], specs: NodeSpec[]): SmoothDag {
  const names = args.map((_, i) => `x${i}`);
  const lines: string[] = [];
  const steps: ((vals: NDArray[]) => NDArray)[] = [];
  const shapes: Shape[] = args.map((a) => a.shape);
  specs.forEach((s, idx) => {
    const n = shapes.length;
    const a = s.a % n;
    const b = s.b % n;
    const out = `n${idx}`;
    if (s.kind < 4) {
      const [name, fn] = SMOOTH_UNARY[s.op % SMOOTH_UNARY.length]!;
      steps.push((v) => fn(v[a]!));
      shapes.push(shapes[a]!);
      lines.push(`${out} = ${name}(${names[a]})`);
    } else if (s.kind < 8) {
      const [name, fn] = SMOOTH_BINARY[s.op % SMOOTH_BINARY.length]!;
      steps.push((v) => fn(v[a]!, v[b]!));
      shapes.push(broadcastShape(shapes[a]!, shapes[b]!));
      lines.push(`${out} = ${name}(${names[a]}, ${names[b]})`);
    } else {
      const shape = shapes[a]!;
      const axes = shape.map((_, i) => i).filter((i) => (s.axes >> i) & 1);
      const reducers: [string, (x: NDArray) => NDArray][] = [
        ["sum", (x) => np.sum(x, { axis: axes, keepdims: true })],
        ["mean", (x) => np.mean(x, { axis: axes, keepdims: true })],
        ["logSumExp", (x) => np.logSumExp(x, { axis: axes, keepdims: true })],
      ];
      const [name, fn] = reducers[s.op % reducers.length]!;
      steps.push((v) => fn(v[a]!));
      shapes.push(shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      lines.push(`${out} = ${name}(${names[a]}, axes=[${axes}], keepdims)`);
    }
    names.push(out);
  });
  const f = (...xs: NDArray[]): NDArray => {
    const vals = [...xs];
    for (const st of steps) vals.push(st(vals));
    const last = vals[vals.length - 1]!;
    return xs.reduce((acc: NDArray, x) => np.add(acc, np.multiply(np.sin(x), 0.25)), last);
  };
  lines.push(`out = ${names[names.length - 1]} + 0.25 * sum_i sin(x_i)`);
  return { f, args, text: `inputs ${args.map((x, i) => `x${i}: [${x.shape}]`).join(", ")}\n${lines.join("\n")}` };
}
