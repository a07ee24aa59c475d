"""Two spirals: a decision boundary in the plane, and a GIF of it as it trains.

Two interleaved spirals (``nnfunc.datasets.spirals``) cannot be split by a
line; a net with two ReLU layers bends its boundary around them. Each epoch
the training callback keeps a reference to the params (they are immutable,
so keeping them costs no copy and they cannot change afterwards); the
pictures are drawn from those snapshots after training, with
``nnfunc.plotting.plot_decision_boundary``. Run:
``python examples/spirals.py --out out``.

The GIF is written with Pillow directly, with settings that make the same
frames give the same bytes: one palette for all frames, no dithering (flat
colours also compress well), fixed frame durations.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image

import nnfunc as nf
from nnfunc.plotting import plot_decision_boundary, save_figure

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
EXTENT = (-1.1, 1.1, -1.1, 1.1)  # the same square in every picture
GIF_INCHES, GIF_DPI = 5.0, 100  # 500 x 500 pixels, 12-point titles
FRAME_MS, LAST_FRAME_MS = 250, 2500  # how long each frame shows; the last longer
COLORS = 64  # the GIF's palette


def draw(
    ax: Axes,
    params: nf.Params,
    x: npt.NDArray[Any],
    y: npt.NDArray[Any],
    title: str,
    fontsize: float,
) -> None:
    """The boundary of ``params`` over the square, the points, a title."""
    plot_decision_boundary(params, x, y, ax, extent=EXTENT, resolution=160)
    ax.set(aspect="equal", xticks=[], yticks=[])
    ax.set_title(title, fontsize=fontsize)


def render_frames(
    snapshots: dict[int, nf.Params],
    history: Sequence[nf.EpochRecord],
    x: npt.NDArray[Any],
    y: npt.NDArray[Any],
    shown: Sequence[int],
) -> list[Image.Image]:
    """One RGB image per epoch in ``shown``: boundary, epoch, accuracy, loss."""
    fig = Figure(figsize=(GIF_INCHES, GIF_INCHES), layout="constrained")
    size = (round(GIF_INCHES * GIF_DPI), round(GIF_INCHES * GIF_DPI))
    ax = fig.subplots()
    images = []
    for epoch in shown:
        ax.clear()
        params = snapshots[epoch]
        acc = nf.accuracy(y, nf.predict(params, x))
        loss = history[epoch - 1].train_loss
        title = (f"epoch {epoch} of {len(history)}\n"
                 f"training accuracy {acc:.1%}, loss {loss:.3f}")  # fmt: skip
        draw(ax, params, x, y, title, fontsize=12)
        pixels = io.BytesIO()
        fig.savefig(pixels, format="rgba", dpi=GIF_DPI)
        images.append(Image.frombytes("RGBA", size, pixels.getvalue()).convert("RGB"))
    return images


def save_gif(path: Path, images: Sequence[Image.Image]) -> Path:
    """An endlessly looping GIF of ``images``; the same images, the same bytes.

    One palette for every frame (from the first, middle and last), so the
    colours do not flicker; no dithering, so flat areas stay flat.
    """
    w, h = images[0].size
    sample = Image.new("RGB", (w, 3 * h))
    for i, im in enumerate((images[0], images[len(images) // 2], images[-1])):
        sample.paste(im, (0, i * h))
    palette = sample.quantize(
        colors=COLORS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    flat = Image.Dither.NONE
    quantized = [im.quantize(palette=palette, dither=flat) for im in images]
    durations = [FRAME_MS] * (len(images) - 1) + [LAST_FRAME_MS]
    quantized[0].save(
        path, save_all=True, append_images=quantized[1:], duration=durations,
        loop=0, optimize=False, disposal=1,
    )  # fmt: skip
    return path


def main(
    out: str | Path = "out",
    epochs: int = EPOCHS,
    frames: int = FRAMES,
    verbose: bool | None = None,
) -> float:
    """Train, save ``spirals_boundary.png`` and ``spirals_training.gif``.

    ``verbose`` as for ``nnfunc.train`` (None: a progress line on a terminal).

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
        verbose=verbose,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    acc = nf.accuracy(y_test, nf.predict(result.params, x_test))
    train_acc = nf.accuracy(y, nf.predict(result.params, x))
    print(f"spirals {SIZES}: {train_acc:.1%} train, {acc:.1%} test "
          f"({N_TEST} fresh points), {epochs} epochs in {seconds:.1f} s")  # fmt: skip

    fig = Figure(figsize=(4.2, 4.4), layout="constrained")
    title = (f"Two spirals, {len(SIZES) - 2} ReLU layers of {SIZES[1]}\n"
             f"{N_TEST} test points, accuracy {acc:.1%}")  # fmt: skip
    with rc_context({"legend.fontsize": "small"}):  # a smaller picture
        draw(fig.subplots(), result.params, x_test, y_test, title, fontsize=10)
    print(f"wrote {save_figure(fig, out / 'spirals_boundary.png', dpi=80)}")

    # square-root spacing: more frames early, when the boundary moves most
    root = np.linspace(1, np.sqrt(epochs), frames) ** 2
    shown = [int(e) for e in np.unique(np.rint(root).astype(int))]
    images = render_frames(snapshots, result.history, x, y, shown)
    gif = save_gif(out / "spirals_training.gif", images)
    print(f"wrote {gif} ({len(images)} frames)")
    return acc


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default="out", help="directory for the pictures")
    cli.add_argument("--epochs", type=int, default=EPOCHS)
    cli.add_argument("--frames", type=int, default=FRAMES, help="frames of the GIF")
    a = cli.parse_args()
    main(a.out, a.epochs, a.frames)
