"""Fixtures for test/conv: convolutions and window reductions computed with SciPy/NumPy.

Run: python3 scripts/fixtures_conv.py  (writes test/fixtures/conv.json)

Each convolution case is in the default layout (lhs NCH..., rhs OIH..., out NCH...) and
computed as JAX/XLA define it (a cross-correlation summed over input channels) with
scipy.signal.correlate on each (image, in-channel) pair; strides subsample the
stride-1 result, explicit padding is applied with numpy.pad first.
"""
import json
import pathlib

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import correlate

rng = np.random.default_rng(20261203)


def conv_case(name, x_shape, w_shape, strides, padding):
    x = rng.uniform(-1, 1, x_shape)
    w = rng.uniform(-1, 1, w_shape)
    xp = np.pad(x, [(0, 0), (0, 0)] + [tuple(p) for p in padding])
    n, c = x_shape[:2]
    o = w_shape[0]
    outs = []
    for i in range(n):
        per_o = []
        for j in range(o):
            acc = sum(correlate(xp[i, k], w[j, k], mode="valid", method="direct") for k in range(c))
            acc = acc[tuple(slice(None, None, s) for s in strides)]
            per_o.append(acc)
        outs.append(per_o)
    out = np.array(outs)
    return {
        "name": name,
        "x": x.ravel().tolist(), "xShape": list(x_shape),
        "w": w.ravel().tolist(), "wShape": list(w_shape),
        "strides": list(strides), "padding": [list(p) for p in padding],
        "out": out.ravel().tolist(), "outShape": list(out.shape),
    }


def window_case(name, op, x_shape, window, strides, padding):
    x = rng.uniform(-1, 1, x_shape)
    fill = {"add": 0.0, "max": -np.inf, "min": np.inf}[op]
    xp = np.pad(x, [tuple(p) for p in padding], constant_values=fill)
    v = sliding_window_view(xp, window)
    v = v[tuple(slice(None, None, s) for s in strides)]
    axes = tuple(range(len(x_shape), 2 * len(x_shape)))
    out = {"add": np.sum, "max": np.max, "min": np.min}[op](v, axis=axes)
    return {
        "name": name, "op": op,
        "x": x.ravel().tolist(), "xShape": list(x_shape),
        "window": list(window), "strides": list(strides), "padding": [list(p) for p in padding],
        "out": out.ravel().tolist(), "outShape": list(out.shape),
    }


fixtures = {
    "conv": [
        conv_case("2-D valid", (2, 3, 6, 7), (4, 3, 3, 2), (1, 1), [(0, 0), (0, 0)]),
        conv_case("2-D full padding, stride 2x3", (1, 2, 5, 8), (3, 2, 3, 3), (2, 3), [(2, 2), (2, 2)]),
        conv_case("1-D asymmetric padding, stride 2", (3, 2, 11), (2, 2, 4), (2,), [(1, 2)]),
        conv_case("3-D valid", (1, 2, 4, 5, 3), (2, 2, 2, 3, 2), (1, 2, 1), [(0, 1), (1, 0), (0, 0)]),
    ],
    "window": [
        window_case("max pool 2x2 stride 2", "max", (2, 3, 6, 6), (1, 1, 2, 2), (1, 1, 2, 2), [(0, 0)] * 4),
        window_case("max pool 3x3 stride 2 padded", "max", (1, 2, 7, 6), (1, 1, 3, 3), (1, 1, 2, 2), [(0, 0), (0, 0), (1, 1), (1, 0)]),
        window_case("sum 1-D", "add", (4, 9), (1, 3), (1, 2), [(0, 0), (2, 1)]),
        window_case("min 2-D", "min", (5, 6), (2, 3), (1, 2), [(0, 1), (1, 1)]),
    ],
}
path = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "conv.json"
path.write_text(json.dumps(fixtures))
print(f"wrote {path}")
