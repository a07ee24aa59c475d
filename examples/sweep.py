"""A hyperparameter sweep on Dask: learning rates x widths x L2 on the digits.

Every point of the grid is one ordinary ``nnfunc.train`` run (Adam, early
stopping on the validation loss, best epoch kept) on scikit-learn's digits,
split and standardized as ``examples/digits.py`` does. The runs are
independent, so they are tasks: the data is scattered to the workers once
and ``client.map`` sends one run to each free worker. The table is sorted
by validation accuracy (the test set only reports); the heatmap shows the
validation accuracy of each learning rate and width, one panel per L2.
Run from the repository root::

    python examples/sweep.py                              # local cluster, 2 processes
    python examples/sweep.py --scheduler tcp://HOST:PORT  # a running cluster
    python examples/sweep.py --tiny                       # a 2 x 2 x 1 grid, 5 epochs

Each worker process runs one run at a time on one BLAS thread (the local
cluster has one thread per worker), so ``n`` workers run ``n`` runs at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import NamedTuple

import numpy as np
from distributed import Client
from matplotlib.figure import Figure

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nnfunc as nf
from examples.digits import Data, load
from nnfunc.distributed import connect

LRS = (3e-3, 1e-3, 3e-4)  # Adam
WIDTHS = (32, 64, 128)  # one hidden ReLU layer: 64 -> width -> 10
L2S = (0.0, 1e-3)  # weight of (l2/2) sum ||W||^2
EPOCHS = 100  # at most; early stopping ends most runs well before
PATIENCE = 10
BATCH_SIZE = 32
SEED = 0  # the split, the initial weights and the shuffles of every run
TINY = ((3e-3, 1e-3), (16, 32), (1e-3,), 5)  # lrs, widths, l2s, epochs


class Config(NamedTuple):
    """One point of the grid."""

    lr: float
    width: int
    l2: float


class Outcome(NamedTuple):
    """What one run gave: accuracies of its best epoch, epochs run, seconds."""

    config: Config
    val_accuracy: float
    test_accuracy: float
    epochs: int
    seconds: float


def fit(
    config: Config, data: Data, epochs: int, patience: int | None = PATIENCE
) -> Outcome:
    """One ``nnfunc.train`` run (early stopping unless ``patience`` is None)."""
    # Arrays scattered by Dask may arrive at unaligned addresses: nnfunc
    # copies such an x once (check_x), where NumPy and BLAS run fast.
    (x, y), val, (x_test, y_test) = data
    sizes = [x.shape[1], config.width, 10]
    params = nf.init_params(sizes, output="softmax", seed=SEED, init="he")
    t0 = time.perf_counter()
    params, _, history = nf.train(
        params,
        x,
        y,
        optimizer=nf.adam(config.lr),
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=SEED,
        l2=config.l2,
        validation=val,
        patience=patience,
        verbose=False,
    )
    seconds = time.perf_counter() - t0
    best = min(history, key=lambda r: r.val_loss or np.inf)  # the params kept
    test = nf.accuracy(y_test, nf.predict(params, x_test))
    return Outcome(config, best.val_accuracy or 0.0, test, len(history), seconds)


def grid(
    lrs: Sequence[float], widths: Sequence[int], l2s: Sequence[float]
) -> list[Config]:
    return [Config(lr, w, l2) for l2 in l2s for lr in lrs for w in widths]


def table(outcomes: Sequence[Outcome]) -> str:
    """The runs, best validation accuracy first."""
    rows = sorted(outcomes, key=lambda o: -o.val_accuracy)
    lines = ["    lr  width      l2  epochs  val acc  test acc  seconds"]
    for o in rows:
        c = o.config
        lines.append(
            f"{c.lr:6.0e}  {c.width:5d}  {c.l2:6.0e}  {o.epochs:6d}  "
            f"{o.val_accuracy:7.2%}  {o.test_accuracy:8.2%}  {o.seconds:7.1f}"
        )
    return "\n".join(lines)


def heatmap(
    outcomes: Sequence[Outcome],
    lrs: Sequence[float],
    widths: Sequence[int],
    l2s: Sequence[float],
    path: Path,
) -> None:
    """Validation accuracy by learning rate (rows) and width (columns), per L2."""
    acc = {o.config: o.val_accuracy for o in outcomes}
    fig = Figure(
        figsize=(3.2 * len(l2s) + 0.8, 0.5 * len(lrs) + 1.8), layout="constrained"
    )
    axes = np.atleast_1d(fig.subplots(1, len(l2s)))
    image = None
    for ax, l2 in zip(axes, l2s, strict=True):
        grid_acc = np.array([[acc[Config(lr, w, l2)] for w in widths] for lr in lrs])
        image = ax.imshow(100 * grid_acc, cmap="viridis", vmin=80, vmax=100)
        for (i, j), v in np.ndenumerate(grid_acc):
            ax.text(j, i, f"{100 * v:.1f}", ha="center", va="center", color="w")
        ax.set_xticks(range(len(widths)), [str(w) for w in widths])
        ax.set_yticks(range(len(lrs)), [f"{lr:.0e}" for lr in lrs])
        ax.set(xlabel="hidden units", ylabel="learning rate", title=f"L2 = {l2:g}")
    if image is not None:
        fig.colorbar(image, ax=list(axes), label="validation accuracy (%)")
    fig.savefig(path, dpi=90)


def main(
    out: str | Path = "out",
    tiny: bool = False,
    scheduler: str | None = None,
    client: Client | None = None,
) -> list[Outcome]:
    """Run the grid on ``client`` (or ``scheduler``, or a local cluster)."""
    lrs, widths, l2s, epochs = TINY if tiny else (LRS, WIDTHS, L2S, EPOCHS)
    configs = grid(lrs, widths, l2s)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load(SEED)
    print(
        f"{len(configs)} runs of nnfunc.train on the digits "
        f"({len(data[0][1])} training images)",
        flush=True,
    )
    t0 = time.perf_counter()
    with nullcontext(client) if client is not None else connect(scheduler) as c:
        [on_workers] = c.scatter([data], broadcast=True)
        futures = c.map(fit, configs, data=on_workers, epochs=epochs, pure=False)
        outcomes: list[Outcome] = c.gather(futures)
    seconds = time.perf_counter() - t0
    print(table(outcomes))
    busy = sum(o.seconds for o in outcomes)
    print(f"{seconds:.1f} s in all for {busy:.1f} s of training")
    path = out / "sweep_heatmap.png"
    heatmap(outcomes, lrs, widths, l2s, path)
    print(f"heatmap in {path}")
    return outcomes


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the heatmap")
    cli.add_argument("--scheduler", help="tcp://HOST:PORT of a running cluster")
    cli.add_argument("--tiny", action="store_true", help="a tiny grid, for tests")
    a = cli.parse_args()
    main(a.out, tiny=a.tiny, scheduler=a.scheduler)
