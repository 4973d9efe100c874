/**
 * Misuse of the autodiff transforms gives an Error that names the operation, the
 * shapes/dtypes involved and what to do.
 */
import { describe, expect, it } from "vitest";
import { type Array as NDArray, grad, hessian, hessianVectorProduct, jacfwd, jacrev, jvp, linearize, np, valueAndGrad, vjp } from "../../src/index.js";
import { f64 } from "../helpers/numeric.js";

const ints = np.array([1, 2], { dtype: "int32" });
const bools = np.array([true, false], { dtype: "bool" });

describe("differentiating with respect to integer or bool inputs", () => {
  it("grad and valueAndGrad refuse, naming the dtype and the fix", () => {
    const f = (x: NDArray): NDArray => np.sum(x);
    expect(() => grad(f)(ints)).toThrow(
      /grad: cannot differentiate with respect to an int32 input \(i32\[2\]\).*float32\/float64.*astype\("float32"\).*argnums/,
    );
    expect(() => grad(f)(bools)).toThrow(/grad: cannot differentiate with respect to a bool input \(bool\[2\]\)/);
    expect(() => jacrev((x: NDArray) => x)(bools)).toThrow(/jacrev: cannot differentiate with respect to a bool input/);
    expect(() => valueAndGrad(f)(ints)).toThrow(/valueAndGrad: cannot differentiate .*int32/);
    // an integer leaf inside a parameter pytree, or chosen by argnums
    expect(() => grad((p: { w: NDArray; n: NDArray }) => np.sum(p.w))({ w: f64([1]), n: ints })).toThrow(/int32/);
    expect(() => grad((a: NDArray, b: NDArray) => np.sum(np.multiply(a, b)), { argnums: [0, 1] })(f64([1, 2]), ints)).toThrow(/int32/);
  });

  it("jacfwd, jacrev, hessian and hessianVectorProduct refuse too", () => {
    const f = (x: NDArray): NDArray => np.multiply(x, 2);
    expect(() => jacfwd(f)(ints)).toThrow(/jacfwd: cannot differentiate with respect to an int32 input/);
    expect(() => jacrev(f)(ints)).toThrow(/jacrev: cannot differentiate with respect to an int32 input/);
    expect(() => hessian((x: NDArray) => np.sum(x))(ints)).toThrow(/cannot differentiate with respect to an int32 input/);
    expect(() => hessianVectorProduct((x: NDArray) => np.sum(x))(ints, ints)).toThrow(/cannot differentiate with respect to an int32 input/);
  });
});

describe("grad needs a scalar float output", () => {
  it("a non-scalar output names its shape", () => {
    expect(() => grad((x: NDArray) => np.multiply(x, 2))(np.ones([2, 3]))).toThrow(/grad: f must return a scalar .*f32\[2,3\].*np\.sum.*vjp\/jacrev/);
    expect(() => valueAndGrad((x: NDArray) => x)(f64([1, 2]))).toThrow(/valueAndGrad: f must return a scalar .*f64\[2\]/);
  });
  it("an integer output, or a structure, is refused", () => {
    expect(() => grad((x: NDArray) => np.sum(x).astype("int32"))(f64([1.5]))).toThrow(/scalar float.*i32\[\]/);
    expect(() => grad((x: NDArray) => [np.sum(x), np.sum(x)] as never)(f64([1]))).toThrow(/scalar float.*structure/);
  });
  it("hasAux needs [scalar, aux]", () => {
    expect(() => grad((x: NDArray) => np.sum(x) as never, { hasAux: true })(f64([1]))).toThrow(/hasAux, f must return \[scalar, aux\]/);
    expect(() => grad((x: NDArray) => [np.sum(x)] as never, { hasAux: true })(f64([1]))).toThrow(/hasAux.*length 1/);
  });
  it("argnums out of range", () => {
    expect(() => grad((x: NDArray) => np.sum(x), { argnums: 1 })(f64([1]))).toThrow(/grad: argnums 1 is out of range for a call with 1 argument/);
    expect(() => jacrev((x: NDArray, _y: NDArray) => x, { argnums: [0, 2] })(f64([1]), f64([2]))).toThrow(/jacrev: argnums \[0,2\] is out of range/);
  });
});

describe("an escaped tracer says so", () => {
  it("used in an operation after grad returned", () => {
    let leaked: NDArray | undefined;
    grad((x: NDArray) => {
      leaked = np.sin(x);
      return np.sum(x);
    })(f64([1, 2]));
    expect(() => np.add(leaked!, 1)).toThrow(/tracer .*transform that has already finished.*stored in an outer variable/);
    // reading its value is refused too, instead of returning a stale number
    expect(() => leaked!.toJs()).toThrow(/toJs\(\).*escaped its .* transform/);
    expect(() => leaked!.item()).toThrow(/item\(\).*escaped/);
    // its shape is still known
    expect(leaked!.shape).toEqual([2]);
  });

  it("used inside a later transform", () => {
    let leaked: NDArray | undefined;
    vjp((x: NDArray) => {
      leaked = np.multiply(x, 2);
      return x;
    }, f64(1));
    expect(() => grad((y: NDArray) => np.sum(np.multiply(y, leaked!)))(f64(3))).toThrow(/already finished/);
    let leakedJvp: NDArray | undefined;
    jvp(
      (x: NDArray) => {
        leakedJvp = np.exp(x);
        return x;
      },
      [f64(0)],
      [f64(1)],
    );
    expect(() => np.multiply(leakedJvp!, 2)).toThrow(/already finished/);
    expect(() => leakedJvp!.data()).toThrow(/escaped/);
  });

  it("values returned through hasAux are not tracers", () => {
    const [, aux] = grad(
      (x: NDArray) => {
        const y = np.sin(x);
        return [np.sum(y), y];
      },
      { hasAux: true },
    )(f64([0]));
    expect(np.add(aux, 1).toJs()).toEqual([1]);
  });
});

describe("mismatched tangents and cotangents", () => {
  const f = (x: NDArray): NDArray => np.sin(x);
  it("jvp", () => {
    expect(() => jvp(f, [f64([1, 2])], [f64([1, 2, 3])])).toThrow(/jvp: tangent 0 has shape \[3\] but its primal has shape \[2\]/);
    expect(() => jvp(f, [f64([1, 2])], [np.array([1, 2])])).toThrow(/jvp: tangent 0 has dtype float32 but its primal has dtype float64.*astype\("float64"\)/);
    expect(() => jvp(f, [f64([1, 2])], [[f64([1, 2])]] as never)).toThrow(/jvp: tangents have structure .* but primals have/);
    expect(() => jvp(f, f64([1]) as never, [f64([1])])).toThrow(/jvp: primals and tangents must be JS arrays/);
  });
  it("linearize", () => {
    const [, fJvp] = linearize(f, f64([1, 2]));
    expect(() => fJvp(f64([1]))).toThrow(/linearize: tangent 0 has shape \[1\] but its primal has shape \[2\]/);
    expect(() => (fJvp as (...t: unknown[]) => unknown)(f64([1, 2]), f64(1))).toThrow(/linearize: tangents have structure/);
  });
  it("vjp", () => {
    const [, back] = vjp(f, f64([[1, 2]]));
    expect(() => back(f64([1, 2]))).toThrow(/vjp: cotangent 0 has shape \[2\] but the output has shape \[1,2\]/);
    expect(() => back(np.array([[1, 2]]))).toThrow(/vjp: cotangent 0 has dtype float32 but the output has dtype float64/);
    expect(() => back([f64([[1, 2]])] as never)).toThrow(/vjp: the cotangent has structure .* but the output has/);
  });
});
