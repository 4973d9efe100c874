/**
 * The generated documentation files (docs/images/, printed output in the guides)
 * match what the library produces now, and every guide is part of the typedoc site.
 * Regenerate with `npm run docs:pictures`.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generatedFiles } from "../../scripts/lib/generate.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("generated documentation", () => {
  it("is up to date (run npm run docs:pictures)", async () => {
    const stale: string[] = [];
    for (const f of await generatedFiles(root)) {
      let old = "";
      try {
        old = readFileSync(join(root, f.path), "utf8");
      } catch {
        old = "(missing)";
      }
      if (old !== f.content) stale.push(f.path);
    }
    expect(stale, "these files are stale: run npm run docs:pictures and commit them").toEqual([]);
  });

  it("every guide in docs/ is listed in typedoc.json's projectDocuments", () => {
    const cfg = JSON.parse(readFileSync(join(root, "typedoc.json"), "utf8")) as { projectDocuments: string[] };
    const guides = readdirSync(join(root, "docs"))
      .filter((n) => n.endsWith(".md"))
      .map((n) => `docs/${n}`);
    expect(guides.filter((g) => !cfg.projectDocuments.includes(g))).toEqual([]);
  });
});
