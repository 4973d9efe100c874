/**
 * Scalar special functions in float64: erf, erfc, erfinv, lgamma, digamma. Each is
 * written from its textbook series / continued fraction / asymptotic expansion with
 * the usual argument reductions; accuracy is checked against SciPy in the tests.
 * @module
 */

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/√π
const INV_SQRT_PI = 0.5641895835477563; // 1/√π
export const LOG_SQRT_2PI = 0.9189385332046728; // log(√(2π))
export const LOG_PI = 1.1447298858494002;

/** exp(-x²) without the rounding error of forming x² (x split into a 26-bit head and a tail). */
function expMinusSquare(x: number): number {
  const c = 134217729 * x;
  const hi = c - (c - x);
  const lo = x - hi;
  return Math.exp(-hi * hi) * Math.exp(-lo * (x + hi));
}

/** erf for |x| < 1 by its Maclaurin series (alternating, terms fall by at least x²). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 60; n++) {
    term *= -x2 / n;
    const d = term / (2 * n + 1);
    sum += d;
    if (Math.abs(d) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/**
 * erfc(x) for x >= 1: e^{-x²}/√π times Laplace's continued fraction
 * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated by the modified Lentz method.
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    D = x + a * D;
    if (D === 0) D = tiny;
    C = x + a / C;
    if (C === 0) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (expMinusSquare(x) * INV_SQRT_PI) / f;
}

/**
 * erfc for 0 <= x < 3 by the Taylor expansion around the nearest multiple of 1/8:
 * the derivatives of erfc are (-1)^n (2/√π) H_{n-1}(c) e^{-c²} (Hermite polynomials), so
 * erfc(c + h) = erfc(c) - (2/√π) e^{-c²} Σ_{n≥1} H_{n-1}(c) (-h)^n / n! ... with erfc(c)
 * itself from the series (c < 1) or the continued fraction (c >= 1).
 */
function erfcTaylor(x: number): number {
  const c = Math.round(x * 8) / 8;
  const h = x - c;
  const base = c < 1 ? 1 - erfSeries(c) : erfcFraction(c);
  // Σ_{n≥1} H_{n-1}(c) (-h)^n / n!, Hermite recurrence H_{k+1} = 2c H_k - 2k H_{k-1}
  let hPrev = 0;
  let hCur = 1; // H_0
  let pw = -h; // (-h)^1 / 1!
  let sum = hCur * pw;
  for (let n = 2; n < 40; n++) {
    const hNext = 2 * c * hCur - 2 * (n - 2) * hPrev; // H_{n-1}
    hPrev = hCur;
    hCur = hNext;
    pw *= -h / n;
    const d = hCur * pw;
    sum += d;
    if (Math.abs(d) < 1e-18 * Math.abs(sum) && n > 4) break;
  }
  return base + TWO_OVER_SQRT_PI * expMinusSquare(c) * sum;
}

/** The complementary error function 1 - erf(x), accurate also where it is tiny. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 2 - erfc(-x);
  if (x < 0.5) return 1 - erfSeries(x);
  if (x > 27.3) return 0;
  return x < 3 ? erfcTaylor(x) : erfcFraction(x);
}

/** The error function (2/√π) ∫_0^x e^{-t²} dt. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 0.5) return erfSeries(x);
  const r = 1 - erfc(a);
  return x < 0 ? -r : r;
}

/** The inverse error function on [-1, 1]: Winitzki's closed form refined by Halley steps on erf (erfc near ±1). */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  if (y === 0) return y;
  const s = y < 0 ? -1 : 1;
  const a = Math.abs(y);
  const q = 1 - a; // exact for a >= 0.5
  const ln = Math.log1p(-a) + Math.log1p(a);
  const k = 0.147;
  const t = 2 / (Math.PI * k) + ln / 2;
  let x = Math.sqrt(Math.sqrt(t * t - ln / k) - t);
  for (let it = 0; it < 8; it++) {
    // f(x) = erf(x) - a (or q - erfc(x), same root, better conditioned near 1)
    const f = a < 0.5 ? erf(x) - a : q - erfc(x);
    const fp = TWO_OVER_SQRT_PI * expMinusSquare(x);
    if (fp === 0) break;
    const step = f / fp / (1 + (x * f) / fp);
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(x)) break;
  }
  return s * x;
}

/** Bernoulli numbers B_2, B_4, ..., B_20 for the asymptotic series. */
export const B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330];

/** sin(πx) with the argument reduced exactly (no error from forming πx for large x). */
function sinPi(x: number): number {
  let r = x % 2;
  if (r < 0) r += 2;
  if (r > 1) return -sinPi(r - 1);
  if (r > 0.5) r = 1 - r;
  return Math.sin(Math.PI * r);
}

/** ζ(2), ζ(3), ..., ζ(59) (Riemann zeta values), for the series of log Γ(1 + t). */
export const ZETA = [
  1.6449340668482264, 1.2020569031595942, 1.0823232337111381, 1.03692775514337, 1.0173430619844492, 1.008349277381923, 1.0040773561979444, 1.0020083928260821,
  1.000994575127818, 1.0004941886041194, 1.000246086553308, 1.0001227133475785, 1.0000612481350588, 1.000030588236307, 1.0000152822594086, 1.0000076371976379,
  1.000003817293265, 1.0000019082127165, 1.0000009539620338, 1.0000004769329869, 1.0000002384505027, 1.000000119219926, 1.000000059608189, 1.0000000298035034,
  1.0000000149015549, 1.0000000074507118, 1.000000003725334, 1.0000000018626598, 1.0000000009313275, 1.0000000004656628, 1.000000000232831, 1.0000000001164155,
  1.0000000000582077, 1.0000000000291038, 1.000000000014552, 1.000000000007276, 1.000000000003638, 1.000000000001819, 1.0000000000009095, 1.0000000000004547,
  1.0000000000002274, 1.0000000000001137, 1.0000000000000568, 1.0000000000000284, 1.0000000000000142, 1.000000000000007, 1.0000000000000036, 1.0000000000000018,
  1.0000000000000009, 1.0000000000000004, 1.0000000000000002, 1.0000000000000002, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
export const EULER_GAMMA = 0.5772156649015329;

/** log Γ(1 + t) = -γt + Σ_{k≥2} (-1)^k ζ(k) t^k / k, for |t| <= 1/2. */
function lgamma1p(t: number): number {
  let s = 0;
  let p = -t;
  for (let k = 2; k <= 59; k++) {
    p *= -t;
    const d = (ZETA[k - 2]! * p) / k;
    s += d;
    if (Math.abs(d) < 1e-18 * Math.abs(s)) break;
  }
  return -EULER_GAMMA * t + s;
}

/** log Γ(x) for x >= 8 by Stirling's series. */
function lgammaStirling(x: number): number {
  const inv = 1 / x;
  const inv2 = inv * inv;
  let s = 0;
  let p = inv;
  for (let k = 1; k <= B2K.length; k++) {
    s += (B2K[k - 1]! / (2 * k * (2 * k - 1))) * p;
    p *= inv2;
  }
  return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + s;
}

/**
 * log |Γ(x)|: Stirling's series for x >= 8; the series of log Γ(1 + t) on [0.5, 2.5)
 * (exact zeros at 1 and 2, tiny relative error near them); the recurrence
 * Γ(x) = (x-1)…(x-n) Γ(x-n) down into that interval for x in [2.5, 8); reflection for x < 0.5.
 */
export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity || x === -Infinity) return Infinity;
  if (x < 0.5) {
    if (Number.isInteger(x)) return Infinity;
    if (x > -1e-300 && x < 1e-300) return -Math.log(Math.abs(x));
    return LOG_PI - Math.log(Math.abs(sinPi(x))) - lgamma(1 - x);
  }
  if (x >= 8) return lgammaStirling(x);
  if (x < 1.5) return lgamma1p(x - 1);
  if (x < 2.5) return lgamma1p(x - 2) + Math.log1p(x - 2);
  let prod = 1;
  let y = x;
  while (y >= 2.5) {
    y -= 1;
    prod *= y;
  }
  return lgamma1p(y - 2) + Math.log1p(y - 2) + Math.log(prod);
}

/** x0 (the positive root of ψ) as a head and a tail, and ψ^(n)(x0)/n! for n = 1..59. */
export const PSI_ROOT_HI = 1.4616321449683622;
export const PSI_ROOT_LO = 9.549995429965697e-17;
export const PSI_ROOT_TAYLOR = [
  0.9676722454476212, -0.4427631689835921, 0.258499760955651, -0.16394270544240652, 0.10782405069126237, -0.07219956125645471, 0.04880428816414311,
  -0.03316112647484736, 0.022597648232218104, -0.01542476590494896, 0.010538791616612175, -0.007204534386356869, 0.004926781395729853, -0.003369801655439328,
  0.002305126326734928, -0.0015769367714301972, 0.0010788252019162967, -0.0007380709389960052, 0.000504953265834602, -0.0003454680251063077,
  0.00023635601564027053, -0.00016170622091974803, 0.0001106337276874741, -7.569179582195066e-5, 5.178575795222081e-5, -3.5430070947659604e-5,
  2.424006611860132e-5, -1.6584242271854135e-5, 1.134638458466385e-5, -7.762817668462094e-6, 5.3110609208898636e-6, -3.6336507898010456e-6,
  2.486022733129538e-6, -1.7008538854332607e-6, 1.1636675363548843e-6, -7.96142543124197e-7, 5.446941930669446e-7, -3.7266161283438227e-7, 2.549626552021554e-7,
  -1.7443695117727745e-7, 1.1934394829830244e-7, -8.165115189488409e-8, 5.586299683532171e-8, -3.821960061917494e-8, 2.6148576951961865e-8,
  -1.788998486491149e-8, 1.2239731403233662e-8, -8.37401629767179e-9, 5.729222859849993e-9, -3.9197433359423324e-9, 2.681757752408109e-9,
  -1.8347692760029681e-9, 1.25528798905961e-9, -8.588262056089889e-10, 5.875802667349349e-10, -4.020028354997647e-10, 2.750369420128249e-10,
  -1.8817110923540198e-10, 1.2874040153206377e-10,
];

/** The digamma function ψ(x) = Γ'(x)/Γ(x): asymptotic series for x >= 10, recurrence below, reflection for x <= 0. */
export function digamma(x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Number.isInteger(x)) return NaN;
    // ψ(1 - x) - ψ(x) = π cot(πx)
    const r = x - Math.floor(x);
    const cot = Math.cos(Math.PI * r) / sinPi(r);
    return digamma(1 - x) - Math.PI * cot;
  }
  let acc = 0;
  let z = x;
  // below the root region, ψ(x) = ψ(x+1) - 1/x
  while (z < 0.96) {
    acc -= 1 / z;
    z += 1;
  }
  if (z <= 1.96) {
    // Taylor series around the root x0 (|h| <= 1/2, radius of convergence x0)
    const h = z - PSI_ROOT_HI - PSI_ROOT_LO;
    let s = 0;
    for (let n = PSI_ROOT_TAYLOR.length; n >= 1; n--) s = (s + PSI_ROOT_TAYLOR[n - 1]!) * h;
    return acc + s;
  }
  while (z < 10) {
    acc -= 1 / z;
    z += 1;
  }
  const inv = 1 / z;
  const inv2 = inv * inv;
  let s = 0;
  let p = inv2;
  for (let k = 1; k <= 8; k++) {
    s += (B2K[k - 1]! / (2 * k)) * p;
    p *= inv2;
  }
  return acc + Math.log(z) - 0.5 * inv - s;
}

/** Below -this, polygamma reflects to 1 - x instead of stepping up |x| times (a step count bounded for every x). */
export const POLYGAMMA_REFLECT = 100;

/**
 * The coefficients (constant term first) of P_n with d^n/dz^n cot z = P_n(cot z):
 * P_0(t) = t, P_{k+1}(t) = -(1 + t^2) P_k'(t).
 */
export function cotDerivativePoly(n: number): number[] {
  let p = [0, 1];
  for (let k = 0; k < n; k++) {
    const d = p.slice(1).map((c, i) => c * (i + 1)); // P'
    const next = new Array<number>(d.length + 2).fill(0);
    d.forEach((c, i) => {
      next[i] = next[i]! - c;
      next[i + 2] = next[i + 2]! - c;
    });
    p = next;
  }
  return p;
}

function evalPoly(coeffs: readonly number[], t: number): number {
  let acc = 0;
  for (let i = coeffs.length - 1; i >= 0; i--) acc = acc * t + coeffs[i]!;
  return acc;
}

/**
 * The polygamma function ψ^(n)(x) = (-1)^(n+1) n! Σ_k 1/(x+k)^(n+1), n >= 1: the
 * recurrence ψ^(n)(x) = ψ^(n)(x+1) - (-1)^n n!/x^(n+1) up to x >= 10 + 2n, then the
 * asymptotic series (-1)^(n+1) [(n-1)!/x^n + n!/(2x^(n+1)) + Σ B_2k (2k+n-1)!/((2k)! x^(2k+n))].
 * Below -{@link POLYGAMMA_REFLECT}, the reflection formula.
 */
export function polygamma(n: number, x: number): number {
  if (Number.isNaN(x) || x === -Infinity) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0 && Number.isInteger(x)) return n % 2 === 1 ? Infinity : NaN;
  if (x < -POLYGAMMA_REFLECT) {
    // ψ^(n)(x) = (-1)^n ψ^(n)(1 - x) - π^(n+1) P_n(cot πx): the recurrence would take |x| steps
    const r = x - Math.floor(x);
    const cot = Math.cos(Math.PI * r) / sinPi(r);
    return (n % 2 === 0 ? 1 : -1) * polygamma(n, 1 - x) - Math.PI ** (n + 1) * evalPoly(cotDerivativePoly(n), cot);
  }
  let fact = 1; // n!
  for (let k = 2; k <= n; k++) fact *= k;
  const sign = n % 2 === 1 ? 1 : -1; // (-1)^(n+1)
  let acc = 0;
  let z = x;
  const big = 10 + 2 * n;
  while (z < big) {
    acc += fact / z ** (n + 1);
    z += 1;
  }
  const inv = 1 / z;
  // (n-1)!/z^n + n!/(2 z^(n+1))
  let s = (fact / n) * inv ** n + (fact / 2) * inv ** (n + 1);
  // B_2k (2k+n-1)! / ((2k)! z^(2k+n)); the ratio (2k+n-1)!/(2k)! is built incrementally
  let ratio = fact / n; // (n-1)! / 0! for k = 0
  for (let k = 1; k <= 10; k++) {
    // (2k+n-1)!/(2k)! from (2k+n-3)!/(2k-2)!
    ratio *= ((2 * k + n - 2) * (2 * k + n - 1)) / ((2 * k - 1) * (2 * k));
    s += B2K[k - 1]! * ratio * inv ** (2 * k + n);
  }
  return sign * (acc + s);
}
