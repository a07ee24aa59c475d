"""The NumPy systems: the floor, nnfunc (user loop and ``train``), plain NumPy.

Each loader imports what its system needs and returns a builder; see
``bench_common.System``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
from bench_common import EVAL_SAMPLES, LR, SEED, Builder, Config, Data, System, accuracy
from bench_common import init_weights as _init

# ------------------------------------------------------------------- floor


def load_floor() -> Builder:
    return build_floor


def build_floor(cfg: Config, x: Data, y: Data) -> System:
    """Only the matrix products of each step, into buffers allocated once.

    Forward ``z^l = a^{l-1} W^l`` for every layer; backward ``a^{l-1 T}
    delta^l`` for every layer and ``delta^l W^{l T}`` for all but the first.
    No bias, activation, loss, update, shuffle or gather: what any library
    that calls NumPy once per product pays at least. The weights stay fixed
    and ``delta^L`` is a fixed random buffer, so the values stay finite.
    """
    Ws = [W for W, _ in _init(cfg)]
    B, dt = cfg.batch, cfg.np_dtype
    z = [np.empty((B, W.shape[1]), dt) for W in Ws]
    dW = [np.empty_like(W) for W in Ws]
    rng = np.random.default_rng(SEED)
    delta = [rng.standard_normal((B, W.shape[1])).astype(dt) * 0.01 for W in Ws]
    L = len(Ws)

    def epoch(e: int) -> None:
        for s in range(0, cfg.samples - B + 1, B):
            a = x[s : s + B]
            for l in range(L):
                np.matmul(a, Ws[l], out=z[l])
                a = z[l]
            for l in range(L - 1, -1, -1):
                np.matmul(z[l - 1].T if l else x[s : s + B].T, delta[l], out=dW[l])
                if l:
                    np.matmul(delta[l], Ws[l].T, out=delta[l - 1])

    return System(epoch, lambda: None)


# ------------------------------------------------------------------ nnfunc


def nnfunc_function(name: str, *modules: str) -> Callable[..., Any]:
    """``nnfunc.<name>`` if exported, else from the first of ``modules`` with it."""
    for module in ("nnfunc", *modules):
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if callable(found):
            return found  # type: ignore[no-any-return]
    raise ImportError(f"no {name} in nnfunc (looked in nnfunc, {', '.join(modules)})")


def _nnfunc_batches(x: Data, y: Data, batch: int, e: int) -> Iterator[Any]:
    """``nnfunc.batches`` when present, else the same by hand."""
    try:
        batches = nnfunc_function("batches", "nnfunc.batching", "nnfunc.batches")
        derive = nnfunc_function("derive_seed", "nnfunc.batching", "nnfunc.batches")
    except ImportError:
        perm = np.random.default_rng([SEED, e]).permutation(len(x))
        return ((x[i], y[i]) for i in np.split(perm, range(batch, len(x), batch)))
    it: Iterator[Any] = batches(x, y, batch_size=batch, seed=derive(SEED, e))
    return it


def _nnfunc_accuracy(cfg: Config, x: Data, y: Data, params: Any) -> float:
    import nnfunc as nf

    z = nf.forward(params, x[:EVAL_SAMPLES], hidden="relu", output=cfg.output)
    return accuracy(z - 0.5 if cfg.output == "sigmoid" else z, y[:EVAL_SAMPLES])


def _nnfunc_init(cfg: Config) -> Any:
    """``init_params`` recording the architecture (older nnfunc: no record)."""
    import nnfunc as nf

    sizes = list(cfg.sizes)
    try:
        return nf.init_params(sizes, seed=SEED, dtype=cfg.np_dtype, output=cfg.output)
    except TypeError:  # an nnfunc from before params recorded their output
        return nf.init_params(sizes, seed=SEED, dtype=cfg.np_dtype)


def load_nnfunc_loop() -> Builder:
    importlib.import_module("nnfunc")
    return build_nnfunc_loop


def build_nnfunc_loop(cfg: Config, x: Data, y: Data) -> System:
    """``grads`` then ``sgd_step`` per mini-batch, as a user writes it."""
    import nnfunc as nf

    params = _nnfunc_init(cfg)
    out: Any = cfg.output

    def epoch(e: int) -> None:
        nonlocal params
        for xb, yb in _nnfunc_batches(x, y, cfg.batch, e):
            g = nf.grads(params, xb, yb, hidden="relu", output=out)
            params = nf.sgd_step(params, g, lr=LR)

    return System(epoch, lambda: _nnfunc_accuracy(cfg, x, y, params))


def load_nnfunc_train() -> Builder:
    train = nnfunc_function("train", "nnfunc.training", "nnfunc.train")
    sgd = nnfunc_function("sgd", "nnfunc.optim")
    return lambda cfg, x, y: build_nnfunc_train(cfg, x, y, train, sgd)


def _params_of(result: Any) -> Mapping[str, Any]:
    """The params in what ``train`` returns: params, a record or a tuple."""
    if isinstance(result, Mapping):
        return result
    if hasattr(result, "params"):
        return _params_of(result.params)
    return _params_of(result[0])


def build_nnfunc_train(
    cfg: Config, x: Data, y: Data, train: Callable[..., Any], sgd: Callable[..., Any]
) -> System:
    """``nnfunc.train.train(..., epochs=1)`` once per timed epoch.

    Each call validates its inputs again, so this charges ``train``'s
    per-call checks to every epoch (a user training for many epochs in one
    call pays them once).
    """
    params: Mapping[str, Any] = _nnfunc_init(cfg)
    optimizer = sgd(LR)

    def epoch(e: int) -> None:
        nonlocal params
        result = train(
            params,
            x,
            y,
            optimizer=optimizer,
            epochs=1,
            batch_size=cfg.batch,
            seed=SEED + e,
            hidden="relu",
            output=cfg.output,
            verbose=False,
        )
        params = _params_of(result)

    return System(epoch, lambda: _nnfunc_accuracy(cfg, x, y, params))


# ------------------------------------------------------------- plain NumPy


def load_numpy() -> Builder:
    return build_numpy


def build_numpy(cfg: Config, x: Data, y: Data) -> System:
    """A straightforward from-scratch loop: forward, loss, backward, SGD.

    Stable softmax cross-entropy (log-sum-exp) or sigmoid binary
    cross-entropy (``logaddexp``); the loss is computed every step, as a
    training loop that reports it does. The update is in place.
    """
    layers = _init(cfg)
    L, B = len(layers), cfg.batch
    softmax = cfg.output == "softmax"

    def forward(xb: Data) -> list[Data]:
        a = [xb]
        for l, (W, b) in enumerate(layers):
            z = a[-1] @ W + b
            a.append(np.maximum(z, 0) if l < L - 1 else z)
        return a

    def step(xb: Data, yb: Data) -> float:
        a = forward(xb)
        zL, rows = a[-1], np.arange(len(xb))
        if softmax:
            shifted = zL - zL.max(axis=1, keepdims=True)
            logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            loss = -float(logp[rows, yb].mean())
            delta = np.exp(logp)
            delta[rows, yb] -= 1.0
        else:
            z = zL[:, 0]
            loss = float(np.mean(np.logaddexp(0, z) - yb * z))
            delta = (np.exp(-np.logaddexp(0, -z)) - yb)[:, None]
        delta /= len(xb)
        for l in range(L - 1, -1, -1):
            W, b = layers[l]
            dW, db = a[l].T @ delta, delta.sum(axis=0)
            if l:
                delta = (delta @ W.T) * (a[l] > 0)
            W -= LR * dW
            b -= LR * db
        return loss

    def epoch(e: int) -> None:
        perm = np.random.default_rng([SEED, e]).permutation(cfg.samples)
        for s in range(0, cfg.samples, B):
            idx = perm[s : s + B]
            step(x[idx], y[idx])

    def acc() -> float:
        return accuracy(forward(x[:EVAL_SAMPLES])[-1], y[:EVAL_SAMPLES])

    return System(epoch, acc)
