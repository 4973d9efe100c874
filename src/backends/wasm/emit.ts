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
function str(s: string, out: number[]): void {
  const bytes = new TextEncoder().encode(s);
  uleb(bytes.length, out);
  out.push(...bytes);
}
function section(id: number, body: number[], out: number[]): void {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
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
  /** Encoded body (locals + code + end). */
  encode(): number[] {
    const body: number[] = [];
    uleb(this.localTypes.length, body);
    for (const t of this.localTypes) body.push(1, t);
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(body.length, out);
    out.push(...body);
    return out;
  }
}

/** A module with one imported memory ("env"."mem") and exported functions. */
export function buildModule(funcs: { name: string; fn: FuncBuilder; results?: ValType[] }[], opts: { shared?: boolean; maxPages?: number } = {}): Uint8Array<ArrayBuffer> {
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
  for (const f of funcs) code.push(...f.fn.encode());
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
