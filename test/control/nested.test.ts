/**
 * Control flow nested in control flow (scan in scan, cond and checkpoint in a scan),
 * through grad, jit, hessianVectorProduct and vmap, against the same computation
 * written with JS loops and a JS `if` (concrete values, so eager and grad can branch).
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, checkpoint, grad, hessianVectorProduct, jit, lax, np, vmap } from "../../src/index.js";

const f64 = (x: number | number[]): NDArray => np.array(x, { dtype: "float64" });

const withLax = (w: NDArray, xs: NDArray): NDArray => {
  const [c, ys] = lax.scan(
    (c: NDArray, x: NDArray) => {
      const inner = lax.scan((d: NDArray, k: NDArray) => [np.sin(np.add(np.multiply(d, w), k)), null], c, np.multiply(x, f64([1, 2])))[0];
      const b = lax.cond(
        np.greater(inner, 0),
        (z: NDArray) => np.multiply(z, w),
        (z: NDArray) => np.cos(z),
        inner,
      );
      const r = checkpoint((z: NDArray) => np.tanh(np.multiply(z, w)))(b);
      return [r, np.square(r)];
    },
    f64(0.3),
    xs,
  );
  return np.add(np.sum(ys), c);
};
const withJs = (w: NDArray, xs: NDArray): NDArray => {
  let c = f64(0.3);
  let total = f64(0);
  for (const x of xs.toJs() as number[]) {
    let d = c;
    for (const k of [x, 2 * x]) d = np.sin(np.add(np.multiply(d, w), k));
    const b = d.item() > 0 ? np.multiply(d, w) : np.cos(d);
    c = np.tanh(np.multiply(b, w));
    total = np.add(total, np.square(c));
  }
  return np.add(total, c);
};

const close = (a: number[] | number, b: number[] | number): void => {
  const x = [a].flat();
  const y = [b].flat();
  expect(x.length).toBe(y.length);
  x.forEach((v, i) => expect(v).toBeCloseTo(y[i]!, 12));
};

describe("nested control flow", () => {
  const xs = f64([0.5, -1, 2, 0.1]);
  const w = f64(0.7);

  it("values and gradients equal the JS version, eagerly and under jit", () => {
    close(withLax(w, xs).item(), withJs(w, xs).item());
    close(jit(withLax)(w, xs).item(), withJs(w, xs).item());
    const g = grad(withJs)(w, xs).item();
    close(grad(withLax)(w, xs).item(), g);
    close(jit(grad(withLax))(w, xs).item(), g);
    close(grad(jit(withLax))(w, xs).item(), g);
    close(hessianVectorProduct((v: NDArray) => withLax(v, xs))(w, f64(1)).item(), hessianVectorProduct((v: NDArray) => withJs(v, xs))(w, f64(1)).item());
  });

  it("vmap over the weight or over the sequences equals a loop", () => {
    const ws = [0.7, 0.2, -0.5];
    close(
      vmap((v: NDArray) => withLax(v, xs))(f64(ws)).toJs() as number[],
      ws.map((v) => withJs(f64(v), xs).item()),
    );
    close(
      jit(vmap(grad((v: NDArray) => withLax(v, xs))))(f64(ws)).toJs() as number[],
      ws.map((v) => grad((u: NDArray) => withJs(u, xs))(f64(v)).item()),
    );
    const X = [
      [0.5, -1, 2, 0.1],
      [1, 1, -2, 0.3],
    ];
    close(
      vmap(grad(withLax), { inAxes: [null, 0] })(w, f64(X as never)).toJs() as number[],
      X.map((x) => grad(withJs)(w, f64(x)).item()),
    );
  });
});
