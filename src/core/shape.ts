/** Shapes, strides, axes and NumPy broadcasting. @module */

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function shapeEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function fmtShape(s: Shape): string {
  return `[${s.join(",")}]`;
}

/** NumPy broadcasting of two shapes; throws an Error naming `op` and both shapes. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const ndim = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(ndim).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = ndim - s.length + i;
      const d = s[i]!;
      const o = out[j]!;
      if (o === 1) out[j] = d;
      else if (d !== 1 && d !== o) {
        throw new Error(
          `${op}: shapes ${shapes.map(fmtShape).join(" and ")} cannot be broadcast together ` +
            `(dimension ${d} vs ${o}). Broadcasting aligns trailing dimensions, which must be equal or 1; ` +
            `reshape or expandDims an operand so they match.`,
        );
      }
    }
  }
  return out;
}

/**
 * A short, safe description of any JS value for error messages (never throws, also
 * for symbols, bigints and objects with cycles).
 */
export function describeValue(x: unknown): string {
  switch (typeof x) {
    case "undefined":
      return "undefined";
    case "number":
    case "boolean":
      return String(x);
    case "string":
      return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x);
    case "symbol":
      return x.toString();
    case "bigint":
      return `${x.toString()}n (a bigint)`;
    case "function":
      return `a function${x.name ? ` (${x.name})` : ""}`;
  }
  if (x === null) return "null";
  if (Array.isArray(x)) {
    const items = x.slice(0, 8).map((v) => (Array.isArray(v) ? "[...]" : describeValue(v)));
    return `[${items.join(",")}${x.length > 8 ? ",..." : ""}]`;
  }
  const proto: unknown = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) {
    try {
      const s = JSON.stringify(x);
      return s.length > 60 ? `${s.slice(0, 60)}...}` : s;
    } catch {
      return "an object";
    }
  }
  try {
    const s = String(x);
    if (!s.startsWith("[object ")) return s.length > 80 ? `${s.slice(0, 80)}...` : s;
  } catch {
    // fall through
  }
  return `an object (${(x as object).constructor?.name ?? "Object"})`;
}

/**
 * Checks that an options argument is a plain object (or omitted) whose keys are all in
 * `allowed`, and returns it. An unknown key throws an Error naming the operation, the
 * key and the nearest valid key ("did you mean `keepdims`?"). Every function that takes
 * an options object calls this.
 */
export function checkOptions<T extends object>(op: string, opts: T | null | undefined, example: string, allowed: readonly string[]): T {
  if (opts === undefined || opts === null) return {} as T;
  const proto: unknown = typeof opts === "object" ? Object.getPrototypeOf(opts) : undefined;
  if (typeof opts !== "object" || Array.isArray(opts) || (proto !== Object.prototype && proto !== null)) {
    throw new Error(`${op}: options must be a plain object such as ${example}, got ${describeValue(opts)}.`);
  }
  for (const key of Object.keys(opts)) {
    if (allowed.includes(key)) continue;
    const near = nearestKey(key, allowed);
    const valid = allowed.length ? `valid options are ${allowed.map((k) => `\`${k}\``).join(", ")}` : "it takes no options";
    throw new Error(`${op}: unknown option \`${key}\`${near ? ` (did you mean \`${near}\`?)` : ""}; ${valid}.`);
  }
  return opts;
}

/** The key of `allowed` closest to `key` (ignoring case and underscores), or null when none is close. */
export function nearestKey(key: string, allowed: readonly string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const k = norm(key);
  let best: string | null = null;
  let bestD = Infinity;
  for (const a of allowed) {
    const na = norm(a);
    // a key that extends a valid one (`decay_rate` for `decay`) or abbreviates it counts as close
    const d = Math.min(editDistance(k, na), Math.min(k.length, na.length) >= 3 && (k.startsWith(na) || na.startsWith(k)) ? 1 : Infinity);
    if (d < bestD) {
      bestD = d;
      best = a;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(k.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Normalizes a possibly negative axis; throws naming `op` when out of range. */
export function normalizeAxis(op: string, axis: number, ndim: number): number {
  if (typeof axis !== "number" || !Number.isInteger(axis)) {
    throw new Error(
      `${op}: an axis must be an integer, got ${describeValue(axis)} (valid axes for rank ${ndim} are ${ndim === 0 ? "none" : `-${ndim}..${ndim - 1}`}).`,
    );
  }
  if (axis < -ndim || axis >= ndim) {
    throw new Error(
      `${op}: axis ${axis} is out of bounds for an array of rank ${ndim} ` +
        `(valid axes are ${ndim === 0 ? "none: the array is 0-d" : `-${ndim}..${ndim - 1}`}).`,
    );
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalizes an `axis` option (undefined = all axes) to sorted unique axes. */
export function normalizeAxes(op: string, axis: number | readonly number[] | undefined | null, ndim: number): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axis !== "number" && !Array.isArray(axis)) throw new Error(`${op}: axis must be an integer or an array of integers, got ${describeValue(axis)}.`);
  const list: number[] = typeof axis === "number" ? [axis] : [...(axis as readonly number[])];
  const out = list.map((a) => normalizeAxis(op, a, ndim));
  if (new Set(out).size !== out.length) throw new Error(`${op}: repeated axis in ${describeValue(list)}; list each axis once.`);
  return out.sort((a, b) => a - b);
}

export function checkShape(op: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: a shape must be an array of non-negative integers, got ${describeValue(shape)}.`);
  }
  checkSize(op, shape as number[]);
  return shape as number[];
}

/** The most elements a JS typed array holds (V8, Node 20: 2^32). */
export const MAX_ELEMENTS = 2 ** 32;

/** Throws an Error naming `op` and the shape when an array of `shape` could not be stored (more than {@link MAX_ELEMENTS} elements). */
export function checkSize(op: string, shape: Shape): void {
  const n = sizeOf(shape);
  if (n > MAX_ELEMENTS) {
    throw new Error(
      `${op}: the result would have shape ${fmtShape(shape)}, ${n} elements, more than the ${MAX_ELEMENTS} a JS typed array can hold. ` +
        `Use smaller shapes (split the work into batches).`,
    );
  }
}

/** True for `{...}` objects (prototype Object or null): the pytree nodes with keys. */
export function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}
