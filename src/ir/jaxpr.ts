/**
 * The IR: jaxprs in A-normal form, their printer (JAX's format), typechecker and
 * evaluator. Jaxprs are immutable (frozen on construction).
 * @module
 */
import { ConcreteArray, NDArray, ShapedArray } from "../core/array.js";
import { isFloat, shortName } from "../core/dtype.js";
import { type Params, type Primitive, bind } from "../core/trace.js";

let varCounter = 0;

/**
 * A typed variable of a jaxpr. Variables are compared by identity; the printer names
 * them `a`, `b`, … in order of appearance.
 *
 * @example
 * ```ts
 * import { makeJaxpr, Var, np } from "cotangent";
 * const { jaxpr } = makeJaxpr((x: np.Array) => np.exp(x))(np.zeros([2]));
 * const v = jaxpr.inVars[0]!;
 * console.log(v instanceof Var, v.aval.toString()); // true f32[2]
 * ```
 */
export class Var {
  readonly id = varCounter++;
  constructor(readonly aval: ShapedArray) {}
}

/**
 * A scalar constant written inline in the IR, e.g. `2.0:f32[]`.
 *
 * @example
 * ```ts
 * import { makeJaxpr, Literal, np } from "cotangent";
 * const { jaxpr } = makeJaxpr((x: np.Array) => np.add(x, 1))(np.zeros([2]));
 * const lit = jaxpr.eqns[0]!.inputs[1]!;
 * console.log(lit instanceof Literal && lit.value, lit.aval.toString()); // 1 f32[]
 * ```
 */
export class Literal {
  readonly aval: ShapedArray;
  constructor(readonly val: ConcreteArray) {
    this.aval = val.aval;
  }
  get value(): number {
    return val0(this.val);
  }
}
function val0(c: ConcreteArray): number {
  return c.buffer[0]!;
}

export type Atom = Var | Literal;

/** One equation: `outVars = primitive[params] inputs`. */
export interface JaxprEqn {
  readonly primitive: Primitive;
  readonly inputs: readonly Atom[];
  readonly params: Params;
  readonly outVars: readonly Var[];
}

/**
 * A jaxpr: constants' variables, inputs, equations and outputs, in A-normal form
 * (every equation applies one primitive to variables or literals). Immutable.
 *
 * @example
 * ```ts
 * import { makeJaxpr, np } from "cotangent";
 * const { jaxpr } = makeJaxpr((x: np.Array) => np.sum(np.sin(x)))(np.zeros([3]));
 * console.log(jaxpr.eqns.map((e) => e.primitive.name)); // ["sin", "reduce_sum"]
 * console.log(jaxpr.inAvals.map(String), jaxpr.outAvals.map(String)); // ["f32[3]"] ["f32[]"]
 * ```
 */
export class Jaxpr {
  readonly constVars: readonly Var[];
  readonly inVars: readonly Var[];
  readonly eqns: readonly JaxprEqn[];
  readonly outs: readonly Atom[];
  constructor(constVars: readonly Var[], inVars: readonly Var[], eqns: readonly JaxprEqn[], outs: readonly Atom[]) {
    this.constVars = Object.freeze([...constVars]);
    this.inVars = Object.freeze([...inVars]);
    this.eqns = Object.freeze(eqns.map((e) => Object.freeze({ ...e, inputs: Object.freeze([...e.inputs]), outVars: Object.freeze([...e.outVars]) })));
    this.outs = Object.freeze([...outs]);
    Object.freeze(this);
  }
  get inAvals(): ShapedArray[] {
    return this.inVars.map((v) => v.aval);
  }
  get outAvals(): ShapedArray[] {
    return this.outs.map((v) => v.aval);
  }
  toString(): string {
    return printJaxpr(this);
  }
}

/**
 * A jaxpr with the values of its constants, as {@link makeJaxpr} returns. Its
 * `toString()` prints the IR in JAX's style.
 *
 * @example
 * ```ts
 * import { makeJaxpr, np } from "cotangent";
 * const w = np.array([1, 2, 3]);
 * const closed = makeJaxpr((x: np.Array) => np.multiply(x, w))(np.zeros([3]));
 * console.log(closed.consts.map((c) => c.toJs())); // [[1, 2, 3]]
 * console.log(closed.toString()); // { lambda a:f32[3]; b:f32[3]. let c:f32[3] = mul b a in (c) }
 * ```
 */
export class ClosedJaxpr {
  constructor(
    readonly jaxpr: Jaxpr,
    readonly consts: readonly NDArray[],
  ) {
    if (consts.length !== jaxpr.constVars.length) throw new Error("ClosedJaxpr: consts do not match constVars");
    Object.freeze(this);
  }
  get inAvals(): ShapedArray[] {
    return this.jaxpr.inAvals;
  }
  get outAvals(): ShapedArray[] {
    return this.jaxpr.outAvals;
  }
  /** The IR printed in JAX's style. */
  toString(): string {
    return printJaxpr(this.jaxpr);
  }
}

// ---------------------------------------------------------------- printer

/** Spreadsheet-style names a, b, …, z, aa, ab, … as the printer uses. */
export function varName(i: number): string {
  let s = "";
  i += 1;
  while (i > 0) {
    i -= 1;
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  }
  return s;
}

export function formatNumber(v: number, floating: boolean): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (floating && Number.isInteger(v)) return v.toFixed(1);
  if (floating) return String(Number(v.toPrecision(7)));
  return String(v);
}

export function formatParam(v: unknown): string {
  if (v instanceof ClosedJaxpr || v instanceof Jaxpr) return "{...}";
  if (Array.isArray(v)) return `(${v.map(formatParam).join(",")}${v.length === 1 ? "," : ""})`;
  if (typeof v === "function") return v.name || "fn";
  if (v === null || v === undefined) return "None";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function defaultParams(params: Params): string {
  const keys = Object.keys(params).filter((k) => params[k] !== undefined);
  if (keys.length === 0) return "";
  return `[${keys.map((k) => `${k}=${formatParam(params[k])}`).join(" ")}]`;
}

/** Prints a jaxpr as JAX does: one line when short, one equation per line otherwise. */
export function printJaxpr(jaxpr: Jaxpr, indent = 0): string {
  const names = new Map<Var, string>();
  let n = 0;
  const name = (v: Var): string => {
    let s = names.get(v);
    if (s === undefined) {
      s = varName(n++);
      names.set(v, s);
    }
    return s;
  };
  const atom = (a: Atom): string => (a instanceof Literal ? `${formatNumber(a.value, isFloat(a.aval.dtype))}:${shortName(a.aval.dtype)}[]` : name(a));
  const decl = (v: Var): string => `${name(v)}:${v.aval.toString()}`;
  const consts = jaxpr.constVars.map(decl).join(" ");
  const ins = jaxpr.inVars.map(decl).join(" ");
  const eqns = jaxpr.eqns.map((e) => {
    const lhs = e.outVars.map(decl).join(" ");
    const ps = e.primitive.printParams ? e.primitive.printParams(e.params) : defaultParams(e.params);
    const rhs = [e.primitive.name + ps, ...e.inputs.map(atom)].join(" ");
    return `${lhs} = ${rhs}`;
  });
  const outs = `(${jaxpr.outs.map(atom).join(", ")})`;
  const head = `{ lambda ${consts}${consts ? "" : ""}; ${ins}. let`;
  const oneLine = `${head} ${eqns.join("; ")}${eqns.length ? " " : ""}in ${outs} }`;
  if (oneLine.length <= 100 && !oneLine.includes("\n")) return oneLine;
  const pad = " ".repeat(indent);
  return `${head}\n${eqns.map((l) => `${pad}    ${l.replace(/\n/g, `\n${pad}    `)}`).join("\n")}\n${pad}  in ${outs} }`;
}

// ---------------------------------------------------------------- typecheck

/**
 * Checks that a jaxpr is well formed: every variable defined once before use, every
 * equation's output types equal to its primitive's abstract evaluation. Throws an
 * Error describing the first problem.
 *
 * @example
 * ```ts
 * import { makeJaxpr, typecheckJaxpr, Jaxpr, Var, ShapedArray, np } from "cotangent";
 * typecheckJaxpr(makeJaxpr((x: np.Array) => np.exp(x))(np.zeros([2])).jaxpr); // passes
 * const undefinedVar = new Var(new ShapedArray([2], "float32"));
 * try {
 *   typecheckJaxpr(new Jaxpr([], [], [], [undefinedVar]));
 * } catch (e) {
 *   console.log((e as Error).message); // typecheck: variable f32[2] is used before it is defined (outputs)
 * }
 * ```
 */
export function typecheckJaxpr(jaxpr: Jaxpr): void {
  const defined = new Set<Var>();
  const define = (v: Var, where: string): void => {
    if (defined.has(v)) throw new Error(`typecheck: variable ${v.aval.toString()} is defined twice (${where})`);
    defined.add(v);
  };
  const use = (a: Atom, where: string): void => {
    if (a instanceof Var && !defined.has(a)) throw new Error(`typecheck: variable ${a.aval.toString()} is used before it is defined (${where})`);
  };
  jaxpr.constVars.forEach((v) => define(v, "constvar"));
  jaxpr.inVars.forEach((v) => define(v, "invar"));
  jaxpr.eqns.forEach((e, i) => {
    const where = `equation ${i}: ${e.primitive.name}`;
    e.inputs.forEach((a) => use(a, where));
    let expected: ShapedArray[];
    try {
      expected = e.primitive.abstractEval(
        e.inputs.map((a) => a.aval),
        e.params,
      );
    } catch (err) {
      throw new Error(`typecheck: ${where} rejects its inputs: ${(err as Error).message}`);
    }
    if (expected.length !== e.outVars.length) throw new Error(`typecheck: ${where} has ${e.outVars.length} outputs, expected ${expected.length}`);
    e.outVars.forEach((v, j) => {
      if (!v.aval.equals(expected[j]!))
        throw new Error(`typecheck: ${where} output ${j} is declared ${v.aval.toString()} but the primitive gives ${expected[j]!.toString()}`);
      define(v, where);
    });
  });
  jaxpr.outs.forEach((a) => use(a, "outputs"));
}

// ---------------------------------------------------------------- evaluation

/**
 * Evaluates a jaxpr on arguments by binding each equation, so it works eagerly and
 * under any transform. Throws when the number of arguments differs from the inputs.
 *
 * @example
 * ```ts
 * import { makeJaxpr, evalJaxpr, grad, np } from "cotangent";
 * const { jaxpr, consts } = makeJaxpr((x: np.Array) => np.add(np.exp(x), 1))(np.zeros([]));
 * console.log(evalJaxpr(jaxpr, consts, [np.array(0)])[0]!.item()); // 2
 * const g = grad((x: np.Array) => evalJaxpr(jaxpr, consts, [x])[0]!);
 * console.log(g(np.array(0)).item()); // 1
 * ```
 */
export function evalJaxpr(jaxpr: Jaxpr, consts: readonly NDArray[], args: readonly NDArray[]): NDArray[] {
  if (args.length !== jaxpr.inVars.length) throw new Error(`evalJaxpr: expected ${jaxpr.inVars.length} arguments, got ${args.length}`);
  const env = new Map<Var, NDArray>();
  const read = (a: Atom): NDArray => (a instanceof Literal ? a.val : env.get(a)!);
  jaxpr.constVars.forEach((v, i) => env.set(v, consts[i]!));
  jaxpr.inVars.forEach((v, i) => env.set(v, args[i]!));
  for (const e of jaxpr.eqns) {
    const outs = bind(e.primitive, e.inputs.map(read), e.params);
    e.outVars.forEach((v, i) => env.set(v, outs[i]!));
  }
  return jaxpr.outs.map(read);
}
