"""Chebyshev coefficients of erfc for nn.gelu's exact (erf) form (src/nn/erfc.ts).

For z >= 0, with t = 2 / (2 + z) and u = 2t - 1 in (-1, 1]:
    erfc(z) = t * exp(-z^2 + sum_k c_k T_k(u))
(the form of Numerical Recipes' erfccheb). g(u) = log(erfcx(z) / t) is smooth on [-1, 1]
(erfcx(z) = exp(z^2) erfc(z) is scipy's scaled erfc), so a Chebyshev interpolant of
modest degree reaches float64 rounding. Run: python3 scripts/erfc_chebyshev.py
"""
import json
import sys

import numpy as np
from numpy.polynomial import chebyshev as C
from scipy.special import erfc, erfcx

DEG = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def g(u):
    t = (u + 1) / 2
    z = 2 / t - 2
    return np.log(erfcx(z) / t)


c = C.chebinterpolate(g, DEG)
z = np.concatenate([np.linspace(0, 6, 20001), np.linspace(6, 26, 2001)])
t = 2 / (2 + z)
approx = t * np.exp(-z * z + C.chebval(2 * t - 1, c))
rel = np.max(np.abs(approx / erfc(z) - 1))
print(f"// degree {DEG}: max relative error of erfc on [0, 26]: {rel:.2e}", file=sys.stderr)
print(json.dumps([float(v) for v in c]))
