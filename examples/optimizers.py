"""SGD, momentum, RMSProp and Adam on the same problem, side by side.

Every run starts from the same initial params and sees the same mini-batches
in the same order (``train`` shuffles as a pure function of its seed), so
the curves differ only by the update rule. The problem: two spirals with a
2-64-64-1 ReLU net. Learning rates are each rule's usual default. Run:
``python examples/optimizers.py --out out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.figure import Figure

import nnfunc as nf
from nnfunc.plotting import save_figure

SIZES = [2, 64, 64, 1]
EPOCHS = 100
BATCH_SIZE = 32
SEED = 0
OPTIMIZERS = {
    "SGD (lr 0.1)": nf.sgd(0.1),
    "momentum (lr 0.1, β 0.9)": nf.momentum(0.1, 0.9),
    "RMSProp (lr 1e-3)": nf.rmsprop(1e-3),
    "Adam (lr 1e-3)": nf.adam(1e-3),
}


def main(out: str | Path = "out", epochs: int = EPOCHS) -> dict[str, float]:
    """Save ``optimizers.png``; return each optimizer's final training loss."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x, y = nf.datasets.spirals(600, seed=SEED)
    params = nf.init_params(SIZES, hidden="relu", seed=SEED)  # one start for all
    fig = Figure(figsize=(5.5, 3.6), layout="constrained")
    ax = fig.subplots()
    final = {}
    for name, optimizer in OPTIMIZERS.items():
        result = nf.train(
            params, x, y, optimizer=optimizer, epochs=epochs,
            batch_size=BATCH_SIZE, seed=SEED, verbose=False,
        )  # fmt: skip
        losses = [r.train_loss for r in result.history]
        final[name] = losses[-1]
        acc = nf.accuracy(y, nf.predict(result.params, x))
        ax.plot(range(1, epochs + 1), losses, label=name)
        print(f"{name:>26}: loss {losses[-1]:.4f}, training accuracy {acc:.1%}")
    ax.set(xlabel="epoch", ylabel="training loss (cross-entropy)", yscale="log",
           title=f"Same init, same batches: spirals, {SIZES} ReLU")  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    path = out / "optimizers.png"
    save_figure(fig, path, dpi=80)
    print(f"wrote {path}")
    return final


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the picture")
    cli.add_argument("--epochs", type=int, default=EPOCHS)
    a = cli.parse_args()
    main(a.out, a.epochs)
