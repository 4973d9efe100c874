/**
 * Headless Chromium for the browser tests: builds the library as `npm run build` does
 * (into a temporary folder, so that concurrent builds of dist/ do not interfere),
 * serves it with gpu.js's browser bundle and the test pages on 127.0.0.1, and drives
 * Debian's chromium through playwright-core. WebGL2 runs on SwiftShader (software), so
 * these tests need no GPU.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve } from "node:path";
import { type Browser, type Page, chromium } from "playwright-core";
import ts from "typescript";

const root = resolve(import.meta.dirname, "../..");

/** Where Debian's chromium lives; the tests need it (`apt-get install chromium`). */
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

const TYPES: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".map": "application/json",
};

export interface BrowserHarness {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  browser: Browser;
  /** Opens a page and collects its console errors and uncaught exceptions. */
  open(path: string): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/**
 * Builds the library and starts the server and the browser. The server serves the
 * repository root (as `npm run example:browser` does) except that `/dist/*` is the
 * fresh build and `/test/**.js` are test modules transpiled from TypeScript.
 * `extraArgs` are added to chromium's command line (the WebGPU suite passes
 * `--enable-unsafe-webgpu`, without which headless chromium gives no WebGPU adapter).
 */
export async function startBrowser(extraArgs: readonly string[] = []): Promise<BrowserHarness> {
  if (!CHROMIUM) throw new Error("browser tests need Debian's chromium: apt-get install chromium");
  const work = mkdtempSync(join(tmpdir(), "cotangent-browser-"));
  const dist = join(work, "dist");
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.build.json"), "--outDir", dist], {
    cwd: root,
    stdio: "pipe",
  });
  const files = (url: string): string | null => {
    const path = normalize(url.split("?")[0]!);
    if (path.startsWith("/dist/")) return join(dist, path.slice(6));
    if (path === "/favicon.ico" || path.includes("..")) return null;
    return join(root, path.slice(1));
  };
  const server: Server = createServer((req, res) => {
    let file = files(decodeURIComponent(req.url ?? "/"));
    let body: Buffer | string | null = null;
    if (file?.endsWith(".js") && file.startsWith(join(root, "test")) && !existsSync(file) && existsSync(file.replace(/\.js$/, ".ts"))) {
      // test modules are TypeScript: strip the types
      const src = readFileSync(file.replace(/\.js$/, ".ts"), "utf8");
      body = ts.transpileModule(src, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      }).outputText;
    } else if (file && existsSync(file) && statSync(file).isDirectory()) {
      file = join(file, "index.html");
    }
    if (body === null && file && existsSync(file)) body = readFileSync(file);
    if (body === null) {
      res.writeHead(404);
      res.end();
      return;
    }
    // cross-origin isolation, so pages get SharedArrayBuffer and the Wasm runtime starts Web Workers
    res.writeHead(200, {
      "content-type": TYPES[extname(file!)] ?? "application/octet-stream",
      "cache-control": "no-store",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  // playwright gives every launch a fresh temporary profile (--user-data-dir)
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      ...extraArgs,
    ],
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    browser,
    async open(path) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
      });
      await page.goto(origin + path);
      return { page, errors };
    },
    async close() {
      await browser.close();
      server.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
