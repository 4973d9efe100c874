/**
 * Example 4: second-order derivatives and gradient clipping.
 *
 *   npm run example:second-order
 *
 * Because `grad` returns an ordinary function, it can be differentiated again: the
 * gradient of a gradient's norm (a gradient penalty), Hessian-vector products without
 * forming the Hessian, full Hessians and Jacobians in forward or reverse mode. Then
 * PyTorch-style gradient clipping by value and by norm.
 */
import { type Array as NDArray, grad, hessian, hessianVectorProduct, jacfwd, jacrev, np, optim } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain, show } from "./lib/cli.js";

/** f(x) = sum(sin(x) x^2). Its Hessian is diagonal: (2 - x^2) sin x + 4 x cos x. */
const f = (x: NDArray): NDArray => np.sum(np.multiply(np.sin(x), np.square(x)));
const hessianDiagonalByHand = (v: number): number => (2 - v * v) * Math.sin(v) + 4 * v * Math.cos(v);

export function main(opts: ExampleOptions = {}): { maxError: number; totalNorm: number; clippedNorm: number } {
  const log = opts.log ?? console.log;
  let maxError = 0;
  const compare = (a: NDArray, b: NDArray): number => {
    const d = np.max(np.abs(np.subtract(a, b))).item();
    maxError = Math.max(maxError, d);
    return d;
  };
  const x = np.array([0.5, -1.2, 2], { dtype: "float64" });
  const v = np.array([1, 0.5, -2], { dtype: "float64" });

  // 1. Gradient of the gradient's squared norm, |grad f(x)|^2, as in a gradient
  //    penalty. By the chain rule it equals 2 H grad f, a Hessian-vector product.
  const penalty = (t: NDArray) => np.sum(np.square(grad(f)(t)));
  const gp = grad(penalty)(x);
  const viaHvp = np.multiply(hessianVectorProduct(f)(x, grad(f)(x)), 2);
  log(`grad |grad f|^2 = ${show(gp, 8)}`);
  log(`2 H (grad f)    = ${show(viaHvp, 8)}  (difference ${compare(gp, viaHvp).toExponential(1)})`);

  // 2. Hessian-vector product (forward-over-reverse: the cost of a few gradients)
  //    against the full Hessian, checked against its closed form.
  const H = hessian(f)(x);
  const handH = np.multiply(np.eye(3, "float64"), np.array(Array.from(x.data(), hessianDiagonalByHand), { dtype: "float64" }));
  log(`hessian(f)(x) =\n  ${show(H, 6)}`);
  log(`by hand (diagonal (2 - x^2) sin x + 4 x cos x): difference ${compare(H, handH).toExponential(1)}`);
  const hv = hessianVectorProduct(f)(x, v);
  log(`hessianVectorProduct(f)(x, v) = ${show(hv, 6)}; H @ v = ${show(np.matmul(H, v), 6)}`);
  compare(hv, np.matmul(H, v));

  // 3. Jacobians of a vector function F: R^3 -> R^2, shape out ++ in = [2, 3].
  //    jacfwd pushes one tangent per input; jacrev pulls one cotangent per output.
  const F = (t: NDArray) => {
    const [a, b, c] = np.split(t, 3) as [NDArray, NDArray, NDArray];
    return np.concatenate([np.multiply(a, b), np.sin(np.multiply(b, c))]);
  };
  const Jf = jacfwd(F)(x);
  const Jr = jacrev(F)(x);
  log(`jacfwd(F)(x) = ${show(Jf, 6)}`);
  log(`jacrev(F)(x) = ${show(Jr, 6)}  (difference ${compare(Jf, Jr).toExponential(1)})`);

  // 4. Gradient clipping on a pytree of gradients, as torch.nn.utils.clip_grad_*_.
  const loss = (p: { w: NDArray; b: NDArray }) => np.sum(np.square(np.add(np.multiply(p.w, 3), p.b)));
  const g = grad(loss)({ w: np.array([1, -2, 0.5]), b: np.array(0.25) }) as { w: NDArray; b: NDArray };
  log(`gradients: w ${show(g.w)}, b ${show(g.b)}`);
  const byValue = optim.clipGradValue(g, 5);
  log(`clipGradValue(g, 5): w ${show(byValue.w)}, b ${show(byValue.b)}`);
  const [byNorm, total] = optim.clipGradNorm(g, 1);
  const clippedNorm = optim.globalNorm(byNorm).item();
  log(`clipGradNorm(g, 1): total norm before ${total.item().toFixed(4)}, after ${clippedNorm.toFixed(4)}; w ${show(byNorm.w)}`);
  log(`largest difference between equivalent second-order computations: ${maxError.toExponential(2)}`);
  return { maxError, totalNorm: total.item(), clippedNorm };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
