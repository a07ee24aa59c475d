"""Every activation in ``nnfunc.ACTIVATIONS`` and its derivative, in one figure.

Each registry entry is a pair ``(f, df)`` with ``df(z, a) = f'(z)``, where
``a = f(z)`` is the output that backpropagation has cached. The figure plots
both over ``z`` in ``[-4, 4]``. Run: ``python examples/activations.py --out out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import nnfunc as nf
from nnfunc.plotting import save_figure

Z_RANGE = (-4.0, 4.0)
COLUMNS = 4


def main(out: str | Path = "out") -> Path:
    """Save ``activations.png`` in ``out``; return its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    z = np.linspace(*Z_RANGE, 401)
    names = nf.ACTIVATION_NAMES
    rows = -(-len(names) // COLUMNS)
    fig = Figure(figsize=(2.4 * COLUMNS, 2.2 * rows + 0.3), layout="constrained")
    fig.suptitle("Activations f(z) and their derivatives f'(z)")
    axes = fig.subplots(rows, COLUMNS, sharex=True).ravel()
    for ax, name in zip(axes, names, strict=False):
        f, df = nf.ACTIVATIONS[name]
        a = f(z)
        ax.plot(z, a, label="f(z)")
        ax.plot(z, df(z, a), ls="--", label="f'(z)")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_title(name)
        ax.set_ylim(-1.5, 2.5)
        ax.grid(alpha=0.3)
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    for ax in axes[-COLUMNS:]:
        ax.set_xlabel("z")
    axes[0].legend(loc="upper left", fontsize=8)
    path = out / "activations.png"
    save_figure(fig, path, dpi=80)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the picture")
    main(cli.parse_args().out)
