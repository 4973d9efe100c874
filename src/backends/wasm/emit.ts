/**
 * A minimal WebAssembly bytecode writer: enough to emit small modules with SIMD
 * kernels (types, an imported memory, functions, exports).
 * @module
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}
function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}
/** Appends `src` to `out` (a loop: spreading a big function body overflows the call stack). */
function append(out: number[], src: readonly number[] | Uint8Array): void {
  const CHUNK = 8192;
  if (src.length <= CHUNK) out.push(...src);
  else for (let i = 0; i < src.length; i += CHUNK) out.push(...src.slice(i, i + CHUNK));
}
function str(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  append(out, bytes);
}
function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  append(out, body);
}

/** Builds one function body instruction by instruction. */
export class FuncBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  constructor(readonly params: ValType[]) {}
  /** Declares a local and returns its index. */
  local(t: ValType): number {
    this.localTypes.push(t);
    return this.params.length + this.localTypes.length - 1;
  }
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(i: number): this {
    this.code.push(0x20);
    uleb(i, this.code);
    return this;
  }
  set(i: number): this {
    this.code.push(0x21);
    uleb(i, this.code);
    return this;
  }
  tee(i: number): this {
    this.code.push(0x22);
    uleb(i, this.code);
    return this;
  }
  i32(n: number): this {
    this.code.push(0x41);
    sleb(n | 0, this.code);
    return this;
  }
  /** A SIMD instruction (0xfd prefix), with a memarg for loads/stores. */
  simd(opcode: number, memarg?: { align: number; offset: number }): this {
    this.code.push(0xfd);
    uleb(opcode, this.code);
    if (memarg) {
      uleb(memarg.align, this.code);
      uleb(memarg.offset, this.code);
    }
    return this;
  }
  mem(opcode: number, align: number, offset: number): this {
    this.code.push(opcode);
    uleb(align, this.code);
    uleb(offset, this.code);
    return this;
  }
  /** `block; loop; <exit test>; body; br 0; end; end`: loops while `cond` leaves a non-zero value... inverted: `exitIf` pushes the exit condition. */
  whileLoop(exitIf: () => void, body: () => void): this {
    this.code.push(0x02, 0x40, 0x03, 0x40);
    exitIf();
    this.code.push(0x0d, 0x01); // br_if 1 (exit the block)
    body();
    this.code.push(0x0c, 0x00, 0x0b, 0x0b); // br 0; end loop; end block
    return this;
  }
  /** `loop; body; <continue test>; br_if 0; end`: body runs at least once. */
  doWhile(body: () => void, continueIf: () => void): this {
    this.code.push(0x03, 0x40);
    body();
    continueIf();
    this.code.push(0x0d, 0x00, 0x0b);
    return this;
  }
  /** `f32.const v`. */
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    this.code.push(0x43, ...b);
    return this;
  }
  /** `f64.const v`. */
  f64(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    this.code.push(0x44, ...b);
    return this;
  }
  /** `v128.const` with the given 16 bytes (little-endian lanes). */
  v128(bytes: ArrayLike<number>): this {
    if (bytes.length !== 16) throw new Error("internal: v128.const needs 16 bytes");
    this.code.push(0xfd, 0x0c, ...Array.from(bytes));
    return this;
  }
  /** A SIMD lane instruction (`extract_lane`, `replace_lane`): the opcode and the lane index. */
  lane(opcode: number, lane: number): this {
    this.simd(opcode);
    this.code.push(lane);
    return this;
  }
  /** A SIMD lane load/store (`v128.storeN_lane`, `v128.loadN_lane`): memarg then lane index. */
  memLane(opcode: number, align: number, offset: number, lane: number): this {
    this.simd(opcode, { align, offset });
    this.code.push(lane);
    return this;
  }
  /** `if (result none) <then> [else <otherwise>] end`, taking the condition from the stack. */
  ifThen(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.code.push(0x0b);
    return this;
  }
  /** Encoded body (locals + code + end). */
  encode(): number[] {
    const body: number[] = [];
    uleb(this.localTypes.length, body);
    for (const t of this.localTypes) body.push(1, t);
    append(body, this.code);
    body.push(0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    append(out, body);
    return out;
  }
}

/** A module with one imported memory ("env"."mem") and exported functions. */
export function buildModule(
  funcs: { name: string; fn: FuncBuilder; results?: ValType[] }[],
  opts: { shared?: boolean; maxPages?: number } = {},
): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(funcs.length, types);
  for (const f of funcs) {
    types.push(0x60);
    uleb(f.fn.params.length, types);
    types.push(...f.fn.params);
    const r = f.results ?? [];
    uleb(r.length, types);
    types.push(...r);
  }
  section(1, types, out);
  const imports: number[] = [1];
  str("env", imports);
  str("mem", imports);
  imports.push(0x02);
  if (opts.shared) {
    imports.push(0x03);
    uleb(1, imports);
    uleb(opts.maxPages ?? 65536, imports);
  } else {
    imports.push(0x00);
    uleb(1, imports);
  }
  section(2, imports, out);
  const fsec: number[] = [];
  uleb(funcs.length, fsec);
  funcs.forEach((_, i) => uleb(i, fsec));
  section(3, fsec, out);
  const exps: number[] = [];
  uleb(funcs.length, exps);
  funcs.forEach((f, i) => {
    str(f.name, exps);
    exps.push(0x00);
    uleb(i, exps);
  });
  section(7, exps, out);
  const code: number[] = [];
  uleb(funcs.length, code);
  for (const f of funcs) append(code, f.fn.encode());
  section(10, code, out);
  return new Uint8Array(out);
}

// opcodes used by the kernels
export const OP = {
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32GeU: 0x4f,
  i32Ne: 0x47,
  f32Load: 0x2a,
  f64Load: 0x2b,
  // added for the fused-kernel compiler (kernel.ts)
  select: 0x1b,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32LtS: 0x48,
  i32LtU: 0x49,
  i32GtS: 0x4a,
  i32GtU: 0x4b,
  i32LeS: 0x4c,
  i32LeU: 0x4d,
  i32GeS: 0x4e,
  i32DivU: 0x6e,
  i32Or: 0x72,
  i32Shl: 0x74,
  i32ShrU: 0x76,
  i32Store: 0x36,
  f32Store: 0x38,
  f64Store: 0x39,
  f64Add: 0xa0,
  f32DemoteF64: 0xb6,
  f64PromoteF32: 0xbb,
} as const;
export const SIMD = {
  v128Load: 0x00,
  v128Store: 0x0b,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f64x2Add: 0xf0,
  f64x2Mul: 0xf2,
} as const;

/** The rest of the SIMD opcodes the fused-kernel compiler and vector math use (0xfd prefix). */
export const SIMD_OPS = {
  v128Load: 0x00,
  load8Splat: 0x07,
  load16Splat: 0x08,
  load32Splat: 0x09,
  load64Splat: 0x0a,
  v128Store: 0x0b,
  i8x16Shuffle: 0x0d,
  i32x4Splat: 0x11,
  i64x2Splat: 0x12,
  f32x4Splat: 0x13,
  f64x2Splat: 0x14,
  i32x4ExtractLane: 0x1b,
  f32x4ExtractLane: 0x1f,
  f32x4ReplaceLane: 0x20,
  f64x2ExtractLane: 0x21,
  f64x2ReplaceLane: 0x22,
  i32x4Eq: 0x37,
  i32x4Ne: 0x38,
  i32x4LtS: 0x39,
  i32x4GtS: 0x3b,
  f32x4Eq: 0x41,
  f32x4Ne: 0x42,
  f32x4Lt: 0x43,
  f32x4Gt: 0x44,
  f32x4Le: 0x45,
  f32x4Ge: 0x46,
  f64x2Eq: 0x47,
  f64x2Ne: 0x48,
  f64x2Lt: 0x49,
  f64x2Gt: 0x4a,
  f64x2Le: 0x4b,
  f64x2Ge: 0x4c,
  v128Not: 0x4d,
  v128And: 0x4e,
  v128Andnot: 0x4f,
  v128Or: 0x50,
  v128Xor: 0x51,
  v128Bitselect: 0x52,
  v128AnyTrue: 0x53,
  store8Lane: 0x58,
  store16Lane: 0x59,
  store32Lane: 0x5a,
  store64Lane: 0x5b,
  load32Zero: 0x5c,
  load64Zero: 0x5d,
  f32x4DemoteF64x2Zero: 0x5e,
  f64x2PromoteLowF32x4: 0x5f,
  i8x16NarrowI16x8U: 0x66,
  f32x4Ceil: 0x67,
  f32x4Floor: 0x68,
  f32x4Trunc: 0x69,
  f32x4Nearest: 0x6a,
  f64x2Ceil: 0x74,
  f64x2Floor: 0x75,
  f64x2Trunc: 0x7a,
  f64x2Nearest: 0x94,
  i16x8NarrowI32x4U: 0x86,
  i16x8ExtendLowI8x16U: 0x89,
  i32x4ExtendLowI16x8U: 0xa9,
  i32x4Shl: 0xab,
  i32x4ShrS: 0xac,
  i32x4ShrU: 0xad,
  i32x4Add: 0xae,
  i32x4Sub: 0xb1,
  i64x2ExtendLowI32x4U: 0xc9,
  i64x2Shl: 0xcb,
  i64x2ShrS: 0xcc,
  i64x2ShrU: 0xcd,
  i64x2Add: 0xce,
  i64x2Sub: 0xd1,
  i64x2Eq: 0xd6,
  i64x2Ne: 0xd7,
  i64x2GtS: 0xd9,
  f32x4Abs: 0xe0,
  f32x4Neg: 0xe1,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
  f32x4Min: 0xe8,
  f32x4Max: 0xe9,
  f32x4Pmin: 0xea,
  f32x4Pmax: 0xeb,
  f64x2Abs: 0xec,
  f64x2Neg: 0xed,
  f64x2Sqrt: 0xef,
  f64x2Add: 0xf0,
  f64x2Sub: 0xf1,
  f64x2Mul: 0xf2,
  f64x2Div: 0xf3,
  f64x2Min: 0xf4,
  f64x2Max: 0xf5,
  f64x2Pmin: 0xf6,
  f64x2Pmax: 0xf7,
  f32x4ConvertI32x4S: 0xfa,
} as const;
