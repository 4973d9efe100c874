/**
 * The one bounded cache every compile cache uses: a least-recently-used map holding at
 * most `config.get("jitCacheSize")` entries (read at each insertion, so a new bound
 * applies from the next insertion on).
 * @module
 */
import { cacheLimit } from "./config.js";

/** A Map that forgets its least recently used entry beyond the bound. @internal */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>();
  /** @param limit - the bound; default the `jitCacheSize` setting. */
  constructor(private readonly limit: () => number = cacheLimit) {}
  /** The value for `key` (marking it most recently used), or undefined. */
  get(key: K): V | undefined {
    const m = this.#map;
    if (!m.has(key)) return undefined;
    const v = m.get(key) as V;
    m.delete(key);
    m.set(key, v);
    return v;
  }
  has(key: K): boolean {
    return this.#map.has(key);
  }
  /** Stores `value` as the most recently used entry, dropping the least recently used beyond the bound. */
  set(key: K, value: V): this {
    const m = this.#map;
    m.delete(key);
    m.set(key, value);
    const limit = this.limit();
    while (m.size > limit) m.delete(m.keys().next().value as K);
    return this;
  }
  delete(key: K): boolean {
    return this.#map.delete(key);
  }
  clear(): void {
    this.#map.clear();
  }
  get size(): number {
    return this.#map.size;
  }
  values(): IterableIterator<V> {
    return this.#map.values();
  }
}
