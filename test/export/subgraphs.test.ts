/**
 * The emitter's support for control-flow rows: subgraphs (graph attributes), nested
 * jaxprs and multi-output nodes. Two stand-in primitives (a two-branch conditional and
 * a fixed-count loop, defined here with eager impls) get rows in the table, written the
 * way rows for lax-style control flow are: `If` with two branch subgraphs, `Loop` with
 * a body subgraph that reads a closed-over array of the enclosing graph.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type Array as NDArray, type ClosedJaxpr, evalJaxpr, makeJaxpr, np } from "../../src/index.js";
import { ShapedArray } from "../../src/core/array.js";
import { bind, definePrimitive } from "../../src/core/trace.js";
import { type OnnxRule, onnxRules } from "../../src/export/onnx_ops.js";
import { expectParity } from "./ort.js";

const run = (cj: ClosedJaxpr, xs: NDArray[]): NDArray[] => evalJaxpr(cj.jaxpr, cj.consts, xs);
const typeOf = (a: ShapedArray) => ({ elem: a.dtype, shape: a.shape });

const testCond = definePrimitive<{ thenJ: ClosedJaxpr; elseJ: ClosedJaxpr }>({
  name: "test_export_cond",
  abstractEval: (_avals, { thenJ }) => thenJ.outAvals,
  impl: ([p, ...xs], { thenJ, elseJ }) => run(p!.item() ? thenJ : elseJ, xs) as never,
});
const testLoop = definePrimitive<{ body: ClosedJaxpr; n: number }>({
  name: "test_export_fori",
  abstractEval: (_avals, { body }) => body.outAvals,
  impl: (xs, { body, n }) => {
    let c: NDArray[] = xs;
    for (let i = 0; i < n; i++) c = run(body, c);
    return c as never;
  },
});

const rows = onnxRules as Record<string, OnnxRule>;
rows[testCond.name] = {
  lower(em, e) {
    const { thenJ, elseJ } = e.params as { thenJ: ClosedJaxpr; elseJ: ClosedJaxpr };
    const [p, ...xs] = e.inputs;
    const outs = e.outAvals.map(typeOf);
    const branch = (j: ClosedJaxpr) => em.subgraph([], (sub) => sub.jaxpr(j, xs), outs);
    return em.ops("If", [p!], outs.length, { then_branch: branch(thenJ), else_branch: branch(elseJ) });
  },
};
rows[testLoop.name] = {
  lower(em, e) {
    const { body, n } = e.params as { body: ClosedJaxpr; n: number };
    const carried = e.inAvals.map(typeOf);
    const g = em.subgraph([{ elem: "int64", shape: [] }, { elem: "bool", shape: [] }, ...carried], (sub, [, cond, ...xs]) => [cond!, ...sub.jaxpr(body, xs)], [
      { elem: "bool", shape: [] },
      ...carried,
    ]);
    return em.ops("Loop", [em.constant([n], "int64", []), "", ...e.inputs], carried.length, { body: g });
  },
};
afterAll(() => {
  delete rows[testCond.name];
  delete rows[testLoop.name];
});

describe("control-flow rows: subgraphs in ONNX Runtime", () => {
  const w = np.array([
    [0.5, -1],
    [2, 0.25],
  ]);
  const step = makeJaxpr((h: NDArray, x: NDArray) => [np.tanh(np.add(np.matmul(h, w), x)), x])(np.zeros([3, 2]), np.zeros([3, 2]));
  const up = makeJaxpr((x: NDArray) => [np.multiply(np.exp(x), 2)])(np.zeros([3, 2]));
  const down = makeJaxpr((x: NDArray) => [np.subtract(x, np.sum(w))])(np.zeros([3, 2]));

  it("If with two branch subgraphs, both ways", async () => {
    const f = (p: NDArray, x: NDArray) => bind(testCond, [p, x], { thenJ: up, elseJ: down })[0]!;
    const x = np.array([
      [0.1, -0.2],
      [0.3, 0.4],
      [-1, 2],
    ]);
    await expectParity(f, [np.array(true), x], "cond true", "eager");
    await expectParity(f, [np.array(false), x], "cond false", "eager");
  });

  it("Loop with two carried values, whose body reads a closed-over array (an initializer of the enclosing graph)", async () => {
    const f = (h: NDArray, x: NDArray) => bind(testLoop, [h, x], { body: step, n: 5 });
    await expectParity(
      f,
      [
        np.array([
          [0.1, 0.2],
          [0.3, -0.4],
          [1, 0],
        ]),
        np.array([
          [0.5, 0],
          [0, 0.5],
          [-0.5, 0.1],
        ]),
      ],
      "loop",
      "eager",
    );
    expect(f(np.zeros([3, 2]), np.zeros([3, 2])).length).toBe(2);
  });
});
