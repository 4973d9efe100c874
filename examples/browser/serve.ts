/**
 * Serves the repository root on http://127.0.0.1:8080 for the browser example
 * (`npm run example:browser` builds the library first, then runs this).
 * Open http://127.0.0.1:8080/examples/browser/ in a browser with WebGL2.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../..");
const port = Number(process.env.PORT ?? 8080);
const types: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".map": "application/json",
  ".css": "text/css",
};

createServer((req, res) => {
  const path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!));
  let file = join(root, path);
  if (path.includes("..") || !existsSync(file)) {
    res.writeHead(404);
    res.end();
    return;
  }
  if (statSync(file).isDirectory()) file = join(file, "index.html");
  // cross-origin isolation gives the page SharedArrayBuffer, so cotangent's Wasm kernels run on Web Workers
  res.writeHead(200, {
    "content-type": types[extname(file)] ?? "application/octet-stream",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
  });
  res.end(readFileSync(file));
}).listen(port, "127.0.0.1", () => console.log(`serving ${root} on http://127.0.0.1:${port}/examples/browser/`));
