/**
 * The autodiff transforms' behaviour as an API: pytrees, argnums, hasAux, linearize
 * reuse, higher orders and compositions, Jacobian layouts, stopGradient, concrete
 * values inside transformed functions, integer inputs, the residuals vjp keeps, and
 * derivatives at special points (ties, zeros). Expected values are derived by hand.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NDArray,
  grad,
  hessian,
  hessianVectorProduct,
  jacfwd,
  jacrev,
  jvp,
  linearize,
  np,
  stopGradient,
  typecheckJaxpr,
  valueAndGrad,
  vjp,
} from "../../src/index.js";
import { linearizeJaxpr } from "../../src/transforms/ad.js";
import {
  denseMatrix,
  expectClose,
  f64,
  flatNumbers,
  fromFlat,
  matVec,
  randomArray,
  seededRandom,
  toNumbers,
  unflattenNumbers,
  vdot,
} from "../helpers/numeric.js";

const rand = seededRandom(2024);

describe("jvp", () => {
  it("takes and returns pytrees", () => {
    const f = (p: { a: NDArray; b: NDArray[] }): { s: NDArray; t: NDArray[] } => ({
      s: np.multiply(p.a, p.b[0]!),
      t: [np.sin(p.b[1]!)],
    });
    const p = { a: f64([1, 2]), b: [f64(3), f64([0, 0.5])] };
    const v = { a: f64([1, 0]), b: [f64(2), f64([1, -1])] };
    const [y, t] = jvp(f, [p], [v]);
    expect(y.s.toJs()).toEqual([3, 6]);
    // d(a·b0) = da·b0 + a·db0
    expect(t.s.toJs()).toEqual([1 * 3 + 1 * 2, 0 * 3 + 2 * 2]);
    expectClose(t.t[0], f64([Math.cos(0), -Math.cos(0.5)]), { rtol: 1e-15 });
  });

  it("gives integer inputs no tangent and integer outputs a zero tangent", () => {
    const n = np.array([2, 3], { dtype: "int32" });
    const f = (x: NDArray, k: NDArray): [NDArray, NDArray] => [np.multiply(x, k.astype("float64")), np.multiply(k, 2)];
    const [[y, z], [ty, tz]] = jvp(f, [f64([1, 1]), n], [f64([1, 10]), np.array([5, 5], { dtype: "int32" })]);
    expect(y.toJs()).toEqual([2, 3]);
    expect(ty.toJs()).toEqual([2, 30]);
    expect(z.toJs()).toEqual([4, 6]);
    expect(tz.toJs()).toEqual([0, 0]);
  });

  it("works with a function that ignores its input (zero tangent of the right shape)", () => {
    const [y, t] = jvp((_x: NDArray) => np.ones([2, 2], "float64"), [f64(1)], [f64(1)]);
    expect(y.shape).toEqual([2, 2]);
    expect(t.toJs()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe("linearize", () => {
  it("runs f once and applies the same linear map to many tangents", () => {
    let calls = 0;
    const f = (x: NDArray): NDArray => {
      calls++;
      return np.multiply(np.sin(x), np.exp(x));
    };
    const x = f64([0.3, -1.2, 2]);
    const [y, fJvp] = linearize(f, x);
    expect(calls).toBe(1);
    expectClose(y, f(x), { rtol: 0 });
    const u = randomArray(rand, [3]);
    const v = randomArray(rand, [3]);
    const ju = fJvp(u);
    const jv = fJvp(v);
    const jmix = fJvp(np.add(np.multiply(u, 2), np.multiply(v, -3)));
    expect(calls).toBe(2); // only the explicit f(x) above
    expectClose(jmix, np.add(np.multiply(ju, 2), np.multiply(jv, -3)), { rtol: 1e-14, atol: 1e-14 });
    expectClose(ju, jvp(f, [x], [u])[1], { rtol: 1e-14 });
    // by hand: d(sin·exp) = (cos + sin)·exp
    const xv = toNumbers(x);
    expectClose(
      ju,
      fromFlat(
        xv.map((a, i) => (Math.cos(a) + Math.sin(a)) * Math.exp(a) * toNumbers(u)[i]!),
        [3],
      ),
      { rtol: 1e-14 },
    );
  });

  it("handles several arguments and pytree outputs", () => {
    const [out, fJvp] = linearize((a: NDArray, b: NDArray) => ({ p: np.multiply(a, b), q: np.add(a, b) }), f64(2), f64(5));
    expect(out.p.item()).toBe(10);
    const t = fJvp(f64(1), f64(0));
    expect(t.p.item()).toBe(5);
    expect(t.q.item()).toBe(1);
  });
});

describe("vjp", () => {
  it("returns one cotangent per primal, with each primal's structure; the backward function is reusable", () => {
    const f = (p: { w: NDArray; b: NDArray }, x: NDArray): NDArray => np.add(np.matmul(x, p.w), p.b);
    const p = {
      w: f64([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      b: f64([0.5, -0.5]),
    };
    const x = f64([[1, 0, -1]]);
    const [y, back] = vjp(f, p, x);
    expect(y.toJs()).toEqual([[-3.5, -4.5]]);
    const [gp, gx] = back(f64([[1, 0]]));
    expect(gp.w.toJs()).toEqual([
      [1, 0],
      [0, 0],
      [-1, 0],
    ]);
    expect(gp.b.toJs()).toEqual([1, 0]);
    expect(gx.toJs()).toEqual([[1, 3, 5]]);
    const [gp2, gx2] = back(f64([[0, 2]]));
    expect(gp2.w.toJs()).toEqual([
      [0, 2],
      [0, 0],
      [0, -2],
    ]);
    expect(gx2.toJs()).toEqual([[4, 8, 12]]);
  });

  it("gives integer primals a zero cotangent", () => {
    const [, back] = vjp((x: NDArray, k: NDArray) => np.multiply(x, k), f64([1, 2]), np.array([3, 4], { dtype: "int32" }));
    const [gx, gk] = back(f64([1, 1]));
    expect(gx.toJs()).toEqual([3, 4]);
    expect(gk.toJs()).toEqual([0, 0]);
  });

  it("accepts pytree outputs and cotangents", () => {
    const [out, back] = vjp((x: NDArray) => [np.square(x), { s: np.sum(x) }] as const, f64([1, 2]));
    expect(out[1].s.item()).toBe(3);
    const [g] = back([f64([1, 1]), { s: f64(10) }]);
    expect(g.toJs()).toEqual([12, 14]);
  });

  it("sums the cotangents of an output used twice, and of an input used twice", () => {
    const [, back] = vjp((x: NDArray) => [x, x, np.multiply(x, x)], f64(3));
    expect(back([f64(1), f64(2), f64(1)])[0].item()).toBe(1 + 2 + 6);
  });
});

describe("grad and valueAndGrad", () => {
  const f = (x: NDArray, y: NDArray, z: NDArray): NDArray => np.sum(np.multiply(np.multiply(x, np.square(y)), np.power(z, 3)));
  const x = f64(2);
  const y = f64(3);
  const z = f64(-1);

  it("argnums as a number, an array, or negative", () => {
    // f = x y² z³
    expect(grad(f)(x, y, z).item()).toBe(9 * -1);
    expect(grad(f, { argnums: 1 })(x, y, z).item()).toBe(2 * 2 * 3 * -1);
    expect(grad(f, { argnums: -1 })(x, y, z).item()).toBe(2 * 9 * 3);
    const gs = grad(f, { argnums: [2, 0] })(x, y, z);
    expect(Array.isArray(gs)).toBe(true);
    expect(gs.map((g: NDArray) => g.item())).toEqual([54, -9]);
    const single = grad(f, { argnums: [1] })(x, y, z);
    expect(single.length).toBe(1);
    expect(single[0].item()).toBe(-12);
  });

  it("hasAux returns [grads, aux]; valueAndGrad returns [[value, aux], grads]", () => {
    const g = (w: NDArray): [NDArray, { pred: NDArray; n: number }] => {
      const pred = np.tanh(w);
      return [np.sum(np.square(pred)), { pred, n: 7 }];
    };
    const w = f64([0.5, -1]);
    const [gw, aux] = grad(g, { hasAux: true })(w);
    const wv = toNumbers(w);
    expectClose(gw, f64(wv.map((a) => 2 * Math.tanh(a) * (1 - Math.tanh(a) ** 2))), { rtol: 1e-14 });
    expectClose(aux.pred, f64(wv.map(Math.tanh)), { rtol: 1e-15 });
    // aux values are plain concrete arrays, usable after the transform
    expect(aux.pred.toJs()).toHaveLength(2);
    expect(aux.n.item()).toBe(7);
    const [[value, aux2], g2] = valueAndGrad(g, { hasAux: true })(w);
    expect(value.item()).toBeCloseTo(Math.tanh(0.5) ** 2 + Math.tanh(-1) ** 2, 14);
    expectClose(aux2.pred, aux.pred, { rtol: 0 });
    expectClose(g2, gw, { rtol: 0 });
    const [v3, g3] = valueAndGrad(f, { argnums: [0, 1] })(x, y, z);
    expect(v3.item()).toBe(-18);
    expect(g3.map((t: NDArray) => t.item())).toEqual([-9, -12]);
  });

  it("accepts size-1 outputs of any rank and returns gradients of the input dtype", () => {
    for (const shape of [[], [1], [1, 1]]) {
      const g = grad((a: NDArray) => np.reshape(np.sum(np.square(a)), shape))(np.array([1, 2]));
      expect(g.toJs()).toEqual([2, 4]);
      expect(g.dtype).toBe("float32");
    }
    // a float32 input differentiated through float64 arithmetic gets a float32 gradient
    const g = grad((a: NDArray) => np.sum(np.square(a.astype("float64"))))(np.array([1.5]));
    expect(g.dtype).toBe("float32");
    expect(g.toJs()).toEqual([3]);
  });

  it("is zero for an output that does not depend on the input, and for JS numbers", () => {
    expect(grad((a: NDArray) => np.sum(np.ones([3])))(f64([1, 2])).toJs()).toEqual([0, 0]);
    expect(grad((_a: NDArray) => 3)(f64(1)).item()).toBe(0);
    expect(grad((a: NDArray) => np.multiply(a, a))(4 as unknown as NDArray).item()).toBe(8);
  });

  it("leaves integer arguments that are not differentiated alone", () => {
    const idx = np.array([2, 0, 2], { dtype: "int32" });
    const g = grad((a: NDArray, i: NDArray) => np.sum(np.take(a, i)))(f64([10, 20, 30]), idx);
    expect(g.toJs()).toEqual([1, 0, 2]);
  });
});

describe("higher orders and compositions", () => {
  it("grad to the fourth order: x⁴ → 4x³ → 12x² → 24x → 24", () => {
    const f = (x: NDArray): NDArray => np.power(x, 4);
    const x = f64(1.5);
    expect(grad(f)(x).item()).toBeCloseTo(4 * 1.5 ** 3, 13);
    expect(grad(grad(f))(x).item()).toBeCloseTo(12 * 1.5 ** 2, 13);
    expect(grad(grad(grad(f)))(x).item()).toBeCloseTo(24 * 1.5, 13);
    expect(grad(grad(grad(grad(f))))(x).item()).toBeCloseTo(24, 13);
  });

  it("sin: derivatives cycle through cos, -sin, -cos, sin", () => {
    const d1 = grad((x: NDArray) => np.sin(x));
    const d2 = grad(d1);
    const d3 = grad(d2);
    const d4 = grad(d3);
    const x = 0.7;
    expect(d1(f64(x)).item()).toBeCloseTo(Math.cos(x), 14);
    expect(d2(f64(x)).item()).toBeCloseTo(-Math.sin(x), 14);
    expect(d3(f64(x)).item()).toBeCloseTo(-Math.cos(x), 14);
    expect(d4(f64(x)).item()).toBeCloseTo(Math.sin(x), 14);
  });

  it("forward-over-reverse, reverse-over-forward and forward-over-forward agree", () => {
    const f = (x: NDArray): NDArray => np.sum(np.multiply(np.sin(x), np.exp(np.multiply(x, 0.5))));
    const x = randomArray(rand, [4]);
    const v = randomArray(rand, [4]);
    const fwdRev = jvp(grad(f), [x], [v])[1];
    const revFwd = grad((a: NDArray) => jvp(f, [a], [v])[1])(x);
    const H = hessian(f)(x);
    expectClose(fwdRev, revFwd, { rtol: 1e-13, atol: 1e-14 });
    expectClose(fwdRev, np.matmul(H, v), { rtol: 1e-13, atol: 1e-14 });
    // the diagonal Hessian by hand: d²/dx² sin(x)e^{x/2} = e^{x/2}(-sin x + cos x + sin(x)/4)
    const xv = toNumbers(x);
    const hv = toNumbers(v).map((vi, i) => {
      const a = xv[i]!;
      return Math.exp(a / 2) * (-Math.sin(a) + Math.cos(a) + Math.sin(a) / 4) * vi;
    });
    expectClose(fwdRev, f64(hv), { rtol: 1e-13, atol: 1e-14 });
  });

  it("vjp of jvp transposes the forward map: <vjp_of_jvp(u), w> = <u, jvp(w)>", () => {
    const A = randomArray(rand, [3, 4]);
    const x = randomArray(rand, [4]);
    const f = (a: NDArray): NDArray => np.tanh(np.matmul(A, a));
    const lin = (t: NDArray): NDArray => jvp(f, [x], [t])[1];
    const [, back] = vjp(lin, np.zerosLike(x));
    const u = randomArray(rand, [3]);
    const w = randomArray(rand, [4]);
    expect(vdot(back(u)[0], w)).toBeCloseTo(vdot(u, lin(w)), 13);
  });

  it("jacfwd(jacrev(f)) == jacrev(jacfwd(f)) == hessian(f) == jacfwd(grad(f))", () => {
    const f = (x: NDArray): NDArray => np.logSumExp(np.multiply(x, np.reshape(np.arange(1, 7, 1, "float64"), [2, 3])));
    const x = randomArray(rand, [2, 3]);
    const H = hessian(f)(x);
    expect(H.shape).toEqual([2, 3, 2, 3]);
    expectClose(jacfwd(jacrev(f))(x), H, { rtol: 1e-13, atol: 1e-14 });
    expectClose(jacrev(jacfwd(f))(x), H, { rtol: 1e-13, atol: 1e-14 });
    expectClose(jacfwd(grad(f))(x), H, { rtol: 1e-13, atol: 1e-14 });
    expectClose(jacrev(grad(f))(x), H, { rtol: 1e-13, atol: 1e-14 });
    // symmetric
    const hn = toNumbers(np.reshape(H, [6, 6]));
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(hn[i * 6 + j]).toBeCloseTo(hn[j * 6 + i]!, 13);
  });
});

describe("hessianVectorProduct", () => {
  it("works on a pytree argument and matches the dense Hessian", () => {
    const x = randomArray(rand, [5, 3]);
    const loss = (p: { w: NDArray; b: NDArray }): NDArray => np.mean(np.square(np.tanh(np.add(np.matmul(x, p.w), p.b))));
    const p = { w: randomArray(rand, [3, 2]), b: randomArray(rand, [2]) };
    const v = { w: randomArray(rand, [3, 2]), b: randomArray(rand, [2]) };
    const hv = hessianVectorProduct(loss)(p, v);
    expect(Object.keys(hv).sort()).toEqual(["b", "w"]);
    expect(hv.w.shape).toEqual([3, 2]);
    // dense Hessian over the 8 parameters, one hvp per basis vector, then multiply by v
    const n = 8;
    const toTree = (e: number[]): { w: NDArray; b: NDArray } => unflattenNumbers(p, e);
    const H = denseMatrix((e) => flatNumbers(hessianVectorProduct(loss)(p, toTree(e))), n);
    const want = matVec(H, flatNumbers(v));
    expectClose(flatNumbers(hv), want, { rtol: 1e-12, atol: 1e-14 });
    // and the same through hessian()
    const Hd = hessian(loss)(p);
    expect(Hd.w.w.shape).toEqual([3, 2, 3, 2]);
    expect(Hd.w.b.shape).toEqual([3, 2, 2]);
    expect(Hd.b.w.shape).toEqual([2, 3, 2]);
    const hw = np.add(np.reshape(np.matmul(np.reshape(Hd.w.w, [6, 6]), np.reshape(v.w, [6])), [3, 2]), np.matmul(Hd.w.b, v.b));
    expectClose(hw, hv.w, { rtol: 1e-12, atol: 1e-14 });
  });
});

describe("jacfwd / jacrev / hessian layouts", () => {
  it("has shape out.shape ++ in.shape, with known values", () => {
    const A = f64([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const x = f64([0.1, 0.2, 0.3]);
    for (const jac of [jacfwd, jacrev]) {
      expect(jac((a: NDArray) => np.matmul(A, a))(x).toJs()).toEqual(A.toJs());
      const Jsin = jac((a: NDArray) => np.sin(a))(x);
      expectClose(Jsin, f64([0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? Math.cos(toNumbers(x)[i]!) : 0)))), { rtol: 1e-15 });
      const Js = jac((a: NDArray) => np.sum(np.square(a)))(
        f64([
          [1, 2],
          [3, 4],
        ]),
      );
      expect(Js.toJs()).toEqual([
        [2, 4],
        [6, 8],
      ]);
      const Jm = jac((a: NDArray) => np.multiply(a, 2))(
        f64([
          [1, 2],
          [3, 4],
        ]),
      );
      expect(Jm.shape).toEqual([2, 2, 2, 2]);
      const Jscalar = jac((a: NDArray) => np.multiply(np.array([1, 2, 3], { dtype: "float64" }), a))(f64(5));
      expect(Jscalar.toJs()).toEqual([1, 2, 3]);
    }
  });

  it("handles pytree inputs/outputs and argnums arrays", () => {
    const f = (a: NDArray, b: NDArray): { p: NDArray; s: NDArray } => ({ p: np.multiply(a, b), s: np.sum(a) });
    const a = f64([1, 2]);
    const b = f64(3);
    for (const jac of [jacfwd, jacrev]) {
      const J = jac(f, { argnums: [0, 1] })(a, b);
      expect(J.p[0].toJs()).toEqual([
        [3, 0],
        [0, 3],
      ]);
      expect(J.p[1].toJs()).toEqual([1, 2]);
      expect(J.s[0].toJs()).toEqual([1, 1]);
      expect(J.s[1].toJs()).toEqual(0);
      const J1 = jac(f, { argnums: 1 })(a, b);
      expect(J1.p.toJs()).toEqual([1, 2]);
    }
    const H = hessian((u: NDArray, w: NDArray) => np.sum(np.multiply(np.square(u), w)), { argnums: [0, 1] })(f64([1, 2]), f64([3, 4]));
    // f = Σ u² w: H_uu = diag(2w), H_uw = diag(2u), H_ww = 0
    expect(H[0][0].toJs()).toEqual([
      [6, 0],
      [0, 8],
    ]);
    expect(H[0][1].toJs()).toEqual([
      [2, 0],
      [0, 4],
    ]);
    expect(H[1][0].toJs()).toEqual([
      [2, 0],
      [0, 4],
    ]);
    expect(H[1][1].toJs()).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });
});

describe("stopGradient", () => {
  it("is the identity with a zero derivative, in every mode and on pytrees", () => {
    const x = f64([1, 2]);
    expect(stopGradient(x).toJs()).toEqual([1, 2]);
    expect(jvp((a: NDArray) => stopGradient(np.sin(a)), [x], [f64([1, 1])])[1].toJs()).toEqual([0, 0]);
    // d/dx [x · sg(x)] = sg(x) = x, and its derivative is 0 (sg(x) is a constant to autodiff)
    expect(grad((a: NDArray) => np.multiply(a, stopGradient(a)))(f64(3)).item()).toBe(3);
    expect(grad(grad((a: NDArray) => np.multiply(a, stopGradient(a))))(f64(3)).item()).toBe(0);
    expect(hessian((a: NDArray) => np.sum(np.multiply(np.square(a), stopGradient(a))))(x).toJs()).toEqual([
      [2, 0],
      [0, 4],
    ]);
    const t = stopGradient({ a: x, b: [np.array([1], { dtype: "int32" })] });
    expect(t.b[0]!.dtype).toBe("int32");
    const g = grad((p: { a: NDArray; c: NDArray }) => np.sum(np.multiply(stopGradient(p).a, p.c)))({ a: x, c: f64([5, 6]) });
    expect(g.a.toJs()).toEqual([0, 0]);
    expect(g.c.toJs()).toEqual([1, 2]);
  });
});

describe("concrete values inside transformed functions", () => {
  const branchy = (x: NDArray): NDArray => {
    // JS control flow on values: item(), comparisons and a while loop
    let y = x;
    if (np.sum(x).item() > 0) y = np.sin(y);
    else y = np.cos(y);
    let n = 0;
    while (np.max(np.abs(y)).item() < 2 && n < 50) {
      y = np.multiply(y, 1.5);
      n++;
    }
    if (np.greater(np.sum(y), 0).item()) y = np.square(y);
    return np.sum(y);
  };

  it("grad, vjp, jvp, hvp and grad(grad) all see concrete values", () => {
    const x = f64([0.2, 0.4]);
    // by hand: sum > 0 → sin; multiply by 1.5 until max|y| >= 2; sum > 0 → square
    const s = toNumbers(x).map(Math.sin);
    let k = 1;
    while (Math.max(...s.map((v) => Math.abs(v * k))) < 2) k *= 1.5;
    const want = toNumbers(x).map((a) => 2 * k * k * Math.sin(a) * Math.cos(a));
    expectClose(grad(branchy)(x), f64(want), { rtol: 1e-13 });
    const [, back] = vjp(branchy, x);
    expectClose(back(f64(1))[0], f64(want), { rtol: 1e-13 });
    expectClose(jvp(branchy, [x], [f64([1, 0])])[1], f64(want[0]!), { rtol: 1e-13 });
    // second derivative of k² sin²(a) is 2k² cos(2a)
    const wantH = toNumbers(x).map((a) => 2 * k * k * Math.cos(2 * a));
    expectClose(hessianVectorProduct(branchy)(x, f64([1, 1])), f64(wantH), { rtol: 1e-12 });
    expectClose(grad((a: NDArray) => np.sum(grad(branchy)(a)))(x), f64(wantH), { rtol: 1e-12 });
    // the other branch (sum < 0 → cos)
    const xn = f64([-0.2, -0.4]);
    const c = toNumbers(xn).map(Math.cos);
    let kn = 1;
    while (Math.max(...c.map((v) => Math.abs(v * kn))) < 2) kn *= 1.5;
    expectClose(grad(branchy)(xn), f64(toNumbers(xn).map((a) => -2 * kn * kn * Math.cos(a) * Math.sin(a))), { rtol: 1e-13 });
  });

  it("data() and toJs() work on values inside grad", () => {
    const seen: number[][] = [];
    grad((a: NDArray) => {
      seen.push(Array.from(a.data()));
      const b = np.multiply(a, 2);
      seen.push(b.toJs() as number[]);
      return np.sum(b);
    })(f64([1, 2]));
    expect(seen).toEqual([
      [1, 2],
      [2, 4],
    ]);
  });
});

describe("memory: vjp keeps only the residuals the backward pass needs", () => {
  it("an affine chain of 60 steps followed by sin keeps a single residual", () => {
    const x = randomArray(rand, [100]);
    const f = (a: NDArray): NDArray => {
      let y = a;
      for (let i = 0; i < 60; i++) y = np.add(np.multiply(y, 1.01), 0.5);
      return np.sum(np.sin(y));
    };
    const lin = linearizeJaxpr(f, x);
    typecheckJaxpr(lin.jaxpr);
    // only cos(y) is needed: no intermediate of the chain, not even x itself
    expect(lin.consts.length).toBe(1);
    expect(lin.consts[0]!.shape).toEqual([100]);
    // 60 scalings, the multiplication by cos(y), and the sum
    expect(lin.jaxpr.eqns.length).toBe(62);
    expect(new Set(lin.jaxpr.eqns.map((e) => e.primitive.name))).toEqual(new Set(["mul", "reduce_sum"]));
  });

  it("a chain of 40 nonlinear steps keeps one residual per step, not one per intermediate value", () => {
    const x = randomArray(rand, [10]);
    const f = (a: NDArray): NDArray => {
      let y = a;
      for (let i = 0; i < 40; i++) y = np.tanh(np.multiply(np.exp(np.multiply(y, 0.1)), 0.9));
      return y;
    };
    // each step: exp (residual: its output) and tanh (residual: 1 - out²); the
    // scalings by constants need none
    expect(linearizeJaxpr(f, x).consts.length).toBe(80);
    // a linear function keeps nothing
    expect(linearizeJaxpr((a: NDArray) => np.sum(np.multiply(np.transpose(np.reshape(a, [2, 5])), 3)), x).consts.length).toBe(0);
  });

  it("vjp's backward pass gives the same result as the chain rule by hand on a long chain", () => {
    const x = f64([0.3]);
    const [, back] = vjp((a: NDArray) => {
      let y = a;
      for (let i = 0; i < 200; i++) y = np.add(np.multiply(y, 1.001), 0.001);
      return np.sin(y);
    }, x);
    let y = 0.3;
    for (let i = 0; i < 200; i++) y = y * 1.001 + 0.001;
    expect(back(f64([1]))[0].item()).toBeCloseTo(Math.cos(y) * 1.001 ** 200, 12);
  });
});

describe("derivatives at special points", () => {
  it("max/min ties split the derivative equally (as JAX)", () => {
    expect(grad((a: NDArray) => np.max(a))(f64([1, 3, 3])).toJs()).toEqual([0, 0.5, 0.5]);
    expect(
      grad((a: NDArray) => np.min(a, { axis: 1 }).sum())(
        f64([
          [2, 2, 5],
          [1, 4, 7],
        ]),
      ).toJs(),
    ).toEqual([
      [0.5, 0.5, 0],
      [1, 0, 0],
    ]);
    expect(grad((a: NDArray) => np.maximum(a, a))(f64(2)).item()).toBe(1);
    expect(grad((a: NDArray) => np.sum(np.maximum(a, 0)))(f64([-1, 0, 2])).toJs()).toEqual([0, 0.5, 1]);
  });

  it("prod is exact at zeros: gradient and Hessian", () => {
    expect(grad((a: NDArray) => np.prod(a))(f64([2, 0, 5])).toJs()).toEqual([0, 10, 0]);
    expect(grad((a: NDArray) => np.prod(a))(f64([0, 0, 5])).toJs()).toEqual([0, 0, 0]);
    // ∂²(abc)/∂a∂b = c also where a = b = 0
    expect(hessian((a: NDArray) => np.prod(a))(f64([0, 0, 5])).toJs()).toEqual([
      [0, 5, 0],
      [5, 0, 0],
      [0, 0, 0],
    ]);
    expect(
      grad((a: NDArray) => np.sum(np.prod(a, { axis: 0 })))(
        f64([
          [1, 0],
          [3, 4],
        ]),
      ).toJs(),
    ).toEqual([
      [3, 4],
      [1, 0],
    ]);
    // tiny values do not underflow into NaN
    expect(hessian((a: NDArray) => np.prod(a))(f64([1e-200, 0])).toJs()).toEqual([
      [0, 1],
      [1, 0],
    ]);
  });

  it("power x^y: mixed second derivative at y = 0 is 1/x, and grad at x = y = 0 is finite", () => {
    const H = hessian((xy: NDArray) => np.power(np.take(xy, [0]), np.take(xy, [1])).sum())(f64([2, 0]));
    // f = x^y: f_xx = y(y-1)x^(y-2) = 0, f_xy = x^(y-1)(1 + y ln x) = 1/2, f_yy = ln(x)² x^y
    expectClose(
      H,
      f64([
        [0, 0.5],
        [0.5, Math.log(2) ** 2],
      ]),
      { rtol: 1e-14 },
    );
    const [gx, gy] = grad((a: NDArray, b: NDArray) => np.power(a, b), { argnums: [0, 1] })(f64(0), f64(0));
    expect(gx.item()).toBe(0);
    expect(gy.item()).toBe(0);
    expect(grad((a: NDArray) => np.power(a, f64(2.5)))(f64(0)).item()).toBe(0);
  });

  it("integer powers are exact at 0 and for negative bases", () => {
    expect(grad((a: NDArray) => np.power(a, 3))(f64(-2)).item()).toBe(12);
    expect(grad(grad((a: NDArray) => np.power(a, 2)))(f64(0)).item()).toBe(2);
    expect(grad((a: NDArray) => np.power(a, 0))(f64(0)).item()).toBe(0);
    expect(grad((a: NDArray) => np.power(a, -1))(f64(-2)).item()).toBe(-0.25);
  });

  it("astype: tangents and cotangents are converted; integer conversions carry none", () => {
    const x = f64([1.5, -2.25]);
    const [y, t] = jvp((a: NDArray) => a.astype("float32"), [x], [f64([1, 2])]);
    expect(y.dtype).toBe("float32");
    expect(t.dtype).toBe("float32");
    expect(t.toJs()).toEqual([1, 2]);
    const [, back] = vjp((a: NDArray) => a.astype("float32"), x);
    const [g] = back(np.array([3, 4]));
    expect(g.dtype).toBe("float64");
    expect(g.toJs()).toEqual([3, 4]);
    expect(grad((a: NDArray) => np.sum(np.multiply(a.astype("int32").astype("float64"), a)))(x).toJs()).toEqual([1, -2]);
  });
});
