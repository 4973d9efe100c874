/**
 * The demo: a short run of example 5 (examples/mnist.ts). It trains a small MLP on
 * real MNIST digits for three epochs with a jit-compiled training step and prints the
 * held-out test accuracy. Runs in well under a minute on a laptop CPU.
 *
 *   npm run demo
 */
import { main } from "./mnist.js";

const { testAccuracy, seconds } = main({ budget: "demo", useJit: !process.argv.includes("--no-jit") });
console.log(`demo: test accuracy ${(100 * testAccuracy).toFixed(1)}% after ${seconds.toFixed(1)} s of training and evaluation`);
