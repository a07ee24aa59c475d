"""How the initializer decides whether a signal survives a deep network.

Part 1 pushes a batch of standard-normal inputs through 10 layers of width
256 (no training) and plots the standard deviation of each layer's output.
With ``small_normal`` (N(0, 0.01²)) each layer multiplies the signal's std
by about 0.01·√256 = 0.16 (less for ReLU), so it vanishes; Xavier (variance
2/(n_in + n_out) = 1/n here) keeps tanh's signal alive but halves ReLU's
variance at every layer; He (2/n_in) makes up for the half of the ReLU
units that are zero and keeps it constant.

Part 2 trains a deep, narrow ReLU net on the two spirals from each start,
with the same optimizer (SGD with momentum) and the same batches, and plots
the training loss. Run: ``python examples/initialization.py --out out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import nnfunc as nf
from nnfunc.plotting import save_figure

INITS: tuple[nf.InitName, ...] = ("small_normal", "xavier", "he")
DEPTH = 10  # part 1: layers of width WIDTH
WIDTH = 256
BATCH = 1000
TRAIN_SIZES = [2, 64, 64, 64, 64, 64, 64, 1]  # part 2: six ReLU layers
LR = 0.02  # SGD with momentum 0.9
EPOCHS = 60
SEED = 0


def layer_stds(init: nf.InitName, hidden: nf.ActivationName) -> list[float]:
    """Std of the input and of each of the ``DEPTH`` layers' outputs."""
    params = nf.init_params([WIDTH] * (DEPTH + 1), seed=SEED, init=init)
    f = nf.ACTIVATIONS[hidden].f
    a: nf.Array = np.random.default_rng(SEED).standard_normal((BATCH, WIDTH))
    stds = [float(a.std())]
    for l in range(1, DEPTH + 1):
        a = f(a @ params[f"W{l}"] + params[f"b{l}"])  # z = a W + b, a = f(z)
        stds.append(float(a.std()))
    return stds


def main(out: str | Path = "out", epochs: int = EPOCHS) -> dict[str, float]:
    """Save ``initialization.png``; return each initializer's final loss."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(11, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    hiddens: tuple[nf.ActivationName, ...] = ("tanh", "relu")
    for ax, hidden in zip(axes, hiddens, strict=False):
        for init in INITS:
            ax.plot(layer_stds(init, hidden), marker="o", ms=3, label=init)
        ax.set(yscale="log", xlabel="layer", ylabel="std of the layer's output",
               title=f"{DEPTH} {hidden} layers of {WIDTH}, at init")  # fmt: skip
        ax.set_ylim(1e-11, 1e1)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)

    x, y = nf.datasets.spirals(600, seed=SEED)
    final: dict[str, float] = {}
    for init in INITS:
        result = nf.train(
            nf.init_params(TRAIN_SIZES, hidden="relu", seed=SEED, init=init), x, y,
            optimizer=nf.momentum(LR, 0.9), epochs=epochs, batch_size=32,
            seed=SEED, verbose=False,
        )  # fmt: skip
        losses = [r.train_loss for r in result.history]
        final[init] = losses[-1]
        axes[2].plot(range(1, epochs + 1), losses, label=init)
        print(f"{init:>12}: training loss {losses[-1]:.4f} after {epochs} epochs")
    axes[2].set(xlabel="epoch", ylabel="training loss (cross-entropy)",
                title="Training: 6 ReLU layers, spirals")  # fmt: skip
    axes[2].grid(alpha=0.3)
    axes[2].legend(fontsize=8)
    path = out / "initialization.png"
    save_figure(fig, path, dpi=80)
    print(f"wrote {path}")
    return final


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the picture")
    cli.add_argument("--epochs", type=int, default=EPOCHS)
    a = cli.parse_args()
    main(a.out, a.epochs)
