/**
 * Saving and loading parameters in the safetensors format (https://github.com/huggingface/safetensors),
 * which PyTorch's and JAX's safetensors loaders read: an 8-byte little-endian header
 * length, a JSON header (`{"name": {"dtype", "shape", "data_offsets"}, "__metadata__": {...}}`,
 * padded with spaces to a multiple of 8 bytes), then the raw little-endian data.
 * Written here rather than with an npm package: the format is this small, and the one
 * maintained package is a Python/Rust one.
 *
 * A pytree becomes one tensor per array leaf, named by its path joined with `.` (list
 * positions as numbers: `layers.0.weight`). Tensors are stored as the reference
 * implementation orders them: by dtype (F64, F32, I32, BOOL), then by name.
 *
 * ```ts
 * import { io, np } from "cotangent";
 * const bytes = io.save({ w: np.ones([2, 2]) });
 * console.log((io.load(bytes) as { w: np.Array }).w.shape); // [2, 2]
 * ```
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import type { DType, TypedArray } from "../core/dtype.js";
import { describeValue, fmtShape, isPlainObject, sizeOf } from "../core/shape.js";
import { flattenWithPath } from "../core/tree.js";

/** A loaded tree: nested objects and JS arrays of Arrays, plus `__metadata__` when the file has one. */
export type LoadedTree = { [key: string]: LoadedTree | NDArray | Record<string, string> } | LoadedTree[] | NDArray;

const CODES: Record<DType, string> = { float64: "F64", float32: "F32", int32: "I32", bool: "BOOL" };
const DTYPES: Record<string, DType> = { F64: "float64", F32: "float32", I32: "int32", BOOL: "bool" };
const BYTES: Record<DType, number> = { float64: 8, float32: 4, int32: 4, bool: 1 };
/** The reference implementation's dtype order (its Dtype enum): data is laid out from the largest down, so every tensor is aligned. */
const ORDER: Record<DType, number> = { float64: 3, float32: 2, int32: 1, bool: 0 };
const META = "__metadata__";
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface Entry {
  name: string;
  array: NDArray;
}

/** The array leaves of `tree` with their dotted paths (pytree paths as `tree.flattenWithPath` gives them). */
function collect(tree: unknown): Entry[] {
  if (tree instanceof NDArray) throw new Error(`io.save: a lone array has no name; save an object such as { weight: x }.`);
  const out: Entry[] = [];
  for (const [path, leaf] of flattenWithPath(tree)[0]) {
    if (path[0] === META && isPlainObject(tree)) continue; // the metadata, checked by metadataOf
    const keys = path.map(String);
    const name = keys.join(".");
    const bad = keys.find((k) => k === "" || k.includes("."));
    if (bad !== undefined) {
      throw new Error(
        `io.save: the key ${JSON.stringify(bad)} in "${name}" ${bad === "" ? "is empty" : "contains a '.'"}, which the dotted tensor names cannot represent; rename it.`,
      );
    }
    if (!(leaf instanceof NDArray)) {
      throw new Error(
        `io.save: the leaf at "${name}" is ${describeValue(leaf)}; only Arrays are saved. Wrap numbers with np.array, or leave the value out (null and undefined subtrees are skipped).`,
      );
    }
    out.push({ name, array: leaf });
  }
  return out;
}

function metadataOf(tree: unknown): Record<string, string> | null {
  if (!isPlainObject(tree) || !(META in tree)) return null;
  const m = tree[META];
  if (!isPlainObject(m) || !Object.values(m).every((v) => typeof v === "string")) {
    throw new Error(`io.save: ${META} must be an object of strings (safetensors metadata is a string map), got ${describeValue(m)}.`);
  }
  return m as Record<string, string>;
}

/** Bytes of a typed array in little-endian order. */
function littleEndianBytes(data: TypedArray): Uint8Array {
  if (LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float64Array) dv.setFloat64(i * 8, data[i]!, true);
    else if (data instanceof Float32Array) dv.setFloat32(i * 4, data[i]!, true);
    else dv.setInt32(i * 4, data[i]!, true);
  }
  return out;
}

/**
 * Serializes the arrays of a pytree (nested plain objects and JS arrays) to safetensors
 * bytes. A top-level `__metadata__` object of strings becomes the file's metadata.
 * `null`/`undefined` subtrees are left out; any other non-array leaf is an Error.
 *
 * @example
 * ```ts
 * import { io, np } from "cotangent";
 * const params = { layers: [{ weight: np.ones([2, 3]), bias: np.zeros([2]) }], __metadata__: { format: "pt" } };
 * const bytes = io.save(params);
 * const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
 * console.log(String.fromCharCode(...bytes.subarray(8, 8 + headerLength)).trim());
 * // {"__metadata__":{"format":"pt"},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[8,32]}}
 * ```
 */
export function save(tree: unknown): Uint8Array {
  const entries = collect(tree);
  const metadata = metadataOf(tree);
  entries.sort((a, b) => ORDER[b.array.dtype] - ORDER[a.array.dtype] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // the header's entries in data order (built by hand: a JS object would put integer-like names first)
  const header: string[] = [];
  if (metadata) header.push(`${JSON.stringify(META)}:${JSON.stringify(metadata)}`);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const { name, array } of entries) {
    const bytes = littleEndianBytes(array.concreteValue("io.save").buffer);
    header.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: CODES[array.dtype], shape: array.shape, data_offsets: [offset, offset + bytes.length] })}`);
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = `{${header.join(",")}}`;
  const encoder = new TextEncoder();
  let headerBytes = encoder.encode(json);
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) headerBytes = encoder.encode((json += " ".repeat(pad)));
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function fail(what: string): never {
  throw new Error(`io.load: ${what}`);
}

/** A typed array of `dtype` holding `bytes` (little-endian), copied so it is aligned and owned. */
function fromLittleEndian(dtype: DType, bytes: Uint8Array, size: number): TypedArray {
  const copy = new Uint8Array(bytes); // a copy: aligned, independent of the input (a Node Buffer's slice() would be a view)
  if (dtype === "bool") {
    for (let i = 0; i < copy.length; i++) copy[i] = copy[i] ? 1 : 0;
    return copy;
  }
  if (LITTLE_ENDIAN)
    return dtype === "float64" ? new Float64Array(copy.buffer) : dtype === "float32" ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer);
  const dv = new DataView(copy.buffer);
  const out = dtype === "float64" ? new Float64Array(size) : dtype === "float32" ? new Float32Array(size) : new Int32Array(size);
  for (let i = 0; i < size; i++)
    out[i] = dtype === "float64" ? dv.getFloat64(i * 8, true) : dtype === "float32" ? dv.getFloat32(i * 4, true) : dv.getInt32(i * 4, true);
  return out;
}

/** Objects whose keys are exactly 0..n-1 become JS arrays (recursively). */
function listify(node: unknown): unknown {
  if (!isPlainObject(node)) return node;
  const keys = Object.keys(node);
  for (const k of keys) node[k] = listify(node[k]);
  const isList = keys.length > 0 && keys.every((k) => /^(0|[1-9]\d*)$/.test(k) && Number(k) < keys.length);
  return isList ? keys.map((_, i) => node[String(i)]) : node;
}

/**
 * Reads safetensors bytes (from {@link save}, PyTorch's or JAX's safetensors writers)
 * back into a pytree: tensor names are split at `.` into nested objects, and a level
 * whose keys are exactly `0..n-1` becomes a JS array. The file's `__metadata__` string
 * map, if any, is kept under that key. Dtypes F32, F64, I32 and BOOL are read; others
 * (F16, BF16, I64, ...) are an Error naming the tensor.
 *
 * @example
 * ```ts
 * import { io, np } from "cotangent";
 * const bytes = io.save({ layers: [{ w: np.array([1, 2]) }, { w: np.array([3]) }], __metadata__: { step: "10" } });
 * const tree = io.load(bytes) as { layers: { w: np.Array }[]; __metadata__: Record<string, string> };
 * console.log(tree.layers.length, tree.layers[1]!.w.toJs(), tree.__metadata__.step); // 2 [3] 10
 * ```
 */
export function load(bytes: Uint8Array): LoadedTree {
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array (e.g. fs.readFileSync(path)), got ${describeValue(bytes)}.`);
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a safetensors file (it starts with an 8-byte header length).`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > bytes.length - 8) fail(`the header length says ${n} bytes but only ${bytes.length - 8} follow; the file is truncated or not safetensors.`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid UTF-8 JSON (${(e as Error).message}); the file is not safetensors.`);
  }
  if (!isPlainObject(header)) fail(`the header must be a JSON object, got ${describeValue(header)}.`);
  const data = bytes.subarray(8 + n);
  const root: Record<string, unknown> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === META) {
      if (!isPlainObject(info) || !Object.values(info).every((v) => typeof v === "string"))
        fail(`${META} must be an object of strings, got ${describeValue(info)}.`);
      root[META] = { ...info };
      continue;
    }
    if (!isPlainObject(info)) fail(`the entry of "${name}" is ${describeValue(info)}, not {dtype, shape, data_offsets}.`);
    const { dtype: code, shape, data_offsets: offsets } = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = typeof code === "string" ? DTYPES[code] : undefined;
    if (!dtype)
      fail(
        `tensor "${name}" has dtype ${describeValue(code)}; cotangent reads F32, F64, I32 and BOOL. Convert it before saving (e.g. tensor.float() in PyTorch).`,
      );
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0))
      fail(`tensor "${name}" has shape ${describeValue(shape)}, not a list of non-negative integers.`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0))
      fail(`tensor "${name}" has data_offsets ${describeValue(offsets)}, not [begin, end].`);
    const [begin, end] = offsets as [number, number];
    const size = sizeOf(shape as number[]);
    if (end - begin !== size * BYTES[dtype])
      fail(
        `tensor "${name}" (${code} ${fmtShape(shape as number[])}) needs ${size * BYTES[dtype]} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}.`,
      );
    if (end > data.length) fail(`tensor "${name}" ends at byte ${end} of the data but the file holds ${data.length}; the file is truncated.`);
    const array = new ConcreteArray(new ShapedArray(shape as number[], dtype), fromLittleEndian(dtype, data.subarray(begin, end), size));
    const parts = name.split(".");
    if (parts.some((p) => p === "")) fail(`tensor name ${JSON.stringify(name)} has an empty part between dots.`);
    let node = root;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) {
        if (p in node) fail(`tensor "${name}" clashes with another tensor whose name extends it.`);
        node[p] = array;
        return;
      }
      const next = node[p];
      if (next === undefined) node = node[p] = {} as Record<string, unknown>;
      else if (isPlainObject(next)) node = next;
      else fail(`tensor "${name}" is nested under "${parts.slice(0, i + 1).join(".")}", which is itself a tensor.`);
    });
  }
  if (!(META in root)) return listify(root) as LoadedTree;
  // with metadata the root stays an object (its keys include __metadata__)
  for (const k of Object.keys(root)) if (k !== META) root[k] = listify(root[k]);
  return root as LoadedTree;
}
