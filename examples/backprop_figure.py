"""BP2 as a picture: one layer's error flows back through ``W.T`` and ``f'(z)``.

A ``[3, 4, 2]`` network (tanh hidden layer, sigmoid outputs) sees one
sample. Its output error ``delta2 = a2 - y`` (BP1) is sent back one layer,

    delta1 = (delta2 @ W2.T) * f'(z1)                       (BP2)

Left: unit by unit, each hidden unit ``j`` collects ``sum_m delta2_m W2_jm``
from the units it fed, then multiplies by its own ``f'(z1_j)``. Right: the
same numbers as the matrix product and the elementwise product. With a batch
of one, ``db = delta`` (BP3), so the script checks its numbers against
``nnfunc.grads`` before drawing them. Run:
``python examples/backprop_figure.py --out out``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

import nnfunc as nf

SIZES = [3, 4, 2]  # layer l = 1 (tanh, 4 units) receives from l + 1 = 2
SEED = 4  # a draw where one saturated unit (small f') blocks a large error
X = np.array([[0.5, -1.0, 2.0]])  # one sample
Y = np.array([[1.0, 0.0]])
FIGSIZE = (10.0, 4.4)  # inches; fixed size and dpi: the same picture every run
DPI = 100
CMAP = "RdBu_r"  # red > 0, blue < 0


def errors() -> dict[str, nf.Array]:
    """``W2``, ``delta2``, ``back = delta2 @ W2.T``, ``fprime``, ``delta1``."""
    params = nf.init_params(SIZES, hidden="tanh", output="sigmoid", seed=SEED)
    f, df = nf.ACTIVATIONS["tanh"]
    z1 = X @ params["W1"] + params["b1"]
    a1 = f(z1)
    a2 = nf.ACTIVATIONS["sigmoid"].f(a1 @ params["W2"] + params["b2"])
    delta2 = (a2 - Y) / len(X)  # BP1
    back = delta2 @ params["W2"].T  # BP2, first factor
    fprime = df(z1, a1)  # tanh' = 1 - a^2
    delta1 = back * fprime  # BP2
    g = nf.grads(params, X, Y)  # batch of one: db = delta (BP3)
    if not (np.allclose(g["b2"], delta2[0]) and np.allclose(g["b1"], delta1[0])):
        raise RuntimeError("the picture's deltas disagree with nnfunc.grads")
    W2: nf.Array = params["W2"]
    return {"W2": W2, "delta2": delta2[0], "back": back[0],
            "fprime": fprime[0], "delta1": delta1[0]}  # fmt: skip


def color(cmap: Colormap, value: float, scale: float) -> tuple[float, ...]:
    """The colour of ``value`` on a symmetric scale ``[-scale, scale]``."""
    return tuple(cmap(0.5 + 0.5 * value / scale))


def units(ax: Axes, e: dict[str, nf.Array], cmap: Colormap) -> None:
    """Left panel: arrows from each unit m of layer l+1 back to each unit j."""
    n_l, n_next = e["W2"].shape
    y_l = np.linspace(3.0, 0.0, n_l)
    y_next = np.linspace(2.25, 0.75, n_next)
    flow = e["W2"] * e["delta2"]  # flow[j, m] = W_jm delta_m, summed over m
    top = float(np.abs(flow).max())
    for j in range(n_l):
        for m in range(n_next):
            v = float(flow[j, m])
            ax.add_patch(FancyArrowPatch(
                (2.0, y_next[m]), (0.0, y_l[j]), arrowstyle="-|>",
                mutation_scale=10, shrinkA=17, shrinkB=17,
                lw=0.5 + 3.5 * abs(v) / top, color=color(cmap, v, top),
            ))  # fmt: skip
    for y, key in [(y_next, "delta2"), (y_l, "delta1")]:
        x = 2.0 if key == "delta2" else 0.0
        scale = float(np.abs(e[key]).max())
        for yy, d in zip(y, e[key], strict=True):
            ax.add_patch(unit_box((x, yy), color(cmap, float(d), scale)))
            label(ax, x, yy, float(d), scale, "+.2f")
    for j in range(n_l):
        sent, slope = float(e["back"][j]), float(e["fprime"][j])
        ax.text(-0.35, y_l[j], f"{sent:+.2f} × {slope:.2f}", ha="right",
                va="center", fontsize=8)  # fmt: skip
    ax.text(-0.35, 3.55, r"$\sum_m \delta_m W_{jm}\ \times\ f'(z_j)$",
            ha="right", fontsize=9)  # fmt: skip
    ax.text(0.0, -0.7, "layer $l$ (tanh)\n" r"$\delta^{[l]}_j$", ha="center", va="top")
    ax.text(2.0, -0.7, "layer $l+1$\n" r"$\delta^{[l+1]}_m$", ha="center", va="top")
    ax.set(xlim=(-2.2, 2.5), ylim=(-1.5, 3.9), aspect="equal")
    ax.set_title("unit by unit: arrow width $|\\delta_m W_{jm}|$", fontsize=10)
    ax.set_axis_off()


def unit_box(center: tuple[float, float], face: tuple[float, ...]) -> Rectangle:
    """A unit, drawn as a square of side 0.56 around ``center``."""
    return Rectangle((center[0] - 0.28, center[1] - 0.28), 0.56, 0.56,
                     facecolor=face, edgecolor="black", lw=0.8)  # fmt: skip


def label(ax: Axes, x: float, y: float, v: float, scale: float, fmt: str) -> None:
    """``v`` written at ``(x, y)``, in white on the darkest colours."""
    ink = "white" if abs(v) > 0.6 * scale else "black"
    ax.text(x, y, format(v, fmt), ha="center", va="center", fontsize=8, color=ink)


def cells(
    ax: Axes, values: nf.Array, x0: float, y0: float, cmap: Colormap, fmt: str
) -> None:
    """A matrix as a grid of coloured cells, its top-left corner at ``(x0, y0)``."""
    grid = np.atleast_2d(values)
    scale = float(np.abs(grid).max())
    for (i, k), v in np.ndenumerate(grid):
        x, y = x0 + k, y0 - i - 1
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor=color(cmap, float(v), scale),
                               edgecolor="black", lw=0.8))  # fmt: skip
        label(ax, x + 0.5, y + 0.5, float(v), scale, fmt)


def matrices(ax: Axes, e: dict[str, nf.Array], cmap: Colormap) -> None:
    """Right panel: delta^{l+1} @ W^{l+1}.T, then * f'(z^l), gives delta^l."""
    n_l, n_next = e["W2"].shape
    cells(ax, e["W2"].T, 0, 6.2, cmap, "+.2f")  # n_next rows, above the product
    ax.text(n_l + 0.2, 6.2 - n_next / 2, r"$W^{[l+1]\top}$", va="center")
    cells(ax, e["delta2"], -n_next - 0.4, 3.9, cmap, "+.2f")  # left of the product
    ax.text(-n_next / 2 - 0.4, 4.2, r"$\delta^{[l+1]}$", ha="center")
    rows = [
        ("back", 3.9, "", r"$\delta^{[l+1]} W^{[l+1]\top}$"),
        ("fprime", 2.5, r"$\odot$", r"$f'(z^{[l]}) = 1 - (a^{[l]})^2$"),
        ("delta1", 1.1, "$=$", r"$\delta^{[l]}$  (BP2)"),
    ]
    for key, top, op, name in rows:
        cells(ax, e[key], 0, top, cmap, "+.2f" if key != "fprime" else ".2f")
        ax.text(-0.25, top - 0.5, op, ha="right", va="center", fontsize=12)
        ax.text(n_l + 0.2, top - 0.5, name, va="center")
    ax.set(xlim=(-n_next - 0.6, n_l + 4.6), ylim=(-0.2, 6.6), aspect="equal")
    ax.set_title("as matrices: shapes $(1, n_{l+1})(n_{l+1}, n_l) = (1, n_l)$",
                 fontsize=10)  # fmt: skip
    ax.set_axis_off()


def main(out: str | Path = "out") -> Path:
    """Save ``backprop.png`` in ``out``; return its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    e = errors()
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    fig.suptitle(r"BP2: $\delta^{[l]} = (\delta^{[l+1]}\, W^{[l+1]\top})"
                 r" \odot f'(z^{[l]})$, one sample")  # fmt: skip
    left, right = fig.subplots(1, 2, width_ratios=[1.0, 1.3])
    units(left, e, colormaps[CMAP])
    matrices(right, e, colormaps[CMAP])
    path = out / "backprop.png"
    fig.savefig(path, dpi=DPI, metadata={"Software": None})  # no version stamp
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the picture")
    main(cli.parse_args().out)
