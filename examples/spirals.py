"""Two spirals: a decision boundary in the plane, and a GIF of it as it trains.

Two interleaved spirals (``nnfunc.datasets.spirals``) cannot be split by a
line; a net with two ReLU layers bends its boundary around them. Each epoch
the training callback keeps a reference to the params (they are immutable,
so keeping them costs no copy and they cannot change afterwards); the
pictures are drawn from those snapshots after training. Run:
``python examples/spirals.py --out out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.animation import PillowWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import nnfunc as nf

N_TRAIN = 600
N_TEST = 600
NOISE = 0.2  # radians along the arm
SIZES = [2, 64, 64, 1]
HIDDEN: nf.ActivationName = "relu"
LR = 1e-2  # Adam
BATCH_SIZE = 32
EPOCHS = 100
FRAMES = 30  # GIF frames, spread over training (denser at the start)
SEED = 0


def boundary(
    ax: Axes, params: nf.Params, x: npt.NDArray[Any], y: npt.NDArray[Any]
) -> None:
    """The network's P(class 1) on a grid, its 0.5 contour, and the points."""
    g = np.linspace(-1.1, 1.1, 120)
    gx, gy = np.meshgrid(g, g)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    p = nf.forward(params, grid).reshape(gx.shape)
    ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1)
    for c, color in ((0, "tab:blue"), (1, "tab:red")):
        xc = x[y == c]
        ax.scatter(xc[:, 0], xc[:, 1], s=7, color=color, label=f"class {c}")
    ax.set(xlim=(-1.1, 1.1), ylim=(-1.1, 1.1), aspect="equal", xticks=[], yticks=[])
    ax.set_xlabel("$x_1$", labelpad=0)
    ax.set_ylabel("$x_2$", labelpad=0)


def main(out: str | Path = "out", epochs: int = EPOCHS, frames: int = FRAMES) -> float:
    """Train, save ``spirals_boundary.png`` and ``spirals_training.gif``.

    Returns:
        The accuracy on ``N_TEST`` fresh points from another seed.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x, y = nf.datasets.spirals(N_TRAIN, noise=NOISE, seed=SEED)
    x_test, y_test = nf.datasets.spirals(N_TEST, noise=NOISE, seed=SEED + 1)
    snapshots: dict[int, nf.Params] = {}
    t0 = time.perf_counter()
    result = nf.train(
        nf.init_params(SIZES, hidden=HIDDEN, seed=SEED), x, y,
        optimizer=nf.adam(LR), epochs=epochs, batch_size=BATCH_SIZE, seed=SEED,
        callback=lambda record, params: snapshots.__setitem__(record.epoch, params),
        verbose=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    acc = nf.accuracy(y_test, nf.predict(result.params, x_test))
    train_acc = nf.accuracy(y, nf.predict(result.params, x))
    print(f"spirals {SIZES}: {train_acc:.1%} train, {acc:.1%} test "
          f"({N_TEST} fresh points), {epochs} epochs in {seconds:.1f} s")  # fmt: skip

    fig = Figure(figsize=(4.2, 4.2), layout="constrained")
    ax = fig.subplots()
    boundary(ax, result.params, x_test, y_test)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.set_title(f"Two spirals, {len(SIZES) - 2} ReLU layers of {SIZES[1]}\n"
                 f"{N_TEST} test points, accuracy {acc:.1%}")  # fmt: skip
    fig.savefig(out / "spirals_boundary.png", dpi=80)

    # square-root spacing: more frames early, when the boundary moves most
    shown = np.unique(np.rint(np.linspace(1, np.sqrt(epochs), frames) ** 2).astype(int))
    fig = Figure(figsize=(3.2, 3.2), layout="constrained")
    ax = fig.subplots()
    writer = PillowWriter(fps=6)
    with writer.saving(fig, str(out / "spirals_training.gif"), dpi=70):
        for epoch in shown:
            ax.clear()
            boundary(ax, snapshots[int(epoch)], x, y)
            loss = result.history[int(epoch) - 1].train_loss
            ax.set_title(f"epoch {epoch}, training loss {loss:.3f}", fontsize=9)
            writer.grab_frame()
    return acc


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the pictures")
    cli.add_argument("--epochs", type=int, default=EPOCHS)
    a = cli.parse_args()
    main(a.out, a.epochs)
