"""check_grads: it passes a right gradient and catches a wrong one."""

from __future__ import annotations

import nnfunc as nf
from tests.strategies import make_case


def test_check_grads_catches_a_wrong_gradient() -> None:
    case = make_case([3, 4, 2], 5, seed=1, hidden="tanh", output="softmax")
    g = nf.grads(case.params, case.x, case.y, hidden="tanh", output="softmax")
    wrong = nf.freeze({k: v * (1.01 if k == "W1" else 1.0) for k, v in g.items()})

    def f(p: nf.Params) -> float:
        return nf.loss(p, case.x, case.y, hidden="tanh", output="softmax")

    assert nf.check_grads(f, case.params, g).ok
    assert not nf.check_grads(f, case.params, wrong).ok
    assert not nf.check_grads(f, case.params, wrong, mode="coordinate").ok
