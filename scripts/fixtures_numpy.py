#!/usr/bin/env python3
"""Reference values for test/numpy/more.test.ts and test/numpy/indexing.test.ts.

Run with Debian's python3-numpy / python3-scipy / python3-mpmath:

    python3 scripts/fixtures_numpy.py > test/fixtures/numpy_more.json

Special functions are evaluated with mpmath at 40 digits (correctly rounded float64
references; SciPy's values are stored beside them); everything else with NumPy on the
float64 inputs written into the file.
"""
import json

import mpmath
import numpy as np
import scipy.special as sp

mpmath.mp.dps = 40
rng = np.random.default_rng(20261203)


def arr(a):
    return np.asarray(a).tolist()


def special():
    xs = np.concatenate([np.linspace(-6, 6, 97), rng.uniform(-27, 27, 40), [1e-10, 0.49, 0.5, 0.51, 0.99, 1.0, 1.15, 2.9, 3.0, 3.1, 5.0, 10.0, 20.0, 26.5]])
    ys = np.concatenate([np.linspace(-0.999, 0.999, 81), [1e-12, 0.5, 0.9, 0.99, 0.999999, 1 - 1e-12, -0.3]])
    gs = np.concatenate([np.linspace(0.01, 30, 120), -np.linspace(0.05, 10.3, 40) + 0.013, [1e-8, 0.9, 1.1, 1.5, 1.9, 2.1, 2.5, 1.4616321449683622, 100.0, 1e5, 171.5]])

    def mp(fn, a):
        return [float(fn(mpmath.mpf(float(v)))) for v in a]

    def mp_lgamma(v):
        return mpmath.log(abs(mpmath.gamma(v)))

    return {
        "x": arr(xs),
        "erf": mp(mpmath.erf, xs),
        "erfc": mp(mpmath.erfc, xs),
        "scipy_erf": arr(sp.erf(xs)),
        "scipy_erfc": arr(sp.erfc(xs)),
        "y": arr(ys),
        "erfinv": mp(mpmath.erfinv, ys),
        "scipy_erfinv": arr(sp.erfinv(ys)),
        "g": arr(gs),
        "lgamma": mp(mp_lgamma, gs),
        "digamma": mp(mpmath.digamma, gs),
        "scipy_lgamma": arr(sp.gammaln(gs)),
        "scipy_digamma": arr(sp.digamma(gs)),
    }


def elementwise():
    u = rng.uniform(-0.95, 0.95, 9)
    r = rng.uniform(-3, 3, 9)
    p = rng.uniform(0.2, 4, 9)
    big = rng.uniform(1.05, 5, 9)
    s = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -3.7, 12.345])
    out = {"u": arr(u), "r": arr(r), "p": arr(p), "big": arr(big), "s": arr(s)}
    out.update(
        arcsin=arr(np.arcsin(u)), arccos=arr(np.arccos(u)), arctan=arr(np.arctan(r)), arctanh=arr(np.arctanh(u)),
        sinh=arr(np.sinh(r)), cosh=arr(np.cosh(r)), arcsinh=arr(np.arcsinh(r)), arccosh=arr(np.arccosh(big)),
        log2=arr(np.log2(p)), log10=arr(np.log10(p)), exp2=arr(np.exp2(r)),
        arctan2=arr(np.arctan2(r, u)), hypot=arr(np.hypot(r, u)), mod=arr(np.mod(r, np.where(u > 0, p, -p))),
        logaddexp=arr(np.logaddexp(r, u * 3)), floor=arr(np.floor(r)), ceil=arr(np.ceil(r)),
        round=arr(np.round(s)), round2=arr(np.round(r, 2)), round_neg=arr(np.round(r * 100, -1)),
    )
    return out


def arrays():
    x = rng.uniform(-2, 2, (3, 4))
    y = rng.uniform(-2, 2, (2, 3, 4))
    ties = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, -1.0, 0.0], [5.0, np.nan, 1.0, 2.0]])
    a = rng.uniform(-1, 1, (2, 3))
    b = rng.uniform(-1, 1, (3, 4))
    c = rng.uniform(-1, 1, (4, 2))
    t3 = rng.uniform(-1, 1, (2, 3, 4))
    idx = np.argsort(x, axis=1)[:, :2]
    out = {"x": arr(x), "y": arr(y), "ties": arr(ties), "a": arr(a), "b": arr(b), "c": arr(c), "t3": arr(t3), "idx": arr(idx)}
    out.update(
        cumsum=arr(np.cumsum(x)), cumsum1=arr(np.cumsum(x, axis=1)), cumprod0=arr(np.cumprod(x, axis=0)),
        cummax0=arr(np.maximum.accumulate(x, axis=0)), cummin1=arr(np.minimum.accumulate(x, axis=1)),
        sort=arr(np.sort(ties)), sort0=arr(np.sort(ties, axis=0)), argsort=arr(np.argsort(ties, kind="stable")), sortflat=arr(np.sort(x, axis=None)),
        flip=arr(np.flip(y)), flip1=arr(np.flip(y, axis=1)), roll=arr(np.roll(x, 3)), roll_axes=arr(np.roll(y, (1, -2), axis=(0, 2))),
        pad_const=arr(np.pad(x, ((1, 0), (2, 1)), constant_values=7)), pad_edge=arr(np.pad(x, 2, mode="edge")),
        pad_reflect=arr(np.pad(x, ((2, 3), (3, 1)), mode="reflect")), pad_symmetric=arr(np.pad(x, ((2, 3), (5, 1)), mode="symmetric")),
        pad_wrap=arr(np.pad(x, ((4, 1), (1, 6)), mode="wrap")),
        tile=arr(np.tile(a, (2, 1, 3))), repeat=arr(np.repeat(a, 2)), repeat_axis=arr(np.repeat(a, [1, 0, 3], axis=1)),
        triu=arr(np.triu(y, 1)), tril=arr(np.tril(x, -1)), diag_v=arr(np.diag(np.array([1.0, 2.0, 3.0]), -1)), diag_m=arr(np.diag(x, 1)),
        diagonal=arr(np.diagonal(t3, offset=1, axis1=1, axis2=2)), diagonal02=arr(np.diagonal(t3, axis1=0, axis2=2)),
        trace=arr(np.trace(x)), trace3=arr(np.trace(t3, offset=-1, axis1=1, axis2=2)),
        einsum_chain=arr(np.einsum("ij,jk,kl->il", a, b, c)), einsum_batch=arr(np.einsum("bij,bjk->bik", t3.transpose(0, 2, 1)[:, :3, :], t3)),
        einsum_trace=arr(np.einsum("ii", x[:, :3])), einsum_outer=arr(np.einsum("i,j->ij", a[0], c[:, 0])),
        einsum_sum=arr(np.einsum("ijk->j", t3)), einsum_implicit=arr(np.einsum("ij,jk", a, b)),
        einsum_diag=arr(np.einsum("ii->i", x[:, :3])), einsum_mixed=arr(np.einsum("bij,jk,bk->bi", t3, c, t3[:, 0, :2])),
        einsum_ell=arr(np.einsum("...ij,jk->...ik", t3, c)), einsum_ell_bcast=arr(np.einsum("...j,...j", a[None, :1, :], t3[:, :, :3])),
        einsum_ell_lead=arr(np.einsum("i...,i...->...", a, a)),
        tensordot=arr(np.tensordot(t3, b, axes=([1], [0]))), tensordot2=arr(np.tensordot(y, x, axes=2)), inner=arr(np.inner(x, y)),
        moveaxis=arr(np.moveaxis(t3, [0, 1], [-1, 0])), swapaxes=arr(np.swapaxes(t3, 0, 2)),
        take_along=arr(np.take_along_axis(x, idx, axis=1)),
        meshgrid_xy=[arr(m) for m in np.meshgrid(a[0], c[:, 0])], meshgrid_ij=[arr(m) for m in np.meshgrid(a[0], c[:, 0], a[1], indexing="ij")],
        isnan=arr(np.isnan(ties)), nan_to_num=arr(np.nan_to_num(np.array([np.nan, np.inf, -np.inf, 1.5]))),
        allclose=[bool(np.allclose(x, x + 1e-9)), bool(np.allclose(x, x + 1e-3)), bool(np.allclose(ties, ties))],
    )
    return out


def parse_index(spec):
    out = []
    for e in spec:
        if e is None:
            out.append(None)
        elif e == "...":
            out.append(Ellipsis)
        elif isinstance(e, str):
            parts = [int(p) if p.strip() else None for p in e.split(":")]
            out.append(slice(*parts))
        elif isinstance(e, list):
            out.append(np.array(e, dtype=np.int64))
        else:
            out.append(e)
    return tuple(out)


INDEX_CASES = [
    [1], [-1], [":", 2], ["1:", "::-1"], ["::2", "-3:-1"], [None, 0, None], ["...", 1], [1, "...", None],
    ["::-2", "3:0:-1"], ["10:", ":"], ["-100:100:3"], [[1, 0, 1]], [":", [2, -3, 0, 2]], [[0, -1], [1, 2]],
    [[[0], [1]], [1, 2]], [[0, 1, 0], ":", 1], [1, ":", [0, 1]], [":", [0, 1], [1, 2]], [[1], "...", [2, 0]],
    [None, [1, 0], "::-1"], [0, None, [1, 2]], ["...", [0, 0]],
]


def indexing():
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(2, 3, 4) * 1.5 - 7
    cases = []
    for spec in INDEX_CASES:
        idx = parse_index(spec)
        got = x[idx]
        upd = rng.uniform(-1, 1, got.shape).round(3)
        set_ = x.copy()
        set_[idx] = upd
        add = x.copy()
        np.add.at(add, idx, upd)
        mul = x.copy()
        np.multiply.at(mul, idx, upd)
        mn = x.copy()
        np.minimum.at(mn, idx, upd)
        mx = x.copy()
        np.maximum.at(mx, idx, upd)
        cases.append({"index": spec, "get": arr(got), "shape": list(got.shape), "update": arr(upd), "set": arr(set_), "add": arr(add), "multiply": arr(mul), "min": arr(mn), "max": arr(mx)})
    v = np.arange(10.0)
    steps = []
    for start, stop, step in [(0, 10, 3), (1, 9, 2), (9, 0, -2), (None, None, -1), (7, None, -3), (2, 2, 1), (5, 4, -1)]:
        steps.append({"start": start, "stop": stop, "step": step, "out": arr(v[slice(start, stop, step)])})
    return {"x": arr(x), "shape": list(x.shape), "cases": cases, "slices": steps}


def strict(v):
    """JSON has no NaN or infinities: they are written as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(v, float) and not np.isfinite(v):
        return "NaN" if np.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, list):
        return [strict(e) for e in v]
    if isinstance(v, dict):
        return {k: strict(e) for k, e in v.items()}
    return v


print(json.dumps(strict({"special": special(), "elementwise": elementwise(), "arrays": arrays(), "indexing": indexing()}), allow_nan=False))
