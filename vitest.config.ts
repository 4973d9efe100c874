import { existsSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * The GPU suites need system packages (see .ci/run): headless-gl built against X11/GL
 * headers plus an X server (Xvfb) for test/gpu in Node, and Debian's chromium for the
 * browser suite. CI installs them and always runs the suites; on a machine without them
 * `npm test` says which suites it leaves out and why, instead of failing on setup.
 */
function missingGpuPrerequisites(): { node: string | null; browser: string | null } {
  const gl = existsSync("node_modules/gl/build/Release/webgl.node");
  const display = Boolean(process.env.DISPLAY) || existsSync("/usr/bin/Xvfb") || existsSync("/usr/local/bin/Xvfb");
  const node = !gl ? "headless-gl is not built (apt-get install libxi-dev libx11-dev libxext-dev libgl-dev libglx-dev, then npm ci)" : !display ? "no X server (apt-get install xvfb)" : null;
  const browser = existsSync("/usr/bin/chromium") ? null : "no /usr/bin/chromium (apt-get install chromium)";
  return { node, browser };
}

const exclude: string[] = [];
if (!process.env.CI) {
  const { node, browser } = missingGpuPrerequisites();
  if (node) exclude.push("test/gpu/parity.test.ts", "test/gpu/backend.test.ts");
  if (browser) exclude.push("test/gpu/browser.test.ts");
  for (const why of [node && `GPU suites in Node not run here: ${node}`, browser && `GPU suite in Chromium not run here: ${browser}`]) {
    if (why) console.warn(`[cotangent] ${why}. CI (.ci/run) installs these and runs them.`);
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["**/node_modules/**", ...exclude],
    testTimeout: 60_000,
    // type-level tests (expectTypeOf, @ts-expect-error): checked with tsc, never run
    typecheck: { enabled: true, include: ["test/types/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
  },
});
