/**
 * Property: optimizing a jaxpr never changes what it computes. For random small
 * programs over every dtype (float32, float64, int32, bool) — elementwise ops with
 * broadcasting, comparisons, select, conversions, reductions, broadcasts, reshapes,
 * transposes, slices, matmul — the optimized program (run by the compiled plan, and
 * by evaluating its equations one by one) gives exactly the values of the original
 * program evaluated equation by equation with each primitive's reference impl.
 *
 * Exact equality (NaN equal to NaN, -0 equal to 0) is the contract: kernels round every
 * intermediate as the typed arrays of the unfused program would. No domain
 * restrictions are needed; NaN and Infinity must come out identically too.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, type ClosedJaxpr, type DType, evalJaxpr, makeJaxpr, np, typecheckJaxpr } from "../../src/index.js";
import type { ConcreteArray } from "../../src/core/array.js";
import { compileJaxpr } from "../../src/backends/cpu/compile.js";
import { defaultPasses } from "../../src/passes/index.js";
import * as P from "../../src/primitives/elementwise.js";
import { reduceMax, reduceMin, reduceSum } from "../../src/primitives/reduce.js";
import { broadcastTo, reshape, slice, transpose } from "../../src/primitives/shape.js";
import { matmulRaw } from "../../src/primitives/dot.js";
import { seededRandom } from "../helpers/numeric.js";

const DTYPES: DType[] = ["float32", "float64", "int32", "bool"];
const UNARY = ["neg", "exp", "log", "sin", "tanh", "sqrt", "abs", "sign", "floor", "round", "logistic", "square", "cube", "not"] as const;
const BINARY = ["add", "sub", "mul", "div", "max", "min", "pow", "lt", "eq", "and"] as const;

interface Gene {
  op: number;
  a: number;
  b: number;
  c: number;
  k: number;
}

/** Builds a random program from genes; values keep their own shapes and dtypes. */
function buildFn(genes: Gene[], nOut: number): (...xs: NDArray[]) => NDArray[] {
  return (...xs: NDArray[]) => {
    const vals: NDArray[] = [...xs];
    const pick = (i: number): NDArray => vals[i % vals.length]!;
    const asFloat = (x: NDArray): NDArray => (x.dtype === "float32" || x.dtype === "float64" ? x : P.convert(x, "float64"));
    const asBool = (x: NDArray): NDArray => (x.dtype === "bool" ? x : P.greater(x, 0));
    for (const g of genes) {
      const x = pick(g.a);
      const y = pick(g.b);
      let r: NDArray | undefined;
      try {
        switch (g.op % 12) {
          case 0:
          case 1: {
            const u = UNARY[g.k % UNARY.length]!;
            if (u === "neg") r = P.neg(x);
            else if (u === "abs") r = P.abs(x);
            else if (u === "sign") r = P.sign(x);
            else if (u === "not") r = P.logicalNot(asBool(x));
            else if (u === "square") r = P.integerPow(x, 2);
            else if (u === "cube") r = P.integerPow(x, 3);
            else r = (P as unknown as Record<string, (a: NDArray) => NDArray>)[u]!(asFloat(x));
            break;
          }
          case 2:
          case 3: {
            const b = BINARY[g.k % BINARY.length]!;
            const yy = g.c % 4 === 0 ? [2.5, -3, 1, 7][g.k % 4]! : y; // sometimes a literal
            if (b === "add") r = P.add(x, yy);
            else if (b === "sub") r = P.sub(x, yy);
            else if (b === "mul") r = P.mul(x, yy);
            else if (b === "div") r = P.div(x, yy);
            else if (b === "max") r = P.maximum(x, yy);
            else if (b === "min") r = P.minimum(x, yy);
            else if (b === "pow") r = P.power(asFloat(x), typeof yy === "number" ? yy + 0.5 : asFloat(yy));
            else if (b === "lt") r = P.less(x, yy);
            else if (b === "eq") r = P.equal(x, yy);
            else r = P.logicalAnd(asBool(x), typeof yy === "number" ? yy > 0 : asBool(yy));
            break;
          }
          case 4:
            r = P.where(asBool(pick(g.c)), x, y);
            break;
          case 5:
            r = P.convert(x, DTYPES[g.k % 4]!);
            break;
          case 6: {
            if (x.ndim === 0 || x.dtype === "bool") break;
            const axes = Array.from({ length: x.ndim }, (_, i) => i).filter((i) => (g.c >> i) & 1);
            const red = [reduceSum, reduceMax, reduceMin][g.k % 3]!;
            r = red(x, axes.length ? axes : [x.ndim - 1]);
            break;
          }
          case 7:
          case 10: {
            // a view: broadcast to a bigger shape, transpose, reshape or slice
            const s = x.shape;
            const v = g.k % 4;
            if (v === 0) r = broadcastTo(x, [1 + (g.c % 3), ...s]);
            else if (v === 1 && s.length > 1) {
              const perm = Array.from({ length: s.length }, (_, i) => i).reverse();
              r = transpose(x, perm);
            } else if (v === 2) r = reshape(x, s.length > 1 ? [s.slice(0, 2).reduce((a, b) => a * b, 1), ...s.slice(2)] : [...s, 1]);
            else if (v === 3 && s.length > 0 && s[0]! > 1)
              r = slice(
                x,
                s.map((_, i) => (i === 0 ? 1 : 0)),
                s,
              );
            break;
          }
          case 8:
          case 11: {
            // X @ X^T (the transposed operand is a view that must be materialized), or X @ Y
            const xi = x.dtype === "bool" ? P.convert(x, "int32") : x;
            const last = x.ndim ? x.shape[x.ndim - 1]! : 1;
            const X = reshape(xi, [x.size / last, last]);
            const yi = P.convert(y, xi.dtype);
            r = y.size % last === 0 && g.k % 2 ? matmulRaw(X, reshape(yi, [last, y.size / last])) : matmulRaw(X, transpose(X, [1, 0]));
            break;
          }
          case 9:
            r = P.mul(P.add(x, 1), P.sub(y, 1)); // more chains to fuse
            break;
        }
      } catch {
        r = undefined; // shapes that do not broadcast: skip the step
      }
      if (r && r.size <= 256) vals.push(r);
    }
    const outs = [vals[vals.length - 1]!];
    for (let i = 1; i < nOut; i++) outs.push(pick(genes[i - 1]?.c ?? i));
    return outs;
  };
}

const geneArb = fc.record({ op: fc.nat(99), a: fc.nat(50), b: fc.nat(50), c: fc.nat(50), k: fc.nat(50) });
const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 });
const caseArb = fc.record({
  base: shapeArb,
  inputs: fc.array(fc.record({ drop: fc.nat(3), ones: fc.nat(7), dtype: fc.constantFrom(...DTYPES) }), { minLength: 1, maxLength: 3 }),
  genes: fc.array(geneArb, { minLength: 1, maxLength: 12 }),
  nOut: fc.integer({ min: 1, max: 3 }),
  seed: fc.nat(),
});

function makeInput(shape: number[], dtype: DType, rand: () => number): NDArray {
  const n = shape.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => {
    const u = rand();
    if (dtype === "bool") return u < 0.5 ? 0 : 1;
    if (dtype === "int32") return Math.floor(u * 11) - 5;
    return u < 0.05 ? 0 : u < 0.08 ? -1 : (u - 0.5) * 8;
  });
  return np.array(vals, { dtype, shape });
}

/** Exact comparison of flat values: NaN equals NaN, -0 equals 0. */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!(x === y || (Number.isNaN(x) && Number.isNaN(y)))) return false;
  }
  return true;
}

function optimizeChecked(j: ClosedJaxpr): ClosedJaxpr {
  return defaultPasses.reduce((cj, p) => {
    const out = p(cj);
    typecheckJaxpr(out.jaxpr);
    return out;
  }, j);
}

describe("optimized programs compute exactly what the original computes", () => {
  it("random programs over every dtype", () => {
    fc.assert(
      fc.property(caseArb, ({ base, inputs, genes, nOut, seed }) => {
        const rand = seededRandom(seed);
        const xs = inputs.map((s) => {
          const shape = base.slice(Math.min(s.drop, base.length)).map((d, i) => ((s.ones >> i) & 1 ? 1 : d));
          return makeInput(shape, s.dtype, rand);
        });
        const fn = buildFn(genes, nOut);
        const j = makeJaxpr(fn)(...xs);
        typecheckJaxpr(j.jaxpr);
        const want = evalJaxpr(j.jaxpr, j.consts, xs);
        const opt = optimizeChecked(j);
        const compiled = compileJaxpr(opt);
        const viaPlan = compiled(xs as ConcreteArray[]);
        const viaEqns = evalJaxpr(opt.jaxpr, opt.consts, xs);
        // a second run reuses pooled buffers; earlier results must be untouched
        const again = compiled(xs as ConcreteArray[]);
        want.forEach((w, i) => {
          const text = `\n${j.toString()}\n--- optimized ---\n${opt.toString()}`;
          expect(viaPlan[i]!.aval.toString(), text).toBe(w.aval.toString());
          expect(same(viaPlan[i]!.data(), w.data()), `plan, output ${i}${text}\nwant ${w.toString()}\ngot ${viaPlan[i]!.toString()}`).toBe(true);
          expect(same(viaEqns[i]!.data(), w.data()), `equations, output ${i}${text}`).toBe(true);
          expect(same(again[i]!.data(), w.data()), `second run, output ${i}${text}`).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });
});
