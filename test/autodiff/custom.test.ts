/**
 * customJvp, customVjp and checkGrads: custom rules are used by every transform
 * that should use them, are checked by checkGrads (which must catch a wrong rule),
 * and customVjp refuses forward mode with a clear error.
 */
import { describe, expect, it } from "vitest";
import {
  type Array as NDArray,
  checkGrads,
  customJvp,
  customVjp,
  grad,
  hessian,
  hessianVectorProduct,
  jacfwd,
  jit,
  jacrev,
  jvp,
  linearize,
  np,
  stopGradient,
  valueAndGrad,
  vjp,
  vmap,
} from "../../src/index.js";
import { expectClose, f64, randomArray, seededRandom, toNumbers } from "../helpers/numeric.js";

const rand = seededRandom(99);

/** softplus(x) = log(1 + eˣ), with the derivative written as the stable sigmoid. */
const naiveSoftplus = (x: NDArray): NDArray => np.log1p(np.exp(x));
const softplus = customJvp(naiveSoftplus, ([x]: NDArray[], [t]: NDArray[]) => [naiveSoftplus(x!), np.multiply(t!, np.sigmoid(x!))]);
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

describe("customJvp", () => {
  it("the rule replaces automatic differentiation in jvp, grad, vjp and linearize", () => {
    // e^1000 overflows: the automatic derivative is inf/inf = NaN, the rule's is 1
    expect(Number.isNaN(grad(naiveSoftplus)(f64(1000)).item())).toBe(true);
    expect(grad(softplus)(f64(1000)).item()).toBe(1);
    const x = f64([-3, 0, 2.5, 1000]);
    const want = f64(toNumbers(x).map(sigmoid));
    expectClose(jvp(softplus, [x], [np.onesLike(x)])[1], want, { rtol: 1e-15 });
    expectClose(vjp(softplus, x)[1](np.onesLike(x))[0], want, { rtol: 1e-15 });
    expectClose(linearize(softplus, x)[1](np.onesLike(x)), want, { rtol: 1e-15 });
    expectClose(grad((a: NDArray) => np.sum(softplus(a)))(x), want, { rtol: 1e-15 });
    expectClose(jacrev(softplus)(x), np.multiply(np.eye(4, "float64"), want), { rtol: 1e-15 });
    expectClose(jacfwd(softplus)(x), np.multiply(np.eye(4, "float64"), want), { rtol: 1e-15 });
  });

  it("higher derivatives differentiate the rule itself", () => {
    // d²/dx² softplus = s(1-s), through the rule's sigmoid
    const x = f64([-1, 0.5]);
    const s = toNumbers(x).map(sigmoid);
    const want = f64(s.map((v) => v * (1 - v)));
    expectClose(grad((a: NDArray) => np.sum(grad((b: NDArray) => np.sum(softplus(b)))(a)))(x), want, { rtol: 1e-14 });
    expectClose(hessianVectorProduct((a: NDArray) => np.sum(softplus(a)))(x, f64([1, 1])), want, { rtol: 1e-14 });
    expectClose(
      hessian((a: NDArray) => np.sum(softplus(a)))(x),
      f64([
        [s[0]! * (1 - s[0]!), 0],
        [0, s[1]! * (1 - s[1]!)],
      ]),
      { rtol: 1e-14 },
    );
  });

  it("calls f (not the rule) without differentiation, and the rule once per derivative", () => {
    let fCalls = 0;
    let ruleCalls = 0;
    const f = customJvp(
      (x: NDArray) => {
        fCalls++;
        return np.sin(x);
      },
      ([x]: NDArray[], [t]: NDArray[]) => {
        ruleCalls++;
        return [np.sin(x!), np.multiply(t!, np.cos(x!))];
      },
    );
    expect(f(f64(0)).item()).toBe(0);
    expect([fCalls, ruleCalls]).toEqual([1, 0]);
    expect(grad(f)(f64(0)).item()).toBe(1);
    expect(ruleCalls).toBe(1);
    // under a transform that does not touch the input, f itself runs
    const c = f64(0.5);
    fCalls = 0;
    ruleCalls = 0;
    expect(grad((a: NDArray) => np.multiply(a, f(c)))(f64(1)).item()).toBeCloseTo(Math.sin(0.5), 14);
    // f is traced at most once per input signature (the call is staged), the rule not at all
    expect(fCalls).toBeLessThanOrEqual(1);
    expect(ruleCalls).toBe(0);
  });

  it("supports several arguments and pytrees; an argument without tangent gets zeros", () => {
    const f = customJvp(
      (p: { a: NDArray; b: NDArray }, k: NDArray) => ({ prod: np.multiply(np.multiply(p.a, p.b), k) }),
      ([p, k]: any[], [tp, tk]: any[]) => [
        { prod: np.multiply(np.multiply(p.a, p.b), k) },
        { prod: np.add(np.add(np.multiply(np.multiply(tp.a, p.b), k), np.multiply(np.multiply(p.a, tp.b), k)), np.multiply(np.multiply(p.a, p.b), tk)) },
      ],
    );
    const p = { a: f64([1, 2]), b: f64([3, 4]) };
    const k = f64(5);
    const g = grad((q: typeof p) => np.sum(f(q, k).prod))(p);
    expect(g.a.toJs()).toEqual([15, 20]);
    expect(g.b.toJs()).toEqual([5, 10]);
    expect(grad((kk: NDArray) => np.sum(f(p, kk).prod))(k).item()).toBe(3 + 8);
  });

  it("a rule that reads a tangent's value under grad gets a clear error", () => {
    const f = customJvp(
      (x: NDArray) => np.sin(x),
      ([x]: NDArray[], [t]: NDArray[]) => [np.sin(x!), np.multiply(t!.item(), np.cos(x!))],
    );
    // under jvp the tangent is concrete
    expect(jvp(f, [f64(0)], [f64(2)])[1].item()).toBe(2);
    expect(() => grad(f)(f64(0))).toThrow(/tangent being linearized/);
  });
});

describe("customVjp", () => {
  // clips the gradient flowing back through an identity
  const clipGrad = customVjp(
    (x: NDArray) => x,
    (x: NDArray) => [x, null],
    (_res: null, g: NDArray) => [np.clip(g, -1, 1)],
  );

  it("grad and vjp use bwd", () => {
    expect(grad((x: NDArray) => np.multiply(clipGrad(x), 5))(f64(2)).item()).toBe(1);
    expect(grad((x: NDArray) => np.multiply(clipGrad(x), -0.5))(f64(2)).item()).toBe(-0.5);
    const [y, back] = vjp(clipGrad, f64([1, 2, 3]));
    expect(y.toJs()).toEqual([1, 2, 3]);
    expect(back(f64([-3, 0.25, 7]))[0].toJs()).toEqual([-1, 0.25, 1]);
    // called plainly, f runs
    expect(clipGrad(f64([4])).toJs()).toEqual([4]);
  });

  it("passes residuals from fwd to bwd, with pytree arguments and several inputs", () => {
    let bwdCalls = 0;
    const f = customVjp(
      (p: { w: NDArray }, x: NDArray) => np.sin(np.multiply(p.w, x)),
      (p: { w: NDArray }, x: NDArray) => {
        const z = np.multiply(p.w, x);
        return [np.sin(z), { cosz: np.cos(z), w: p.w, x }];
      },
      (res: { cosz: NDArray; w: NDArray; x: NDArray }, g: NDArray) => {
        bwdCalls++;
        const gz = np.multiply(g, res.cosz);
        return [{ w: np.sum(np.multiply(gz, res.x)) }, np.multiply(gz, res.w)];
      },
    );
    const p = { w: f64(1.5) };
    const x = f64([0.1, -0.3]);
    const [gp, gx] = grad((q: typeof p, a: NDArray) => np.sum(f(q, a)), { argnums: [0, 1] })(p, x);
    const xv = toNumbers(x);
    expect(bwdCalls).toBe(1);
    expect(gp.w.item()).toBeCloseTo(
      xv.reduce((s, a) => s + Math.cos(1.5 * a) * a, 0),
      15,
    );
    expectClose(gx, f64(xv.map((a) => Math.cos(1.5 * a) * 1.5)), { rtol: 1e-15 });
    // only x differentiated: bwd still runs, its w cotangent is dropped
    expectClose(grad((a: NDArray) => np.sum(f(p, a)))(x), gx, { rtol: 0 });
    expectClose(jacrev((a: NDArray) => f(p, a))(x), np.multiply(np.eye(2, "float64"), gx), { rtol: 1e-15 });
    const [v, g2] = valueAndGrad((a: NDArray) => np.sum(f(p, a)))(x);
    expect(v.item()).toBeCloseTo(Math.sin(0.15) + Math.sin(-0.45), 15);
    expectClose(g2, gx, { rtol: 0 });
  });

  it("grad of grad differentiates bwd", () => {
    const sinV = customVjp(
      (x: NDArray) => np.sin(x),
      (x: NDArray) => [np.sin(x), x],
      (x: NDArray, g: NDArray) => [np.multiply(g, np.cos(x))],
    );
    expect(grad(grad(sinV))(f64(1)).item()).toBeCloseTo(-Math.sin(1), 15);
  });

  it("forward mode gives a clear error (as JAX), pointing to customJvp", () => {
    const x = f64([1, 2]);
    for (const run of [() => jvp(clipGrad, [x], [x]), () => jacfwd(clipGrad)(x), () => linearize(clipGrad, x)[1](x)]) {
      expect(run).toThrow(/customVjp: forward-mode differentiation .*not supported.*customJvp/s);
    }
  });

  it("forward-over-reverse works (as JAX): bwd itself is differentiated", () => {
    // f = Σ clipGrad(a)², grad f = clip(2a, -1, 1): Hessian diag(2) inside the clip range, 0 outside
    const f = (a: NDArray): NDArray => np.sum(np.square(clipGrad(a)));
    const a = f64([0.1, -0.2, 3]);
    expect(grad(f)(a).toJs()).toEqual([0.2, -0.4, 1]);
    expect(hessianVectorProduct(f)(a, f64([1, 1, 1])).toJs()).toEqual([2, 2, 0]);
    expect(hessian(f)(a).toJs()).toEqual([
      [2, 0, 0],
      [0, 2, 0],
      [0, 0, 0],
    ]);
  });
});

describe("checkGrads", () => {
  const x = f64([0.3, -0.7, 1.1]);

  it("passes on correct derivatives, including custom rules", () => {
    expect(() => checkGrads((a: NDArray) => np.sum(np.tanh(np.multiply(a, a))), [x])).not.toThrow();
    expect(() => checkGrads(softplus, [x])).not.toThrow();
    const right = customJvp(
      (a: NDArray) => np.sin(a),
      ([a]: NDArray[], [t]: NDArray[]) => [np.sin(a!), np.multiply(t!, np.cos(a!))],
    );
    expect(() => checkGrads(right, [x], { order: 3 })).not.toThrow();
    const A = randomArray(rand, [2, 3]);
    expect(() =>
      checkGrads((w: NDArray, b: NDArray) => ({ y: np.tanh(np.add(np.matmul(A, w), b)) }), [randomArray(rand, [3, 2]), randomArray(rand, [2])]),
    ).not.toThrow();
    // float32 arguments are checked in float64
    expect(() => checkGrads((a: NDArray) => np.exp(a), [np.array([0.1, 0.2])])).not.toThrow();
  });

  it("catches a wrong customJvp rule, naming the mode and the element", () => {
    const wrong = customJvp(
      (a: NDArray) => np.sin(a),
      ([a]: NDArray[], [t]: NDArray[]) => [np.sin(a!), np.multiply(t!, np.sin(a!))],
    );
    expect(() => checkGrads(wrong, [x])).toThrow(/checkGrads: jvp and central finite differences .*disagree at output 0, element \d/);
    expect(() => checkGrads(wrong, [x], { modes: ["rev"] })).toThrow(/checkGrads: vjp disagrees with finite differences/);
    // slightly wrong (a 0.1% error) is still caught
    const slightly = customJvp(
      (a: NDArray) => np.sin(a),
      ([a]: NDArray[], [t]: NDArray[]) => [np.sin(a!), np.multiply(t!, np.multiply(np.cos(a!), 1.001))],
    );
    expect(() => checkGrads(slightly, [x], { order: 1 })).toThrow(/checkGrads/);
  });

  it("catches a rule that is right at first order but wrong at second order", () => {
    // the tangent is right, but its own derivative is lost (cos(a) is treated as a constant)
    const stopped = customJvp(
      (a: NDArray) => np.sin(a),
      ([a]: NDArray[], [t]: NDArray[]) => [np.sin(a!), np.multiply(t!, np.cos(stopGradient(a!)))],
    );
    expect(() => checkGrads(stopped, [x], { order: 1 })).not.toThrow();
    expect(() => checkGrads(stopped, [x], { order: 2 })).toThrow(/order 2/);
  });

  it("catches a wrong customVjp bwd in reverse mode", () => {
    const badV = customVjp(
      (a: NDArray) => np.exp(a),
      (a: NDArray) => [np.exp(a), a],
      (a: NDArray, g: NDArray) => [np.multiply(g, a)],
    );
    expect(() => checkGrads(badV, [x], { modes: ["rev"], order: 1 })).toThrow(/vjp disagrees/);
    const goodV = customVjp(
      (a: NDArray) => np.exp(a),
      (a: NDArray) => [np.exp(a), np.exp(a)],
      (e: NDArray, g: NDArray) => [np.multiply(g, e)],
    );
    expect(() => checkGrads(goodV, [x], { modes: ["rev"], order: 2 })).not.toThrow();
  });
});

describe("custom rules survive jit and vmap", () => {
  // a deliberately non-standard rule makes it visible whether the rule or f's own derivative ran
  const f = customJvp(
    (x: NDArray) => np.sin(x),
    ([x]: NDArray[], [t]: NDArray[]) => [np.sin(x!), np.multiply(t!, 100)],
  );
  const clip = customVjp(
    (x: NDArray) => x,
    (x: NDArray) => [x, null],
    (_r: null, g: NDArray) => [np.clip(g, -1, 1)],
  );
  it("grad(jit(f)), jit(grad(f)) and grad of a vmapped customJvp use the rule", () => {
    const x = f64(0.3);
    expect(grad(f)(x).item()).toBe(100);
    expect(grad(jit(f))(x).item()).toBe(100);
    expect(jit(grad(f))(x).item()).toBe(100);
    expect(grad((v: NDArray) => np.sum(vmap(f)(v)))(f64([0.1, 0.2])).toJs()).toEqual([100, 100]);
    expect(vmap(grad(f))(f64([0.1, 0.2])).toJs()).toEqual([100, 100]);
  });
  it("grad(jit(g)) and grad through vmap use customVjp's bwd", () => {
    const g = (v: NDArray) => np.sum(np.multiply(clip(v), 5));
    const x = f64([2, 3]);
    expect(grad(g)(x).toJs()).toEqual([1, 1]);
    expect(grad(jit(g))(x).toJs()).toEqual([1, 1]);
    expect(grad((v: NDArray) => np.sum(np.multiply(vmap(clip)(v), 5)))(x).toJs()).toEqual([1, 1]);
  });
  it("a custom function that closes over a differentiated value is a clear error", () => {
    const h = (w: NDArray) => {
      const scaled = customJvp(
        (x: NDArray) => np.multiply(x, w),
        ([x]: NDArray[], [t]: NDArray[]) => [np.multiply(x!, w), np.multiply(t!, w)],
      );
      return scaled(f64(2));
    };
    expect(() => grad(h)(f64(3))).toThrow(/closes over a value that is being differentiated.*explicit argument/);
  });
});
