/**
 * Control flow in exported models: `cond`/`switch` (ONNX `If`), `whileLoop` and
 * `scan` (ONNX `Loop`), run in ONNX Runtime and compared with `jit(f)` — alone, with
 * pytree, int32 and bool values, nested in one another, differentiated (an Elman RNN's
 * loss and its gradient, whose backward pass is a reverse scan over residuals; grad
 * through cond), under vmap, and as part of a training step iterated in ONNX Runtime.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, exportOnnx, grad, jit, jvp, lax, makeJaxpr, np, optim, tree, valueAndGrad, vmap } from "../../src/index.js";
import type { Jaxpr } from "../../src/ir/jaxpr.js";
import { bind1 } from "../../src/core/trace.js";
import * as E from "../../src/primitives/elementwise.js";
import { ModelProto } from "../../src/export/onnx_proto.js";
import { arrayArb, shapeArb } from "../helpers/arbitraries.js";
import { expectMatches, expectParity, rand, runSession, session } from "./ort.js";

const i32 = (v: number | number[]) => np.array(v, { dtype: "int32" });
const x5 = rand([5], "float32", -2, 2, 31);
const x64 = rand([5], "float64", -2, 2, 32);

/** ONNX op types of a model's nodes, subgraphs included (a model is checked to use If/Loop, not an unrolled form). */
function primitiveNames(j: Jaxpr, into = new Set<string>()): Set<string> {
  for (const e of j.eqns) {
    into.add(e.primitive.name);
    for (const p of Object.values(e.params)) {
      const inner = Array.isArray(p) ? p : [p];
      for (const q of inner) if (q && typeof q === "object" && "jaxpr" in q && "consts" in q) primitiveNames((q as { jaxpr: Jaxpr }).jaxpr, into);
    }
  }
  return into;
}
/** The jaxpr of `jit(f)` uses each of `names` (so the test exercises the row, not something the tracer simplified away). */
function expectUses(f: (...a: any[]) => unknown, args: unknown[], names: string[]): void {
  const used = primitiveNames(makeJaxpr(f)(...args).jaxpr);
  for (const n of names) expect(used.has(n), `the jaxpr uses ${n}: ${[...used].join(", ")}`).toBe(true);
}

interface GraphMsg {
  node?: { op_type: string; input?: string[]; attribute?: { g?: GraphMsg }[] }[];
  initializer?: { name: string }[];
}
/** The op types of an exported model's nodes (subgraphs included, counted), and its initializers that no node reads. */
function modelSummary(bytes: Uint8Array): { ops: Record<string, number>; unused: string[] } {
  const graph = (ModelProto.toObject(ModelProto.decode(bytes)) as { graph: GraphMsg }).graph;
  const ops: Record<string, number> = {};
  const read = new Set<string>();
  const walk = (g: GraphMsg): void => {
    for (const n of g.node ?? []) {
      ops[n.op_type] = (ops[n.op_type] ?? 0) + 1;
      for (const i of n.input ?? []) read.add(i);
      for (const a of n.attribute ?? []) if (a.g) walk(a.g);
    }
  };
  walk(graph);
  return { ops, unused: (graph.initializer ?? []).map((i) => i.name).filter((n) => !read.has(n)) };
}

describe("cond and switch: ONNX If", () => {
  const f = (p: NDArray, x: NDArray) =>
    lax.cond(
      p,
      (y: NDArray) => np.multiply(np.exp(y), 2),
      (y: NDArray) => np.subtract(y, np.sum(y)),
      x,
    );

  it("two branches, both ways", async () => {
    expectUses(f, [np.array(true), x5], ["cond"]);
    await expectParity(f, [np.array(true), x5], "cond true");
    await expectParity(f, [np.array(false), x5], "cond false");
  });

  it("pytree operands and outputs, int32 and bool values, float64", async () => {
    const g = (p: NDArray, ops: { a: NDArray; n: NDArray; b: NDArray }) =>
      lax.cond(
        p,
        (o: typeof ops) => ({ s: np.sum(np.multiply(o.a, 3)), n: np.add(o.n, 1), b: np.logicalNot(o.b), a: o.a }),
        (o: typeof ops) => ({ s: np.max(o.a), n: np.multiply(o.n, o.n), b: o.b, a: np.sin(o.a) }),
        ops,
      );
    const ops = { a: x64, n: i32([3, -4, 5]), b: np.array([true, false]) };
    await expectParity(g, [np.array(true), ops], "pytree cond true");
    await expectParity(g, [np.array(false), ops], "pytree cond false");
  });

  it("a switch of n branches is n - 1 If nodes, each branch written once", () => {
    const fns = [np.sin, np.cos, np.tanh, np.exp, np.sqrt];
    const { ops, unused } = modelSummary(exportOnnx((i: NDArray, x: NDArray) => lax.switch(i, fns, x), [i32(0), x5]));
    expect(ops).toMatchObject({ Less: 4, If: 4, Sin: 1, Cos: 1, Tanh: 1, Exp: 1, Sqrt: 1 });
    expect(unused).toEqual([]);
  });

  it("switch with 3 and 5 branches, every index (out of range clamps)", async () => {
    const branches = [
      (x: NDArray) => np.add(x, 1),
      (x: NDArray) => np.multiply(x, 10),
      (x: NDArray) => np.negative(x),
      (x: NDArray) => np.exp(x),
      (x: NDArray) => np.tanh(x),
    ];
    for (const n of [3, 5]) {
      const s = (i: NDArray, x: NDArray) => lax.switch(i, branches.slice(0, n), x);
      expectUses(s, [i32(0), x5], ["cond"]);
      for (const i of [-3, 0, 1, 2, 3, 4, 9]) await expectParity(s, [i32(i), x5], `switch of ${n} at ${i}`);
    }
  });

  it("a constant predicate or index (a JS boolean or number)", async () => {
    const fns = [(x: NDArray) => np.add(x, 1), (x: NDArray) => np.exp(x), (x: NDArray) => np.negative(x)];
    const g = (x: NDArray) => [lax.switch(7, fns, x), lax.switch(-1, fns, x), lax.cond(false, np.sin, np.cos, x), lax.cond(1, np.sin, np.cos, x)];
    await expectParity(g, [x5], "constant index");
  });

  it("grad through cond (the branch taken is differentiated)", async () => {
    const h = (x: NDArray) => np.sum(f(np.greater(np.sum(x), 0), np.multiply(x, x)));
    const g = (x: NDArray) => [h(x), grad(h)(x)];
    expectUses(g, [x5], ["cond"]);
    await expectParity(g, [x5], "grad cond");
    await expectParity(g, [np.negative(np.abs(x5))], "grad cond, other branch");
    await expectParity(g, [x64], "grad cond float64");
  });
});

describe("whileLoop: ONNX Loop with the condition computed in the body", () => {
  it("a data-dependent trip count (zero trips included)", async () => {
    const firstPow2Above = (x: NDArray) =>
      lax.whileLoop(
        (v: NDArray) => np.lessEqual(v, x),
        (v: NDArray) => np.multiply(v, 2),
        np.array(1),
      );
    expectUses(firstPow2Above, [np.array(100)], ["while"]);
    for (const x of [100, 0.5, -3, 1, 1e6]) await expectParity(firstPow2Above, [np.array(x)], `first power of 2 above ${x}`);
  });

  it("int32 and bool carries, and constants of the cond and the body (Collatz steps)", async () => {
    const steps = (n: NDArray, limit: NDArray) => {
      const [, k, seenOdd] = lax.whileLoop(
        ([m, k]: [NDArray, NDArray, NDArray]) => np.logicalAnd(np.greater(m, 1), np.less(k, limit)),
        ([m, k, odd]: [NDArray, NDArray, NDArray]) => {
          const half = bind1(E.div_p, [m, i32(2)]); // int32 division, truncating
          const isOdd = np.equal(np.subtract(m, np.multiply(half, 2)), 1);
          return [np.where(isOdd, np.add(np.multiply(m, 3), 1), half), np.add(k, 1), np.logicalOr(odd, isOdd)];
        },
        [n, i32(0), np.array(false)],
      );
      return [k, seenOdd];
    };
    for (const n of [27, 1, 16, 97]) await expectParity(steps, [i32(n), i32(1000)], `collatz ${n}`);
    await expectParity(steps, [i32(27), i32(10)], "collatz 27 capped at 10 steps");
  });

  it("foriLoop with array bounds, a float64 carry and a closed-over array", async () => {
    const w = rand([3, 3], "float64", -0.5, 0.5, 33);
    const f = (lo: NDArray, hi: NDArray, v: NDArray) =>
      lax.foriLoop(lo, hi, (i: NDArray, u: NDArray) => np.tanh(np.add(np.matmul(w, u), i.astype("float64"))), v);
    expectUses(f, [i32(0), i32(4), rand([3], "float64")], ["while"]);
    await expectParity(f, [i32(2), i32(7), rand([3], "float64", -1, 1, 34)], "fori 2..7");
    await expectParity(f, [i32(7), i32(2), rand([3], "float64", -1, 1, 34)], "fori 7..2 (no trips)");
  });

  it("jvp of a while loop (forward mode): the tangent is a carry of the loop", async () => {
    const f = (x: NDArray) =>
      lax.whileLoop(
        ([v]: [NDArray, NDArray]) => np.less(np.sum(v), 10),
        ([v, k]: [NDArray, NDArray]): [NDArray, NDArray] => [np.add(np.multiply(np.sin(v), 1.5), v), np.add(k, 1)],
        [x, i32(0)],
      );
    const g = (x: NDArray, t: NDArray) => jvp((u: NDArray) => f(u)[0], [x], [t]);
    const x = np.abs(x5);
    expectUses(g, [x, x5], ["while"]);
    await expectParity(f, [x], "while, float and int carries");
    await expectParity(g, [x, x5], "jvp of while");
  });
});

describe("scan: ONNX Loop with Gather of the iteration number", () => {
  it("a cumulative sum, forward and reverse", async () => {
    for (const reverse of [false, true]) {
      const f = (xs: NDArray) => lax.scan((c: NDArray, x: NDArray) => [np.add(c, x), np.multiply(np.add(c, x), 2)], np.array(0), xs, { reverse });
      expectUses(f, [x5], ["scan"]);
      await expectParity(f, [x5], `cumsum reverse=${reverse}`);
    }
  });

  it("several xs and ys, constants (arguments and closed-over arrays), int32 and bool carries, float64", async () => {
    const w = rand([3, 3], "float64", -0.5, 0.5, 35);
    for (const reverse of [false, true]) {
      const f = (h0: NDArray, b: NDArray, xs: NDArray, ms: NDArray, ks: NDArray) =>
        lax.scan(
          (c: { h: NDArray; n: NDArray; any: NDArray }, [x, m, k]: [NDArray, NDArray, NDArray]) => {
            const h = np.where(m, np.tanh(np.add(np.matmul(w, c.h), np.add(x, b))), c.h);
            return [
              { h, n: np.add(c.n, k), any: np.logicalOr(c.any, m) },
              { h, hsum: np.sum(h), n: np.multiply(c.n, k), m: np.logicalNot(m) },
            ];
          },
          { h: h0, n: i32(1), any: np.array(false) },
          [xs, ms, ks],
          { reverse },
        );
      const args = [
        rand([3], "float64", -1, 1, 36),
        rand([3], "float64", -1, 1, 37),
        rand([6, 3], "float64", -1, 1, 38),
        rand([6], "bool", 0, 1, 39),
        rand([6], "int32", -3, 4, 40),
      ];
      expectUses(f, args, ["scan"]);
      await expectParity(f, args, `scan with several xs/ys reverse=${reverse}`);
    }
  });

  it("a scan over no xs (length only), and a scan of length 0", async () => {
    const pow = (x: NDArray) => lax.scan((c: NDArray) => [np.multiply(c, x), c], np.array(1), null, { length: 4 });
    await expectParity(pow, [np.array(1.5)], "scan with length only");
    const empty = (x: NDArray, xs: NDArray) => lax.scan((c: NDArray, r: NDArray) => [np.add(c, np.sum(r)), np.multiply(r, 2)], x, xs);
    expectUses(empty, [np.array(2), np.zeros([0, 3])], ["scan"]);
    await expectParity(empty, [np.array(2), np.zeros([0, 3])], "scan of length 0");
  });

  it("foriLoop with JS bounds (a scan)", () =>
    expectParity(
      (x: NDArray) => lax.foriLoop(0, 6, (i: NDArray, v: NDArray) => np.add(np.multiply(v, 0.9), np.sin(np.multiply(i.astype("float32"), v))), x),
      [x5],
      "fori scan",
    ));
});

describe("opsets", () => {
  for (const opset of [13, 16, 21]) {
    it(`opset ${opset}`, async () => {
      const f = (p: NDArray, i: NDArray, xs: NDArray) => [
        lax.cond(p, np.exp, np.negative, xs),
        lax.switch(i, [np.sin, np.cos, np.tanh], xs),
        lax.whileLoop(
          (v: NDArray) => np.less(np.sum(v), 100),
          (v: NDArray) => np.add(np.multiply(v, 2), 1),
          np.abs(xs),
        ),
        lax.scan((c: NDArray, r: NDArray) => [np.add(c, r), np.multiply(c, r)], np.zeros([4]), xs, { reverse: true }),
      ];
      const args = [np.array(false), i32(1), rand([3, 4], "float32", -1, 1, 45)];
      const outs = await runSession(await session(exportOnnx(f, args, { opset })), tree.leaves(args) as NDArray[]);
      (tree.leaves(jit(f)(...(args as [NDArray, NDArray, NDArray]))) as NDArray[]).forEach((w, k) => expectMatches(outs[k]!, w, `output ${k}`));
    });
  }
});

describe("nested control flow", () => {
  it("scan inside cond, cond inside scan", async () => {
    const scanInCond = (p: NDArray, xs: NDArray) =>
      lax.cond(
        p,
        (ys: NDArray) => lax.scan((c: NDArray, y: NDArray) => [np.add(c, np.exp(y)), c], np.array(0), ys),
        (ys: NDArray) => [np.sum(ys), np.multiply(ys, 3)],
        xs,
      );
    expectUses(scanInCond, [np.array(true), x5], ["cond", "scan"]);
    await expectParity(scanInCond, [np.array(true), x5], "scan in cond (true)");
    await expectParity(scanInCond, [np.array(false), x5], "scan in cond (false)");

    const condInScan = (xs: NDArray) =>
      lax.scan(
        (c: NDArray, x: NDArray) => {
          const v = lax.cond(
            np.greater(x, 0),
            (a: NDArray) => np.multiply(a, 2),
            (a: NDArray) => np.subtract(a, 1),
            np.add(c, x),
          );
          return [v, np.greater(v, c)];
        },
        np.array(0.5),
        xs,
      );
    expectUses(condInScan, [x5], ["cond", "scan"]);
    await expectParity(condInScan, [x5], "cond in scan");
  });

  it("while inside scan inside scan, with a switch in the innermost body", async () => {
    const f = (xs: NDArray) =>
      lax.scan(
        (c: NDArray, row: NDArray) => {
          const [inner] = lax.scan(
            (d: NDArray, x: NDArray) => {
              const halved = lax.whileLoop(
                (v: NDArray) => np.greater(np.abs(v), 1),
                (v: NDArray) => np.multiply(v, 0.5),
                np.add(d, x),
              );
              const k = np.clip(np.floor(np.add(x, 2)), 0, 3).astype("int32");
              return [
                lax.switch(k, [(v: NDArray) => v, (v: NDArray) => np.add(v, 1), (v: NDArray) => np.negative(v), (v: NDArray) => np.sin(v)], halved),
                null,
              ];
            },
            c,
            row,
          );
          return [inner, inner];
        },
        np.array(0.25),
        xs,
        { reverse: true },
      );
    const xs = rand([3, 4], "float32", -2, 2, 41);
    expectUses(f, [xs], ["scan", "while", "cond"]);
    await expectParity(f, [xs], "while in scan in scan");
  });
});

describe("differentiated loops: an Elman RNN", () => {
  interface Rnn {
    wx: NDArray;
    wh: NDArray;
    b: NDArray;
    wo: NDArray;
  }
  const init = (dtype: "float32" | "float64"): Rnn => ({
    wx: rand([3, 5], dtype, -0.5, 0.5, 50),
    wh: rand([5, 5], dtype, -0.5, 0.5, 51),
    b: rand([5], dtype, -0.1, 0.1, 52),
    wo: rand([5, 2], dtype, -0.5, 0.5, 53),
  });
  // xs: [T, batch, 3], ys: [T, batch, 2]
  const rnnLoss = (p: Rnn, xs: NDArray, ys: NDArray): NDArray => {
    const h0 = np.zeros([4, 5], xs.dtype);
    const [, outs] = lax.scan(
      (h: NDArray, x: NDArray) => {
        const hn = np.tanh(np.add(np.add(np.matmul(x, p.wx), np.matmul(h, p.wh)), p.b));
        return [hn, np.matmul(hn, p.wo)];
      },
      h0,
      xs,
    );
    return np.mean(np.square(np.subtract(outs, ys)));
  };

  for (const dtype of ["float32", "float64"] as const) {
    it(`forward loss and grad wrt the weights under jit (${dtype}): the backward pass is a reverse scan`, async () => {
      const p = init(dtype);
      const xs = rand([6, 4, 3], dtype, -1, 1, 54);
      const ys = rand([6, 4, 2], dtype, -1, 1, 55);
      expectUses(rnnLoss, [p, xs, ys], ["scan"]);
      await expectParity(rnnLoss, [p, xs, ys], `rnn loss ${dtype}`);
      const g = jit(grad(rnnLoss));
      const scans = makeJaxpr(g)(p, xs, ys)
        .jaxpr.eqns.flatMap((e) => (e.primitive.name === "pjit" ? (e.params.jaxpr as { jaxpr: Jaxpr }).jaxpr.eqns : [e]))
        .filter((e) => e.primitive.name === "scan");
      expect(scans.map((e) => e.params.reverse)).toContain(true);
      await expectParity(g, [p, xs, ys], `rnn grad ${dtype}`);
    });
  }

  it("the exported gradient is two Loops (the forward scan and the reverse scan), not an unrolled graph", () => {
    const args = [init("float32"), rand([6, 4, 3], "float32", -1, 1, 54), rand([6, 4, 2], "float32", -1, 1, 55)];
    const { ops, unused } = modelSummary(exportOnnx(grad(rnnLoss), args));
    expect(ops.Loop).toBe(2);
    expect(ops.Tanh).toBe(1); // once, in the forward loop's body
    expect(unused).toEqual([]);
  });

  it("an Adam training step of the RNN, exported once and iterated 30 times in ONNX Runtime", async () => {
    const opt = optim.adam(0.05);
    const step = (p: Rnn, st: optim.AdamState, xs: NDArray, ys: NDArray): [Rnn, optim.AdamState, NDArray] => {
      const [l, g] = valueAndGrad(rnnLoss)(p, xs, ys);
      const [updates, next] = opt.update(g, st, p);
      return [optim.applyUpdates(p, updates), next, l];
    };
    const xs = rand([6, 4, 3], "float32", -1, 1, 56);
    const ys = rand([6, 4, 2], "float32", -1, 1, 57);
    let p = init("float32");
    let st = opt.init(p);
    const s = await session(exportOnnx(step, [p, st, xs, ys]));
    const nCarried = tree.leaves([p, st]).length;
    let carried = tree.leaves([p, st]) as NDArray[];
    const jstep = jit(step);
    let loss0 = 0;
    let last = 0;
    let out: Awaited<ReturnType<typeof runSession>> = [];
    for (let i = 0; i < 30; i++) {
      out = await runSession(s, [...carried, xs, ys]);
      // ONNX Runtime's outputs are the next step's inputs
      carried = out
        .slice(0, nCarried)
        .map((t) => np.reshape(np.array(Array.from(t.data as ArrayLike<number>), { dtype: t.type === "int32" ? "int32" : "float32" }), [...t.dims]));
      let l: NDArray;
      [p, st, l] = jstep(p, st, xs, ys);
      last = Number((out[nCarried]!.data as Float32Array)[0]);
      if (i === 0) loss0 = l.item();
      expect(Math.abs(last - l.item()), `loss at step ${i}`).toBeLessThanOrEqual(1e-5 * Math.abs(l.item()) + 1e-6);
    }
    expect(last).toBeLessThan(loss0 * 0.8); // it trained
    (tree.leaves([p, st]) as NDArray[]).forEach((w, i) => expectMatches(out[i]!, w, `carried leaf ${i} after 30 steps`, { rtol: 1e-4, atol: 1e-6 }));
  });
});

describe("control flow under vmap", () => {
  it("a batched predicate: cond becomes a select, while runs until every example is done", async () => {
    const c = vmap((x: NDArray) =>
      lax.cond(
        np.greater(np.sum(x), 0),
        (y: NDArray) => np.exp(y),
        (y: NDArray) => np.negative(y),
        x,
      ),
    );
    await expectParity(c, [rand([4, 3], "float32", -1, 1, 60)], "vmap cond");
    const w = vmap((x: NDArray) =>
      lax.whileLoop(
        ([v]: [NDArray, NDArray]) => np.less(v, 50),
        ([v, k]: [NDArray, NDArray]): [NDArray, NDArray] => [np.add(np.multiply(v, 2), 1), np.add(k, 1)],
        [x, i32(0)],
      ),
    );
    const xs = np.array([-0.5, 3, 49, 60, 0.1]);
    expectUses(w, [xs], ["while"]);
    await expectParity(w, [xs], "vmap while, per-example trip counts");
  });

  it("vmap of a scan and of a switch on an unbatched index", async () => {
    const f = vmap(
      (i: NDArray, xs: NDArray) => {
        const [c, ys] = lax.scan((a: NDArray, x: NDArray) => [np.add(np.multiply(a, 0.5), x), np.sin(a)], np.array(0), xs, { reverse: true });
        return [c, lax.switch(i, [(y: NDArray) => y, (y: NDArray) => np.exp(y), (y: NDArray) => np.cos(y)], ys)];
      },
      { inAxes: [null, 0] },
    );
    const xs = rand([3, 5], "float32", -1, 1, 61);
    expectUses(f, [i32(2), xs], ["scan", "cond"]);
    for (const i of [0, 1, 2]) await expectParity(f, [i32(i), xs], `vmap scan + switch ${i}`);
  });
});

describe("property: random scans and switches export as jit computes them", () => {
  const steps: Record<string, (c: NDArray, x: NDArray) => NDArray> = {
    tanhAdd: (c, x) => np.tanh(np.add(c, x)),
    mulSin: (c, x) => np.multiply(c, np.sin(x)),
    maxSq: (c, x) => np.maximum(c, np.square(x)),
    mix: (c, x) => np.add(np.multiply(c, 0.5), np.multiply(x, np.cos(c))),
  };
  it("a scan (random shape, length 0 to 4, direction, step) with its ys, and its gradient (a reverse scan), float64", async () => {
    const arb = shapeArb({ maxRank: 2, maxDim: 3 }).chain((shape) =>
      fc.integer({ min: 0, max: 4 }).chain((length) =>
        fc.record({
          c: arrayArb(shape, "real", "float64"),
          xs: arrayArb([length, ...shape], "real", "float64"),
          step: fc.constantFrom(...Object.keys(steps)),
          reverse: fc.boolean(),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(arb, async ({ c, xs, step, reverse }) => {
        const run = (c0: NDArray, xs0: NDArray) =>
          lax.scan(
            (a: NDArray, x: NDArray) => {
              const n = steps[step]!(a, x);
              return [n, np.sum(n)];
            },
            c0,
            xs0,
            { reverse },
          );
        const loss = (c0: NDArray, xs0: NDArray) => {
          const [last, ys] = run(c0, xs0);
          return np.add(np.sum(last), np.sum(np.multiply(ys, ys)));
        };
        const f = (c0: NDArray, xs0: NDArray) => [run(c0, xs0), grad(loss, { argnums: [0, 1] })(c0, xs0)];
        await expectParity(f, [c, xs], `${step} scan of ${xs.shape}, reverse ${reverse}`);
      }),
      { numRuns: 30 },
    );
  });

  it("a switch of 1 to 6 branches at any index (clamped), and a while loop with a data-dependent trip count", async () => {
    const fns = [np.sin, np.cos, np.tanh, np.exp, np.negative, np.square];
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 6 }),
      i: fc.integer({ min: -2, max: 7 }),
      x: arrayArb([3], "real", "float64"),
      limit: fc.double({ min: 1, max: 50, noNaN: true }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ n, i, x, limit }) => {
        const f = (k: NDArray, v: NDArray, lim: NDArray) => [
          lax.switch(k, fns.slice(0, n), v),
          lax.whileLoop(
            ([u]: [NDArray, NDArray]) => np.less(np.sum(np.abs(u)), lim),
            ([u, t]: [NDArray, NDArray]): [NDArray, NDArray] => [np.add(np.multiply(u, 1.7), 0.3), np.add(t, 1)],
            [np.abs(v), i32(0)], // non-negative, so it grows past any limit
          ),
        ];
        await expectParity(f, [i32(i), x, np.array(limit, { dtype: "float64" })], `switch of ${n} at ${i}, while below ${limit}`);
      }),
      { numRuns: 30 },
    );
  });
});
