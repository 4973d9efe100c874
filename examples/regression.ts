/**
 * Example 3: a two-layer ReLU regression network with biases.
 *
 *   npm run example:regression          (npm run example:regression -- --fast)
 *
 * First the backward pass is written by hand, the way one would in NumPy, and
 * compared with `grad` in float64: they agree to rounding error. Then the same network
 * is trained with SGD (momentum) and with Adam from `optim`.
 */
import { type Array as NDArray, grad, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";

type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

/** Forward pass: h = x W1^T + b1, a = relu(h), pred = a W2^T + b2 (PyTorch's layout). */
function predict(p: Params, x: NDArray): NDArray {
  const h = np.add(np.matmul(x, p.w1.T), p.b1);
  return np.add(np.matmul(nn.relu(h), p.w2.T), p.b2);
}

/** Mean squared error over the batch. */
function loss(p: Params, x: NDArray, y: NDArray): NDArray {
  return np.mean(np.square(np.subtract(predict(p, x), y)));
}

/** The gradient of `loss` written out by hand: the chain rule, layer by layer, backwards. */
function handBackprop(p: Params, x: NDArray, y: NDArray): Params {
  const n = x.shape[0]!;
  const h = np.add(np.matmul(x, p.w1.T), p.b1); // [n, hidden]
  const a = nn.relu(h);
  const pred = np.add(np.matmul(a, p.w2.T), p.b2); // [n, 1]
  const dPred = np.multiply(np.subtract(pred, y), 2 / n); // d loss / d pred
  const dW2 = np.matmul(dPred.T, a); // [1, hidden]
  const dB2 = np.sum(dPred, { axis: 0 });
  const dA = np.matmul(dPred, p.w2); // [n, hidden]
  const dH = np.multiply(dA, np.greater(h, 0).astype("float64")); // relu passes the gradient where h > 0
  const dW1 = np.matmul(dH.T, x); // [hidden, in]
  const dB1 = np.sum(dH, { axis: 0 });
  return { w1: dW1, b1: dB1, w2: dW2, b2: dB2 };
}

function largestDifference(a: Params, b: Params): number {
  let worst = 0;
  for (const k of ["w1", "b1", "w2", "b2"] as const) {
    worst = Math.max(worst, np.max(np.abs(np.subtract(a[k], b[k]))).item());
  }
  return worst;
}

function train(name: string, opt: optim.GradientTransformation<any>, p0: Params, x: NDArray, y: NDArray, steps: number, log: (s: string) => void): number {
  let params = p0;
  let state = opt.init(params);
  const every = Math.max(1, Math.floor(steps / 5));
  let last = NaN;
  for (let step = 1; step <= steps; step++) {
    const [l, g] = valueAndGrad(loss)(params, x, y);
    const [updates, next] = opt.update(g, state, params);
    params = optim.applyUpdates(params, updates);
    state = next;
    last = l.item();
    if (step % every === 0 || step === 1) log(`  ${name} step ${String(step).padStart(4)}: loss ${last.toFixed(5)}`);
  }
  last = loss(params, x, y).item();
  log(`  ${name} final loss ${last.toFixed(5)}`);
  return last;
}

export function main(opts: ExampleOptions = {}): { difference: number; initialLoss: number; sgdLoss: number; adamLoss: number } {
  const log = opts.log ?? console.log;
  const dtype = "float64";
  const [kx, knoise, k1, k2] = random.split(random.key(0), 4);

  // Data: y = sin(2 x0) + x1 x2 + noise, 128 points in 3-d.
  const n = 128;
  const x = random.uniform(kx, [n, 3], { minval: -1, maxval: 1, dtype });
  const [x0, x1, x2] = np.split(x, 3, 1) as [NDArray, NDArray, NDArray];
  const y = np.add(np.add(np.sin(np.multiply(x0, 2)), np.multiply(x1, x2)), np.multiply(random.normal(knoise, [n, 1], dtype), 0.05));

  // A 3 -> 32 -> 1 network with PyTorch's default initialization.
  const hidden = 32;
  const l1 = nn.linear.init(k1, 3, hidden, { dtype });
  const l2 = nn.linear.init(k2, hidden, 1, { dtype });
  const params: Params = { w1: l1.weight, b1: l1.bias, w2: l2.weight, b2: l2.bias };

  // 1. Hand-written backprop against grad.
  const byHand = handBackprop(params, x, y);
  const byGrad = grad(loss)(params, x, y) as Params;
  const difference = largestDifference(byHand, byGrad);
  log(`largest difference between hand-written backprop and grad (float64): ${difference.toExponential(2)}`);

  // 2. Training. Full mode takes more steps; --fast is for CI.
  const steps = opts.fast ? 60 : 500;
  const initialLoss = loss(params, x, y).item();
  log(`initial loss ${initialLoss.toFixed(5)}; training ${steps} full-batch steps`);
  const sgdLoss = train("SGD(lr=0.1, momentum=0.9)", optim.sgd(0.1, { momentum: 0.9 }), params, x, y, steps, log);
  const adamLoss = train("Adam(lr=0.01)", optim.adam(0.01), params, x, y, steps, log);
  return { difference, initialLoss, sgdLoss, adamLoss };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
