/**
 * `npm run docs:pictures`: regenerates the pictures of the IR (docs/images/) and the
 * printed output blocks of the guides, with the real library. See lib/generate.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedFiles } from "./lib/generate.js";

const root = fileURLToPath(new URL("..", import.meta.url));
for (const f of await generatedFiles(root)) {
  const p = join(root, f.path);
  let old: string | undefined;
  try {
    old = readFileSync(p, "utf8");
  } catch {
    old = undefined;
  }
  if (old === f.content) continue;
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, f.content);
  console.log(`wrote ${f.path}`);
}
