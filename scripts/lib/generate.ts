/**
 * Generated documentation files, produced with the real library:
 *
 * - `docs/images/*.dot` and `docs/images/transforms.svg`: the forward, linearized and
 *   transposed graphs of `y = (x-1)^2 + (x+1)^2`;
 * - printed output in the guides: a ```ts block followed by the line
 *   `<!-- printed by the code above -->` and a ```text block gets that block replaced
 *   by what the code prints with `console.log`.
 *
 * `npm run docs:pictures` writes them; test/docs/generated.test.ts checks that the
 * committed files are current.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import * as lib from "../../src/index.js";
import { grad, linearize, makeJaxpr, np, toDot, vjp } from "../../src/index.js";
import { parseDot } from "./dot.js";
import { extractMarkdownExamples, runExample } from "./examples.js";
import { renderPanels } from "./graph-svg.js";

/** A file to write: repository-relative path and full content. */
export interface GeneratedFile {
  path: string;
  content: string;
}

/** The running example of the guides: y = (x-1)^2 + (x+1)^2. */
export const runningExample = (x: lib.Array): lib.Array => np.add(np.square(np.subtract(x, 1)), np.square(np.add(x, 1)));

/** The three jaxprs of the picture, traced at x = 4.5 (float32). */
export function pictureJaxprs(): { forward: lib.ClosedJaxpr; linearized: lib.ClosedJaxpr; transposed: lib.ClosedJaxpr; gradient: lib.ClosedJaxpr } {
  const x = np.array(4.5);
  const forward = makeJaxpr(runningExample)(x);
  const [, fJvp] = linearize(runningExample, x);
  const linearized = makeJaxpr(fJvp)(np.array(1));
  const [, back] = vjp(runningExample, x);
  const transposed = makeJaxpr((ct: lib.Array) => back(ct)[0])(np.array(1));
  const gradient = makeJaxpr(grad(runningExample))(x);
  return { forward, linearized, transposed, gradient };
}

/** The DOT files and the SVG picture. */
export function pictures(): GeneratedFile[] {
  const j = pictureJaxprs();
  const dots = {
    forward: toDot(j.forward, { name: "forward", title: "forward: y = (x-1)^2 + (x+1)^2" }),
    linearized: toDot(j.linearized, { name: "linearized", title: "linearized: dy = J dx" }),
    transposed: toDot(j.transposed, { name: "transposed", title: "transposed: dx = J^T dy" }),
  };
  const svg = renderPanels(
    [
      { title: "forward", subtitle: "makeJaxpr(f)(x)", graph: parseDot(dots.forward) },
      { title: "linearized (jvp)", subtitle: "makeJaxpr(fJvp)(dx)", graph: parseDot(dots.linearized) },
      { title: "transposed (vjp)", subtitle: "makeJaxpr(back)(dy)", graph: parseDot(dots.transposed) },
    ],
    "y = (x-1)^2 + (x+1)^2 at x = 4.5: the traced program, its linearization, and the transposed linear program (the backward pass)",
  );
  return [
    { path: "docs/images/forward.dot", content: dots.forward },
    { path: "docs/images/linearized.dot", content: dots.linearized },
    { path: "docs/images/transposed.dot", content: dots.transposed },
    { path: "docs/images/transforms.svg", content: svg },
  ];
}

export const PRINTED_MARKER = "<!-- printed by the code above -->";

/** A guide with its printed-output blocks filled in by running the code before each. */
export async function fillPrinted(file: string, text: string): Promise<string> {
  const lines = text.split("\n");
  const examples = extractMarkdownExamples(file, text);
  const out = [...lines];
  // process from the bottom so line numbers stay valid
  const marks: number[] = [];
  lines.forEach((l, i) => l.trim() === PRINTED_MARKER && marks.push(i));
  for (const m of marks.reverse()) {
    // the ts example that ends right before the marker (blank lines allowed)
    let k = m - 1;
    while (k >= 0 && lines[k]!.trim() === "") k--;
    const ex = examples.find((e) => e.line + e.code.split("\n").length === k + 1);
    if (!ex) throw new Error(`${file}:${m + 1}: "${PRINTED_MARKER}" must follow a \`\`\`ts block`);
    let open = m + 1;
    while (open < lines.length && lines[open]!.trim() === "") open++;
    if (!/^```text\s*$/.test(lines[open] ?? "")) throw new Error(`${file}:${m + 1}: "${PRINTED_MARKER}" must be followed by a \`\`\`text block`);
    let close = open + 1;
    while (close < lines.length && !/^```\s*$/.test(lines[close]!)) close++;
    if (close >= lines.length) throw new Error(`${file}:${open + 1}: unterminated \`\`\`text block`);
    const printed = (await runExample(ex, lib)).join("\n").split("\n");
    out.splice(open + 1, close - open - 1, ...printed);
  }
  return out.join("\n");
}

/** Every generated file, as it should be now. */
export async function generatedFiles(root: string): Promise<GeneratedFile[]> {
  const files = pictures();
  for (const name of readdirSync(join(root, "docs")).sort()) {
    if (!name.endsWith(".md")) continue;
    const path = `docs/${name}`;
    const text = readFileSync(join(root, path), "utf8");
    if (!text.includes(PRINTED_MARKER)) continue;
    files.push({ path, content: await fillPrinted(path, text) });
  }
  return files;
}
