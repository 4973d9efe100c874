/**
 * Property tests of automatic differentiation, in float64, for every differentiable
 * primitive (through its np function) and for random compositions: jvp against
 * central finite differences, the adjoint identity <vjp(u), v> == <u, jvp(v)>,
 * grad(grad) against finite differences of grad, hessianVectorProduct against
 * hessian @ v, and jacfwd == jacrev. Shapes are random, with broadcasting. The same
 * derivatives in float32 agree with float64 to float32 tolerance.
 */
import fc from "fast-check";
import { describe, it } from "vitest";
import { type Array as NDArray, np } from "../../src/index.js";
import { pad as padPrim } from "../../src/primitives/shape.js";
import {
  type Domain,
  type Shape,
  arrayArb,
  axesArb,
  broadcastableShapesArb,
  permutationArb,
  reduceOptionsArb,
  seedArb,
  shapeArb,
  shapedArrayArb,
  sizeOf,
} from "../helpers/arbitraries.js";
import { checkDerivatives, checkFloat32Agreement } from "../helpers/gradcheck.js";
import { programArb } from "../helpers/programs.js";
import { smoothDagArb } from "../helpers/smooth_dag.js";

interface Case {
  f: (...xs: NDArray[]) => NDArray;
  args: NDArray[];
  desc: string;
}

const shapeStr = (xs: NDArray[]): string => xs.map((x) => `[${x.shape}]`).join(" ");

function unary(name: string, fn: (x: NDArray) => NDArray, domain: Domain = "real", maxRank = 3): fc.Arbitrary<Case> {
  return shapedArrayArb({ maxRank }, domain).map((x) => ({ f: fn, args: [x], desc: `${name} ${shapeStr([x])}` }));
}

function binary(name: string, fn: (x: NDArray, y: NDArray) => NDArray, da: Domain = "real", db: Domain = "real"): fc.Arbitrary<Case> {
  return broadcastableShapesArb(2)
    .chain(({ shapes }) => fc.tuple(arrayArb(shapes[0]!, da), arrayArb(shapes[1]!, db)))
    .map((args) => ({ f: fn, args, desc: `${name} ${shapeStr(args)}` }));
}

function reduction(
  name: string,
  fn: (x: NDArray, o: { axis?: number | number[]; keepdims?: boolean }) => NDArray,
  domain: Domain = "real",
  minCount = 1,
): fc.Arbitrary<Case> {
  return shapeArb({ maxRank: 3 })
    .chain((s) => fc.tuple(arrayArb(s, domain), reduceOptionsArb(s.length)))
    .filter(([x, o]) => reducedCount(x.shape, o.axis) >= minCount)
    .map(([x, o]) => ({ f: (a: NDArray) => fn(a, o), args: [x], desc: `${name} ${shapeStr([x])} ${JSON.stringify(o)}` }));
}

function reducedCount(shape: Shape, axis: number | number[] | undefined): number {
  if (axis === undefined) return sizeOf(shape);
  const axes = (typeof axis === "number" ? [axis] : axis).map((a) => (a < 0 ? a + shape.length : a));
  return axes.reduce((n, a) => n * shape[a]!, 1);
}

/** matmul operands: 1-d, 2-d, or batched with broadcasting batch dims. */
const matmulArb: fc.Arbitrary<Case> = fc
  .record({
    m: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }),
    aVec: fc.boolean(),
    bVec: fc.boolean(),
    batch: broadcastableShapesArb(2, { maxRank: 2, maxDim: 2 }),
  })
  .chain(({ m, k, n, aVec, bVec, batch }) => {
    const sa = aVec ? [k] : [...batch.shapes[0]!, m, k];
    const sb = bVec ? [k] : [...batch.shapes[1]!, k, n];
    return fc.tuple(arrayArb(sa), arrayArb(sb));
  })
  .map((args) => ({ f: (a: NDArray, b: NDArray) => np.matmul(a, b), args, desc: `matmul ${shapeStr(args)}` }));

/** x of a shape that broadcasts to a target shape. */
const broadcastToArb: fc.Arbitrary<Case> = shapeArb({ maxRank: 3 })
  .chain((target) =>
    fc.tuple(fc.constant(target), fc.integer({ min: 0, max: target.length }), fc.array(fc.boolean(), { minLength: target.length, maxLength: target.length })),
  )
  .chain(([target, drop, ones]) => fc.tuple(fc.constant(target), arrayArb(target.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d)))))
  .map(([target, x]) => ({ f: (a: NDArray) => np.broadcastTo(a, target), args: [x], desc: `broadcastTo ${shapeStr([x])} -> [${target}]` }));

const reshapeArb: fc.Arbitrary<Case> = shapeArb({ maxRank: 3 })
  .chain((s) => fc.tuple(arrayArb(s), fc.integer({ min: 0, max: 3 })))
  .map(([x, which]) => {
    const s = x.shape;
    const targets: number[][] = [[x.size], [...s].reverse(), [1, ...s, 1], s.length ? [-1, ...s.slice(1)] : [1]];
    const t = targets[which]!;
    return { f: (a: NDArray) => np.reshape(a, t), args: [x], desc: `reshape ${shapeStr([x])} -> [${t}]` };
  });

const transposeArb: fc.Arbitrary<Case> = shapeArb({ maxRank: 4, maxDim: 3 })
  .chain((s) => fc.tuple(arrayArb(s), fc.option(permutationArb(s.length))))
  .map(([x, perm]) => ({ f: (a: NDArray) => np.transpose(a, perm ?? undefined), args: [x], desc: `transpose ${shapeStr([x])} ${JSON.stringify(perm)}` }));

const sliceArb: fc.Arbitrary<Case> = shapeArb({ minRank: 1, maxRank: 3, maxDim: 4 })
  .chain((s) =>
    fc.tuple(
      arrayArb(s),
      fc.tuple(
        ...s.map((d) => fc.tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: d })).map(([a, b]) => (a < b ? [a, b] : [b - 1, a + 1]))),
      ),
    ),
  )
  .map(([x, ranges]) => {
    const starts = ranges.map((r) => r[0]!);
    const stops = ranges.map((r) => r[1]!);
    return { f: (a: NDArray) => np.slice(a, starts, stops), args: [x], desc: `slice ${shapeStr([x])} ${JSON.stringify(ranges)}` };
  });

const padArb: fc.Arbitrary<Case> = shapeArb({ maxRank: 3 })
  .chain((s) =>
    fc.tuple(
      arrayArb(s),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: s.length, maxLength: s.length }),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: s.length, maxLength: s.length }),
    ),
  )
  .map(([x, lo, hi]) => ({ f: (a: NDArray) => np.multiply(padPrim(a, lo, hi), 1.5), args: [x], desc: `pad ${shapeStr([x])} lo=${lo} hi=${hi}` }));

const concatenateArb: fc.Arbitrary<Case> = fc
  .record({ base: shapeArb({ minRank: 1, maxRank: 3 }), count: fc.integer({ min: 1, max: 3 }), axisSeed: fc.nat() })
  .chain(({ base, count, axisSeed }) => {
    const axis = axisSeed % base.length;
    return fc.tuple(
      fc.constant(axis),
      fc.tuple(...Array.from({ length: count }, () => fc.integer({ min: 1, max: 3 }).chain((d) => arrayArb(base.map((b, i) => (i === axis ? d : b)))))),
    );
  })
  .map(([axis, args]) => ({ f: (...xs: NDArray[]) => np.concatenate(xs, axis), args, desc: `concatenate axis=${axis} ${shapeStr(args)}` }));

const stackArb: fc.Arbitrary<Case> = fc
  .record({ s: shapeArb({ maxRank: 2 }), count: fc.integer({ min: 1, max: 3 }), axisSeed: fc.nat() })
  .chain(({ s, count, axisSeed }) => fc.tuple(fc.constant(axisSeed % (s.length + 1)), fc.tuple(...Array.from({ length: count }, () => arrayArb(s)))))
  .map(([axis, args]) => ({ f: (...xs: NDArray[]) => np.stack(xs, axis), args, desc: `stack axis=${axis} ${shapeStr(args)}` }));

const splitArb: fc.Arbitrary<Case> = shapeArb({ minRank: 1, maxRank: 3, minDim: 2, maxDim: 4 })
  .chain((s) => fc.tuple(arrayArb(s), fc.nat()))
  .map(([x, seed]) => {
    const axis = seed % x.ndim;
    const cut = 1 + (seed % (x.shape[axis]! - 1));
    // recombine the pieces with different weights so each piece's derivative shows
    const f = (a: NDArray): NDArray => {
      const [p, q] = np.split(a, [cut], axis);
      return np.concatenate([np.multiply(q!, 2), np.sin(p!)], axis);
    };
    return { f, args: [x], desc: `split ${shapeStr([x])} at ${cut} axis ${axis}` };
  });

const takeArb: fc.Arbitrary<Case> = fc
  .record({ s: shapeArb({ minRank: 1, maxRank: 3 }), idxShape: shapeArb({ maxRank: 2 }), axisSeed: fc.nat(), flat: fc.boolean() })
  .chain(({ s, idxShape, axisSeed, flat }) => {
    const axis = flat ? undefined : axisSeed % s.length;
    const n = axis === undefined ? sizeOf(s) : s[axis]!;
    return fc.tuple(
      arrayArb(s),
      fc.constant(axis),
      fc
        .array(fc.integer({ min: -n, max: n - 1 }), { minLength: sizeOf(idxShape), maxLength: sizeOf(idxShape) })
        .map((v) => np.array(v, { dtype: "int32", shape: idxShape })),
    );
  })
  .map(([x, axis, idx]) => ({
    f: (a: NDArray) => np.take(a, idx, axis),
    args: [x],
    desc: `take ${shapeStr([x])} idx=${JSON.stringify(idx.toJs())} axis=${axis}`,
  }));

const whereArb: fc.Arbitrary<Case> = broadcastableShapesArb(3)
  .chain(({ shapes }) =>
    fc.tuple(
      fc.array(fc.boolean(), { minLength: sizeOf(shapes[0]!), maxLength: sizeOf(shapes[0]!) }).map((b) => np.array(b, { dtype: "bool", shape: shapes[0]! })),
      arrayArb(shapes[1]!),
      arrayArb(shapes[2]!),
    ),
  )
  .map(([c, x, y]) => ({ f: (a: NDArray, b: NDArray) => np.where(c, a, b), args: [x, y], desc: `where cond[${c.shape}] ${shapeStr([x, y])}` }));

/** Sums of |x| of a matrix over `axis` (column sums for 0, row sums for 1). */
function absSums(x: NDArray, axis: 0 | 1): number[] {
  const [r, c] = x.shape as [number, number];
  const v = x.data();
  const n = axis === 0 ? c : r;
  return Array.from({ length: n }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < (axis === 0 ? r : c); i++) sum += Math.abs(v[axis === 0 ? i * c + j : j * c + i]!);
    return sum;
  });
}
/** True when the largest and smallest values are each ahead of the runner-up by 0.05 (no near-ties at the max/min). */
function separatedMax(vals: number[]): boolean {
  const s = [...vals].sort((a, b) => a - b);
  return s.length < 2 || (s[s.length - 1]! - s[s.length - 2]! > 0.05 && s[1]! - s[0]! > 0.05);
}

const normArb: fc.Arbitrary<Case> = fc.oneof(
  shapedArrayArb({ maxRank: 3 }, "nonzero").map((x) => ({ f: (a: NDArray) => np.linalg.norm(a), args: [x], desc: `norm ${shapeStr([x])}` })),
  fc
    .tuple(shapeArb({ minRank: 1, maxRank: 2 }), fc.constantFrom<number>(1, 2, 3, 0.5, Infinity, -Infinity), fc.nat(), fc.boolean())
    .chain(([s, ord, axisSeed, keepdims]) =>
      fc.tuple(arrayArb(s, Math.abs(ord) === Infinity ? "distinct" : "nonzero"), fc.constant({ ord, axis: axisSeed % s.length, keepdims })),
    )
    .map(([x, o]) => ({ f: (a: NDArray) => np.linalg.norm(a, o), args: [x], desc: `norm ${shapeStr([x])} ${JSON.stringify(o)}` })),
  fc
    .tuple(shapeArb({ minRank: 2, maxRank: 2 }), fc.constantFrom<number | "fro">("fro", 1, Infinity))
    .chain(([s, ord]) => fc.tuple(arrayArb(s, "nonzero"), fc.constant(ord)))
    .filter(([x, ord]) => ord === "fro" || separatedMax(absSums(x, ord === 1 ? 0 : 1)))
    .map(([x, ord]) => ({ f: (a: NDArray) => np.linalg.norm(a, { ord }), args: [x], desc: `matrix norm ${shapeStr([x])} ord=${String(ord)}` })),
);

const integerPowArb: fc.Arbitrary<Case> = fc
  .integer({ min: -3, max: 5 })
  .chain((k) => fc.tuple(fc.constant(k), shapedArrayArb({ maxRank: 3 }, k < 0 ? "nonzero" : "real")))
  .map(([k, x]) => ({ f: (a: NDArray) => np.power(a, k), args: [x], desc: `integer_pow ${k} ${shapeStr([x])}` }));

/** Every differentiable primitive, reached through its np function. */
const CASES: [string, fc.Arbitrary<Case>][] = [
  ["add", binary("add", np.add)],
  ["subtract", binary("subtract", np.subtract)],
  ["multiply", binary("multiply", np.multiply)],
  ["divide", binary("divide", np.divide, "real", "nonzero")],
  ["power (pow)", binary("power", np.power, "positive", "real")],
  ["maximum", binary("maximum", np.maximum, "oddGrid", "evenGrid")],
  ["minimum", binary("minimum", np.minimum, "evenGrid", "oddGrid")],
  ["JS-number operands", unary("scalars", (x) => np.add(np.multiply(2.5, np.subtract(1, x)), np.divide(3, np.add(np.square(x), 1))))],
  ["integer_pow", integerPowArb],
  ["square / reciprocal", unary("square/reciprocal", (x) => np.add(np.square(x), np.reciprocal(x)), "nonzero")],
  ["negative", unary("negative", np.negative)],
  ["exp", unary("exp", np.exp)],
  ["log", unary("log", np.log, "positive")],
  ["log1p", unary("log1p", np.log1p, "unit")],
  ["expm1", unary("expm1", np.expm1)],
  ["sin", unary("sin", np.sin)],
  ["cos", unary("cos", np.cos)],
  ["tan", unary("tan", np.tan, "unit")],
  ["tanh", unary("tanh", np.tanh)],
  ["sigmoid (logistic)", unary("sigmoid", np.sigmoid)],
  ["sqrt", unary("sqrt", np.sqrt, "positive")],
  ["rsqrt", unary("rsqrt", np.rsqrt, "positive")],
  ["abs", unary("abs", np.abs, "nonzero")],
  ["sign (zero derivative)", unary("sign", (x) => np.add(np.sign(x), x), "nonzero")],
  ["clip", unary("clip", (x) => np.clip(x, -1, 1), "oddGrid")],
  ["where (select)", whereArb],
  ["sum (reduce_sum)", reduction("sum", (x, o) => np.sum(x, o))],
  ["mean", reduction("mean", (x, o) => np.mean(x, o))],
  ["max (reduce_max)", reduction("max", (x, o) => np.max(x, o), "distinct")],
  ["min (reduce_min)", reduction("min", (x, o) => np.min(x, o), "distinct")],
  ["prod", reduction("prod", (x, o) => np.prod(x, o), "withZeros")],
  ["logSumExp", reduction("logSumExp", (x, o) => np.logSumExp(x, o))],
  ["var", reduction("var", (x, o) => np.var(x, o), "real", 2)],
  ["var ddof=1", reduction("var", (x, o) => np.var(x, { ...o, ddof: 1 }), "real", 2)],
  ["std", reduction("std", (x, o) => np.std(x, o), "distinct", 2)],
  ["matmul", matmulArb],
  ["broadcastTo", broadcastToArb],
  ["reshape", reshapeArb],
  ["transpose", transposeArb],
  ["slice", sliceArb],
  ["pad", padArb],
  ["concatenate", concatenateArb],
  ["stack", stackArb],
  ["split", splitArb],
  ["take", takeArb],
  ["linalg.norm", normArb],
];

/** Runs per property; raise it (e.g. PROPERTY_RUNS=200) for a longer hunt. */
const SCALE = Number(process.env.PROPERTY_RUNS ?? 12) / 12;
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const NUM_RUNS = runs(12);

describe("per-primitive derivatives (float64) agree with finite differences and each other", () => {
  for (const [name, arb] of CASES) {
    it(name, () => {
      fc.assert(
        fc.property(arb, seedArb, (c, seed) => {
          checkDerivatives(c.f, c.args, { seed, name: c.desc });
        }),
        { numRuns: NUM_RUNS },
      );
    });
  }
});

describe("per-primitive derivatives in float32 agree with float64", () => {
  for (const [name, arb] of CASES) {
    it(name, () => {
      fc.assert(
        fc.property(arb, seedArb, (c, seed) => {
          checkFloat32Agreement(c.f, c.args, { seed, name: c.desc });
        }),
        { numRuns: runs(6) },
      );
    });
  }
});

describe("random compositions (op DAGs with broadcasting)", () => {
  it("smooth DAGs: all derivative checks hold in float64", () => {
    fc.assert(
      fc.property(smoothDagArb(), seedArb, (p, seed) => {
        checkDerivatives(p.f, p.args, { seed, name: p.text });
      }),
      { numRuns: runs(40) },
    );
  });
  it("smooth DAGs: float32 derivatives agree with float64", () => {
    fc.assert(
      fc.property(smoothDagArb(), seedArb, (p, seed) => {
        checkFloat32Agreement(p.f, p.args, { seed, name: p.text, rtol: 5e-4 });
      }),
      { numRuns: runs(30) },
    );
  });
  it("programs with shape ops, gathers and dtype round trips: exact identities hold (adjoint, hvp = hessian @ v, jacfwd = jacrev)", () => {
    // these programs may round-trip through float32, so they are not checked against
    // finite differences; the identities between exact derivatives hold regardless
    fc.assert(
      fc.property(programArb({ dtype: "float64" }), seedArb, (p, seed) => {
        checkDerivatives(p.f, p.args, { seed, name: p.text, checks: ["vjp", "hvp", "jac"], exactTol: 1e-6 });
      }),
      { numRuns: runs(30) },
    );
  });
  it("derivatives of compositions with matmul and reductions between layers", () => {
    const arb = fc
      .record({ b: fc.integer({ min: 1, max: 3 }), i: fc.integer({ min: 1, max: 3 }), h: fc.integer({ min: 1, max: 3 }), o: fc.integer({ min: 1, max: 2 }) })
      .chain(({ b, i, h, o }) => fc.tuple(arrayArb([b, i]), arrayArb([i, h]), arrayArb([h]), arrayArb([h, o])));
    fc.assert(
      fc.property(arb, axesArb(2), seedArb, (args, axes, seed) => {
        const f = (x: NDArray, w1: NDArray, b1: NDArray, w2: NDArray): NDArray => {
          const hidden = np.tanh(np.add(np.matmul(x, w1), b1));
          const out = np.matmul(hidden, w2);
          return np.sum(np.square(np.subtract(out, np.mean(out, { axis: axes, keepdims: true }))), { axis: 1 });
        };
        checkDerivatives(f, args, { seed, name: `mlp ${shapeStr(args)} axes=${axes}` });
        checkFloat32Agreement(f, args, { seed, name: `mlp ${shapeStr(args)}` });
      }),
      { numRuns: runs(15) },
    );
  });
});
