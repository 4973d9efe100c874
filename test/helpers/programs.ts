/**
 * Random programs for property tests of the transforms (jit, vmap and their
 * compositions with autodiff).
 *
 * A program is a random DAG of np operations over a few inputs: elementwise unary
 * and binary ops with NumPy broadcasting, `where`, comparisons, reductions with
 * axes/keepdims, argmax/argmin, reshape, transpose, slice, concatenate, stack,
 * broadcastTo, matmul, take (constant, input or argmax indices) and dtype round
 * trips. Programs are built from a list of integer "genes" (so fast-check shrinks
 * them by dropping and simplifying steps) by an interpreter that tracks, for every
 * value, its shape and an interval containing all of its elements; an operation is
 * only emitted where its inputs lie in a safe domain (log/sqrt of values >= 0.2,
 * divisors away from zero, exp of values <= 3, results bounded by {@link LIMIT}), so
 * every program is smooth and well conditioned at every input drawn from the input
 * intervals.
 *
 * Besides the program, this module builds inputs (one example, or a batch with the
 * examples stacked along chosen axes) and slices batched results, in plain JS index
 * arithmetic that is independent of the library.
 */
import fc from "fast-check";
import { type Array as NDArray, Array as NDArrayClass, type DType, np, tree } from "../../src/index.js";
import { broadcastShape } from "./arbitraries.js";
import { expectClose, flatNumbers, fromFlat, seededRandom, toNumbers } from "./numeric.js";

/** The float dtype a program computes in. */
export type FloatDType = "float32" | "float64";

/** Every intermediate value stays within [-LIMIT, LIMIT]. */
export const LIMIT = 40;
const MAX_RANK = 4;
const MAX_SIZE = 48;

/** An input of a program. */
export interface InputSpec {
  shape: number[];
  dtype: DType;
  /** Elements are drawn uniformly from [lo, hi] (integers for int32 inputs). */
  lo: number;
  hi: number;
}

interface Val {
  shape: number[];
  /** "int" values are int32 (indices from argmax/argmin or index inputs). */
  kind: "float" | "int";
  lo: number;
  hi: number;
  /** An input with distinct random elements (argmax/argmin are only taken of these). */
  distinct: boolean;
}

/** One step: `v{id} = op(args...)`. */
export interface Step {
  readonly op: string;
  readonly args: readonly number[];
  readonly run: (xs: NDArray[]) => NDArray;
  readonly text: string;
}

/** The integer genes a program is built from (fast-check generates and shrinks these). */
export interface ProgramGenes {
  base: number[];
  inputs: { drop: number; ones: number; domain: number }[];
  ops: { op: number; a: number; b: number; c: number; p: number[] }[];
  extra: number;
}

/** Options of {@link programArb}. */
export interface ProgramOptions {
  dtype?: FloatDType;
  /** Number of float inputs (default 1..3). */
  minInputs?: number;
  maxInputs?: number;
  /** Number of operations (default 1..8). */
  minSteps?: number;
  maxSteps?: number;
  /** Allow `take` to create int32 index inputs (default true). */
  indexInputs?: boolean;
}

/** A random program and everything needed to run it. */
export interface Program {
  readonly dtype: FloatDType;
  readonly inputs: readonly InputSpec[];
  readonly steps: readonly Step[];
  /** Positions of the float inputs (the differentiable ones). */
  readonly floatArgnums: readonly number[];
  /** Shape of the main output. */
  readonly outShape: readonly number[];
  /** Runs the program: the main output (always a float array). */
  readonly fn: (...xs: NDArray[]) => NDArray;
  /** Runs the program returning a pytree: `{ out, extra: [another value] }`. */
  readonly multi: (...xs: NDArray[]) => { out: NDArray; extra: NDArray[] };
  /** A scalar: `sum(out * w)` for fixed random weights `w` (closed over). */
  readonly loss: (...xs: NDArray[]) => NDArray;
  /** Random values for one example of every input. */
  makeInputs(rand: () => number): NDArray[];
  /** The program as text, for failure messages. */
  toString(): string;
}

// ------------------------------------------------------------------ interval helpers

const hull = (vals: number[]): [number, number] => [Math.min(...vals), Math.max(...vals)];
const mulI = (a: Val, b: Val): [number, number] => hull([a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi]);
const absMax = (v: { lo: number; hi: number }): number => Math.max(Math.abs(v.lo), Math.abs(v.hi));
const sig = (x: number): number => 1 / (1 + Math.exp(-x));
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const pick = <T>(xs: readonly T[], g: number): T => xs[g % xs.length]!;
const fmt = (s: readonly number[]): string => `[${s.join(",")}]`;
const num = (x: number): string => (Number.isInteger(x) ? `${x}` : x.toFixed(3));

/** NumPy broadcast of shapes, or null when incompatible. */
function broadcast(...shapes: (readonly number[])[]): number[] | null {
  try {
    return [...broadcastShape(...shapes)];
  } catch {
    return null;
  }
}

function fits(shape: readonly number[], lo: number, hi: number): boolean {
  return (
    shape.length <= MAX_RANK && sizeOf(shape) <= MAX_SIZE && sizeOf(shape) > 0 && lo >= -LIMIT && hi <= LIMIT && Number.isFinite(lo) && Number.isFinite(hi)
  );
}

// ------------------------------------------------------------------ operations

interface Unary {
  name: string;
  ok: (v: Val) => boolean;
  range: (v: Val) => [number, number];
  f: (x: NDArray) => NDArray;
}
const UNARY: Unary[] = [
  { name: "sin", ok: () => true, range: () => [-1, 1], f: np.sin },
  { name: "cos", ok: () => true, range: () => [-1, 1], f: np.cos },
  { name: "tanh", ok: () => true, range: (v) => [Math.tanh(v.lo), Math.tanh(v.hi)], f: np.tanh },
  { name: "sigmoid", ok: () => true, range: (v) => [sig(v.lo), sig(v.hi)], f: np.sigmoid },
  { name: "exp", ok: (v) => v.hi <= 3, range: (v) => [Math.exp(v.lo), Math.exp(v.hi)], f: np.exp },
  { name: "expm1", ok: (v) => v.hi <= 3, range: (v) => [Math.expm1(v.lo), Math.expm1(v.hi)], f: np.expm1 },
  { name: "log", ok: (v) => v.lo >= 0.2, range: (v) => [Math.log(v.lo), Math.log(v.hi)], f: np.log },
  { name: "log1p", ok: (v) => v.lo >= -0.8, range: (v) => [Math.log1p(v.lo), Math.log1p(v.hi)], f: np.log1p },
  { name: "sqrt", ok: (v) => v.lo >= 0.2, range: (v) => [Math.sqrt(v.lo), Math.sqrt(v.hi)], f: np.sqrt },
  { name: "rsqrt", ok: (v) => v.lo >= 0.2, range: (v) => [1 / Math.sqrt(v.hi), 1 / Math.sqrt(v.lo)], f: np.rsqrt },
  { name: "reciprocal", ok: (v) => v.lo >= 0.2 || v.hi <= -0.2, range: (v) => hull([1 / v.lo, 1 / v.hi]), f: np.reciprocal },
  { name: "negative", ok: () => true, range: (v) => [-v.hi, -v.lo], f: np.negative },
  { name: "abs", ok: (v) => v.lo > 0.05 || v.hi < -0.05, range: (v) => hull([Math.abs(v.lo), Math.abs(v.hi)]), f: np.abs },
  { name: "square", ok: () => true, range: (v) => [v.lo * v.hi > 0 ? Math.min(v.lo ** 2, v.hi ** 2) : 0, absMax(v) ** 2], f: np.square },
  { name: "cube", ok: () => true, range: (v) => [v.lo ** 3, v.hi ** 3], f: (x) => np.power(x, 3) },
];

interface Binary {
  name: string;
  ok: (a: Val, b: Val) => boolean;
  range: (a: Val, b: Val) => [number, number];
  f: (a: NDArray, b: NDArray) => NDArray;
}
const BINARY: Binary[] = [
  { name: "add", ok: () => true, range: (a, b) => [a.lo + b.lo, a.hi + b.hi], f: np.add },
  { name: "subtract", ok: () => true, range: (a, b) => [a.lo - b.hi, a.hi - b.lo], f: np.subtract },
  { name: "multiply", ok: () => true, range: mulI, f: np.multiply },
  { name: "divide", ok: (_a, b) => b.lo >= 0.2 || b.hi <= -0.2, range: (a, b) => hull([a.lo / b.lo, a.lo / b.hi, a.hi / b.lo, a.hi / b.hi]), f: np.divide },
  { name: "maximum", ok: () => true, range: (a, b) => [Math.max(a.lo, b.lo), Math.max(a.hi, b.hi)], f: np.maximum },
  { name: "minimum", ok: () => true, range: (a, b) => [Math.min(a.lo, b.lo), Math.min(a.hi, b.hi)], f: np.minimum },
  {
    name: "power",
    ok: (a, b) => a.lo >= 0.2 && absMax(b) <= 2,
    range: (a, b) => hull([a.lo ** b.lo, a.lo ** b.hi, a.hi ** b.lo, a.hi ** b.hi]),
    f: np.power,
  },
];

type Reduce = "sum" | "mean" | "max" | "min" | "prod" | "logSumExp";
const REDUCE: Reduce[] = ["sum", "mean", "max", "min", "prod", "logSumExp"];

/** The op kinds and their relative frequencies. */
const KINDS: [string, number][] = [
  ["unary", 6],
  ["binary", 6],
  ["scalar", 2],
  ["where", 2],
  ["reduce", 4],
  ["arg", 1],
  ["reshape", 2],
  ["transpose", 2],
  ["slice", 2],
  ["concatenate", 2],
  ["stack", 1],
  ["broadcastTo", 1],
  ["matmul", 3],
  ["take", 3],
  ["astype", 1],
];
const KIND_TABLE = KINDS.flatMap(([k, w]) => new Array<string>(w).fill(k));

/** Turns nonnegative integers into a permutation of 0..n-1 (Lehmer code). */
function permutation(n: number, p: readonly number[]): number[] {
  const rest = Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(rest.splice((p[i] ?? 0) % rest.length, 1)[0]!);
  return out;
}

class Builder {
  readonly vals: Val[] = [];
  readonly steps: Step[] = [];
  readonly inputs: InputSpec[] = [];
  /** For each value: the input position it is, or -1 for step results. */
  readonly inputOf: number[] = [];
  constructor(
    readonly dtype: FloatDType,
    readonly indexInputs: boolean,
  ) {}

  addInput(spec: InputSpec, distinct: boolean): number {
    this.inputs.push(spec);
    this.vals.push({ shape: spec.shape, kind: spec.dtype === "int32" ? "int" : "float", lo: spec.lo, hi: spec.hi, distinct });
    this.inputOf.push(this.inputs.length - 1);
    return this.vals.length - 1;
  }
  push(op: string, args: number[], out: Omit<Val, "distinct">, run: (xs: NDArray[]) => NDArray, text: string): number {
    this.vals.push({ ...out, distinct: false });
    this.inputOf.push(-1);
    this.steps.push({ op, args, run, text });
    return this.vals.length - 1;
  }
  floats(): number[] {
    return this.vals.flatMap((v, i) => (v.kind === "float" ? [i] : []));
  }
  name(i: number): string {
    return `v${i}`;
  }

  /** Applies one gene; falls back to tanh of a value when the drawn op does not apply. */
  apply(g: ProgramGenes["ops"][number]): void {
    const floats = this.floats();
    const a = pick(floats, g.a);
    // the drawn kind, else the next kinds in turn, else tanh (always applies)
    const first = KINDS.findIndex(([k]) => k === pick(KIND_TABLE, g.op));
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(first + k) % KINDS.length]![0];
      if (this.tryOp(kind, a, g)) return;
    }
    this.unary(UNARY[2]!, a);
  }

  unary(u: Unary, a: number): boolean {
    const v = this.vals[a]!;
    if (!u.ok(v)) return false;
    const [lo, hi] = u.range(v);
    if (!fits(v.shape, lo, hi)) return false;
    this.push(u.name, [a], { shape: v.shape, kind: "float", lo, hi }, ([x]) => u.f(x!), `${u.name}(${this.name(a)})`);
    return true;
  }

  /** Values (float) whose shapes broadcast with `a`. */
  partners(a: number, pred: (v: Val) => boolean = () => true): number[] {
    const sa = this.vals[a]!.shape;
    return this.floats().filter((i) => {
      const b = broadcast(sa, this.vals[i]!.shape);
      return b !== null && b.length <= MAX_RANK && sizeOf(b) <= MAX_SIZE && pred(this.vals[i]!);
    });
  }

  tryOp(kind: string, a: number, g: ProgramGenes["ops"][number]): boolean {
    const va = this.vals[a]!;
    const p = g.p;
    const n = (i: number): string => this.name(i);
    switch (kind) {
      case "unary":
        for (let k = 0; k < 4; k++) if (this.unary(pick(UNARY, g.b + k), a)) return true;
        return false;
      case "binary": {
        const op = pick(BINARY, g.b);
        const cands = this.partners(a, (vb) => op.ok(va, vb));
        if (!cands.length) return false;
        const b = pick(cands, g.c);
        const vb = this.vals[b]!;
        const [lo, hi] = op.range(va, vb);
        const shape = broadcast(va.shape, vb.shape)!;
        if (!fits(shape, lo, hi)) return false;
        const [x, y] = (p[0] ?? 0) % 2 ? [b, a] : [a, b];
        if (x === b && !op.ok(vb, va)) return false;
        const [lo2, hi2] = x === b ? op.range(vb, va) : [lo, hi];
        if (!fits(shape, lo2, hi2)) return false;
        this.push(op.name, [x, y], { shape, kind: "float", lo: lo2, hi: hi2 }, ([u, w]) => op.f(u!, w!), `${op.name}(${n(x)}, ${n(y)})`);
        return true;
      }
      case "scalar": {
        // a weakly typed JS number operand keeps the array's dtype
        const c = ((p[0] ?? 0) % 9) / 4 - 1; // -1 .. 1 in quarters
        if ((g.b ?? 0) % 2) {
          const [lo, hi] = [va.lo + c + 0.5, va.hi + c + 0.5];
          this.push("add", [a], { shape: va.shape, kind: "float", lo, hi }, ([x]) => np.add(x!, c + 0.5), `add(${n(a)}, ${c + 0.5})`);
        } else {
          const k = c === 0 ? 1.5 : c * 2;
          const [lo, hi] = hull([va.lo * k, va.hi * k]);
          if (!fits(va.shape, lo, hi)) return false;
          this.push("multiply", [a], { shape: va.shape, kind: "float", lo, hi }, ([x]) => np.multiply(k, x!), `multiply(${k}, ${n(a)})`);
        }
        return true;
      }
      case "where": {
        const cands = this.partners(a);
        const b = pick(cands, g.b);
        const c = pick(cands, g.c);
        const d = pick(cands, p[0] ?? 0);
        const shape = broadcast(va.shape, this.vals[b]!.shape, this.vals[c]!.shape, this.vals[d]!.shape);
        if (!shape || !fits(shape, 0, 0)) return false;
        const [lo, hi] = hull([this.vals[c]!.lo, this.vals[c]!.hi, this.vals[d]!.lo, this.vals[d]!.hi]);
        const cmp = (p[1] ?? 0) % 3;
        const cmpName = ["greater", "less", "greaterEqual"][cmp]!;
        const cmpF = [np.greater, np.less, np.greaterEqual][cmp]!;
        // conditions combine comparisons with logical ops now and then
        const useNot = (p[2] ?? 0) % 4 === 1;
        this.push(
          "where",
          [a, b, c, d],
          { shape, kind: "float", lo, hi },
          ([u, w, x, y]) => {
            const cond = cmpF(u!, w!);
            return np.where(useNot ? np.logicalNot(cond) : cond, x!, y!);
          },
          `where(${useNot ? "not " : ""}${cmpName}(${n(a)}, ${n(b)}), ${n(c)}, ${n(d)})`,
        );
        return true;
      }
      case "reduce": {
        const op = pick(REDUCE, g.b);
        const r = va.shape.length;
        let axis: number | number[] | undefined;
        const form = (p[0] ?? 0) % 4;
        if (r === 0 || form === 0) axis = undefined;
        else if (form === 1) axis = (p[1] ?? 0) % r;
        else if (form === 2) axis = -1 - ((p[1] ?? 0) % r);
        else {
          const axes = Array.from({ length: r }, (_, i) => i).filter((i) => ((p[1] ?? 0) >> i) & 1);
          axis = axes.length ? axes : [0];
        }
        const keepdims = ((p[2] ?? 0) & 1) === 1;
        const axes = axis === undefined ? va.shape.map((_, i) => i) : (typeof axis === "number" ? [axis] : axis).map((x) => (x < 0 ? x + r : x));
        const count = axes.reduce((s, i) => s * va.shape[i]!, 1);
        let lo: number;
        let hi: number;
        if (op === "sum") [lo, hi] = [va.lo * count, va.hi * count];
        else if (op === "prod") {
          const m = absMax(va) ** count;
          if (m > LIMIT) return false;
          [lo, hi] = [-m, m];
        } else if (op === "logSumExp") [lo, hi] = [va.lo, va.hi + Math.log(count)];
        else [lo, hi] = [va.lo, va.hi];
        const shape = keepdims ? va.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : va.shape.filter((_, i) => !axes.includes(i));
        if (!fits(shape, lo, hi)) return false;
        const f = { sum: np.sum, mean: np.mean, max: np.max, min: np.min, prod: np.prod, logSumExp: np.logSumExp }[op];
        const opts = axis === undefined ? (keepdims ? { keepdims } : {}) : { axis, keepdims };
        this.push(op, [a], { shape, kind: "float", lo, hi }, ([x]) => f(x!, opts), `${op}(${n(a)}, ${JSON.stringify(opts)})`);
        return true;
      }
      case "arg": {
        // argmax/argmin of an input (distinct elements: no ties)
        const srcs = this.vals.flatMap((v, i) => (v.distinct && v.shape.length > 0 ? [i] : []));
        if (!srcs.length) return false;
        const s = pick(srcs, g.b);
        const vs = this.vals[s]!;
        const r = vs.shape.length;
        const useAxis = (p[0] ?? 0) % 3 !== 0;
        const axis = useAxis ? ((p[1] ?? 0) % (2 * r)) - r : undefined;
        const ax = axis === undefined ? -1 : axis < 0 ? axis + r : axis;
        const keepdims = ((p[2] ?? 0) & 1) === 1;
        const len = axis === undefined ? sizeOf(vs.shape) : vs.shape[ax]!;
        const shape =
          axis === undefined
            ? keepdims
              ? vs.shape.map(() => 1)
              : []
            : keepdims
              ? vs.shape.map((d, i) => (i === ax ? 1 : d))
              : vs.shape.filter((_, i) => i !== ax);
        const isMax = (g.c ?? 0) % 2 === 0;
        const f = isMax ? np.argmax : np.argmin;
        const opts = axis === undefined ? { keepdims } : { axis, keepdims };
        const name = isMax ? "argmax" : "argmin";
        this.push(name, [s], { shape, kind: "int", lo: 0, hi: len - 1 }, ([x]) => f(x!, opts), `${name}(${n(s)}, ${JSON.stringify(opts)})`);
        // use the index as a number too (in the float dtype of its source)
        const id = this.vals.length - 1;
        const k = 0.5;
        this.push(
          "astype",
          [id, s],
          { shape, kind: "float", lo: 0, hi: (len - 1) * k },
          ([x, y]) => np.multiply(x!.astype(y!.dtype), k),
          `multiply(astype(${n(id)}, float), ${k})`,
        );
        return true;
      }
      case "reshape": {
        const s = va.shape;
        const r = s.length;
        const options: number[][] = [[sizeOf(s)]];
        if (r < MAX_RANK) {
          const at = (p[0] ?? 0) % (r + 1);
          options.push([...s.slice(0, at), 1, ...s.slice(at)]);
        }
        if (r >= 2) {
          const at = (p[1] ?? 0) % (r - 1);
          options.push([...s.slice(0, at), s[at]! * s[at + 1]!, ...s.slice(at + 2)]);
        }
        const ones = s.findIndex((d) => d === 1);
        if (ones >= 0) options.push(s.filter((_, i) => i !== ones));
        const splittable = s.findIndex((d) => d === 4 || d === 6 || d === 9);
        if (splittable >= 0 && r < MAX_RANK) {
          const d = s[splittable]!;
          const f = d === 9 ? 3 : 2;
          options.push([...s.slice(0, splittable), f, d / f, ...s.slice(splittable + 1)]);
        }
        const shape = pick(options, g.b);
        // sometimes spell one dimension as -1
        const spec = shape.length && (p[2] ?? 0) % 3 === 0 ? shape.map((d, i) => (i === (p[3] ?? 0) % shape.length ? -1 : d)) : shape;
        this.push("reshape", [a], { ...va, shape }, ([x]) => np.reshape(x!, spec), `reshape(${n(a)}, ${fmt(spec)})`);
        return true;
      }
      case "transpose": {
        const r = va.shape.length;
        if (r < 2) return false;
        const useDefault = (g.b ?? 0) % 4 === 0;
        const perm = useDefault ? Array.from({ length: r }, (_, i) => r - 1 - i) : permutation(r, p);
        const shape = perm.map((q) => va.shape[q]!);
        this.push(
          "transpose",
          [a],
          { ...va, shape },
          ([x]) => (useDefault ? np.transpose(x!) : np.transpose(x!, perm)),
          `transpose(${n(a)}${useDefault ? "" : `, ${fmt(perm)}`})`,
        );
        return true;
      }
      case "slice": {
        const s = va.shape;
        if (!s.length) return false;
        const starts = s.map((d, i) => (p[i] ?? 0) % d);
        const stops = s.map((d, i) => starts[i]! + 1 + (((p[i] ?? 0) >> 3) % (d - starts[i]!)));
        // negative stops count from the end
        const spec = (g.b ?? 0) % 2 ? stops.map((e, i) => (e === s[i] ? e : e - s[i]!)) : stops;
        const shape = s.map((_, i) => stops[i]! - starts[i]!);
        this.push("slice", [a], { ...va, shape }, ([x]) => np.slice(x!, starts, spec), `slice(${n(a)}, ${fmt(starts)}, ${fmt(spec)})`);
        return true;
      }
      case "concatenate": {
        const s = va.shape;
        const r = s.length;
        if (!r) return false;
        const axis = (g.b ?? 0) % r;
        const cands = this.floats().filter((i) => {
          const t = this.vals[i]!.shape;
          return t.length === r && t.every((d, k) => k === axis || d === s[k]);
        });
        const b = pick(cands, g.c);
        const c = (p[0] ?? 0) % 3 === 0 ? pick(cands, p[1] ?? 0) : -1;
        const parts = c >= 0 ? [a, b, c] : [a, b];
        const shape = s.map((d, k) => (k === axis ? parts.reduce((m, i) => m + this.vals[i]!.shape[axis]!, 0) : d));
        if (!fits(shape, 0, 0)) return false;
        const [lo, hi] = hull(parts.flatMap((i) => [this.vals[i]!.lo, this.vals[i]!.hi]));
        const ax = (p[2] ?? 0) % 2 ? axis - r : axis;
        this.push("concatenate", parts, { shape, kind: "float", lo, hi }, (xs) => np.concatenate(xs, ax), `concatenate([${parts.map(n).join(", ")}], ${ax})`);
        return true;
      }
      case "stack": {
        const s = va.shape;
        if (s.length >= MAX_RANK) return false;
        const cands = this.floats().filter((i) => fmt(this.vals[i]!.shape) === fmt(s));
        const b = pick(cands, g.b);
        const axis = (g.c ?? 0) % (s.length + 1);
        const shape = [...s.slice(0, axis), 2, ...s.slice(axis)];
        if (!fits(shape, 0, 0)) return false;
        const [lo, hi] = hull([va.lo, va.hi, this.vals[b]!.lo, this.vals[b]!.hi]);
        this.push("stack", [a, b], { shape, kind: "float", lo, hi }, ([x, y]) => np.stack([x!, y!], axis), `stack([${n(a)}, ${n(b)}], ${axis})`);
        return true;
      }
      case "broadcastTo": {
        const s = va.shape;
        const grown = s.map((d, i) => (d === 1 ? 1 + ((p[i] ?? 0) % 3) : d));
        const lead = (g.b ?? 0) % 3 === 0 ? [] : [1 + ((g.c ?? 0) % 3)];
        const shape = [...lead, ...grown];
        if (!fits(shape, 0, 0)) return false;
        this.push("broadcastTo", [a], { ...va, shape }, ([x]) => np.broadcastTo(x!, shape), `broadcastTo(${n(a)}, ${fmt(shape)})`);
        return true;
      }
      case "matmul": {
        const s = va.shape;
        if (!s.length) return false;
        const k = s[s.length - 1]!;
        const aBatch = s.slice(0, -2);
        const outShapeWith = (t: readonly number[]): number[] | null => {
          if (!t.length) return null;
          if (t.length === 1) return t[0] === k ? s.slice(0, -1) : null;
          if (t[t.length - 2] !== k) return null;
          const batch = broadcast(aBatch, t.slice(0, -2));
          if (!batch) return null;
          return [...batch, ...(s.length >= 2 ? [s[s.length - 2]!] : []), t[t.length - 1]!];
        };
        const cands = this.floats().filter((i) => {
          const o = outShapeWith(this.vals[i]!.shape);
          return o !== null && fits(o, 0, 0);
        });
        let b: number;
        let transposeB = false;
        if (cands.length && (g.b ?? 0) % 4 !== 0) b = pick(cands, g.c);
        else {
          // a @ a^T (or a . a for vectors) always aligns
          b = a;
          transposeB = s.length >= 2;
        }
        const vb = this.vals[b]!;
        const tb = transposeB ? [...vb.shape.slice(0, -2), vb.shape[vb.shape.length - 1]!, vb.shape[vb.shape.length - 2]!] : vb.shape;
        const shape = outShapeWith(tb);
        if (!shape) return false;
        const m = k * absMax(va) * absMax(vb);
        if (!fits(shape, -m, m)) return false;
        const perm = Array.from({ length: tb.length }, (_, i) => i);
        if (transposeB) [perm[tb.length - 2], perm[tb.length - 1]] = [tb.length - 1, tb.length - 2];
        this.push(
          "matmul",
          [a, b],
          { shape, kind: "float", lo: -m, hi: m },
          ([x, y]) => np.matmul(x!, transposeB ? np.transpose(y!, perm) : y!),
          `matmul(${n(a)}, ${transposeB ? `transpose(${n(b)}, ${fmt(perm)})` : n(b)})`,
        );
        return true;
      }
      case "take": {
        const s = va.shape;
        if (!s.length) return false;
        const form = (g.b ?? 0) % 5;
        const axis = form === 4 ? undefined : ((g.c ?? 0) % (2 * s.length)) - s.length;
        const len = axis === undefined ? sizeOf(s) : s[axis < 0 ? axis + s.length : axis]!;
        const ax = axis === undefined ? 0 : axis < 0 ? axis + s.length : axis;
        const src = axis === undefined ? [sizeOf(s)] : s;
        const idxShape = Array.from({ length: (p[0] ?? 0) % 3 }, (_, i) => 1 + ((p[1 + i] ?? 0) % 3));
        const outShape = (is: readonly number[]): number[] => [...src.slice(0, ax), ...is, ...src.slice(ax + 1)];
        // index source: an argmax/argmin value in range, an int32 input, or a constant
        const ints = this.vals.flatMap((v, i) => (v.kind === "int" && v.hi <= len - 1 && fits(outShape(v.shape), 0, 0) ? [i] : []));
        let idxId = -1;
        if (ints.length && (p[3] ?? 0) % 2 === 0) idxId = pick(ints, p[4] ?? 0);
        else if (this.indexInputs && (p[3] ?? 0) % 3 === 1) idxId = this.addInput({ shape: idxShape, dtype: "int32", lo: -len, hi: len - 1 }, false);
        const ishape = idxId >= 0 ? this.vals[idxId]!.shape : idxShape;
        const shape = outShape(ishape);
        if (!fits(shape, 0, 0)) return false;
        if (idxId >= 0) {
          this.push(
            "take",
            [a, idxId],
            { shape, kind: "float", lo: va.lo, hi: va.hi },
            ([x, i]) => np.take(x!, i!, axis),
            `take(${n(a)}, ${n(idxId)}, ${String(axis)})`,
          );
        } else {
          const rand = seededRandom((p[5] ?? 0) + 17);
          const vals = Array.from({ length: sizeOf(ishape) }, () => Math.floor(rand() * 2 * len) - len);
          const nested =
            ishape.length === 0
              ? vals[0]!
              : ishape.length === 1
                ? vals
                : Array.from({ length: ishape[0]! }, (_, r) => vals.slice(r * ishape[1]!, (r + 1) * ishape[1]!));
          this.push(
            "take",
            [a],
            { shape, kind: "float", lo: va.lo, hi: va.hi },
            ([x]) => np.take(x!, nested, axis),
            `take(${n(a)}, ${JSON.stringify(nested)}, ${String(axis)})`,
          );
        }
        return true;
      }
      case "astype": {
        // round trip through the other float dtype (float32 rounding is exact to reproduce)
        const other = (d: DType): DType => (d === "float64" ? "float32" : "float64");
        this.push(
          "astype",
          [a],
          { ...va },
          ([x]) => x!.astype(other(x!.dtype)).astype(x!.dtype),
          `astype(astype(${n(a)}, ${other(this.dtype)}), ${this.dtype})`,
        );
        return true;
      }
    }
    return false;
  }
}

/** Builds a program from genes. */
export function buildProgram(genes: ProgramGenes, opts: ProgramOptions = {}): Program {
  const dtype = opts.dtype ?? "float64";
  const b = new Builder(dtype, opts.indexInputs ?? true);
  const base = genes.base.slice(0, 3).map((d) => 1 + (d % 3));
  for (const inp of genes.inputs) {
    const drop = inp.drop % (base.length + 1);
    const shape = base.slice(drop).map((d, i) => ((inp.ones >> i) & 1 ? 1 : d));
    const [lo, hi] = inp.domain % 3 === 0 ? [0.3, 2.5] : [-2, 2];
    b.addInput({ shape, dtype, lo, hi }, true);
  }
  for (const g of genes.ops) b.apply(g);
  // the main output: the last float value
  const floats = b.floats();
  const outId = floats[floats.length - 1]!;
  const extraId = pick(
    b.vals.map((_, i) => i),
    genes.extra,
  );
  const steps = [...b.steps];
  const inputs = [...b.inputs];
  const inputOf = [...b.inputOf];
  const outShape = b.vals[outId]!.shape;

  const evaluate = (xs: NDArray[], want: number[]): NDArray[] => {
    if (xs.length !== inputs.length) throw new Error(`program expects ${inputs.length} inputs, got ${xs.length}`);
    const env: NDArray[] = [];
    let k = 0;
    for (let i = 0; i < inputOf.length; i++) {
      if (inputOf[i]! >= 0) env[i] = xs[inputOf[i]!]!;
      else env[i] = steps[k]!.run(steps[k++]!.args.map((j) => env[j]!));
    }
    return want.map((i) => env[i]!);
  };
  const wRand = seededRandom(genes.base.reduce((s, v) => s * 31 + v, 7) >>> 0);
  const weights = fromFlat(
    Array.from({ length: sizeOf(outShape) }, () => Math.round((wRand() * 2 - 1) * 8) / 4),
    outShape,
    dtype,
  );
  const text = [
    `inputs: ${inputs.map((s, i) => `x${i}:${s.dtype === "int32" ? "i32" : dtype === "float32" ? "f32" : "f64"}${fmt(s.shape)} in [${num(s.lo)}, ${num(s.hi)}]`).join(", ")}`,
    ...(() => {
      const lines: string[] = [];
      let k = 0;
      inputOf.forEach((inp, i) => {
        const v = b.vals[i]!;
        if (inp >= 0) lines.push(`  v${i} = x${inp}`);
        else lines.push(`  v${i} = ${steps[k++]!.text}   # ${fmt(v.shape)} in [${num(v.lo)}, ${num(v.hi)}]`);
      });
      return lines;
    })(),
    `  out = v${outId}, extra = v${extraId}`,
  ].join("\n");

  return {
    dtype,
    inputs,
    steps,
    floatArgnums: inputs.flatMap((s, i) => (s.dtype === "int32" ? [] : [i])),
    outShape,
    fn: (...xs) => evaluate(xs, [outId])[0]!,
    multi: (...xs) => {
      const [out, extra] = evaluate(xs, [outId, extraId]);
      return { out: out!, extra: [extra!] };
    },
    loss: (...xs) => np.sum(np.multiply(evaluate(xs, [outId])[0]!, weights)),
    makeInputs: (rand) => inputs.map((s) => fromFlat(exampleValues(s, rand), s.shape, s.dtype)),
    toString: () => text,
  };
}

/** Random element values for one example of an input. */
export function exampleValues(s: InputSpec, rand: () => number): number[] {
  return Array.from({ length: sizeOf(s.shape) }, () => (s.dtype === "int32" ? s.lo + Math.floor(rand() * (s.hi - s.lo + 1)) : s.lo + (s.hi - s.lo) * rand()));
}

/** Genes of a program (see {@link buildProgram}). */
export function genesArb(opts: ProgramOptions = {}): fc.Arbitrary<ProgramGenes> {
  const nat = fc.nat({ max: 1 << 12 });
  return fc.record({
    base: fc.array(fc.nat({ max: 8 }), { minLength: 1, maxLength: 3 }),
    inputs: fc.array(fc.record({ drop: fc.nat({ max: 3 }), ones: fc.nat({ max: 15 }), domain: fc.nat({ max: 5 }) }), {
      minLength: opts.minInputs ?? 1,
      maxLength: opts.maxInputs ?? 3,
    }),
    ops: fc.array(fc.record({ op: nat, a: nat, b: nat, c: nat, p: fc.array(nat, { minLength: 6, maxLength: 6 }) }), {
      minLength: opts.minSteps ?? 1,
      maxLength: opts.maxSteps ?? 8,
    }),
    extra: nat,
  });
}

/**
 * A program with inputs drawn from `seed`, in the form derivative checks use: `f`
 * takes the float inputs only (`args`) and closes over the int32 index inputs.
 */
export interface ProgramCase extends Program {
  readonly seed: number;
  /** All inputs of the program (float and int32), in order. */
  readonly inputsAll: NDArray[];
  /** The float inputs. */
  readonly args: NDArray[];
  /** The program as a function of its float inputs. */
  readonly f: (...floats: NDArray[]) => NDArray;
  /** The program as text. */
  readonly text: string;
  /** All inputs with the float ones replaced by `floats`. */
  withFloats(floats: readonly NDArray[]): NDArray[];
}

/** Makes a {@link ProgramCase} of a program and a seed. */
export function programCase(program: Program, seed: number): ProgramCase {
  const inputsAll = program.makeInputs(seededRandom(seed));
  const fa = program.floatArgnums;
  const withFloats = (floats: readonly NDArray[]): NDArray[] => {
    const xs = [...inputsAll];
    fa.forEach((k, i) => (xs[k] = floats[i]!));
    return xs;
  };
  return Object.assign(Object.create(null) as object, program, {
    seed,
    inputsAll,
    args: fa.map((k) => inputsAll[k]!),
    f: (...floats: NDArray[]) => program.fn(...withFloats(floats)),
    text: program.toString(),
    withFloats,
    toString: () => `seed ${seed}\n${program.toString()}`,
    [fc.toStringMethod]: () => `seed ${seed}\n${program.toString()}`,
  }) as ProgramCase;
}

/** Random programs (with inputs; see {@link ProgramCase}). */
export function programArb(opts: ProgramOptions = {}): fc.Arbitrary<ProgramCase> {
  return fc.tuple(genesArb(opts), fc.nat({ max: 2 ** 30 })).map(([g, seed]) => programCase(buildProgram(g, opts), seed));
}

// ------------------------------------------------------------------ batches (plain JS)

/** Row-major strides. */
function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i]!;
  }
  return s;
}

/**
 * Stacks examples (flat row-major values of `shape`) along a new axis `axis`
 * (negative counts from the end of the stacked rank): the plain-JS `np.stack`.
 */
export function stackValues(examples: readonly (readonly number[])[], shape: readonly number[], axis: number): { values: number[]; shape: number[] } {
  const r = shape.length + 1;
  const ax = axis < 0 ? axis + r : axis;
  const out = [...shape.slice(0, ax), examples.length, ...shape.slice(ax)];
  const os = strides(out);
  const is = strides(shape);
  const values = new Array<number>(sizeOf(out));
  const n = sizeOf(shape);
  examples.forEach((ex, b) => {
    for (let f = 0; f < n; f++) {
      let off = b * os[ax]!;
      for (let k = 0; k < shape.length; k++) {
        const idx = Math.floor(f / is[k]!) % shape[k]!;
        off += idx * os[k < ax ? k : k + 1]!;
      }
      values[off] = ex[f]!;
    }
  });
  return { values, shape: out };
}

/** The `i`-th slice of `x` along `axis` (negative allowed), as flat row-major values. */
export function sliceValues(x: NDArray, axis: number, i: number): { values: number[]; shape: number[] } {
  const s = x.shape;
  const ax = axis < 0 ? axis + s.length : axis;
  const v = toNumbers(x);
  const st = strides(s);
  const rest = s.filter((_, k) => k !== ax);
  const rs = strides(rest);
  const n = sizeOf(rest);
  const values = new Array<number>(n);
  for (let f = 0; f < n; f++) {
    let off = i * st[ax]!;
    for (let k = 0; k < rest.length; k++) {
      const idx = Math.floor(f / rs[k]!) % rest[k]!;
      off += idx * st[k < ax ? k : k + 1]!;
    }
    values[f] = v[off]!;
  }
  return { values, shape: rest };
}

/** A batch of inputs for vmap: mapped inputs stacked along their axis, the others shared. */
export interface Batch {
  /** The arguments to pass to `vmap(f, { inAxes })`. */
  batched: NDArray[];
  /** `perExample[i]` are the arguments of example i. */
  perExample: NDArray[][];
}

/**
 * Draws `size` examples of the program's inputs and stacks input k along
 * `inAxes[k]` (null: one value shared by every example).
 */
export function makeBatch(program: { readonly inputs: readonly InputSpec[] }, rand: () => number, size: number, inAxes: readonly (number | null)[]): Batch {
  const perInput = program.inputs.map((s, k) => {
    const n = inAxes[k] === null ? 1 : size;
    return Array.from({ length: n }, () => exampleValues(s, rand));
  });
  const batched = program.inputs.map((s, k) => {
    const ax = inAxes[k];
    if (ax === null || ax === undefined) return fromFlat(perInput[k]![0]!, s.shape, s.dtype);
    const st = stackValues(perInput[k]!, s.shape, ax);
    return fromFlat(st.values, st.shape, s.dtype);
  });
  const perExample = Array.from({ length: size }, (_, i) =>
    program.inputs.map((s, k) => fromFlat(perInput[k]![inAxes[k] === null ? 0 : i]!, s.shape, s.dtype)),
  );
  return { batched, perExample };
}

/** `size` slices of `x` along `axis` as arrays (the reference side of a vmap check). */
export function unstack(x: NDArray, axis: number, size: number): NDArray[] {
  if (x.shape[axis < 0 ? axis + x.ndim : axis] !== size) throw new Error(`unstack: axis ${axis} of shape [${x.shape.join(",")}] does not have size ${size}`);
  return Array.from({ length: size }, (_, i) => {
    const s = sliceValues(x, axis, i);
    return fromFlat(s.values, s.shape, x.dtype);
  });
}

/** Runs `f` on each example and stacks the results along `outAxis`: the reference of `vmap(f)`. */
export function loopStack(f: (...xs: NDArray[]) => NDArray, perExample: readonly NDArray[][], outAxis = 0): NDArray {
  const outs = perExample.map((xs) => f(...xs));
  const s = outs[0]!.shape;
  for (const o of outs) if (o.shape.join() !== s.join()) throw new Error(`loopStack: examples gave shapes [${s}] and [${o.shape}]`);
  const st = stackValues(
    outs.map((o) => Array.from(o.data(), Number)),
    s,
    outAxis,
  );
  return fromFlat(st.values, st.shape, outs[0]!.dtype);
}

/** An axis for vmap's inAxes/outAxes of a value of rank `rank`: null (when allowed), or -(rank+1)..rank. */
export function axisArb(rank: number, allowNull = true): fc.Arbitrary<number | null> {
  const ax = fc.integer({ min: -(rank + 1), max: rank });
  return allowNull ? fc.oneof(ax, fc.constant(null)) : ax;
}

/**
 * Asserts that two pytrees of arrays agree: same structure, shapes and dtypes, and
 * |a - b| <= rtol * max(1, max |expected|) elementwise (an absolute tolerance at the
 * scale of the values, since programs sum terms of either sign).
 */
export function expectAgree(actual: unknown, expected: unknown, rtol: number, what: string): void {
  const ex = flatNumbers(expected);
  const scale = Math.max(1, ...ex.map(Math.abs));
  const [la] = tree.flatten(actual);
  const [lb] = tree.flatten(expected);
  la.forEach((a, i) => {
    const b = lb[i];
    if (a instanceof NDArrayClass && b instanceof NDArrayClass && a.dtype !== b.dtype)
      throw new Error(`${what}: leaf ${i} has dtype ${a.dtype}, expected ${b.dtype}`);
  });
  expectClose(actual, expected, { rtol, atol: rtol * scale }, what);
}
