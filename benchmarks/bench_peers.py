"""The peer libraries: PyTorch eager, scikit-learn ``MLPClassifier``, JAX ``jit``.

Every library is optional: each loader imports it with ``importlib`` (an
ImportError when it is missing, and its objects are typed ``Any`` here, so
this module type-checks with or without them installed).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from bench_common import EVAL_SAMPLES, LR, SEED, Builder, Config, Data, System, accuracy
from bench_common import init_weights as _init

# ----------------------------------------------------------------- PyTorch


def load_torch() -> Builder:
    torch = importlib.import_module("torch")
    torch.set_num_threads(2)
    return lambda cfg, x, y: build_torch(torch, cfg, x, y)


def build_torch(torch: Any, cfg: Config, x: Data, y: Data) -> System:
    """``nn.Sequential`` of ``Linear``/``ReLU``, ``optim.SGD``, eager mode."""
    nn = torch.nn
    layers: list[Any] = []
    for W, b in _init(cfg):
        linear = nn.Linear(*W.shape, dtype=getattr(torch, cfg.dtype))
        with torch.no_grad():  # start from the shared initial weights
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    X = torch.from_numpy(x)  # shares the NumPy buffer: no copy
    if cfg.output == "softmax":
        Y, loss_fn = torch.from_numpy(y), nn.CrossEntropyLoss()
    else:
        Y, loss_fn = torch.from_numpy(y).reshape(-1, 1), nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)

    def epoch(e: int) -> None:
        perm = torch.randperm(cfg.samples, generator=gen)
        for s in range(0, cfg.samples, cfg.batch):
            idx = perm[s : s + cfg.batch]
            opt.zero_grad()
            loss_fn(model(X[idx]), Y[idx]).backward()
            opt.step()

    def acc() -> float:
        with torch.no_grad():
            z = model(X[:EVAL_SAMPLES]).numpy()
        return accuracy(z, y[:EVAL_SAMPLES])

    return System(epoch, acc)


# ------------------------------------------------------------ scikit-learn


def load_sklearn() -> Builder:
    mlp = importlib.import_module("sklearn.neural_network").MLPClassifier
    return lambda cfg, x, y: build_sklearn(mlp, cfg, x, y)


def build_sklearn(mlp: Any, cfg: Config, x: Data, y: Data) -> System:
    """``MLPClassifier(solver="sgd")`` and one ``partial_fit`` per epoch.

    ``partial_fit`` makes one shuffled pass over the data. scikit-learn
    initializes its own weights (Glorot uniform) on the first call.
    """
    clf = mlp(
        hidden_layer_sizes=cfg.sizes[1:-1],
        activation="relu",
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=LR,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=cfg.batch,
        shuffle=True,
        random_state=SEED,
    )
    labels = y.astype(np.int64)
    classes = np.arange(max(cfg.sizes[-1], 2))

    def epoch(e: int) -> None:
        clf.partial_fit(x, labels, classes=classes)

    def acc() -> float:
        p = clf.predict_proba(x[:EVAL_SAMPLES])
        return accuracy(p, y[:EVAL_SAMPLES])

    return System(epoch, acc)


# --------------------------------------------------------------------- JAX


def load_jax() -> Builder:
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)  # float64 configs; float32 stays
    return lambda cfg, x, y: build_jax(jax, cfg, x, y)


def build_jax(jax: Any, cfg: Config, x: Data, y: Data) -> System:
    """One ``jax.jit``-compiled SGD step: gather, forward, ``grad``, update.

    The data lives on the device (a copy, counted in its memory); each step
    receives the batch's indices and gathers inside the compiled step.
    """
    jnp = jax.numpy
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in _init(cfg)]
    X, Y = jnp.asarray(x), jnp.asarray(y)
    softmax = cfg.output == "softmax"

    def logits(params: Any, xb: Any) -> Any:
        a = xb
        for W, b in params[:-1]:
            a = jax.nn.relu(a @ W + b)
        W, b = params[-1]
        return a @ W + b

    def loss(params: Any, xb: Any, yb: Any) -> Any:
        z = logits(params, xb)
        if softmax:
            logp = jax.nn.log_softmax(z)
            return -jnp.take_along_axis(logp, yb[:, None], axis=1).mean()
        return jnp.mean(jnp.logaddexp(0, z[:, 0]) - yb * z[:, 0])

    def step(params: Any, X: Any, Y: Any, idx: Any) -> Any:
        g = jax.grad(loss)(params, X[idx], Y[idx])
        return jax.tree_util.tree_map(lambda p, d: p - LR * d, params, g)

    step_jit = jax.jit(step, donate_argnums=0)

    def epoch(e: int) -> None:
        nonlocal params
        perm = np.random.default_rng([SEED, e]).permutation(cfg.samples)
        for s in range(0, cfg.samples, cfg.batch):
            params = step_jit(params, X, Y, perm[s : s + cfg.batch])
        jax.block_until_ready(params)

    def acc() -> float:
        z = np.asarray(logits(params, X[:EVAL_SAMPLES]))
        return accuracy(z, y[:EVAL_SAMPLES])

    return System(epoch, acc)
