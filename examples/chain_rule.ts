/**
 * Example 2: the chain rule on a computational graph.
 *
 *   npm run example:chain-rule
 *
 * A function built from elementary operations is a graph; its derivative is the
 * product of the local derivatives along the paths through that graph. Here we check
 * `grad` against derivatives worked out by hand, and print the graph itself — the IR
 * — before and after differentiation.
 */
import { type Array as NDArray, grad, makeJaxpr, np } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain, show } from "./lib/cli.js";

export function main(opts: ExampleOptions = {}): { maxError: number } {
  const log = opts.log ?? console.log;
  let maxError = 0;
  const check = (what: string, got: number, want: number): void => {
    maxError = Math.max(maxError, Math.abs(got - want));
    log(`${what}: grad = ${got.toFixed(6)}, by hand = ${want.toFixed(6)}`);
  };

  // 1. y = (x - 1)^2 + (x + 1)^2. Two paths from x to y:
  //    dy/dx = 2 (x - 1) * 1 + 2 (x + 1) * 1 = 4x.
  const y = (x: NDArray) => np.add(np.square(np.subtract(x, 1)), np.square(np.add(x, 1)));
  const x0 = np.array(2, { dtype: "float64" });
  check("y = (x-1)^2 + (x+1)^2 at x = 2", grad(y)(x0).item(), 4 * 2);
  // Differentiating again walks the gradient's own graph: d2y/dx2 = 4.
  check("second derivative", grad(grad(y))(x0).item(), 4);
  log("the graph of y, as IR:");
  log(makeJaxpr(y)(x0).toString());

  // 2. The sigmoid written out from exp: s(x) = 1 / (1 + exp(-x)). The chain rule
  //    through reciprocal, add and exp gives s'(x) = exp(-x) / (1 + exp(-x))^2,
  //    which simplifies to s (1 - s).
  const sigmoid = (x: NDArray) => np.reciprocal(np.add(np.exp(np.negative(x)), 1));
  for (const v of [-2, 0, 3]) {
    const s = 1 / (1 + Math.exp(-v));
    check(`sigmoid'(${v})`, grad(sigmoid)(np.array(v, { dtype: "float64" })).item(), s * (1 - s));
  }

  // 3. Two inputs: f(a, b) = a b + sin(a). Partial derivatives:
  //    df/da = b + cos(a) (two paths from a), df/db = a (one path).
  const f = (a: NDArray, b: NDArray) => np.add(np.multiply(a, b), np.sin(a));
  const a = np.array(0.5, { dtype: "float64" });
  const b = np.array(-1.5, { dtype: "float64" });
  const [da, db] = grad(f, { argnums: [0, 1] })(a, b);
  check("df/da of a*b + sin(a)", da.item(), -1.5 + Math.cos(0.5));
  check("df/db of a*b + sin(a)", db.item(), 0.5);
  log("the graph of f(a, b):");
  log(makeJaxpr(f)(a, b).toString());
  // The gradient is itself a program: the forward pass, then the backward pass that
  // multiplies local derivatives (cos a, b, a) by the incoming cotangent 1.
  log("the graph of its gradient (both partials):");
  log(makeJaxpr(grad(f, { argnums: [0, 1] }))(a, b).toString());

  // 4. Same rules on arrays: elementwise functions give elementwise derivatives.
  const xs = np.linspace(-1, 1, 5, "float64");
  log(`d/dx of sum(sigmoid(x)) at ${show(xs)}: ${show(grad((t: NDArray) => np.sum(sigmoid(t)))(xs))}`);
  log(`largest difference from the hand-derived values: ${maxError.toExponential(2)}`);
  return { maxError };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
