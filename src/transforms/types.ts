/**
 * The types the transforms compute from the transformed function's type: they keep
 * its parameters and derive their results (gradients shaped like the differentiated
 * arguments, Jacobians shaped like the output with the input's structure at each
 * leaf, ...). Shared by every transform (`grad`, `vjp`, `jit`, `vmap`, `checkpoint`, ...).
 * @module
 */
import type { NDArray } from "../core/array.js";
import type { MapLeaves } from "../core/tree.js";

/**
 * The functions the transforms accept. Parameters are typed `any` only in this bound,
 * so that an unannotated parameter (`grad((x) => ...)`) is `any` as in plain
 * TypeScript rather than `never`; the transforms' results are computed from the
 * function's own parameter and return types.
 */
export type Fn = (...args: any[]) => unknown;

/** The parameter types of `F`. */
export type ArgsOf<F> = F extends (...args: infer P) => unknown ? P : never;

/** The return type of `F`. */
export type ReturnOf<F> = F extends (...args: never[]) => infer R ? R : never;

/**
 * What `grad` and `valueAndGrad` differentiate: a function returning a scalar (an
 * array, or a JS number), or with `hasAux` a pair `[scalar, aux]`.
 */
export type ScalarFunction<H> = (...args: never[]) => H extends true ? readonly [NDArray | number, unknown] : NDArray | number;

/** Which arguments a transform differentiates: one position, or a list of them. */
export type Argnums = number | readonly number[];

type Scalar = string | bigint | symbol;

/**
 * The value the transforms give back for a value of type `T`: number and boolean leaves
 * become arrays (as the transforms convert them), arrays stay arrays, and a type
 * without number or boolean leaves is kept as it is (so a registered class or a named
 * interface keeps its name).
 */
export type ToArrays<T, D extends readonly unknown[] = []> = unknown extends T
  ? T
  : T extends NDArray | number | boolean
    ? NDArray
    : T extends null | undefined | Scalar | ((...a: never[]) => unknown)
      ? T
      : D["length"] extends 10
        ? T
        : true extends HasLooseLeaf<T>
          ? { [K in keyof T]: ToArrays<T[K], [...D, unknown]> }
          : T;

/** Whether the pytree type `T` has a number or boolean leaf (up to 10 levels deep). */
type HasLooseLeaf<T, D extends readonly unknown[] = []> = D["length"] extends 10
  ? false
  : T extends NDArray
    ? false
    : T extends number | boolean
      ? true
      : T extends (...a: never[]) => unknown
        ? false
        : T extends readonly (infer E)[]
          ? HasLooseLeaf<E, [...D, unknown]>
          : T extends object
            ? HasLooseLeaf<T[keyof T], [...D, unknown]>
            : false;

/** What may be passed where a value like `T` is expected as a tangent or cotangent: `T` itself or its array version. */
export type Like<T> = T | ToArrays<T>;

/** One tangent per parameter of `P`, each like its primal. */
export type TangentsOf<P extends readonly unknown[]> = { [K in keyof P]: Like<P[K]> };

/** One cotangent per parameter of `P`, each an array version of its primal. */
export type CotangentsOf<P extends readonly unknown[]> = { -readonly [K in keyof P]: ToArrays<P[K]> };

/** `P[A]` for an argument position `A`, counting from the end when negative. */
type At<P extends readonly unknown[], A> = A extends keyof P ? P[A] : `${A & number}` extends `-${string}` ? P[number] : number extends A ? P[number] : never;

/**
 * The gradient type of a function with parameters `P` differentiated at `A`: the array
 * version of that argument, or a tuple of them for a list of positions.
 */
export type GradOf<P extends readonly unknown[], A> = A extends readonly unknown[] ? { -readonly [K in keyof A]: ToArrays<At<P, A[K]>> } : ToArrays<At<P, A>>;

/** The main output of a function that returns `[out, aux]`. */
export type OutOf<R> = R extends readonly [infer O, unknown] ? O : R extends readonly (infer E)[] ? E : never;

/** The auxiliary output of a function that returns `[out, aux]`. */
export type AuxOf<R> = R extends readonly [unknown, infer X] ? X : R extends readonly (infer E)[] ? E : never;

/** The result type of `grad(f, { argnums: A, hasAux: H })`. */
export type GradResult<F, A, H> = H extends true ? [GradOf<ArgsOf<F>, A>, ToArrays<AuxOf<ReturnOf<F>>>] : GradOf<ArgsOf<F>, A>;

/** The result type of `valueAndGrad(f, { argnums: A, hasAux: H })`: `[value, grads]`, or `[[value, aux], grads]` with `hasAux`. */
export type ValueAndGradResult<F, A, H> = H extends true
  ? [[ToArrays<OutOf<ReturnOf<F>>>, ToArrays<AuxOf<ReturnOf<F>>>], GradOf<ArgsOf<F>, A>]
  : [ToArrays<ReturnOf<F>>, GradOf<ArgsOf<F>, A>];

/** The Jacobian of an output of type `O` with respect to an input of type `I`: `O`'s structure with `I`'s structure at each leaf. */
export type JacobianOf<O, I> = MapLeaves<ToArrays<O>, I>;

/** The result type of `jacfwd(f, { argnums: A, hasAux: H })` / `jacrev`. */
export type JacobianResult<F, A, H> = H extends true
  ? [JacobianOf<OutOf<ReturnOf<F>>, GradOf<ArgsOf<F>, A>>, ToArrays<AuxOf<ReturnOf<F>>>]
  : JacobianOf<ReturnOf<F>, GradOf<ArgsOf<F>, A>>;

/** The result type of `hessian(f, { argnums: A, hasAux: H })`: the Jacobian of the Jacobian. */
export type HessianResult<F, A, H> = H extends true
  ? [JacobianOf<JacobianOf<OutOf<ReturnOf<F>>, GradOf<ArgsOf<F>, A>>, GradOf<ArgsOf<F>, A>>, ToArrays<AuxOf<ReturnOf<F>>>]
  : JacobianOf<JacobianOf<ReturnOf<F>, GradOf<ArgsOf<F>, A>>, GradOf<ArgsOf<F>, A>>;

/** A function with the parameters of `F` that returns `R`. */
export type WithParams<F, R> = (...args: ArgsOf<F>) => R;
