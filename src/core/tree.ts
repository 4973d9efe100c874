/**
 * Pytrees: nested JS arrays and plain objects whose leaves are arrays or numbers.
 * `null` and `undefined` are empty subtrees. Object keys are visited in sorted
 * order (as JAX sorts dict keys), so `{a, b}` and `{b, a}` have the same structure.
 * @module
 */
import type { NDArray } from "./array.js";
import { describeValue, isPlainObject } from "./shape.js";

/** What the transforms accept as a leaf: an array, a number or a boolean. */
export type Leaf = NDArray | number | boolean;

/**
 * A pytree with leaves of type `L`: a leaf, `null`/`undefined` (empty subtrees), or a
 * (nested) JS array or plain object of pytrees. Instances of classes registered with
 * {@link register} are nodes too; at the type level they are described by their fields.
 */
export type PyTree<L = Leaf> = L | null | undefined | readonly PyTree<L>[] | { readonly [key: string]: PyTree<L> };

type Scalar = string | number | boolean | bigint | symbol;
type AnyFunction = (...args: never[]) => unknown;

/**
 * The union of the leaf types of a pytree type `T` (`unknown` when `T` is). At the
 * type level every object that is not an array is a node (its fields are its
 * children); functions are not leaves. Nesting deeper than 10 levels gives `unknown`.
 */
export type LeafOf<T, Depth extends readonly unknown[] = []> = unknown extends T
  ? unknown
  : Depth["length"] extends 10
    ? unknown
    : T extends null | undefined
      ? never
      : T extends NDArray | Scalar
        ? T
        : T extends AnyFunction
          ? never
          : T extends readonly (infer E)[]
            ? LeafOf<E, [...Depth, unknown]>
            : T extends object
              ? LeafOf<T[keyof T], [...Depth, unknown]>
              : T;

/** The type of `tree.map`'s leaf argument: {@link LeafOf}, but `never` (any annotation is accepted) when the tree's leaf type is unknown. */
export type LeafParam<T> = unknown extends LeafOf<T> ? never : LeafOf<T>;

/**
 * The pytree type `T` with every leaf replaced by `R`: the type of
 * `tree.map(fn, t)` where `fn` returns `R`. `null`/`undefined` subtrees and
 * function-valued fields are kept; a tree of unknown type maps to a `PyTree<R>`.
 */
export type MapLeaves<T, R> = unknown extends T
  ? PyTree<R>
  : T extends null | undefined
    ? T
    : T extends NDArray | Scalar
      ? R
      : T extends AnyFunction
        ? T
        : { [K in keyof T]: MapLeaves<T[K], R> };

/** How a registered class is flattened into children and rebuilt from them. */
export interface NodeFunctions<T, C extends readonly unknown[] = unknown[], A = unknown> {
  /**
   * The children (pytrees: the arrays the transforms see) and the auxiliary data
   * (static, compared with structural equality, and part of `jit`'s cache key).
   */
  flatten(obj: T): readonly [children: C, aux: A];
  /**
   * Rebuilds an instance from the aux data and children with the structure `flatten`
   * gave; the children may be other values than the original ones (gradients,
   * tracers, the results of `tree.map`).
   */
  unflatten(aux: A, children: C): T;
}

interface Registered {
  cls: abstract new (...args: never[]) => unknown;
  name: string;
  flatten(obj: unknown): readonly [readonly unknown[], unknown];
  unflatten(aux: unknown, children: unknown[]): unknown;
}

const registry = new Map<unknown, Registered>();

type Node =
  | { kind: "leaf" }
  | { kind: "none"; value: null | undefined }
  | { kind: "array"; children: TreeDef[] }
  | { kind: "object"; keys: string[]; children: TreeDef[] }
  | { kind: "custom"; node: Registered; aux: unknown; children: TreeDef[] };

/** The registration of `x`'s class (exact class, as JAX), if any. */
function registeredNode(x: unknown): Registered | undefined {
  if (x === null || typeof x !== "object" || registry.size === 0) return undefined;
  const proto: unknown = Object.getPrototypeOf(x);
  if (proto === null || typeof proto !== "object") return undefined;
  return registry.get((proto as { constructor?: unknown }).constructor);
}

/**
 * Registers a class as a pytree node: its instances are then flattened into the
 * children `flatten` returns (pytrees themselves) and rebuilt with `unflatten`, in
 * every transform (`grad`, `jit` and its cache key, `vmap`), in `tree.*` and in the
 * optimizers. The aux data is static: two instances with different aux data have
 * different structures. Only instances of exactly this class are matched (not of
 * subclasses); a class can be registered once.
 *
 * @param cls - the class.
 * @param fns - `flatten(obj) → [children, aux]` and `unflatten(aux, children) → obj`.
 * @example
 * ```ts
 * import { tree, grad, np } from "cotangent";
 * class Linear {
 *   constructor(readonly w: np.Array, readonly b: np.Array, readonly name: string) {}
 * }
 * tree.register(Linear, {
 *   flatten: (l) => [[l.w, l.b], l.name],
 *   unflatten: (name, [w, b]) => new Linear(w, b, name),
 * });
 * const layer = new Linear(np.array([1, 2]), np.array(0.5), "dense");
 * console.log(tree.structure(layer).toString()); // PyTreeDef(CustomNode(Linear["dense"], [*, *]))
 * const g = grad((l: Linear) => np.sum(np.add(np.multiply(l.w, l.w), l.b)))(layer);
 * console.log(g instanceof Linear, g.name, g.w.toJs(), g.b.item()); // true dense [2, 4] 2
 * ```
 */
export function register<T extends object, const C extends readonly unknown[], A>(
  cls: abstract new (...args: never[]) => T,
  fns: NodeFunctions<T, C, A>,
): void {
  if (typeof cls !== "function") throw new Error(`tree.register: the first argument must be a class, got ${describeValue(cls)}.`);
  if ((cls as unknown) === Object || (cls as unknown) === Array)
    throw new Error(`tree.register: ${cls.name} is already a pytree node (plain objects and JS arrays are built in); register your own classes.`);
  if (fns === null || typeof fns !== "object" || typeof fns.flatten !== "function" || typeof fns.unflatten !== "function") {
    throw new Error(
      `tree.register(${cls.name}): the second argument must be an object { flatten(obj) → [children, aux], unflatten(aux, children) → obj }, got ${describeValue(fns)}.`,
    );
  }
  const extra = Object.keys(fns).filter((k) => k !== "flatten" && k !== "unflatten");
  if (extra.length) throw new Error(`tree.register(${cls.name}): unknown key \`${extra[0]}\`; the node functions are \`flatten\` and \`unflatten\`.`);
  if (registry.has(cls)) throw new Error(`tree.register: ${cls.name || "this class"} is already registered as a pytree node; register a class once.`);
  const base = cls.name || "Anonymous";
  const taken = new Set([...registry.values()].map((r) => r.name));
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}#${i}`;
  registry.set(cls, {
    cls,
    name,
    flatten: (obj) => fns.flatten(obj as T),
    unflatten: (aux, children) => fns.unflatten(aux as A, children as unknown as C),
  });
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;

/**
 * A printable key of aux data: equal (structurally: primitives by value, JS arrays
 * and plain objects by contents) aux data give the same key, different ones different
 * keys; other objects are compared by identity.
 */
function auxKey(v: unknown, seen: Set<object> = new Set()): string {
  if (v === undefined) return "undefined";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "bigint") return `${v}n`;
  if (v === null) return "null";
  const o = v as object;
  if ((Array.isArray(o) || isPlainObject(o)) && !seen.has(o)) {
    seen.add(o);
    const s = Array.isArray(o)
      ? `[${Array.from(o, (x) => auxKey(x, seen)).join(", ")}]`
      : `{${Object.keys(o)
          .sort()
          .map((k) => `${k}: ${auxKey((o as Record<string, unknown>)[k], seen)}`)
          .join(", ")}}`;
    seen.delete(o);
    return s;
  }
  if (!objectIds.has(o)) objectIds.set(o, nextObjectId++);
  const name = typeof o === "function" ? (o as { name?: string }).name || "function" : (o.constructor as { name?: string } | undefined)?.name || "object";
  return `<${name}#${objectIds.get(o)}>`;
}

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
  /** Structural equality (registered nodes: the same class and equal aux data). */
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
    if (a.kind === "custom") {
      const bn = b as typeof a;
      if (a.node !== bn.node || auxKey(a.aux) !== auxKey(bn.aux)) return false;
    }
    const bc = (b as { children: TreeDef[] }).children;
    return a.children.length === bc.length && a.children.every((c, i) => c.equals(bc[i]!));
  }
  /** e.g. `PyTreeDef([*, {b: *, w: *}])`; a registered node prints as `CustomNode(Name[aux], [children])`. */
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
      case "custom":
        return `CustomNode(${n.node.name}[${auxKey(n.aux)}], [${n.children.map((c) => c.inner()).join(", ")}])`;
    }
  }
}

/** One key of a pytree path: an object key, or a position in a JS array or a registered node's children. */
export type PathKey = string | number;

function flattenImpl(tree: unknown, paths: PathKey[][] | null): [unknown[], TreeDef] {
  const leaves: unknown[] = [];
  const open = new Set<object>();
  const path: PathKey[] = [];
  const enter = (t: object, build: () => TreeDef): TreeDef => {
    if (open.has(t)) throw new Error(`tree.flatten: the pytree contains a cycle (an array or object that contains itself); pytrees must be finite trees.`);
    open.add(t);
    try {
      return build();
    } finally {
      open.delete(t);
    }
  };
  const child = (k: PathKey, t: unknown): TreeDef => {
    if (paths === null) return rec(t);
    path.push(k);
    try {
      return rec(t);
    } finally {
      path.pop();
    }
  };
  const rec = (t: unknown): TreeDef => {
    if (t === null || t === undefined) return new TreeDef({ kind: "none", value: t as null | undefined });
    if (Array.isArray(t)) return enter(t, () => new TreeDef({ kind: "array", children: Array.from(t, (c, i) => child(i, c)) }));
    if (isPlainObject(t)) {
      const keys = Object.keys(t).sort();
      return enter(t, () => new TreeDef({ kind: "object", keys, children: keys.map((k) => child(k, t[k])) }));
    }
    const node = registeredNode(t);
    if (node) {
      return enter(t as object, () => {
        const r: unknown = node.flatten(t);
        if (!Array.isArray(r) || r.length !== 2 || !Array.isArray(r[0])) {
          throw new Error(
            `tree.flatten: the flatten function registered for ${node.name} must return [children, aux] with children a JS array, got ${describeValue(r)}.`,
          );
        }
        const [children, aux] = r as [unknown[], unknown];
        return new TreeDef({ kind: "custom", node, aux, children: Array.from(children, (c, i) => child(i, c)) });
      });
    }
    leaves.push(t);
    paths?.push([...path]);
    return new TreeDef({ kind: "leaf" });
  };
  const def = rec(tree);
  return [leaves, def];
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
export function flatten<T>(tree: T): [LeafOf<T>[], TreeDef] {
  return flattenImpl(tree, null) as [LeafOf<T>[], TreeDef];
}

/**
 * Like {@link flatten}, with the path of each leaf: the object keys and positions (in
 * JS arrays and registered nodes' children) from the root to it (JAX's
 * `tree_flatten_with_path`).
 *
 * @example
 * ```ts
 * import { tree } from "cotangent";
 * const [pairs] = tree.flattenWithPath({ layers: [{ w: 1 }, { w: 2 }], scale: 3 });
 * console.log(pairs.map(([path, leaf]) => `${path.join(".")}=${leaf}`)); // ["layers.0.w=1", "layers.1.w=2", "scale=3"]
 * ```
 */
export function flattenWithPath<T>(tree: T): [[PathKey[], LeafOf<T>][], TreeDef] {
  const paths: PathKey[][] = [];
  const [ls, def] = flattenImpl(tree, paths);
  return [ls.map((l, i) => [paths[i]!, l as LeafOf<T>]), def];
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
export function unflatten(def: TreeDef, leaves: readonly unknown[]): unknown {
  if (!(def instanceof TreeDef))
    throw new Error(`tree.unflatten: the first argument must be a TreeDef (from tree.flatten or tree.structure), got ${describeValue(def)}.`);
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
      case "custom":
        return n.node.unflatten(n.aux, n.children.map(rec));
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
export function leaves<T>(tree: T): LeafOf<T>[] {
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
export function structure(tree: unknown): TreeDef {
  return flatten(tree)[1];
}

/**
 * The type of `tree.map`'s function: its parameters are checked bivariantly (as a
 * method's), so an annotation may name one member of the leaf union (`(x: np.Array) =>`
 * for a registered class whose fields also hold strings) but not an unrelated type.
 */
export type LeafFunction<Args extends readonly unknown[], R> = { bivariant(...leaves: Args): R }["bivariant"];

/**
 * Applies `fn` leafwise; `rest` must have the same structure as `tree` (otherwise
 * throws, naming both structures). `fn` receives one leaf from each tree. The result
 * has the structure of `tree` with the leaves `fn` returned (its type too).
 *
 * @example
 * ```ts
 * import { tree, np } from "cotangent";
 * console.log(tree.map((x: number, y: number) => x + y, [1, { a: 2 }], [10, { a: 20 }])); // [11, { a: 22 }]
 * const params = { w: np.array([1, 2]), b: np.array(0.5) };
 * const grads = { w: np.array([0.1, 0.2]), b: np.array(1) };
 * const next = tree.map((p, g) => p.sub(g.mul(0.1)), params, grads);
 * console.log(next.w.toJs(), next.b.item()); // [0.99, 1.98] 0.4
 * ```
 */
export function map<T, R, Rest extends readonly unknown[] = []>(
  fn: LeafFunction<[leaf: NoInfer<LeafParam<T>>, ...rest: { [K in keyof Rest]: NoInfer<LeafParam<Rest[K]>> }], R>,
  tree: T,
  ...rest: Rest
): MapLeaves<T, R> {
  if (typeof fn !== "function") throw new Error(`tree.map: the first argument must be a function applied to each leaf, got ${describeValue(fn)}.`);
  const [ls, def] = flatten(tree);
  const others = rest.map((r, k) => {
    const [l, d] = flatten(r);
    if (!d.equals(def)) throw new Error(`tree.map: tree ${k + 1} has structure ${d.toString()} but the first has ${def.toString()}; they must match.`);
    return l;
  });
  const call = fn as (...leaves: unknown[]) => R;
  return unflatten(
    def,
    ls.map((l, i) => call(l, ...others.map((o) => o[i]))),
  ) as MapLeaves<T, R>;
}
