/**
 * Finding, running and checking the code examples of the documentation.
 *
 * Sources of examples:
 * - every ```ts (or ```typescript) block inside an `@example` tag of a TSDoc comment
 *   in `src/**\/*.ts`;
 * - every ```ts block in `README.md` and `docs/*.md` (the guides).
 *
 * Each example is one self-contained program. It may import only from "cotangent"
 * (mapped to `src/index.ts`) and may use top-level `await`.
 *
 * The expected-output convention (also in docs/CONTRIBUTING.md):
 * - A `console.log(...)` statement with a `//` comment on the same line states its
 *   expected output: `console.log(x.shape, y.item()); // [2, 3] 0.5`.
 * - When the statement's line has no comment, `//` comment lines directly below it
 *   (no blank line between) are its expected output, joined by newlines; use this for
 *   long output such as a printed jaxpr.
 * - The printed output is what `console.log` writes (Node's `util.format` of the
 *   arguments, joined by spaces: strings unquoted, arrays as `[ 1, 2 ]`, objects as
 *   `{ a: 1 }`, no truncation of long arrays).
 * - Output and comment are compared token by token, ignoring whitespace: numbers
 *   match when `|actual - expected| <= 1e-6 + 1e-5 * |expected|` (so `0.4` matches
 *   float32's `0.4000000059604645`), `NaN`/`Infinity` match themselves, quote marks
 *   are ignored (so `// [2] "int32"` matches the printed `[ 2 ] int32`), and every
 *   other token (words, punctuation) must be equal.
 *   `...` in the comment matches any run of tokens (`// [0.5, ...]`).
 * - Every call of a checked `console.log` must match (in a loop, every iteration), and
 *   it must run at least once. Other `console.log` calls are run but not checked.
 * - An example that throws fails.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { formatWithOptions } from "node:util";
import ts from "typescript";

/** One runnable example. */
export interface Example {
  /** Repository-relative path of the file holding it. */
  file: string;
  /** 1-based line (in `file`) of the example's first code line. */
  line: number;
  /** The TypeScript source. */
  code: string;
  /** `path:line`, for messages and test names. */
  where: string;
}

/** A TSDoc `@example` section that holds no ```ts block (a documentation error). */
export interface ExampleProblem {
  where: string;
  message: string;
}

const FENCE_OPEN = /^\s*```(ts|typescript)\s*$/;
const FENCE_ANY = /^\s*```/;

/** All `.ts` files under `dir`, sorted, repository-relative. */
export function listSourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(relative(root, p));
    }
  };
  walk(join(root, dir));
  return out;
}

/** The `/** ... *\/` comments of a TypeScript file, with their 0-based start lines. */
function jsdocComments(text: string): { body: string[]; line: number }[] {
  const sf = ts.createSourceFile("x.ts", text, ts.ScriptTarget.Latest, true);
  const seen = new Set<number>();
  const out: { body: string[]; line: number }[] = [];
  const visit = (node: ts.Node): void => {
    for (const r of ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []) {
      if (seen.has(r.pos) || r.kind !== ts.SyntaxKind.MultiLineCommentTrivia) continue;
      seen.add(r.pos);
      const raw = text.slice(r.pos, r.end);
      if (!raw.startsWith("/**")) continue;
      const lines = raw
        .slice(3, -2)
        .split("\n")
        .map((l) => l.replace(/^\s*\* ?/, ""));
      out.push({ body: lines, line: sf.getLineAndCharacterOfPosition(r.pos).line });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out.sort((a, b) => a.line - b.line);
}

/**
 * The ```ts blocks of the `@example` sections of a file's TSDoc comments, and the
 * `@example` sections that have none.
 */
export function extractTsdocExamples(file: string, text: string): { examples: Example[]; problems: ExampleProblem[] } {
  const examples: Example[] = [];
  const problems: ExampleProblem[] = [];
  for (const c of jsdocComments(text)) {
    let inExample = false;
    let exampleLine = -1;
    let found = 0;
    let fence: { start: number; lines: string[]; ts: boolean } | null = null;
    const closeExample = (): void => {
      if (inExample && found === 0) problems.push({ where: `${file}:${c.line + exampleLine + 1}`, message: "this @example has no ```ts code block" });
      inExample = false;
      found = 0;
    };
    c.body.forEach((l, i) => {
      if (fence) {
        if (FENCE_ANY.test(l)) {
          if (fence.ts && inExample) {
            found++;
            const line = c.line + fence.start + 2;
            examples.push({ file, line, code: fence.lines.join("\n"), where: `${file}:${line}` });
          }
          fence = null;
        } else fence.lines.push(l);
        return;
      }
      if (FENCE_ANY.test(l)) {
        fence = { start: i, lines: [], ts: FENCE_OPEN.test(l) };
        return;
      }
      const tag = /^\s*@(\w+)/.exec(l);
      if (tag) {
        closeExample();
        if (tag[1] === "example") {
          inExample = true;
          exampleLine = i;
        }
      }
    });
    closeExample();
  }
  return { examples, problems };
}

/** The ```ts blocks of a markdown file. */
export function extractMarkdownExamples(file: string, text: string): Example[] {
  const examples: Example[] = [];
  let fence: { start: number; lines: string[]; ts: boolean } | null = null;
  text.split("\n").forEach((l, i) => {
    if (fence) {
      if (FENCE_ANY.test(l)) {
        if (fence.ts) examples.push({ file, line: fence.start + 2, code: fence.lines.join("\n"), where: `${file}:${fence.start + 2}` });
        fence = null;
      } else fence.lines.push(l);
    } else if (FENCE_ANY.test(l)) fence = { start: i, lines: [], ts: FENCE_OPEN.test(l) };
  });
  return examples;
}

/** Every example of the repository at `root`, and the malformed `@example` tags. */
export function collectExamples(root: string): { examples: Example[]; problems: ExampleProblem[] } {
  const examples: Example[] = [];
  const problems: ExampleProblem[] = [];
  for (const f of listSourceFiles(root, "src")) {
    const r = extractTsdocExamples(f, readFileSync(join(root, f), "utf8"));
    examples.push(...r.examples);
    problems.push(...r.problems);
  }
  const md = [
    "README.md",
    ...readdirSync(join(root, "docs"))
      .filter((n) => n.endsWith(".md"))
      .sort()
      .map((n) => `docs/${n}`),
  ];
  for (const f of md) examples.push(...extractMarkdownExamples(f, readFileSync(join(root, f), "utf8")));
  return { examples, problems };
}

// ------------------------------------------------------------------ preparing

/** A checked `console.log`: its expected output and its line within the example. */
export interface Expectation {
  line: number;
  expected: string;
}

/** An example rewritten to run as the body of an async function. */
export interface Prepared {
  /** JavaScript for `new AsyncFunction("__cotangent", "__check", "console", js)`. */
  js: string;
  expectations: Expectation[];
  /** The names imported from "cotangent". */
  imports: string[];
  /** The example with "cotangent" replaced by `specifier`, for typechecking. */
  typecheckSource: (specifier: string) => string;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

function isConsoleLog(e: ts.Expression): e is ts.PropertyAccessExpression {
  return ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === "console" && e.name.text === "log";
}

/**
 * Rewrites an example: imports from "cotangent" become destructuring of the
 * `__cotangent` parameter, checked `console.log` calls become `__check[i]`.
 * Throws when the example imports from anywhere else or exports something.
 */
export function prepareExample(code: string): Prepared {
  const sf = ts.createSourceFile("example.ts", code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines = code.split("\n");
  const lineOf = (pos: number): number => sf.getLineAndCharacterOfPosition(pos).line;
  const runEdits: Edit[] = [];
  const tcEdits: { start: number; end: number }[] = [];
  const expectations: Expectation[] = [];
  const imports: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const spec = (st.moduleSpecifier as ts.StringLiteral).text;
      if (spec !== "cotangent") throw new Error(`examples may import only from "cotangent", not "${spec}" (line ${lineOf(st.getStart()) + 1})`);
      tcEdits.push({ start: st.moduleSpecifier.getStart() + 1, end: st.moduleSpecifier.getEnd() - 1 });
      const clause = st.importClause;
      let text = "";
      if (clause && !clause.isTypeOnly) {
        if (clause.name) throw new Error(`"cotangent" has no default export; use import { ... } from "cotangent" (line ${lineOf(st.getStart()) + 1})`);
        const nb = clause.namedBindings;
        if (nb && ts.isNamespaceImport(nb)) text = `const ${nb.name.text} = __cotangent;`;
        else if (nb) {
          const values = nb.elements.filter((e) => !e.isTypeOnly);
          imports.push(...values.map((e) => (e.propertyName ?? e.name).getText()));
          const parts = values.map((e) => (e.propertyName ? `${e.propertyName.getText()}: ${e.name.text}` : e.name.text));
          if (parts.length) text = `const { ${parts.join(", ")} } = __cotangent;`;
        }
      }
      runEdits.push({ start: st.getStart(), end: st.getEnd(), text });
    } else if (
      ts.isExportDeclaration(st) ||
      ts.isExportAssignment(st) ||
      (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword))
    ) {
      throw new Error(`examples are programs, not modules: remove the export (line ${lineOf(st.getStart()) + 1})`);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isExpressionStatement(node) && ts.isCallExpression(node.expression) && isConsoleLog(node.expression.expression)) {
      const endLine = lineOf(node.getEnd());
      const rest = lines[endLine]!.slice(sf.getLineAndCharacterOfPosition(node.getEnd()).character).trim();
      let expected: string | null = null;
      if (rest.startsWith("//")) expected = rest.slice(2).trim();
      else if (rest === "") {
        const below: string[] = [];
        for (let k = endLine + 1; k < lines.length && lines[k]!.trim().startsWith("//"); k++) below.push(lines[k]!.trim().slice(2).trim());
        if (below.length) expected = below.join("\n");
      }
      if (expected !== null) {
        const callee = node.expression.expression;
        runEdits.push({ start: callee.getStart(), end: callee.getEnd(), text: `__check[${expectations.length}]` });
        expectations.push({ line: lineOf(node.getStart()) + 1, expected });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const rewritten = applyEdits(code, runEdits);
  const js = ts
    .transpileModule(rewritten, {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleDetection: ts.ModuleDetectionKind.Legacy, sourceMap: false },
      reportDiagnostics: false,
    })
    .outputText.replace(/^export \{\};\s*$/m, "");
  const typecheckSource = (specifier: string): string =>
    `${applyEdits(
      code,
      tcEdits.map((e) => ({ ...e, text: specifier })),
    )}\nexport {};\n`;
  return { js, expectations, imports, typecheckSource };
}

// ------------------------------------------------------------------ comparing

type Token = { kind: "num"; value: number; text: string } | { kind: "text"; text: string } | { kind: "any" };

const TOKEN = /(-?Infinity|NaN)(?![\w$])|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![\w$])|([A-Za-z_$][\w$]*)|(\.\.\.)|(\S)/g;

const QUOTES = new Set(["'", '"', "`"]);

function tokenize(s: string, wildcards: boolean): Token[] {
  const out: Token[] = [];
  for (const m of s.matchAll(TOKEN)) {
    if (m[1] !== undefined) out.push({ kind: "num", value: Number(m[1]), text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: "num", value: Number(m[2]), text: m[2] });
    else if (m[4] !== undefined) out.push(wildcards ? { kind: "any" } : { kind: "text", text: "..." });
    else if (!QUOTES.has(m[0])) out.push({ kind: "text", text: m[0] });
  }
  return out;
}

function tokenEqual(a: Token, e: Token): boolean {
  if (a.kind === "num" && e.kind === "num") {
    if (Number.isNaN(e.value)) return Number.isNaN(a.value);
    if (!Number.isFinite(e.value)) return a.value === e.value;
    return Math.abs(a.value - e.value) <= 1e-6 + 1e-5 * Math.abs(e.value);
  }
  return a.kind === "text" && e.kind === "text" && a.text === e.text;
}

/** Whether printed output matches an expected-output comment (see the file header). */
export function outputMatches(actual: string, expected: string): boolean {
  const a = tokenize(actual, false);
  const e = tokenize(expected, true);
  // memoized matching with `...` wildcards
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    if (j === e.length) return i === a.length;
    const key = i * (e.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const t = e[j]!;
    let r: boolean;
    if (t.kind === "any") r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && tokenEqual(a[i]!, t) && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** What `console.log(...args)` prints, without truncation. */
export function formatLog(args: unknown[]): string {
  return formatWithOptions({ maxArrayLength: Infinity, maxStringLength: Infinity, depth: Infinity, breakLength: Infinity }, ...args);
}

// ------------------------------------------------------------------ running

const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...args: unknown[]) => Promise<void>;

/** A console whose `log` records what an unchecked `console.log` printed. */
function quietConsole(sink: string[]): Console {
  const c = Object.create(console) as Console;
  c.log = (...args: unknown[]) => void sink.push(formatLog(args));
  return c;
}

/**
 * Runs an example with "cotangent" bound to `lib`; throws an Error naming the
 * example's file and line when it throws or a checked `console.log` disagrees.
 * Returns everything the example printed with `console.log`, one entry per call.
 */
export async function runExample(ex: Example, lib: unknown): Promise<string[]> {
  const p = prepareExample(ex.code);
  const printed: string[] = [];
  const calls: string[][] = p.expectations.map(() => []);
  const check = p.expectations.map((_, i) => (...args: unknown[]) => {
    const s = formatLog(args);
    calls[i]!.push(s);
    printed.push(s);
  });
  const missing = p.imports.filter((n) => !(n in (lib as object)));
  if (missing.length)
    throw new Error(`example at ${ex.where} imports ${missing.map((n) => `"${n}"`).join(", ")}, which "cotangent" does not export (add it to src/index.ts)`);
  const fn = new AsyncFunction("__cotangent", "__check", "console", p.js);
  try {
    await fn(lib, check, quietConsole(printed));
  } catch (err) {
    const e = err as Error;
    throw new Error(`example at ${ex.where} threw: ${e?.message ?? String(err)}`, { cause: err });
  }
  const failures: string[] = [];
  p.expectations.forEach((x, i) => {
    const at = `${ex.file}:${ex.line + x.line - 1}`;
    if (calls[i]!.length === 0) failures.push(`${at}: this console.log never ran`);
    for (const got of calls[i]!) {
      if (!outputMatches(got, x.expected))
        failures.push(`${at}: console.log printed\n    ${got.replace(/\n/g, "\n    ")}\n  but the comment says\n    ${x.expected.replace(/\n/g, "\n    ")}`);
    }
  });
  if (failures.length) throw new Error(`example at ${ex.where}:\n${failures.join("\n")}`);
  return printed;
}

// ------------------------------------------------------------------ typechecking

/** The globals examples may use besides ES2022. */
const GLOBALS = `
interface Console { log(...data: unknown[]): void; error(...data: unknown[]): void; warn(...data: unknown[]): void }
declare var console: Console;
declare var performance: { now(): number };
`;

/**
 * Typechecks every example as its own module (against `src/index.ts`, with the
 * repository's tsconfig) and returns one message per error, located in the source.
 */
export function typecheckExamples(root: string, examples: Example[]): string[] {
  const cfgPath = join(root, "tsconfig.json");
  const cfg = ts.readConfigFile(cfgPath, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  // Examples are checked against plain ES2022 plus `console` (no DOM, no Node types):
  // they must run in browsers and in Node alike. Dropping those libraries also halves
  // the time this takes.
  const options: ts.CompilerOptions = { ...parsed.options, noEmit: true, declaration: false, sourceMap: false, lib: ["lib.es2022.d.ts"], types: [] };
  const dir = join(root, "test", "docs", "__examples__");
  const virtual = new Map<string, { text: string; ex: Example }>();
  const virtualGlobals = new Map<string, string>();
  examples.forEach((ex, i) => {
    let text: string;
    try {
      text = prepareExample(ex.code).typecheckSource("../../../src/index.js");
    } catch {
      return; // reported by the run test
    }
    virtual.set(join(dir, `example${i}.ts`), { text, ex });
  });
  virtualGlobals.set(join(dir, "globals.d.ts"), GLOBALS);
  const host = ts.createCompilerHost(options);
  const baseGetSourceFile = host.getSourceFile.bind(host);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);
  host.getSourceFile = (fileName, lang, onError, create) => {
    const text = virtual.get(fileName)?.text ?? virtualGlobals.get(fileName);
    return text !== undefined ? ts.createSourceFile(fileName, text, lang, true) : baseGetSourceFile(fileName, lang, onError, create);
  };
  host.fileExists = (f) => virtual.has(f) || virtualGlobals.has(f) || baseFileExists(f);
  host.readFile = (f) => virtual.get(f)?.text ?? virtualGlobals.get(f) ?? baseReadFile(f);
  const program = ts.createProgram({ rootNames: [...virtualGlobals.keys(), ...virtual.keys()], options, host });
  const out: string[] = [];
  for (const [fileName, v] of virtual) {
    const sf = program.getSourceFile(fileName)!;
    const diags = [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)];
    for (const d of diags) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
      out.push(`${v.ex.file}:${v.ex.line + line}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    }
  }
  return out;
}
