// Trains a small network on cotangent's GPU backend and plots its loss.
// Serve the repository root (npm run example:browser) and open /examples/browser/.
import { getDefaultBackend, grad, jit, nn, np, optim, random, setDefaultBackend } from "/dist/index.js";

const STEPS = Number(new URLSearchParams(location.search).get("steps") ?? 400);
const PLOT_EVERY = 10;
const status = document.getElementById("status");

setDefaultBackend("gpu"); // WebGL2 here; falls back to the CPU (with a console warning) where there is none
const backend = getDefaultBackend();

// data: y = sin(3x) + 0.3x + noise on [-1, 1]
const n = 256;
const [kData, kNoise, kInit] = random.split(random.key(0), 3);
const x = random.uniform(kData, [n, 1], { minval: -1, maxval: 1 });
const y = np.add(np.add(np.sin(np.multiply(x, 3)), np.multiply(x, 0.3)), np.multiply(random.normal(kNoise, [n, 1]), 0.05));

let params = nn.mlp.init(kInit, [1, 32, 32, 1]);
const model = (p, xs) => nn.mlp.apply(p, xs, { activation: nn.tanh });
const loss = (p) => np.mean(np.square(np.subtract(model(p, x), y)));
const opt = optim.adam(0.01);
let state = opt.init(params);

const step = jit((p, s) => {
  const l = loss(p);
  const g = grad(loss)(p);
  const [updates, s2] = opt.update(g, s, p);
  return [optim.applyUpdates(p, updates), s2, l];
});

const losses = [];
window.__example = { backend, losses, steps: STEPS, done: false };

function drawLoss() {
  const c = document.getElementById("loss").getContext("2d");
  const { width: W, height: H } = c.canvas;
  c.clearRect(0, 0, W, H);
  if (losses.length < 2) return;
  const logs = losses.map(([, l]) => Math.log10(l));
  const lo = Math.floor(Math.min(...logs));
  const hi = Math.ceil(Math.max(...logs));
  const px = (s) => 40 + ((W - 50) * s) / STEPS;
  const py = (v) => 10 + ((H - 40) * (hi - v)) / Math.max(hi - lo, 1);
  c.strokeStyle = "#999";
  c.fillStyle = "#555";
  c.font = "11px sans-serif";
  for (let e = lo; e <= hi; e++) {
    c.beginPath();
    c.moveTo(40, py(e));
    c.lineTo(W - 10, py(e));
    c.stroke();
    c.fillText(`1e${e}`, 4, py(e) + 4);
  }
  c.fillText("0", 40, H - 12);
  c.fillText(String(STEPS), W - 30, H - 12);
  c.strokeStyle = "#c33";
  c.lineWidth = 2;
  c.beginPath();
  losses.forEach(([s], i) => (i ? c.lineTo(px(s), py(logs[i])) : c.moveTo(px(s), py(logs[i]))));
  c.stroke();
}

function drawFit() {
  const c = document.getElementById("fit").getContext("2d");
  const { width: W, height: H } = c.canvas;
  c.clearRect(0, 0, W, H);
  const px = (v) => 10 + ((W - 20) * (v + 1)) / 2;
  const py = (v) => H / 2 - ((H - 20) * v) / 3;
  const xs = x.data();
  const ys = y.data();
  c.fillStyle = "#3a6";
  for (let i = 0; i < n; i++) c.fillRect(px(xs[i]) - 1.5, py(ys[i]) - 1.5, 3, 3);
  const grid = np.linspace(-1, 1, 101).reshape([101, 1]);
  const pred = model(params, grid).data();
  const gx = grid.data();
  c.strokeStyle = "#36c";
  c.lineWidth = 2;
  c.beginPath();
  for (let i = 0; i < 101; i++) i ? c.lineTo(px(gx[i]), py(pred[i])) : c.moveTo(px(gx[i]), py(pred[i]));
  c.stroke();
}

async function train() {
  const t0 = performance.now();
  for (let s = 0; s < STEPS; s++) {
    const [p2, s2, l] = step(params, state);
    params = p2;
    state = s2;
    if (s % PLOT_EVERY === 0 || s === STEPS - 1) {
      losses.push([s, l.item()]); // the only readback: one number
      drawLoss();
      status.textContent = `backend: ${backend}   step ${s + 1}/${STEPS}   loss ${losses.at(-1)[1].toExponential(3)}`;
      await new Promise((r) => requestAnimationFrame(r)); // let the page paint (and the garbage collector free old textures)
    }
  }
  drawFit();
  const secs = (performance.now() - t0) / 1000;
  status.textContent = `backend: ${backend}   ${STEPS} steps in ${secs.toFixed(1)} s   loss ${losses[0][1].toExponential(3)} → ${losses.at(-1)[1].toExponential(3)}`;
  window.__example.done = true;
}

train().catch((e) => {
  status.textContent = `error: ${e.stack ?? e}`;
  window.__example.error = String(e.stack ?? e);
});
