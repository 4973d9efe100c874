/**
 * Example 1: autograd basics.
 *
 *   npm run example:autograd
 *
 * In PyTorch you mark a tensor with `requires_grad`, run the computation and call
 * `.backward()`; gradients land in `.grad`. Here differentiation is a function
 * transform: `grad(f)` is a new function that returns the gradient of `f`. Nothing is
 * recorded on the arrays themselves, so there is nothing to zero between steps.
 */
import { type Array as NDArray, grad, jacrev, makeJaxpr, np, stopGradient, valueAndGrad, vjp } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain, show } from "./lib/cli.js";

/** out = mean(3 (x + 2)^2): a scalar function of a 2x2 array. */
function out(x: NDArray): NDArray {
  const y = np.add(x, 2); // y = x + 2
  const z = np.multiply(np.square(y), 3); // z = 3 y^2
  return np.mean(z); // out = mean(z)
}

export function main(opts: ExampleOptions = {}): { gradient: number[][] } {
  const log = opts.log ?? console.log;
  const x = np.ones([2, 2]);

  // 1. The value and the gradient. By hand: out = (1/4) sum 3 (x_i + 2)^2, so
  //    d out / d x_i = (3/2)(x_i + 2) = 4.5 at x_i = 1.
  log(`out = ${out(x).item()}`);
  const g = grad(out)(x);
  log(`gradient d(out)/dx = ${show(g)}`);
  const [value, g2] = valueAndGrad(out)(x); // both at once, one pass
  log(`valueAndGrad: ${value.item()} and ${show(g2)}`);

  // 2. A vector-Jacobian product. For a function with a vector output there is no
  //    single gradient; vjp gives v^T J for any v (what `y.backward(v)` computes).
  //    f(x) = 3 x^2 has J = diag(6 x), so v^T J = 6 x v.
  const f = (t: NDArray) => np.multiply(np.square(t), 3);
  const xs = np.array([1, 2, 3]);
  const v = np.array([0.1, 1, 0.0001]);
  const [fx, pullback] = vjp(f, xs);
  const [vJ] = pullback(v);
  log(`f(x) = ${show(fx)}; vjp with v = ${show(v)}: ${show(vJ)} (by hand: 6 x v = [0.6, 12, 0.0018])`);
  // The same numbers from the full Jacobian (fine for tiny problems only).
  log(`v @ jacrev(f)(x) = ${show(np.matmul(v, jacrev(f)(xs)))}`);

  // 3. stopGradient is PyTorch's detach(): the value passes, the derivative does not.
  //    d/dx sum(x * x) = 2x, but with one factor detached it is just x.
  const both = grad((t: NDArray) => np.sum(np.multiply(t, t)))(xs);
  const detached = grad((t: NDArray) => np.sum(np.multiply(t, stopGradient(t))))(xs);
  log(`grad of sum(x*x): ${show(both)}; with stopGradient on one factor: ${show(detached)}`);

  // 4. What grad sees: the function traced into JAX's IR (a jaxpr). Every np call
  //    became one primitive equation; grad, vmap and jit all transform this program.
  log("the traced program of out(x):");
  log(makeJaxpr(out)(x).toString());
  log("and of its gradient:");
  log(makeJaxpr(grad(out))(x).toString());
  return { gradient: g.toJs() as number[][] };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
