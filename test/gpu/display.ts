/**
 * An X display for headless-gl. CI runs `npm test` with no display; headless-gl (the
 * WebGL context gpu.js uses in Node) needs one, so GPU test files start an Xvfb when
 * DISPLAY is unset — the same as running them under `xvfb-run -a`. The server lives as
 * long as the test process (a later test file in the same worker reuses it) and is
 * stopped when the process exits.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/** Starts Xvfb unless DISPLAY is set (by the caller's environment or an earlier call). */
export async function ensureDisplay(): Promise<void> {
  if (process.env.DISPLAY) return;
  const xvfb = ["/usr/bin/Xvfb", "/usr/local/bin/Xvfb"].find((p) => existsSync(p));
  if (!xvfb) throw new Error("GPU tests need an X display for headless-gl: install Xvfb (apt-get install xvfb) or run under xvfb-run -a.");
  let n = 90 + (process.pid % 400);
  while (existsSync(`/tmp/.X${n}-lock`) || existsSync(`/tmp/.X11-unix/X${n}`)) n++;
  // a watchdog shell stops Xvfb when this process is gone, however it ends (test workers are often killed)
  const watchdog = `${xvfb} :${n} -screen 0 64x64x24 -nolisten tcp & x=$!; while kill -0 ${process.pid} 2>/dev/null && kill -0 $x 2>/dev/null; do sleep 1; done; kill $x 2>/dev/null`;
  const proc = spawn("/bin/sh", ["-c", watchdog], { stdio: "ignore", detached: true });
  proc.unref();
  const deadline = Date.now() + 10_000;
  while (!existsSync(`/tmp/.X11-unix/X${n}`)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`Xvfb :${n} did not start (exit code ${proc.exitCode})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  process.env.DISPLAY = `:${n}`;
}
