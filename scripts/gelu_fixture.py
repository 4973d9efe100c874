"""Reference values of the exact (erf) GELU and its derivative, from SciPy, for
test/strict/options.test.ts. Run: python3 scripts/gelu_fixture.py > test/fixtures/gelu_exact.json"""
import json

import numpy as np
from scipy.special import ndtr

x = np.array([-30.0, -8.0, -3.5, -1.0, -0.25, 0.0, 1e-8, 0.5, 1.0, 2.0, 5.0, 12.0])
phi = np.exp(-x * x / 2) / np.sqrt(2 * np.pi)
print(json.dumps({"x": x.tolist(), "gelu": (x * ndtr(x)).tolist(), "dgelu": (ndtr(x) + x * phi).tolist()}))
