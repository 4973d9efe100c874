#!/usr/bin/env python3
"""Writes test/fixtures/linalg.json: NumPy/SciPy reference values for test/linalg/.

Run from the repository root with Debian's python3-numpy and python3-scipy:
    python3 scripts/fixtures_linalg.py
Inputs are drawn from a seeded generator, so the file is reproducible.
"""
import json
import numpy as np
import scipy.linalg as sl

rng = np.random.default_rng(20261203)


def spd(n):
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n)


def general(*shape):
    # a random matrix plus a multiple of the identity: well conditioned
    a = rng.standard_normal(shape)
    n = shape[-1]
    return a + 2.0 * np.eye(n)


def tolist(x):
    return np.asarray(x, dtype=np.float64).tolist()


cases = {}

a = spd(5)
b = rng.standard_normal(5)
B = rng.standard_normal((5, 3))
w, v = np.linalg.eigh(a)
cases["spd"] = {
    "a": tolist(a), "b": tolist(b), "B": tolist(B),
    "cholesky": tolist(np.linalg.cholesky(a)),
    "inv": tolist(np.linalg.inv(a)),
    "det": float(np.linalg.det(a)),
    "slogdet": [float(s) for s in np.linalg.slogdet(a)],
    "solve_b": tolist(np.linalg.solve(a, b)),
    "solve_B": tolist(np.linalg.solve(a, B)),
    "eigh_w": tolist(w), "eigh_v": tolist(v),
}

g = general(6, 6)
gb = rng.standard_normal((6, 2))
q, r = np.linalg.qr(g)
u, s, vh = np.linalg.svd(g)
cases["general"] = {
    "a": tolist(g), "B": tolist(gb),
    "inv": tolist(np.linalg.inv(g)),
    "det": float(np.linalg.det(g)),
    "slogdet": [float(x) for x in np.linalg.slogdet(g)],
    "solve_B": tolist(np.linalg.solve(g, gb)),
    "qr_q": tolist(q), "qr_r": tolist(r),
    "svd_u": tolist(u), "svd_s": tolist(s), "svd_vh": tolist(vh),
}

for name, shape in [("tall", (7, 4)), ("wide", (3, 5))]:
    x = rng.standard_normal(shape)
    q, r = np.linalg.qr(x)
    qc, rc = np.linalg.qr(x, mode="complete")
    cases[name] = {
        "a": tolist(x),
        "qr_q": tolist(q), "qr_r": tolist(r),
        "qr_complete_q": tolist(qc), "qr_complete_r": tolist(rc),
        "svd_s": tolist(np.linalg.svd(x, compute_uv=False)),
    }

batch = general(2, 3, 4, 4)
cases["batched"] = {
    "a": tolist(batch),
    "det": tolist(np.linalg.det(batch)),
    "inv": tolist(np.linalg.inv(batch)),
    "slogdet_sign": tolist(np.linalg.slogdet(batch)[0]),
    "slogdet_logabsdet": tolist(np.linalg.slogdet(batch)[1]),
    "svd_s": tolist(np.linalg.svd(batch, compute_uv=False)),
    "eigh_w": tolist(np.linalg.eigh(batch + np.swapaxes(batch, -1, -2))[0]),
}

t = np.tril(rng.standard_normal((4, 4))) + 3 * np.eye(4)
tb = rng.standard_normal((4, 2))
cases["triangular"] = {
    "l": tolist(t), "b": tolist(tb),
    "lower": tolist(sl.solve_triangular(t, tb, lower=True)),
    "lower_trans": tolist(sl.solve_triangular(t, tb, lower=True, trans=1)),
    "upper": tolist(sl.solve_triangular(t.T, tb, lower=False)),
    "upper_trans": tolist(sl.solve_triangular(t.T, tb, lower=False, trans=1)),
    "lower_unit": tolist(sl.solve_triangular(t, tb, lower=True, unit_diagonal=True)),
}

sing = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
sign, logabsdet = np.linalg.slogdet(sing)
# JSON has no infinities: logabsdet (-inf) is written as a string
cases["singular"] = {"a": tolist(sing), "det": float(np.linalg.det(sing)), "slogdet": [float(sign), str(logabsdet)]}

with open("test/fixtures/linalg.json", "w") as f:
    json.dump({"generator": "scripts/fixtures_linalg.py", "numpy": np.__version__, "scipy": __import__("scipy").__version__, "cases": cases}, f, indent=1, allow_nan=False)
    f.write("\n")
print("wrote test/fixtures/linalg.json")
