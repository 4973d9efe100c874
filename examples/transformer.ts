/**
 * A tiny transformer that learns to reverse sequences of digits.
 *
 *   npm run example:transformer            full run (a few seconds; near-perfect on held-out sequences)
 *   npm run example:transformer -- --fast  fewer steps, for CI
 *
 * Tokens are digits 0-9; a sequence of 8 random digits must be mapped to the same
 * digits in reverse order. The model embeds each token and its position
 * (`nn.embedding`), applies two pre-norm encoder blocks (`nn.layerNorm`,
 * `nn.multiHeadAttention` with 4 heads, a ReLU MLP, residual connections) and reads
 * out 10 logits per position. Position i must learn to attend to position 7 - i,
 * which attention does and a per-position MLP cannot. Training is Adam with a cosine
 * schedule on fresh random batches, the whole step under `jit`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Array as NDArray, jit, losses, nn, np, optim, random, valueAndGrad } from "../src/index.js";
import { type ExampleOptions, fastFromArgs, isMain } from "./lib/cli.js";
import { bar, lossCurveSvg } from "./mnist.js";

const LENGTH = 8;
const VOCAB = 10;
const DIM = 32;
const HEADS = 4;

interface Block {
  ln1: nn.LayerNormParams;
  attention: nn.MultiHeadAttentionParams;
  ln2: nn.LayerNormParams;
  mlp: nn.MlpParams;
}

export interface TransformerParams {
  tokens: nn.EmbeddingParams;
  positions: nn.EmbeddingParams;
  blocks: Block[];
  lnOut: nn.LayerNormParams;
  readout: nn.LinearParams;
}

export function initTransformer(key: NDArray, layers = 2): TransformerParams {
  const keys = random.split(key, 3 + 2 * layers);
  const scaled = (e: nn.EmbeddingParams): nn.EmbeddingParams => ({ weight: np.multiply(e.weight, 0.1) });
  return {
    tokens: scaled(nn.embedding.init(keys[0]!, VOCAB, DIM)),
    positions: scaled(nn.embedding.init(keys[1]!, LENGTH, DIM)),
    blocks: Array.from({ length: layers }, (_, l) => ({
      ln1: nn.layerNorm.init(DIM),
      attention: nn.multiHeadAttention.init(keys[3 + 2 * l]!, DIM, HEADS),
      ln2: nn.layerNorm.init(DIM),
      mlp: nn.mlp.init(keys[4 + 2 * l]!, [DIM, 4 * DIM, DIM]),
    })),
    lnOut: nn.layerNorm.init(DIM),
    readout: nn.linear.init(keys[2]!, DIM, VOCAB),
  };
}

/** Logits `[batch, LENGTH, VOCAB]` for int32 tokens `[batch, LENGTH]`. */
export function transformerApply(p: TransformerParams, tokens: NDArray): NDArray {
  const positions = np.arange(0, LENGTH, 1, "int32");
  let h = np.add(nn.embedding.apply(p.tokens, tokens), nn.embedding.apply(p.positions, positions));
  for (const b of p.blocks) {
    const a = nn.layerNorm.apply(b.ln1, h);
    h = np.add(h, nn.multiHeadAttention.apply(b.attention, a, a, a));
    h = np.add(h, nn.mlp.apply(b.mlp, nn.layerNorm.apply(b.ln2, h)));
  }
  return nn.linear.apply(p.readout, nn.layerNorm.apply(p.lnOut, h));
}

/** A batch of random digit sequences and their reversals. */
export function reversalBatch(key: NDArray, batch: number): { x: NDArray; y: NDArray } {
  const x = np.floor(random.uniform(key, [batch, LENGTH], { minval: 0, maxval: VOCAB })).astype("int32");
  const reversed = np.arange(LENGTH - 1, -1, -1, "int32");
  return { x, y: np.take(x, reversed, 1) };
}

export interface TransformerResult {
  /** Fraction of held-out sequences reversed without a single wrong digit. */
  sequenceAccuracy: number;
  /** Fraction of held-out digits in the right place. */
  tokenAccuracy: number;
  losses: number[];
  seconds: number;
  svgPath: string;
}

export function main(opts: ExampleOptions & { outDir?: string } = {}): TransformerResult {
  const steps = opts.fast ? 60 : 150;
  const batch = 64;
  const log = opts.log ?? console.log;
  const [initKey, dataKey, testKey] = random.split(random.key(42), 3);
  let params = initTransformer(initKey);
  const opt = optim.adam(
    optim.schedules.warmupCosineDecay({ initValue: 1e-4, peakValue: 3e-3, warmupSteps: Math.round(steps / 10), decaySteps: steps, endValue: 1e-4 }),
  );
  let state = opt.init(params);
  const lossFn = (p: TransformerParams, x: NDArray, y: NDArray): NDArray => losses.softmaxCrossEntropy(transformerApply(p, x), y);
  const step = jit((p: TransformerParams, s: optim.AdamState, x: NDArray, y: NDArray) => {
    const [loss, grads] = valueAndGrad(lossFn)(p, x, y);
    const [updates, next] = opt.update(grads, s, p);
    return { params: optim.applyUpdates(p, updates), state: next, loss };
  });

  log(`Reversing ${LENGTH}-digit sequences: transformer with 2 blocks, dim ${DIM}, ${HEADS} heads; ${steps} Adam steps of batch ${batch}, jit`);
  const history: number[] = [];
  const started = performance.now();
  for (let t = 0; t < steps; t++) {
    const { x, y } = reversalBatch(random.foldIn(dataKey, t), batch);
    const out = step(params, state, x, y);
    params = out.params;
    state = out.state;
    history.push(out.loss.item());
    if ((t + 1) % Math.max(1, steps / 4) === 0) log(`${bar((t + 1) / steps)}  step ${t + 1}/${steps}  loss ${history[t]!.toFixed(4)}`);
  }
  const seconds = (performance.now() - started) / 1000;

  const { x, y } = reversalBatch(testKey, 500);
  const predicted = np.argmax(jit(transformerApply)(params, x), { axis: -1 });
  const right = np.equal(predicted, y);
  const tokenAccuracy = np.mean(right.astype("float32")).item();
  const sequenceAccuracy = np.mean(np.min(right.astype("float32"), { axis: 1 })).item();
  const example = (x.toJs() as number[][])[0]!;
  const answer = (predicted.toJs() as number[][])[0]!;
  log(
    `trained in ${seconds.toFixed(1)} s; held out: ${(100 * tokenAccuracy).toFixed(1)}% of digits, ${(100 * sequenceAccuracy).toFixed(1)}% of whole sequences`,
  );
  log(`example: ${example.join("")} -> ${answer.join("")}`);

  const outDir = opts.outDir ?? join(fileURLToPath(new URL(".", import.meta.url)), "out");
  mkdirSync(outDir, { recursive: true });
  const svgPath = join(outDir, "transformer-loss.svg");
  writeFileSync(svgPath, lossCurveSvg(history, `Transformer reversing digits: training loss (${(100 * sequenceAccuracy).toFixed(1)}% of sequences right)`));
  log(`loss curve written to ${svgPath}`);
  return { sequenceAccuracy, tokenAccuracy, losses: history, seconds, svgPath };
}

if (isMain(import.meta.url)) main({ fast: fastFromArgs() });
