/**
 * An X display for headless-gl. CI runs `npm test` with no display; headless-gl (the
 * WebGL context gpu.js uses in Node) needs one, so GPU test files start their own Xvfb
 * when DISPLAY is unset — the same as running them under `xvfb-run -a`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";

/** Starts Xvfb unless DISPLAY is set; returns a function that stops it again. */
export async function ensureDisplay(): Promise<() => void> {
  if (process.env.DISPLAY) return () => {};
  const xvfb = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"].find((p) => existsSync(p));
  if (!xvfb) throw new Error("GPU tests need an X display for headless-gl: install Xvfb (apt-get install xvfb) or run under xvfb-run -a.");
  let n = 90 + (process.pid % 400);
  while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  const proc: ChildProcess = spawn(xvfb, [`:${n}`, "-screen", "0", "64x64x24", "-nolisten", "tcp"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${n}`)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`Xvfb :${n} did not start (exit code ${proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.env.DISPLAY = `:${n}`;
  return () => {
    delete process.env.DISPLAY;
    proc.kill();
  };
}
