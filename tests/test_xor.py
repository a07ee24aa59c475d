"""XOR, learned with nothing but init_params, grads and sgd_step."""

import numpy as np

import nnfunc as nf

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([0.0, 1.0, 1.0, 0.0])


def test_xor_is_learned_to_full_accuracy() -> None:
    params = nf.init_params([2, 4, 1], hidden="tanh", seed=0)
    for _ in range(2000):  # the params record hidden="tanh"; every step keeps it
        params = nf.sgd_step(params, nf.grads(params, X, Y), lr=0.5)
    assert params.hidden == "tanh"
    assert nf.predict(params, X).tolist() == [0, 1, 1, 0]
    assert nf.loss(params, X, Y) < 0.05
