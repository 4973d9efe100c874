/**
 * Beyond one machine: train a small network here, export its training step and its
 * inference function to ONNX, and run both in ONNX Runtime (onnxruntime-node, CPU).
 *
 *   npm run example:export          (npm run example:export -- --fast)
 *
 * The training step is a pure function (params, optimizer state, batch) → (params,
 * state, loss), so the exported model *is* the training loop's body: ONNX Runtime
 * continues the training from where cotangent left it, step for step the same.
 * The inference function closes over the trained weights, which become the model's
 * constants; its only input is the batch. Full mode writes both models to examples/out/.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { type Array as NDArray, exportOnnx, jit, nn, np, optim, random, tree, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";

type Params = { w1: NDArray; b1: NDArray; w2: NDArray; b2: NDArray };

function predict(p: Params, x: NDArray): NDArray {
  const h = nn.relu(np.add(np.matmul(x, p.w1.T), p.b1));
  return np.add(np.matmul(h, p.w2.T), p.b2);
}
function loss(p: Params, x: NDArray, y: NDArray): NDArray {
  return np.mean(np.square(np.subtract(predict(p, x), y)));
}
const opt = optim.adam(0.01);
/** One training step: the whole thing is exported. */
function trainStep(p: Params, s: optim.AdamState, x: NDArray, y: NDArray): [Params, optim.AdamState, NDArray] {
  const [l, g] = valueAndGrad(loss)(p, x, y);
  const [updates, next] = opt.update(g, s, p);
  return [optim.applyUpdates(p, updates), next, l];
}

/** An ONNX Runtime tensor holding a cotangent array's values. */
function toTensor(x: NDArray): ort.Tensor {
  const data = np.reshape(x, [-1]).toJs() as number[];
  const shape = [...x.shape];
  return x.dtype === "int32" ? new ort.Tensor("int32", Int32Array.from(data), shape) : new ort.Tensor("float32", Float32Array.from(data), shape);
}
/** A cotangent array holding an ONNX Runtime tensor's values. */
function fromTensor(t: ort.Tensor): NDArray {
  const dtype = t.type === "int32" ? "int32" : "float32";
  return np.reshape(np.array(Array.from(t.data as ArrayLike<number>), { dtype }), [...t.dims]);
}
/** Runs a session on the leaves of a list of arguments, in tree.flatten order. */
async function runLeaves(s: ort.InferenceSession, args: unknown[]): Promise<NDArray[]> {
  const leaves = tree.leaves(args) as NDArray[];
  const feeds = Object.fromEntries(s.inputNames.map((n, i) => [n, toTensor(leaves[i]!)]));
  const out = await s.run(feeds);
  return s.outputNames.map((n) => fromTensor(out[n]!));
}
const maxDiff = (a: NDArray[], b: NDArray[]): number =>
  Math.max(...a.map((x, i) => np.max(np.abs(np.subtract(x.astype("float32"), b[i]!.astype("float32")))).item()));

export interface ExportResult {
  lossAfterCotangent: number;
  lossOnnx: number;
  lossCotangent: number;
  paramDifference: number;
  inferenceDifference: number;
  trainStepBytes: number;
  inferenceBytes: number;
}

export async function main(opts: ExampleOptions = {}): Promise<ExportResult> {
  const log = opts.log ?? console.log;
  const [kx, k1, k2, kt] = random.split(random.key(0), 4);
  const n = 256;
  const x = random.uniform(kx, [n, 3], { minval: -1, maxval: 1 });
  const target = (u: NDArray): NDArray => {
    const [a, b, c] = np.split(u, 3, 1) as [NDArray, NDArray, NDArray];
    return np.add(np.sin(np.multiply(a, 2)), np.multiply(b, c));
  };
  const y = target(x);
  const l1 = nn.linear.init(k1, 3, 32);
  const l2 = nn.linear.init(k2, 32, 1);
  let params: Params = { w1: l1.weight, b1: l1.bias, w2: l2.weight, b2: l2.bias };
  let state = opt.init(params);

  // 1. Train here.
  const steps = opts.fast ? 30 : 300;
  const step = jit(trainStep);
  let l = loss(params, x, y);
  log(`initial loss ${l.item().toFixed(5)}`);
  for (let i = 0; i < steps; i++) [params, state, l] = step(params, state, x, y);
  const lossAfterCotangent = l.item();
  log(`after ${steps} Adam steps in cotangent: loss ${lossAfterCotangent.toFixed(5)}`);

  // 2. Export the whole training step and the inference function.
  const stepModel = exportOnnx(trainStep, [params, state, x, y]);
  const trained = params;
  const infer = (batch: NDArray): NDArray => predict(trained, batch); // the weights become constants
  const inferModel = exportOnnx(infer, [np.zeros([64, 3])], { inputNames: ["x"], outputNames: ["y"] });
  log(`exported the training step (${stepModel.length} bytes) and the inference function (${inferModel.length} bytes)`);
  if (!opts.fast) {
    mkdirSync(new URL("out/", import.meta.url), { recursive: true });
    writeFileSync(new URL("out/train_step.onnx", import.meta.url), stepModel);
    writeFileSync(new URL("out/predict.onnx", import.meta.url), inferModel);
    log("wrote examples/out/train_step.onnx and examples/out/predict.onnx");
  }

  // 3. Continue training in ONNX Runtime, and the same steps in cotangent.
  const stepSession = await ort.InferenceSession.create(stepModel);
  const more = opts.fast ? 20 : 200;
  const nCarried = tree.leaves([params, state]).length;
  let carried: NDArray[] = tree.leaves([params, state]) as NDArray[];
  let lossOnnx = NaN;
  for (let i = 0; i < more; i++) {
    const out = await runLeaves(stepSession, [...carried, x, y]);
    carried = out.slice(0, nCarried);
    lossOnnx = out[nCarried]!.item();
    [params, state, l] = step(params, state, x, y);
  }
  const lossCotangent = l.item();
  const paramDifference = maxDiff(carried, tree.leaves([params, state]) as NDArray[]);
  log(
    `${more} more steps: loss ${lossOnnx.toFixed(5)} in ONNX Runtime, ${lossCotangent.toFixed(5)} in cotangent; largest parameter difference ${paramDifference.toExponential(1)}`,
  );

  // 4. Inference in ONNX Runtime on new points.
  const xTest = random.uniform(kt, [64, 3], { minval: -1, maxval: 1 });
  const inferSession = await ort.InferenceSession.create(inferModel);
  const [yOnnx] = await runLeaves(inferSession, [xTest]);
  const inferenceDifference = maxDiff([yOnnx!], [infer(xTest)]);
  const testLoss = np.mean(np.square(np.subtract(yOnnx!, target(xTest)))).item();
  log(
    `inference in ONNX Runtime on 64 new points: test loss ${testLoss.toFixed(5)}; largest difference from cotangent ${inferenceDifference.toExponential(1)}`,
  );
  return {
    lossAfterCotangent,
    lossOnnx,
    lossCotangent,
    paramDifference,
    inferenceDifference,
    trainStepBytes: stepModel.length,
    inferenceBytes: inferModel.length,
  };
}

if (isMain(import.meta.url)) await main({ fast: fastFromArgs() });
