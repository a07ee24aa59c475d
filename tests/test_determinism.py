"""Same seed, same bits, whatever the BLAS thread count.

Each case trains in a fresh interpreter with ``OPENBLAS_NUM_THREADS`` (and
the OpenMP and MKL equivalents) set to 1 and to 2, and the results must be
bit-identical: params, optimizer state and every number in the history.
The cases cover the reductions that used to go through BLAS (the global
norm of clipping, the L2 term, the half squared error) with long enough
arrays that BLAS would split them across threads.

Matrix products are the exception, and the promise is exactly this: the
reductions nnfunc writes are fixed-order, but OpenBLAS's own ``gemm``
(SkylakeX kernel here) gives different last bits for 1 and 2 threads on
products like ``(128, 300) @ (300, 256)`` (measured with threadpoolctl
on numpy 2.4 / OpenBLAS 0.3.31), so a whole training run is bit-identical
only for the same thread count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import hashlib, sys
import numpy as np
import nnfunc as nf
from nnfunc.losses import half_sse
case = sys.argv[1]
rng = np.random.default_rng(0)
g = {"W1": rng.standard_normal((2000, 1000)), "b1": rng.standard_normal(1000)}
if case == "clip":
    out = [nf.global_norm(g), *nf.clip_by_global_norm(g, 0.5).values()]
elif case == "l2":
    p = nf.freeze({"W1": g["W1"], "b1": g["b1"]}, output="identity")
    x, y = np.zeros((1, 2000)), np.zeros((1, 1000))  # zero inputs: no product
    out = [nf.loss(p, x, y, l2=0.1)]
else:  # identity: the half squared error
    out = [half_sse(rng.standard_normal((2000, 1000)), np.zeros((2000, 1000)))]
h = hashlib.sha256()
for v in out:
    h.update(np.asarray(v).tobytes())
print(h.hexdigest())
"""


def _run(case: str, threads: int) -> str:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, case],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["clip", "l2", "identity"])
def test_reductions_are_bit_identical_for_1_and_2_blas_threads(case: str) -> None:
    one, two = _run(case, 1), _run(case, 2)
    assert len(one) == 64
    assert one == two
