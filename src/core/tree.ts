/**
 * Pytrees: nested JS arrays and plain objects whose leaves are arrays or numbers.
 * `null` and `undefined` are empty subtrees. Object keys are visited in sorted
 * order (as JAX sorts dict keys), so `{a, b}` and `{b, a}` have the same structure.
 * @module
 */

/** A pytree: a leaf, or a (nested) JS array / plain object of pytrees. */
export type PyTree = unknown;

type Node =
  | { kind: "leaf" }
  | { kind: "none"; value: null | undefined }
  | { kind: "array"; children: TreeDef[] }
  | { kind: "object"; keys: string[]; children: TreeDef[] };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** The structure of a pytree with its leaves taken out. Compare with `equals`. */
export class TreeDef {
  /** @internal */
  readonly node: Node;
  /** @internal */
  constructor(node: Node) {
    this.node = node;
  }
  /** The number of leaves. */
  get numLeaves(): number {
    const n = this.node;
    if (n.kind === "leaf") return 1;
    if (n.kind === "none") return 0;
    return n.children.reduce((s, c) => s + c.numLeaves, 0);
  }
  /** Structural equality. */
  equals(o: TreeDef): boolean {
    const a = this.node;
    const b = o.node;
    if (a.kind !== b.kind) return false;
    if (a.kind === "leaf") return true;
    if (a.kind === "none") return a.value === (b as typeof a).value;
    if (a.kind === "object") {
      const bk = (b as typeof a).keys;
      if (a.keys.length !== bk.length || a.keys.some((k, i) => k !== bk[i])) return false;
    }
    const bc = (b as { children: TreeDef[] }).children;
    return a.children.length === bc.length && a.children.every((c, i) => c.equals(bc[i]!));
  }
  /** e.g. `PyTreeDef([*, {b: *, w: *}])`. */
  toString(): string {
    return `PyTreeDef(${this.inner()})`;
  }
  private inner(): string {
    const n = this.node;
    switch (n.kind) {
      case "leaf":
        return "*";
      case "none":
        return String(n.value);
      case "array":
        return `[${n.children.map((c) => c.inner()).join(", ")}]`;
      case "object":
        return `{${n.keys.map((k, i) => `${k}: ${n.children[i]!.inner()}`).join(", ")}}`;
    }
  }
}

/** Splits a pytree into its leaves (depth-first, keys sorted) and its structure. */
export function flatten(tree: PyTree): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const rec = (t: unknown): TreeDef => {
    if (t === null || t === undefined) return new TreeDef({ kind: "none", value: t as null | undefined });
    if (Array.isArray(t)) return new TreeDef({ kind: "array", children: t.map(rec) });
    if (isPlainObject(t)) {
      const keys = Object.keys(t).sort();
      return new TreeDef({ kind: "object", keys, children: keys.map((k) => rec(t[k])) });
    }
    leaves.push(t);
    return new TreeDef({ kind: "leaf" });
  };
  const def = rec(tree);
  return [leaves, def];
}

/** Rebuilds a pytree of structure `def` from `leaves`. */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): PyTree {
  if (leaves.length !== def.numLeaves) throw new Error(`tree.unflatten: ${def.toString()} has ${def.numLeaves} leaves but ${leaves.length} were given.`);
  let i = 0;
  const rec = (d: TreeDef): unknown => {
    const n = d.node;
    switch (n.kind) {
      case "leaf":
        return leaves[i++];
      case "none":
        return n.value;
      case "array":
        return n.children.map(rec);
      case "object": {
        const o: Record<string, unknown> = {};
        n.keys.forEach((k, j) => (o[k] = rec(n.children[j]!)));
        return o;
      }
    }
  };
  return rec(def);
}

/** The leaves of a pytree. */
export function leaves(tree: PyTree): unknown[] {
  return flatten(tree)[0];
}

/** The structure of a pytree. */
export function structure(tree: PyTree): TreeDef {
  return flatten(tree)[1];
}

/**
 * Applies `fn` leafwise; `rest` must have the same structure as `tree`.
 */
export function map(fn: (...leaves: any[]) => unknown, tree: PyTree, ...rest: PyTree[]): PyTree {
  const [ls, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [l, d] = flatten(r);
    if (!d.equals(def)) throw new Error(`tree.map: tree ${k + 1} has structure ${d.toString()} but the first has ${def.toString()}; they must match.`);
    return l;
  });
  return unflatten(
    def,
    ls.map((l, i) => fn(l, ...others.map((o) => o[i]))),
  );
}
