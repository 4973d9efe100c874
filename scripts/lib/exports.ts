/**
 * The public runtime surface of the package, found with the TypeScript compiler API,
 * and the documentation each export carries.
 *
 * A public export is a runtime value (function, class, const, enum, namespace)
 * exported from `src/index.ts`. Namespaces (`export * as np from ...`) and objects
 * of functions (`export const linalg = { norm }`, `nn.linear = { init, apply }`) are
 * walked recursively: their members are public exports too, documented either where
 * they are declared or on the object property. Types and interfaces have no runtime
 * value and are not listed.
 */
import { join, relative, resolve as resolvePath } from "node:path";
import ts from "typescript";

/** One public export and what its documentation holds. */
export interface PublicExport {
  /** Its path from the package root, e.g. `grad`, `np.sum`, `np.linalg.norm`. */
  name: string;
  /** `namespace`, `function`, `class`, `variable`, `enum` or `property`. */
  kind: string;
  /** Where it is declared, `src/...ts:line`. */
  where: string;
  /** Whether a TSDoc comment with text (a summary) documents it. */
  hasDoc: boolean;
  /** Whether that documentation has an `@example` tag. */
  hasExample: boolean;
  /**
   * Whether it must have an `@example`: every export except namespaces and objects of
   * functions (`np.linalg`), whose members carry the examples.
   */
  needsExample: boolean;
  /**
   * For an exported object of functions: whether its TSDoc has the `@namespace` tag,
   * which makes typedoc document its members (otherwise their docs are not shown).
   * Undefined for everything else.
   */
  hasNamespaceTag?: boolean;
}

function locate(root: string, d: ts.Node): string {
  const sf = d.getSourceFile();
  const line = sf.getLineAndCharacterOfPosition(d.getStart()).line + 1;
  return `${relative(root, sf.fileName)}:${line}`;
}

/** The JSDoc comments attached to a declaration (for a const, those of its statement). */
function docsOf(d: ts.Node): ts.JSDoc[] {
  const out: ts.JSDoc[] = [];
  for (const c of ts.getJSDocCommentsAndTags(d)) if (ts.isJSDoc(c)) out.push(c);
  return out;
}

/** Whether a source file starts with a `@module` comment that has a summary. */
function hasModuleDoc(sf: ts.SourceFile): boolean {
  const text = sf.getFullText();
  for (const r of ts.getLeadingCommentRanges(text, 0) ?? []) {
    const c = text.slice(r.pos, r.end);
    if (!c.startsWith("/**") || !/@module\b/.test(c)) continue;
    const summary = c
      .slice(3, -2)
      .replace(/^\s*\* ?/gm, "")
      .split(/^\s*@\w+/m)[0]!
      .replace(/@module/g, "")
      .trim();
    return summary.length > 0;
  }
  return false;
}

function summarize(docs: ts.JSDoc[]): { hasDoc: boolean; hasExample: boolean } {
  const text = (j: ts.JSDoc): string => (typeof j.comment === "string" ? j.comment : (j.comment ?? []).map((c) => c.text).join(""));
  return {
    hasDoc: docs.some((j) => text(j).trim().length > 0),
    hasExample: docs.some((j) => j.tags?.some((t) => t.tagName.text === "example")),
  };
}

/** Lists the public exports of the package whose entry point is `root/src/index.ts`. */
export function publicExports(rootDir: string): PublicExport[] {
  const root = resolvePath(rootDir);
  const cfg = ts.readConfigFile(join(root, "tsconfig.json"), ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(cfg.config, ts.sys, root);
  const entry = join(root, "src", "index.ts");
  const program = ts.createProgram({ rootNames: [entry], options: { ...parsed.options, noEmit: true } });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(entry);
  if (!sf) throw new Error(`cannot read ${entry}`);
  const moduleSym = checker.getSymbolAtLocation(sf)!;
  const out: PublicExport[] = [];

  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);

  /** Members of an object literal `{ a, b: c, d() {} }` that hold runtime values. */
  const visitObject = (prefix: string, obj: ts.ObjectLiteralExpression): void => {
    for (const p of obj.properties) {
      if (!p.name || !(ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) continue;
      const name = `${prefix}.${p.name.text}`;
      const ownDocs = docsOf(p);
      let target: ts.Symbol | undefined;
      if (ts.isShorthandPropertyAssignment(p)) target = checker.getShorthandAssignmentValueSymbol(p);
      else if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.initializer) || ts.isPropertyAccessExpression(p.initializer)))
        target = checker.getSymbolAtLocation(p.initializer);
      if (target) {
        visitSymbol(name, resolve(target), ownDocs);
        continue;
      }
      const init = ts.isPropertyAssignment(p) ? p.initializer : undefined;
      if (init && ts.isObjectLiteralExpression(init)) {
        out.push({ name, kind: "property", where: locate(root, p), ...summarize(ownDocs), needsExample: false });
        visitObject(name, init);
        continue;
      }
      out.push({ name, kind: "property", where: locate(root, p), ...summarize(ownDocs), needsExample: true });
    }
  };

  /** Records `s` (exported as `name`) and walks into namespaces and object literals. */
  const visitSymbol = (name: string, s: ts.Symbol, extraDocs: ts.JSDoc[] = []): void => {
    const decls = s.declarations ?? [];
    const d = decls[0];
    if (!d || !(s.flags & ts.SymbolFlags.Value)) return;
    if (ts.isSourceFile(d)) {
      // a namespace: `export * as np from "./numpy/index.js"`
      out.push({ name, kind: "namespace", where: `${relative(root, d.fileName)}:1`, hasDoc: hasModuleDoc(d), hasExample: false, needsExample: false });
      for (const m of checker.getExportsOfModule(s)) visitSymbol(`${name}.${m.name}`, resolve(m));
      return;
    }
    const docs = [...extraDocs, ...decls.flatMap(docsOf)];
    let kind = "variable";
    if (s.flags & ts.SymbolFlags.Function) kind = "function";
    else if (s.flags & ts.SymbolFlags.Class) kind = "class";
    else if (s.flags & ts.SymbolFlags.Enum) kind = "enum";
    else if (s.flags & ts.SymbolFlags.ValueModule) kind = "namespace";
    let obj: ts.ObjectLiteralExpression | undefined;
    if (ts.isVariableDeclaration(d) && d.initializer) {
      let init: ts.Expression = d.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init) || ts.isParenthesizedExpression(init)) init = init.expression;
      if (ts.isCallExpression(init) && init.expression.getText() === "Object.freeze" && init.arguments[0]) init = init.arguments[0];
      if (ts.isObjectLiteralExpression(init)) obj = init;
    }
    const entry: PublicExport = { name, kind, where: locate(root, d), ...summarize(docs), needsExample: obj === undefined };
    if (obj) entry.hasNamespaceTag = docs.some((j) => j.tags?.some((t) => t.tagName.text === "namespace"));
    out.push(entry);
    if (obj) visitObject(name, obj);
  };

  for (const e of checker.getExportsOfModule(moduleSym)) visitSymbol(e.name, resolve(e));
  return out.sort((a, b) => a.name.localeCompare(b.name));
}
