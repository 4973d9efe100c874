/**
 * jit's matmul-layout pass: `matmul(swapLast(x), y)` and `matmul(x, swapLast(y))`
 * become `matmul_t`, which reads the operand in its stored layout (no transposed copy).
 * Results are checked against float64 triple loops written here and against the
 * un-jitted functions; the lowered jaxprs are inspected for transposes and copy kernels
 * feeding the matmuls.
 */
import { describe, expect, it, vi } from "vitest";
import { closeness } from "../helpers/numeric.js";
import { type Array as NDArray, type ClosedJaxpr, checkGrads, evalJaxpr, grad, jit, makeJaxpr, np } from "../../src/index.js";
import type { Kernel } from "../../src/kernel/ir.js";
import { Var } from "../../src/ir/jaxpr.js";
import { matmulLayout, swapsLastTwo } from "../../src/passes/matmul_layout.js";
import { matmulT, matmul_t_p } from "../../src/primitives/dot.js";

function random(shape: number[], seed: number, dtype: "float32" | "float64" = "float32"): NDArray {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
  return np.array(v, { dtype }).reshape(shape);
}

/** Names of the primitives producing the inputs of every matmul-like equation, and whether any is a transpose or a pure copy kernel. */
function matmulOperandProducers(cj: ClosedJaxpr): { matmuls: string[]; copies: number } {
  const producer = new Map<Var, { name: string; kernel?: Kernel }>();
  for (const e of cj.jaxpr.eqns) for (const v of e.outVars) producer.set(v, { name: e.primitive.name, kernel: e.params.kernel as Kernel | undefined });
  const matmuls: string[] = [];
  let copies = 0;
  for (const e of cj.jaxpr.eqns) {
    if (e.primitive.name !== "matmul" && e.primitive.name !== "matmul_t") continue;
    matmuls.push(e.primitive.name + (e.primitive.name === "matmul_t" ? `[${String(e.params.transposeA)},${String(e.params.transposeB)}]` : ""));
    for (const a of e.inputs) {
      if (!(a instanceof Var)) continue;
      const p = producer.get(a);
      if (!p) continue;
      if (p.name === "transpose") copies++;
      if (p.name === "fused" && p.kernel!.nodes.every((n) => n.kind === "load")) copies++;
    }
  }
  return { matmuls, copies };
}

/** float64 reference of a [.., m, k] @ [.., k, n] product (equal batch shapes). */
function refMatmul(a: Float64Array | Float32Array, b: Float64Array | Float32Array, batch: number, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[t * m * k + i * k + p]! * b[t * k * n + p * n + j]!;
        c[t * m * n + i * n + j] = s;
      }
  return c;
}

describe("matmul layout pass", () => {
  it("recognizes only permutations that swap the last two axes", () => {
    expect(swapsLastTwo([1, 0])).toBe(true);
    expect(swapsLastTwo([0, 2, 1])).toBe(true);
    expect(swapsLastTwo([0, 1, 3, 2])).toBe(true);
    expect(swapsLastTwo([1, 0, 2])).toBe(false);
    expect(swapsLastTwo([2, 1, 0])).toBe(false);
    expect(swapsLastTwo([0, 1])).toBe(false);
    expect(swapsLastTwo([0])).toBe(false);
  });

  it("rewrites xᵀ·y, x·yᵀ and xᵀ·yᵀ into matmul_t and computes the same products (float64, Wasm and JS sizes)", () => {
    for (const [m, k, n] of [
      [3, 5, 4],
      [37, 70, 41],
    ] as const) {
      const x = random([k, m], 1, "float64"); // stored transposed
      const y = random([n, k], 2, "float64");
      const xs = random([m, k], 3, "float64");
      const ys = random([k, n], 4, "float64");
      const cases: [string, (a: NDArray, b: NDArray) => NDArray, NDArray, NDArray, boolean, boolean][] = [
        ["xT y", (a, b) => np.matmul(a.T, b), x, ys, true, false],
        ["x yT", (a, b) => np.matmul(a, b.T), xs, y, false, true],
        ["xT yT", (a, b) => np.matmul(a.T, b.T), x, y, true, true],
      ];
      for (const [name, f, a, b, ta, tb] of cases) {
        const cj = matmulLayout(makeJaxpr(f)(a, b));
        const prims = cj.jaxpr.eqns.map((e) => e.primitive.name);
        expect(prims, name).toEqual(["matmul_t"]);
        expect(cj.jaxpr.eqns[0]!.params).toEqual({ transposeA: ta, transposeB: tb });
        const out = evalJaxpr(cj.jaxpr, cj.consts, [a, b])[0]!;
        expect(out.shape).toEqual([m, n]);
        const A = (ta ? a.T : a).data() as Float64Array;
        const B = (tb ? b.T : b).data() as Float64Array;
        expect(closeness(Array.from(out.data()), Array.from(refMatmul(A, B, 1, m, k, n)), { rtol: 1e-12, atol: 1e-12 })).toBeNull();
      }
    }
  });

  it("handles int32 operands (JS path) and batched operands with broadcast batch axes", () => {
    const xi = np.array(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { dtype: "int32" },
    ); // xiᵀ is 3×2
    const yi = np.array(
      [
        [1, -1],
        [2, 0],
      ],
      { dtype: "int32" },
    );
    const cj = matmulLayout(makeJaxpr((a: NDArray, b: NDArray) => np.matmul(a.T, b))(xi, yi));
    expect(cj.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["matmul_t"]);
    const out = evalJaxpr(cj.jaxpr, cj.consts, [xi, yi])[0]!;
    expect(out.dtype).toBe("int32");
    expect(out.toJs()).toEqual([
      [9, -1],
      [12, -2],
      [15, -3],
    ]);
    // [2, 3, k, m]ᵀ (last two axes) @ [3, k, n]
    const [m, k, n] = [19, 33, 23];
    const a = random([2, 3, k, m], 5);
    const b = random([3, k, n], 6);
    const f = (p: NDArray, q: NDArray): NDArray => np.matmul(np.transpose(p, [0, 1, 3, 2]), q);
    const cjb = matmulLayout(makeJaxpr(f)(a, b));
    expect(cjb.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["matmul_t"]);
    const got = evalJaxpr(cjb.jaxpr, cjb.consts, [a, b])[0]!;
    expect(got.shape).toEqual([2, 3, m, n]);
    const A = np.transpose(a, [0, 1, 3, 2]).data() as Float32Array;
    const B = b.data() as Float32Array;
    const want = new Float64Array(2 * 3 * m * n);
    for (let t = 0; t < 2; t++) want.set(refMatmul(A.subarray(t * 3 * m * k, (t + 1) * 3 * m * k), B, 3, m, k, n), t * 3 * m * n);
    expect(closeness(Array.from(got.data()), Array.from(want), { rtol: 1e-5, atol: 1e-5 })).toBeNull();
  });

  it("leaves other permutations alone", () => {
    const a = random([4, 3, 5], 7);
    const b = random([3, 5, 2], 8);
    const cj = matmulLayout(makeJaxpr((p: NDArray, q: NDArray) => np.matmul(np.transpose(p, [1, 0, 2]), q))(a, b));
    expect(cj.jaxpr.eqns.map((e) => e.primitive.name)).toEqual(["transpose", "matmul"]);
  });

  it("keeps a transpose that is also used elsewhere, and still feeds the matmul the stored array", () => {
    const x = random([6, 4], 9);
    const y = random([6, 5], 10);
    const f = (a: NDArray, b: NDArray): NDArray[] => [np.matmul(a.T, b), a.T];
    const cj = matmulLayout(makeJaxpr(f)(x, y));
    expect(cj.jaxpr.eqns.map((e) => e.primitive.name).sort()).toEqual(["matmul_t", "transpose"]);
    const [c, t] = evalJaxpr(cj.jaxpr, cj.consts, [x, y]);
    expect(
      closeness(Array.from(c!.data()), Array.from(refMatmul(x.T.data() as Float32Array, y.data() as Float32Array, 1, 4, 6, 5)), { rtol: 1e-6, atol: 1e-6 }),
    ).toBeNull();
    expect(t!.shape).toEqual([4, 6]);
  });

  it("jit(grad(mlp loss)): no transposed copies feed the matmuls, and gradients equal the un-jitted ones", () => {
    const loss = (p: { w1: NDArray; w2: NDArray }, x: NDArray, y: NDArray): NDArray => {
      const h = np.tanh(np.matmul(x, p.w1));
      return np.mean(np.square(np.subtract(np.matmul(h, p.w2), y)));
    };
    const params = { w1: random([100, 64], 11), w2: random([64, 10], 12) };
    const x = random([48, 100], 13);
    const y = random([48, 10], 14);
    const g = grad(loss);
    const jg = jit(g);
    const lowered = jg.lower(params, x, y).jaxpr;
    const { matmuls, copies } = matmulOperandProducers(lowered);
    expect(copies).toBe(0);
    expect(lowered.jaxpr.eqns.some((e) => e.primitive.name === "transpose")).toBe(false);
    expect(matmuls.filter((m) => m.startsWith("matmul_t")).sort()).toEqual(["matmul_t[false,true]", "matmul_t[true,false]", "matmul_t[true,false]"]);
    const want = g(params, x, y);
    const got = jg(params, x, y);
    expect(closeness(Array.from(got.w1.data()), Array.from(want.w1.data()), { rtol: 1e-5, atol: 1e-5 })).toBeNull();
    expect(closeness(Array.from(got.w2.data()), Array.from(want.w2.data()), { rtol: 1e-5, atol: 1e-5 })).toBeNull();
  });

  it("jit of a batched matmul's gradient (vmapped layout, [b, m, k] operands) equals the un-jitted one", () => {
    const f = (a: NDArray, b: NDArray): NDArray => np.sum(np.sin(np.matmul(a, b)));
    const a = random([3, 40, 50], 15);
    const b = random([3, 50, 36], 16);
    const g = grad(f, { argnums: [0, 1] });
    const jg = jit(g);
    expect(matmulOperandProducers(jg.lower(a, b).jaxpr).copies).toBe(0);
    const [ga, gb] = g(a, b) as NDArray[];
    const [ja, jb] = jg(a, b) as NDArray[];
    expect(closeness(Array.from(ja!.data()), Array.from(ga!.data()), { rtol: 1e-5, atol: 1e-5 })).toBeNull();
    expect(closeness(Array.from(jb!.data()), Array.from(gb!.data()), { rtol: 1e-5, atol: 1e-5 })).toBeNull();
  });

  it("matmul_t's JVP and transpose rules agree with finite differences in every layout, to second order", () => {
    const layouts: [boolean, boolean][] = [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ];
    for (const [ta, tb] of layouts) {
      // op(a): 2x3 (batched by 2 on a), op(b): 3x4
      const a = random(ta ? [2, 3, 2] : [2, 2, 3], 31, "float64");
      const b = random(tb ? [4, 3] : [3, 4], 32, "float64");
      const f = (p: NDArray, q: NDArray): NDArray => np.sum(np.sin(matmulT(p, q, ta, tb)));
      expect(() => checkGrads(f, [a, b], { order: 2 })).not.toThrow();
      // and the same values as matmul of explicit transposes
      const sw = (x: NDArray): NDArray => (x.ndim === 3 ? np.transpose(x, [0, 2, 1]) : np.transpose(x));
      expect(
        closeness(Array.from(matmulT(a, b, ta, tb).data()), Array.from(np.matmul(ta ? sw(a) : a, tb ? sw(b) : b).data()), { rtol: 1e-12, atol: 1e-12 }),
      ).toBeNull();
    }
  });

  it("eager grad runs matmul_t for the backward products (no transposed copies), matching a float64 reference; grad of grad still works", () => {
    const [m, k, n] = [30, 41, 35];
    const a = random([m, k], 18, "float64");
    const b = random([k, n], 19, "float64");
    const f = (p: NDArray, q: NDArray): NDArray => np.sum(np.sin(np.matmul(p, q)));
    const spy = vi.spyOn(matmul_t_p, "impl");
    try {
      const [ga, gb] = grad(f, { argnums: [0, 1] })(a, b) as NDArray[];
      expect(spy).toHaveBeenCalledTimes(2);
      // dA = cos(AB)·Bᵀ, dB = Aᵀ·cos(AB)
      const A = a.data() as Float64Array;
      const B = b.data() as Float64Array;
      const cos = refMatmul(A, B, 1, m, k, n).map(Math.cos);
      const bt = np.transpose(b).data() as Float64Array;
      const at = np.transpose(a).data() as Float64Array;
      expect(closeness(Array.from(ga!.data()), Array.from(refMatmul(cos, bt, 1, m, n, k)), { rtol: 1e-12, atol: 1e-12 })).toBeNull();
      expect(closeness(Array.from(gb!.data()), Array.from(refMatmul(at, cos, 1, k, m, n)), { rtol: 1e-12, atol: 1e-12 })).toBeNull();
    } finally {
      spy.mockRestore();
    }
    // second order: d/da Σ (dA)² where dA = cos(AB)·Bᵀ, checked against a central difference
    const h = (p: NDArray): NDArray => np.sum(np.square(grad(f)(p, b) as NDArray));
    const g2 = grad(h)(a).data() as Float64Array;
    const eps = 1e-6;
    for (const idx of [0, 7, m * k - 1]) {
      const ap = (a.data() as Float64Array).slice();
      const am = ap.slice();
      ap[idx]! += eps;
      am[idx]! -= eps;
      const fd = (h(np.array(ap, { dtype: "float64" }).reshape([m, k])).item() - h(np.array(am, { dtype: "float64" }).reshape([m, k])).item()) / (2 * eps);
      expect(Math.abs(g2[idx]! - fd)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(fd)));
    }
  });
});
