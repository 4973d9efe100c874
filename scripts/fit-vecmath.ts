/**
 * Derives the float32 polynomial coefficients used by src/backends/wasm/vecmath.ts:
 * interpolation at Chebyshev nodes (close to the minimax polynomial), monomial
 * coefficients from the Vandermonde system, rounded to float32, and the largest
 * error of the rounded polynomial on a dense grid. Run: `npx tsx scripts/fit-vecmath.ts`.
 *
 * - exp:  expm1(r) = r + r²·P(r) on |r| <= ln2/2, P(r) = (e^r - 1 - r)/r² = Σ r^k/(k+2)!
 * - log:  log(1+f) = f - f²/2 + s·(f²/2 + z·Q(z)), s = f/(2+f), z = s², |s| <= 3 - 2√2,
 *         Q(z) = Σ 2 z^k / (2k+3)
 * The float64 variants use the series themselves, truncated where the rest is below 1e-18.
 */

/** Sum of a convergent series term(k), k = 0, 1, ..., in double. */
function series(term: (k: number) => number): number {
  let s = 0;
  for (let k = 0; k < 60; k++) {
    const t = term(k);
    s += t;
    if (Math.abs(t) < 1e-30) break;
  }
  return s;
}

const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));

function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

function fit(f: (x: number) => number, a: number, b: number, degree: number): number[] {
  const n = degree + 1;
  const xs = Array.from({ length: n }, (_, i) => (a + b) / 2 + ((b - a) / 2) * Math.cos(((2 * i + 1) * Math.PI) / (2 * n)));
  return solve(
    xs.map((x) => Array.from({ length: n }, (_, k) => x ** k)),
    xs.map(f),
  );
}

function report(name: string, f: (x: number) => number, a: number, b: number, degree: number, weight: (x: number) => number): void {
  const c = fit(f, a, b, degree).map(Math.fround);
  let worst = 0;
  for (let i = 0; i <= 100000; i++) {
    const x = a + ((b - a) * i) / 100000;
    const p = c.reduceRight((acc, ck) => acc * x + ck, 0);
    worst = Math.max(worst, Math.abs(p - f(x)) * weight(x));
  }
  console.log(`${name}: [${c.join(", ")}]  max weighted error ${worst.toExponential(2)}`);
}

const H = Math.LN2 / 2;
// error of r²·P relative to expm1(r) ~ r: weight |r|
report(
  "exp P (f32)",
  (r) => series((k) => r ** k / fact(k + 2)),
  -H,
  H,
  4,
  (r) => Math.abs(r),
);
const S = 3 - 2 * Math.SQRT2;
// error of s·z·Q relative to log(1+f) ~ 2s: weight z/2
report(
  "log Q (f32)",
  (z) => series((k) => (2 * z ** k) / (2 * k + 3)),
  0,
  S * S,
  3,
  (z) => z / 2,
);
