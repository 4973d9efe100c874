// Placeholder demo: fits y = 3x - 1 with grad and plain SGD.
import { grad, np } from "../src/index.js";

const xs = np.linspace(-1, 1, 64);
const ys = np.subtract(np.multiply(xs, 3), 1);
let params = { w: np.array(0), b: np.array(0) };
const loss = (p: typeof params) => np.mean(np.square(np.subtract(np.add(np.multiply(xs, p.w), p.b), ys)));
for (let step = 0; step < 200; step++) {
  const g = grad(loss)(params);
  params = { w: np.subtract(params.w, np.multiply(g.w, 0.3)), b: np.subtract(params.b, np.multiply(g.b, 0.3)) };
}
console.log(`w = ${params.w.item().toFixed(4)}, b = ${params.b.item().toFixed(4)}, loss = ${loss(params).item().toExponential(2)}`);
