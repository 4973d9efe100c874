/**
 * vmap on random programs (op DAGs over the primitive set, random shapes): the
 * batched result, sliced along its output axis, equals the program run on each
 * example, for random inAxes (null and negative axes included) and outAxes; nested
 * vmap; vmap composed with jit both ways; per-example gradients; gradients of a
 * batched sum. References are per-example loops of the eager program, and the
 * batches are assembled and sliced in plain JS index arithmetic.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, jit, np, vmap } from "../../src/index.js";
import { fromFlat, seededRandom } from "../helpers/numeric.js";
import { type Program, exampleValues, expectAgree, loopStack, makeBatch, programArb, stackValues, unstack } from "../helpers/programs.js";

const TOL64 = 1e-12;

/** An axis (or null) for a value of rank r from a gene: about one in three is null. */
function axisFrom(g: number, r: number, allowNull: boolean): number | null {
  if (allowNull && g % 3 === 0) return null;
  return ((g >> 2) % (2 * r + 2)) - (r + 1);
}

/** inAxes for the inputs of a program; at least one is mapped. */
function inAxesFor(p: Program, genes: readonly number[]): (number | null)[] {
  const axes: (number | null)[] = p.inputs.map((s, k) => axisFrom(genes[k % genes.length]!, s.shape.length, true));
  if (!axes.some((a) => a !== null)) axes[0] = axisFrom(genes[0]! | 1, p.inputs[0]!.shape.length, false);
  return axes;
}

const loop = loopStack;

const caseArb = (opts: Parameters<typeof programArb>[0] = {}) =>
  fc.record({
    p: programArb(opts),
    size: fc.integer({ min: 1, max: 3 }),
    axes: fc.array(fc.nat({ max: 1 << 10 }), { minLength: 6, maxLength: 6 }),
    out: fc.nat({ max: 1 << 10 }),
  });

describe("vmap(f)(xs)[i] equals f(xs[i]) on random programs", () => {
  it("random inAxes (null, negative, non-zero) and outAxes, float64", () => {
    fc.assert(
      fc.property(caseArb(), ({ p, size, axes, out }) => {
        const inAxes = inAxesFor(p, axes);
        const outAxis = axisFrom(out, p.outShape.length, false)!;
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const got = vmap(p.fn, { inAxes, outAxes: outAxis })(...b.batched) as NDArray;
        const what = `inAxes ${JSON.stringify(inAxes)} outAxes ${outAxis} size ${size}\n${p.text}`;
        // slice by slice, and as a whole
        const slices = unstack(got, outAxis, size);
        b.perExample.forEach((xs, i) => expectAgree(slices[i], p.fn(...xs), TOL64, `example ${i}: ${what}`));
        expectAgree(got, loop(p.fn, b.perExample, outAxis), TOL64, what);
      }),
      { numRuns: 200 },
    );
  });

  it("pytree outputs with an outAxes pytree", () => {
    fc.assert(
      fc.property(caseArb({ maxSteps: 6 }), ({ p, size, axes, out }) => {
        const inAxes = inAxesFor(p, axes);
        const outAxis = axisFrom(out, p.outShape.length, false)!;
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const got = vmap(p.multi, { inAxes, outAxes: { out: outAxis, extra: [0] } })(...b.batched) as { out: NDArray; extra: NDArray[] };
        const what = `inAxes ${JSON.stringify(inAxes)} outAxes ${outAxis}\n${p.text}`;
        expectAgree(got.out, loop(p.fn, b.perExample, outAxis), TOL64, what);
        expectAgree(
          got.extra[0],
          loop((...xs) => p.multi(...xs).extra[0]!, b.perExample, 0),
          TOL64,
          `extra: ${what}`,
        );
      }),
      { numRuns: 30 },
    );
  });

  it("float32, to float32 tolerance", () => {
    fc.assert(
      fc.property(caseArb({ dtype: "float32" }), ({ p, size, axes, out }) => {
        const inAxes = inAxesFor(p, axes);
        const outAxis = axisFrom(out, p.outShape.length, false)!;
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const got = vmap(p.fn, { inAxes, outAxes: outAxis })(...b.batched) as NDArray;
        expect(got.dtype).toBe("float32");
        expectAgree(got, loop(p.fn, b.perExample, outAxis), 2e-5, `float32 inAxes ${JSON.stringify(inAxes)}\n${p.text}`);
      }),
      { numRuns: 40 },
    );
  });
});

describe("vmap composed with vmap and jit on random programs", () => {
  it("vmap(vmap(f)) with random axes at both levels equals a double loop", () => {
    fc.assert(
      fc.property(
        caseArb({ maxSteps: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.nat({ max: 1 << 10 }), { minLength: 6, maxLength: 6 }),
        fc.nat({ max: 1 << 10 }),
        ({ p, size, axes, out }, size2, axes2, out2) => {
          const inner = inAxesFor(p, axes);
          // outer axes index the inner-batched inputs (one more dimension when mapped inside)
          const outer: (number | null)[] = p.inputs.map((s, k) => axisFrom(axes2[k % 6]!, s.shape.length + (inner[k] === null ? 0 : 1), true));
          if (!outer.some((a) => a !== null)) outer[0] = axisFrom(axes2[0]! | 1, p.inputs[0]!.shape.length + (inner[0] === null ? 0 : 1), false);
          const innerOut = axisFrom(out, p.outShape.length, false)!;
          const outerOut = axisFrom(out2, p.outShape.length + 1, false)!;
          const rand = seededRandom(p.seed);
          // value(k, i, j), shared across i (j) where the outer (inner) axis is null
          const vals = p.inputs.map((s, k) =>
            Array.from({ length: outer[k] === null ? 1 : size2 }, () => Array.from({ length: inner[k] === null ? 1 : size }, () => exampleValues(s, rand))),
          );
          const at = (k: number, i: number, j: number): number[] => vals[k]![outer[k] === null ? 0 : i]![inner[k] === null ? 0 : j]!;
          const args = p.inputs.map((s, k) => {
            const perI = Array.from({ length: outer[k] === null ? 1 : size2 }, (_, i) =>
              inner[k] === null ? { values: at(k, i, 0), shape: s.shape } : stackValues(vals[k]![i]!, s.shape, inner[k]!),
            );
            if (outer[k] === null) return fromFlat(perI[0]!.values, perI[0]!.shape, s.dtype);
            const st = stackValues(
              perI.map((q) => q.values),
              perI[0]!.shape,
              outer[k]!,
            );
            return fromFlat(st.values, st.shape, s.dtype);
          });
          const got = vmap(vmap(p.fn, { inAxes: inner, outAxes: innerOut }), { inAxes: outer, outAxes: outerOut })(...args) as NDArray;
          const rows = Array.from({ length: size2 }, (_, i) => {
            const ys = Array.from({ length: size }, (_, j) =>
              Array.from(p.fn(...p.inputs.map((s, k) => fromFlat(at(k, i, j), s.shape, s.dtype))).data(), Number),
            );
            return stackValues(ys, p.outShape, innerOut);
          });
          const want = stackValues(
            rows.map((r) => r.values),
            rows[0]!.shape,
            outerOut,
          );
          expectAgree(
            got,
            fromFlat(want.values, want.shape, p.dtype),
            TOL64,
            `inner ${JSON.stringify(inner)}→${innerOut}, outer ${JSON.stringify(outer)}→${outerOut}\n${p.text}`,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it("vmap(jit(f)) and jit(vmap(f)) equal the loop", () => {
    fc.assert(
      fc.property(caseArb(), ({ p, size, axes, out }) => {
        const inAxes = inAxesFor(p, axes);
        const outAxis = axisFrom(out, p.outShape.length, false)!;
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const want = loop(p.fn, b.perExample, outAxis);
        const what = `inAxes ${JSON.stringify(inAxes)} outAxes ${outAxis}\n${p.text}`;
        expectAgree(vmap(jit(p.fn), { inAxes, outAxes: outAxis })(...b.batched), want, TOL64, `vmap(jit(f)) ${what}`);
        expectAgree(jit(vmap(p.fn, { inAxes, outAxes: outAxis }))(...b.batched), want, TOL64, `jit(vmap(f)) ${what}`);
      }),
      { numRuns: 50 },
    );
  });
});

describe("vmap composed with grad on random programs", () => {
  it("per-example gradients vmap(grad(loss), { inAxes: [null, 0, 0] }) equal a loop", () => {
    fc.assert(
      fc.property(programArb({ minInputs: 3, maxInputs: 3, indexInputs: false, maxSteps: 7 }), fc.integer({ min: 1, max: 3 }), (p, size) => {
        expect(p.inputs.length).toBe(3);
        const inAxes = [null, 0, 0];
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const g = grad(p.loss);
        const got = vmap(g, { inAxes })(...b.batched) as NDArray;
        expectAgree(got, loop(g, b.perExample, 0), TOL64, `per-example grads\n${p.text}`);
        // the same under jit, and with every argument differentiated
        expectAgree(jit(vmap(g, { inAxes }))(...b.batched), loop(g, b.perExample, 0), TOL64, `jit(vmap(grad))\n${p.text}`);
        const gAll = grad(p.loss, { argnums: [0, 1, 2] });
        const all = vmap(gAll, { inAxes, outAxes: 0 })(...b.batched) as NDArray[];
        [0, 1, 2].forEach((k) =>
          expectAgree(
            all[k],
            loop((...xs) => (gAll(...xs) as NDArray[])[k]!, b.perExample, 0),
            TOL64,
            `per-example grad of argument ${k}\n${p.text}`,
          ),
        );
      }),
      { numRuns: 40 },
    );
  });

  it("grad of a batched sum equals the sum of per-example gradients (transposed batching)", () => {
    fc.assert(
      fc.property(caseArb({ maxSteps: 7 }), ({ p, size, axes }) => {
        const inAxes = inAxesFor(p, axes);
        const b = makeBatch(p, seededRandom(p.seed), size, inAxes);
        const argnums = [...p.floatArgnums];
        const total = (...xs: NDArray[]): NDArray => np.sum(vmap(p.loss, { inAxes })(...xs) as NDArray);
        const got = grad(total, { argnums })(...b.batched) as NDArray[];
        // reference: per-example gradients, stacked along the mapped axis or summed when shared
        const per = b.perExample.map((xs) => grad(p.loss, { argnums })(...xs) as NDArray[]);
        argnums.forEach((k, n) => {
          const ax = inAxes[k];
          const parts = per.map((gs) => gs[n]!);
          const want =
            ax === null ? parts.reduce((acc, x) => np.add(acc, x)) : loop((...xs) => (grad(p.loss, { argnums })(...xs) as NDArray[])[n]!, b.perExample, ax!);
          // A shared argument's gradient is a sum over the batch. Through a float32 round trip
          // (astype) the batched program rounds the sum once, the reference each term: both are
          // right to float32 precision, not to float64's.
          const tol = ax === null && p.text.includes("float32") ? 1e-6 : TOL64;
          expectAgree(got[n], want, tol, `grad of argument ${k} (inAxes ${String(ax)})\n${p.text}`);
        });
      }),
      { numRuns: 40 },
    );
  });
});
