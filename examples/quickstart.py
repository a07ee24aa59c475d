"""Train small networks on XOR and on two interleaved spirals; print accuracy.

Uses only the core: ``init_params``, ``loss_and_grads``, ``sgd_step`` and
``predict``. Run: ``python examples/quickstart.py``.
"""

from __future__ import annotations

import numpy as np

import nnfunc as nf

SEED = 0


def spirals(
    n_per_class: int, seed: int, noise: float = 0.2
) -> tuple[nf.Array, nf.Array]:
    """Two interleaved spirals in the plane, labels 0 and 1."""
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1.0, n_per_class)) * 3.0 * np.pi
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3.0 * np.pi)
    x = np.concatenate([arm, -arm]) + noise / (3.0 * np.pi) * rng.standard_normal(
        (2 * n_per_class, 2)
    )
    y = np.concatenate([np.zeros(n_per_class), np.ones(n_per_class)])
    return x, y


def fit(
    sizes: list[int], x: nf.Array, y: nf.Array, *, lr: float, steps: int
) -> nf.Params:
    """Full-batch gradient descent with tanh hidden layers."""
    params = nf.init_params(sizes, seed=SEED)
    for _ in range(steps):
        _, g = nf.loss_and_grads(params, x, y, hidden="tanh")
        params = nf.sgd_step(params, g, lr=lr)
    return params


def accuracy(params: nf.Params, x: nf.Array, y: nf.Array) -> float:
    return float(np.mean(nf.predict(params, x, hidden="tanh") == y))


def main(spiral_steps: int = 3000) -> dict[str, float]:
    x_xor = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y_xor = np.array([0.0, 1.0, 1.0, 0.0])
    p = fit([2, 4, 1], x_xor, y_xor, lr=0.5, steps=2000)
    results = {"xor": accuracy(p, x_xor, y_xor)}
    print(f"XOR      accuracy: {results['xor']:.0%}")

    x, y = spirals(200, seed=SEED)
    x_test, y_test = spirals(200, seed=SEED + 1)
    p = fit([2, 32, 32, 1], x, y, lr=1.0, steps=spiral_steps)
    results["spirals_train"] = accuracy(p, x, y)
    results["spirals_test"] = accuracy(p, x_test, y_test)
    print(
        f"spirals  accuracy: {results['spirals_train']:.1%} train, "
        f"{results['spirals_test']:.1%} on 400 fresh points"
    )
    return results


if __name__ == "__main__":
    main()
