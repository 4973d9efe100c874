/**
 * Pytrees: nested JS arrays and plain objects whose leaves are arrays or numbers.
 * `null` and `undefined` are empty subtrees. Object keys are visited in sorted
 * order (as JAX sorts dict keys), so `{a, b}` and `{b, a}` have the same structure.
 * @module
 */
import { describeValue, isPlainObject } from "./shape.js";

/** A pytree: a leaf, or a (nested) JS array / plain object of pytrees. */
export type PyTree = unknown;

type Node =
  | { kind: "leaf" }
  | { kind: "none"; value: null | undefined }
  | { kind: "array"; children: TreeDef[] }
  | { kind: "object"; keys: string[]; children: TreeDef[] };

/**
 * The structure of a pytree with its leaves taken out. Compare with `equals`.
 *
 * @example
 * ```ts
 * import { tree } from "cotangent";
 * const a = tree.structure({ b: 1, a: [2, 3] });
 * console.log(a.toString(), a.numLeaves); // PyTreeDef({a: [*, *], b: *}) 3
 * console.log(a.equals(tree.structure({ a: [0, 0], b: 0 }))); // true
 * ```
 */
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

/**
 * Splits a pytree into its leaves (depth-first, keys sorted) and its structure.
 *
 * @example
 * ```ts
 * import { tree, np } from "cotangent";
 * const [leaves, def] = tree.flatten({ w: np.array([1, 2]), b: 3 });
 * console.log(leaves.length, def.toString()); // 2 PyTreeDef({b: *, w: *})
 * ```
 */
export function flatten(tree: PyTree): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const open = new Set<object>();
  const enter = (t: object, build: () => TreeDef): TreeDef => {
    if (open.has(t)) throw new Error(`tree.flatten: the pytree contains a cycle (an array or object that contains itself); pytrees must be finite trees.`);
    open.add(t);
    try {
      return build();
    } finally {
      open.delete(t);
    }
  };
  const rec = (t: unknown): TreeDef => {
    if (t === null || t === undefined) return new TreeDef({ kind: "none", value: t as null | undefined });
    if (Array.isArray(t)) return enter(t, () => new TreeDef({ kind: "array", children: Array.from(t, rec) }));
    if (isPlainObject(t)) {
      const keys = Object.keys(t).sort();
      return enter(t, () => new TreeDef({ kind: "object", keys, children: keys.map((k) => rec(t[k])) }));
    }
    leaves.push(t);
    return new TreeDef({ kind: "leaf" });
  };
  const def = rec(tree);
  return [leaves, def];
}

/**
 * Rebuilds a pytree of structure `def` from `leaves` (in the order {@link flatten}
 * gives). Throws when the number of leaves differs from `def.numLeaves`.
 *
 * @example
 * ```ts
 * import { tree } from "cotangent";
 * const [, def] = tree.flatten({ w: 1, b: 2 });
 * console.log(tree.unflatten(def, [10, 20])); // { b: 10, w: 20 }
 * ```
 */
export function unflatten(def: TreeDef, leaves: readonly unknown[]): PyTree {
  if (!(def instanceof TreeDef)) throw new Error(`tree.unflatten: the first argument must be a TreeDef (from tree.flatten or tree.structure), got ${describeValue(def)}.`);
  if (!Array.isArray(leaves)) throw new Error(`tree.unflatten: leaves must be a JS array, got ${describeValue(leaves)}.`);
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

/**
 * The leaves of a pytree (depth-first, object keys sorted); `null` and `undefined`
 * are empty subtrees, not leaves.
 *
 * @example
 * ```ts
 * import { tree } from "cotangent";
 * console.log(tree.leaves([1, { b: 3, a: 2, c: null }])); // [1, 2, 3]
 * ```
 */
export function leaves(tree: PyTree): unknown[] {
  return flatten(tree)[0];
}

/**
 * The structure of a pytree (a {@link TreeDef}).
 *
 * @example
 * ```ts
 * import { tree } from "cotangent";
 * console.log(tree.structure([1, { a: 2, b: null }]).toString()); // PyTreeDef([*, {a: *, b: null}])
 * ```
 */
export function structure(tree: PyTree): TreeDef {
  return flatten(tree)[1];
}

/**
 * Applies `fn` leafwise; `rest` must have the same structure as `tree` (otherwise
 * throws, naming both structures). `fn` receives one leaf from each tree.
 *
 * @example
 * ```ts
 * import { tree, np } from "cotangent";
 * console.log(tree.map((x: number, y: number) => x + y, [1, { a: 2 }], [10, { a: 20 }])); // [11, { a: 22 }]
 * const params = { w: np.array([1, 2]), b: np.array(0.5) };
 * const grads = { w: np.array([0.1, 0.2]), b: np.array(1) };
 * const next = tree.map((p: np.Array, g: np.Array) => p.sub(g.mul(0.1)), params, grads) as typeof params;
 * console.log(next.w.toJs(), next.b.item()); // [0.99, 1.98] 0.4
 * ```
 */
export function map(fn: (...leaves: any[]) => unknown, tree: PyTree, ...rest: PyTree[]): PyTree {
  if (typeof fn !== "function") throw new Error(`tree.map: the first argument must be a function applied to each leaf, got ${describeValue(fn)}.`);
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
