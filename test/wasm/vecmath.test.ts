/**
 * The vectorized elementary functions of src/backends/wasm/vecmath.ts against Math.*:
 * float32 lanes against `Math.fround(Math.f(x))`, float64 lanes against `Math.f(x)`,
 * measured in ulp (distance between the two values in the ordered bit patterns) over
 * strided sweeps of every float32 bit pattern, random bit patterns, log-uniform
 * magnitudes, dense sweeps of the interesting ranges, and the special values.
 */
import { describe, expect, it } from "vitest";
import { FuncBuilder, I32, OP, SIMD_OPS as S } from "../../src/backends/wasm/emit.js";
import { type WasmModule, loadModule, reserveHeap, wasmAvailable, wasmMemory } from "../../src/backends/wasm/runtime.js";
import { type Lanes, TRIG_LIMIT, VEC_MATH, VEC_TRIG, VecAsm, emitTrigRangeMask } from "../../src/backends/wasm/vecmath.js";
import { seededRandom } from "../helpers/numeric.js";

type Fn = keyof typeof VEC_MATH | keyof typeof VEC_TRIG | "trigRange";
const ALL = { ...VEC_MATH, ...VEC_TRIG, trigRange: emitTrigRangeMask };
const FNS = Object.keys(VEC_MATH) as Fn[];
const TRIG = Object.keys(VEC_TRIG) as Fn[];

const REF: Record<Fn, (x: number) => number> = {
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  trigRange: () => NaN,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log1p: Math.log1p,
  tanh: Math.tanh,
  logistic: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
};

/** Largest error allowed, in ulp. */
const BOUND: Record<Lanes, Record<Fn, number>> = {
  f32: { exp: 1, expm1: 2, log: 1, log1p: 1, tanh: 2, logistic: 2, sin: 1, cos: 1, tan: 1, trigRange: 0 },
  f64: { exp: 1, expm1: 2, log: 1, log1p: 1, tanh: 3, logistic: 2, sin: 2, cos: 2, tan: 4, trigRange: 0 },
};

/** A module with `fn_t(in, out, bytes)` applying each function to a buffer. */
function buildModule(): WasmModule {
  const funcs = [];
  for (const t of ["f32", "f64"] as Lanes[]) {
    for (const name of [...FNS, ...TRIG, "trigRange" as const]) {
      const f = new FuncBuilder([I32, I32, I32]);
      const a = new VecAsm(f, t);
      const i = f.local(I32);
      const x = a.tmp();
      f.i32(0).set(i);
      f.whileLoop(
        () => f.get(i).get(2).op(OP.i32GeU),
        () => {
          f.get(1).get(i).op(OP.i32Add);
          f.get(0).get(i).op(OP.i32Add).simd(S.v128Load, { align: 4, offset: 0 }).set(x);
          ALL[name](a, x);
          f.simd(S.v128Store, { align: 4, offset: 0 });
          f.get(i).i32(16).op(OP.i32Add).set(i);
        },
      );
      funcs.push({ name: `${name}_${t}`, fn: f });
    }
  }
  return loadModule(funcs);
}

/** Position of a value in the ordered sequence of float32 (or float64) values. */
const f32 = new Float32Array(1);
const i32 = new Int32Array(f32.buffer);
const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
function ordered32(v: number): number {
  f32[0] = v;
  const i = i32[0]!;
  return i < 0 ? -0x80000000 - i : i;
}
function ordered64(v: number): bigint {
  f64[0] = v;
  const i = i64[0]!;
  return i < 0n ? -0x8000000000000000n - i : i;
}
/** Distance in ulp (0 for two NaNs, Infinity for NaN against a number). */
function ulps(t: Lanes, got: number, want: number): number {
  if (Number.isNaN(got) || Number.isNaN(want)) return Number.isNaN(got) && Number.isNaN(want) ? 0 : Infinity;
  if (got === want) return 0;
  if (t === "f32") return Math.abs(ordered32(got) - ordered32(want));
  const d = ordered64(got) - ordered64(want);
  return Number(d < 0n ? -d : d);
}

/** Asserts that `out[i]` is within `bound` ulps of `ref(xs[i])` (rounded to the lane type) wherever `keep(x)`; names the worst input. */
function expectWithinUlps(
  t: Lanes,
  xs: ArrayLike<number>,
  out: ArrayLike<number>,
  ref: (x: number) => number,
  bound: number,
  keep: (x: number) => boolean = () => true,
): void {
  let worst = 0;
  let at = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!keep(xs[i]!)) continue;
    const want = t === "f32" ? Math.fround(ref(xs[i]!)) : ref(xs[i]!);
    const d = ulps(t, out[i]!, want);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `worst at x = ${xs[at]}: got ${out[at]}, want ${ref(xs[at]!)}`).toBeLessThanOrEqual(bound);
}

const SPECIALS = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  0.5,
  -0.5,
  2,
  1e-45,
  -1e-45,
  1.1754942e-38,
  5e-324,
  -5e-324,
  2.2250738585072014e-308,
  1e-300,
  88.72283,
  88.7229,
  89,
  -87.3,
  -103.97,
  -104,
  709.78,
  709.79,
  -745.1,
  -745.2,
  9,
  9.02,
  10,
  19,
  20,
  17,
  -17.33,
  -18,
  -37,
  -40,
  1e30,
  -1e30,
  3.4028234663852886e38,
  1.7976931348623157e308,
  -0.9999999,
  -1,
  -1.0000001,
  1e-8,
  -1e-8,
];

function inputs(t: Lanes): Float32Array | Float64Array {
  const rnd = seededRandom(t === "f32" ? 11 : 12);
  const parts: number[][] = [SPECIALS];
  const dense = (lo: number, hi: number, n: number): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  parts.push(dense(-110, 100, 100003), dense(-1, 1, 50001), dense(-1e-6, 1e-6, 10001), dense(0, 4, 40001));
  if (t === "f32") {
    // every 4099th float32 bit pattern (covers all exponents and signs)
    const u = new Uint32Array(1 << 20);
    for (let i = 0; i < u.length; i++) u[i] = Math.imul(i, 4099) >>> 0;
    parts.push(Array.from(new Float32Array(u.buffer)));
    parts.push(Array.from(new Float32Array(new Uint32Array(Array.from({ length: 100000 }, () => (rnd() * 2 ** 32) >>> 0)).buffer)));
  } else {
    const u = new Uint32Array(400000);
    for (let i = 0; i < u.length; i++) u[i] = (rnd() * 2 ** 32) >>> 0;
    parts.push(Array.from(new Float64Array(u.buffer)));
    // log-uniform magnitudes over the whole range, both signs
    parts.push(Array.from({ length: 200000 }, () => (rnd() < 0.5 ? -1 : 1) * 2 ** (rnd() * 2098 - 1074)));
    parts.push(dense(-750, 712, 100001));
  }
  const all = parts.flat();
  while (all.length % 4) all.push(0);
  return t === "f32" ? new Float32Array(all) : new Float64Array(all);
}

/** Runs `name` on lanes of type t over xs. */
function apply(mod: WasmModule, name: Fn, t: Lanes, xs: Float32Array | Float64Array): Float32Array | Float64Array {
  const esz = t === "f32" ? 4 : 8;
  const base = reserveHeap(2 * xs.length * esz);
  const mem = wasmMemory();
  const view = (off: number): Float32Array | Float64Array =>
    t === "f32" ? new Float32Array(mem.buffer, base + off, xs.length) : new Float64Array(mem.buffer, base + off, xs.length);
  view(0).set(xs);
  mod.exports[`${name}_${t}`]!(base, base + xs.length * esz, xs.length * esz);
  return view(xs.length * esz).slice();
}

describe.runIf(wasmAvailable())("vectorized sin, cos, tan (|x| <= TRIG_LIMIT; the range mask flags the rest)", () => {
  const mod = buildModule();
  for (const t of ["f32", "f64"] as Lanes[]) {
    const rnd = seededRandom(t === "f32" ? 21 : 22);
    const parts: number[][] = [
      SPECIALS,
      Array.from({ length: 200001 }, (_, i) => (i - 100000) * 1e-4),
      Array.from({ length: 100000 }, () => (rnd() * 2 - 1) * TRIG_LIMIT * 1.2),
    ];
    // multiples of π/2 (where the reduced argument is smallest) and log-uniform magnitudes
    parts.push(Array.from({ length: 20000 }, (_, k) => (k - 10000) * 37 * (Math.PI / 2)));
    parts.push(Array.from({ length: 100000 }, () => (rnd() < 0.5 ? -1 : 1) * 2 ** (rnd() * 100 - 80)));
    const flat = parts.flat();
    while (flat.length % 4) flat.push(0);
    const xs = t === "f32" ? new Float32Array(flat) : new Float64Array(flat);
    for (const name of TRIG) {
      it(`${name} on ${t === "f32" ? "f32x4" : "f64x2"} lanes is within ${BOUND[t][name]} ulp of Math.${name} for |x| <= ${TRIG_LIMIT}`, () => {
        const out = apply(mod, name, t, xs);
        expectWithinUlps(t, xs, out, REF[name], BOUND[t][name], (x) => Math.abs(x) <= TRIG_LIMIT);
        expect(Object.is(out[1], -0) || name === "cos").toBe(true); // sin(-0) = tan(-0) = -0
      });
    }
    it(`the range mask (${t}) is set exactly where |x| > TRIG_LIMIT (Infinity included, NaN not)`, () => {
      const m = new Int32Array(apply(mod, "trigRange", t, xs).buffer);
      const step = t === "f32" ? 1 : 2;
      for (let i = 0; i < xs.length; i++) expect(m[i * step] !== 0, `x = ${xs[i]}`).toBe(Math.abs(xs[i]!) > TRIG_LIMIT);
    });
  }
});

describe.runIf(wasmAvailable())("vectorized exp, expm1, log, log1p, tanh, logistic", () => {
  const mod = buildModule();
  for (const t of ["f32", "f64"] as Lanes[]) {
    const xs = inputs(t);
    const esz = t === "f32" ? 4 : 8;
    for (const name of FNS) {
      it(`${name} on ${t === "f32" ? "f32x4" : "f64x2"} lanes is within ${BOUND[t][name]} ulp of Math.${name === "logistic" ? "exp-based logistic" : name}`, () => {
        const base = reserveHeap(2 * xs.length * esz);
        const mem = wasmMemory();
        const view = (off: number): Float32Array | Float64Array =>
          t === "f32" ? new Float32Array(mem.buffer, base + off, xs.length) : new Float64Array(mem.buffer, base + off, xs.length);
        view(0).set(xs);
        mod.exports[`${name}_${t}`]!(base, base + xs.length * esz, xs.length * esz);
        const out = view(xs.length * esz);
        expectWithinUlps(t, xs, out, REF[name], BOUND[t][name]);
        // the special values exactly (signed zeros, infinities, NaN)
        for (let i = 0; i < SPECIALS.length; i++) {
          const want = t === "f32" ? Math.fround(REF[name](xs[i]!)) : REF[name](xs[i]!);
          if (want === 0 || !Number.isFinite(want))
            expect(Object.is(out[i], want) || (Number.isNaN(out[i]!) && Number.isNaN(want)), `${name}(${xs[i]}) = ${out[i]}`).toBe(true);
        }
      });
    }
  }
});
