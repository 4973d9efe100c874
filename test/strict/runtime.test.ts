/**
 * Worker start-up (issue 13, 4): under `node --input-type=module -e` the worker threads
 * start (their source no longer assumes CommonJS), and a worker that fails to start
 * leaves one warning and the calling thread doing the work, instead of an unhandled
 * 'error' event killing the process. setThreadCount is clamped to the machine's cores.
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runtime = `${root}src/backends/wasm/runtime.ts`;
const index = `${root}src/index.ts`;

function runModule(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Two products with a pause between them in which the workers start (or fail: asynchronously, later on a loaded machine, so until `settled` holds). */
const work = (settled = "true") => `
const a = np.ones([300, 300]);
const first = np.matmul(a, a).sum().item();
await new Promise((r) => setTimeout(r, 500));
for (let t = 0; t < 300 && !(${settled}); t++) await new Promise((r) => setTimeout(r, 100));
const second = np.matmul(a, a).sum().item();
console.log(JSON.stringify({ first, second, threads: threadCount() }));`;

describe("worker threads", () => {
  it("run under node --input-type=module -e", () => {
    const r = runModule(`import { np, setThreadCount, threadCount } from ${JSON.stringify(index)};\nsetThreadCount(2);${work()}`);
    expect(r.stderr).not.toMatch(/require is not defined|Error/);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ first: 300 ** 3, second: 300 ** 3, threads: Math.min(2, availableParallelism()) });
  });
  it("a worker that fails to start gives one warning and one thread, not a dead process", () => {
    const r = runModule(
      `import { setNodeWorkerSource } from ${JSON.stringify(runtime)};\nsetNodeWorkerSource("throw new Error('worker boom')");\n` +
        `import { np, setThreadCount, threadCount } from ${JSON.stringify(index)};\nsetThreadCount(2);${work("threadCount() === 1")}\nsetThreadCount(2);\nconsole.log(threadCount());`,
    );
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(JSON.parse(lines[0]!)).toEqual({ first: 300 ** 3, second: 300 ** 3, threads: 1 });
    expect(lines[1]).toBe("1");
    if (availableParallelism() > 1) {
      expect(r.stderr.match(/cotangent: worker threads could not start/g)).toHaveLength(1);
      expect(r.stderr).toContain("worker boom");
      expect(r.stderr).toContain("calling thread");
    }
  });
  it("setThreadCount is clamped to the machine's cores, with a warning", () => {
    const r = runModule(`import { setThreadCount, threadCount } from ${JSON.stringify(index)};\nsetThreadCount(1000);\nconsole.log(threadCount());`);
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim())).toBe(Math.min(availableParallelism(), 16));
    expect(r.stderr).toContain("setThreadCount(1000)");
    expect(r.stderr).toContain(`${availableParallelism()}`);
  });
});
