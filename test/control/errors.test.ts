/** Bad input to lax control flow and checkpoint: each an Error naming the primitive, what it got and what to do. */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkpoint, grad, jacrev, jit, lax, np, vjp } from "../../src/index.js";
import { errorMessage } from "../helpers/numeric.js";

const x = np.array([1, 2, 3]);

describe("errors", () => {
  it("mismatched branch outputs name both types", () => {
    const m = errorMessage(() =>
      lax.cond(
        true,
        (a: NDArray) => a,
        (a: NDArray) => np.sum(a),
        x,
      ),
    );
    expect(m).toContain("lax.cond");
    expect(m).toContain("(f32[3])");
    expect(m).toContain("(f32[])");
    expect(
      errorMessage(() =>
        lax.cond(
          true,
          (a: NDArray) => a,
          (a: NDArray) => a.astype("int32"),
          x,
        ),
      ),
    ).toMatch(/lax\.cond: the false branch returns \(f32\[3\]\) but the true branch returns \(i32\[3\]\)|lax\.cond: .*i32\[3\]/);
    expect(
      errorMessage(() =>
        lax.cond(
          true,
          (a: NDArray) => [a, a],
          (a: NDArray) => a,
          x,
        ),
      ),
    ).toMatch(/lax\.cond: .*structure/);
    expect(errorMessage(() => lax.switch(0, [(a: NDArray) => a, (a: NDArray) => np.reshape(a, [3, 1])], x))).toMatch(
      /lax\.switch: branch 0 returns \(f32\[3\]\) but branch 1 returns \(f32\[3,1\]\)/,
    );
  });

  it("a non-scalar or non-boolean predicate, and a float switch index", () => {
    expect(
      errorMessage(() =>
        lax.cond(
          np.greater(x, 0),
          (a: NDArray) => a,
          (a: NDArray) => a,
          x,
        ),
      ),
    ).toMatch(/lax\.cond: the predicate must be a 0-d bool array, got bool\[3\]; reduce it .*np\.where/);
    expect(
      errorMessage(() =>
        lax.cond(
          np.array(1),
          (a: NDArray) => a,
          (a: NDArray) => a,
          x,
        ),
      ),
    ).toMatch(/lax\.cond: the predicate must be a 0-d bool array, got f32\[\]; compare it/);
    expect(errorMessage(() => lax.switch(np.array(1), [(a: NDArray) => a], x))).toMatch(
      /lax\.switch: the index must be a 0-d int32 array, got f32\[\]; convert it with astype\("int32"\)/,
    );
    expect(errorMessage(() => lax.switch(1.5, [(a: NDArray) => a], x))).toMatch(/lax\.switch: the index must be an integer/);
    expect(errorMessage(() => lax.switch(0, [], x))).toMatch(/lax\.switch: branches must be a non-empty JS array/);
  });

  it("a body that changes the carry's shape or dtype", () => {
    expect(errorMessage(() => lax.scan((c: NDArray, a: NDArray) => [np.stack([c, a]), null], np.array(0), x))).toMatch(
      /lax\.scan: the body's carry output has type \(f32\[2\]\) but its carry input has type \(f32\[\]\)/,
    );
    expect(errorMessage(() => lax.scan((c: NDArray) => [c.astype("float64"), null], np.array(0), x))).toMatch(/lax\.scan: .*\(f64\[\]\).*\(f32\[\]\)/);
    expect(
      errorMessage(() =>
        lax.whileLoop(
          (v: NDArray) => np.less(np.sum(v), 3),
          (v: NDArray) => np.concatenate([v, v]),
          x,
        ),
      ),
    ).toMatch(/lax\.whileLoop: bodyFn returns \(f32\[6\]\) but the loop value has type \(f32\[3\]\)/);
    expect(
      errorMessage(() =>
        lax.whileLoop(
          (v: NDArray) => np.sum(v),
          (v: NDArray) => v,
          x,
        ),
      ),
    ).toMatch(/lax\.whileLoop: condFn must return a 0-d bool array, got \(f32\[\]\)/);
    expect(errorMessage(() => lax.foriLoop(0, 2, (_i: NDArray, v: NDArray) => np.sum(v), x))).toMatch(/lax\.scan: the body's carry output/);
  });

  it("scan's xs, length and options", () => {
    expect(errorMessage(() => lax.scan((c: NDArray) => [c, null], np.array(0), null))).toMatch(/lax\.scan: xs is null .*opts\.length/);
    expect(errorMessage(() => lax.scan((c: NDArray) => [c, null], np.array(0), x, { length: 4 }))).toMatch(
      /lax\.scan: xs leaf 0 has leading axis 3 but opts\.length is 4/,
    );
    expect(errorMessage(() => lax.scan((c: NDArray) => [c, null], np.array(0), [x, np.zeros([2])]))).toMatch(
      /lax\.scan: xs leaf 1 has leading axis 2 but leaf 0 has 3/,
    );
    expect(errorMessage(() => lax.scan((c: NDArray) => [c, null], np.array(0), np.array(1)))).toMatch(/lax\.scan: every leaf of xs must have a leading axis/);
    expect(errorMessage(() => lax.scan((c: NDArray) => [c, null], np.array(0), x, { revers: true } as never))).toMatch(
      /lax\.scan: unknown option `revers` \(did you mean `reverse`\?\)/,
    );
    expect(errorMessage(() => lax.scan((c: NDArray) => c as never, np.array(0), x))).toMatch(/lax\.scan: f must return \[newCarry, y\]/);
  });

  it("reverse mode through whileLoop suggests scan / foriLoop", () => {
    const f = (a: NDArray) =>
      lax.whileLoop(
        (v: NDArray) => np.less(np.sum(v), 10),
        (v: NDArray) => np.multiply(v, a),
        np.ones([3]),
      );
    for (const run of [
      () => grad((a: NDArray) => np.sum(f(a)))(x),
      () => vjp(f, x)[1](x),
      () => jacrev(f)(x),
      () => jit(grad((a: NDArray) => np.sum(f(a))))(x),
    ]) {
      const m = errorMessage(run);
      expect(m).toContain("lax.whileLoop: reverse-mode differentiation");
      expect(m).toContain("lax.scan");
      expect(m).toContain("lax.foriLoop");
    }
  });

  it("checkpoint options", () => {
    expect(errorMessage(() => checkpoint((a: NDArray) => a, { policy: "dots" as never }))).toMatch(
      /checkpoint: unknown policy "dots"; use one of "nothing_saveable", "dots_saveable"/,
    );
    expect(errorMessage(() => checkpoint((a: NDArray) => a, { polcy: "dots_saveable" } as never))).toMatch(
      /checkpoint: unknown option `polcy` \(did you mean `policy`\?\)/,
    );
  });
});
