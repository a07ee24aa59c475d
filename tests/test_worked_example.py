"""One SGD step of a 2-2-1 network, worked by hand.

Network: x = [1, 2], target y = 1, ReLU hidden layer, sigmoid output (BCE).

    W1 = [[0.1, -0.2],      b1 = [0.0, -0.1]
          [0.3,  0.4]]
    W2 = [[ 0.5],           b2 = [0.2]
          [-1.0]]

Forward:
    z1 = x W1 + b1 = [1*0.1 + 2*0.3 + 0.0, 1*(-0.2) + 2*0.4 - 0.1] = [0.7, 0.5]
    a1 = relu(z1) = [0.7, 0.5]
    z2 = a1 W2 + b2 = 0.7*0.5 + 0.5*(-1.0) + 0.2 = 0.05
    a2 = sigmoid(0.05) = 0.512497396484210...
    loss = log(1 + e^0.05) - 1 * 0.05 = -log(a2) = 0.668459648013...

Backward (batch of 1, so no division):
    delta2 = a2 - y = -0.487502603515789...                       (BP1)
    dW2 = a1^T delta2 = [[0.7 * delta2], [0.5 * delta2]]           (BP4)
        = [[-0.341251822461052], [-0.243751301757894]]
    db2 = [delta2]                                                 (BP3)
    delta1 = (delta2 W2^T) * relu'(z1) = [0.5 delta2, -1.0 delta2] * [1, 1]
           = [-0.243751301757894, 0.487502603515789]               (BP2)
    dW1 = x^T delta1 = [[1 * delta1], [2 * delta1]]
        = [[-0.243751301757894, 0.487502603515789],
           [-0.487502603515789, 0.975005207031579]]
    db1 = delta1

Step with lr = 0.1: each parameter minus 0.1 times its gradient, e.g.
    W2' = [[0.5 + 0.0341251822461052], [-1.0 + 0.0243751301757894]]
        = [[0.534125182246105], [-0.975624869824211]]
"""

from __future__ import annotations

import numpy as np

import nnfunc as nf

X = np.array([[1.0, 2.0]])
Y = np.array([1.0])
PARAMS = nf.freeze(
    {
        "W1": np.array([[0.1, -0.2], [0.3, 0.4]]),
        "b1": np.array([0.0, -0.1]),
        "W2": np.array([[0.5], [-1.0]]),
        "b2": np.array([0.2]),
    }
)

A2 = 0.512497396484210  # sigmoid(0.05), to 15 digits
DELTA2 = A2 - 1.0


def test_one_sgd_step_by_hand() -> None:
    assert abs(nf.forward(PARAMS, X, hidden="relu")[0, 0] - A2) < 1e-12
    assert abs(nf.loss(PARAMS, X, Y, hidden="relu") - 0.668459648013) < 1e-12
    g = nf.grads(PARAMS, X, Y, hidden="relu")
    expected_grads: dict[str, list[float] | list[list[float]]] = {
        "W2": [[-0.341251822461052], [-0.243751301757894]],
        "b2": [DELTA2],
        "W1": [
            [-0.243751301757894, 0.487502603515789],
            [-0.487502603515789, 0.975005207031579],
        ],
        "b1": [-0.243751301757894, 0.487502603515789],
    }
    for k, v in expected_grads.items():
        np.testing.assert_allclose(g[k], v, rtol=0, atol=1e-12)

    new = nf.sgd_step(PARAMS, g, lr=0.1)
    expected: dict[str, list[float] | list[list[float]]] = {
        "W1": [
            [0.1243751301757894, -0.2487502603515789],
            [0.3487502603515789, 0.3024994792968421],
        ],
        "b1": [0.0243751301757894, -0.1487502603515789],
        "W2": [[0.534125182246105], [-0.975624869824211]],
        "b2": [0.2 - 0.1 * DELTA2],
    }
    for k, v in expected.items():
        np.testing.assert_allclose(new[k], v, rtol=0, atol=1e-12)
