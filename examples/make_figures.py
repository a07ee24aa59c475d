"""Regenerate every picture committed in ``docs/images`` from the examples.

Calls each example's ``main`` with the output directory ``docs/images``
(``--out`` to change it). Two runs on the same machine write the same
bytes: training is seeded, and the PNGs and the GIF are saved without
timestamps or version strings. Run from the repository root::

    python examples/make_figures.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from examples import (
    activations,
    backprop_figure,
    digits,
    initialization,
    optimizers,
    spirals,
)

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
NAMES = (
    "activations.png",
    "backprop.png",
    "initialization.png",
    "optimizers.png",
    "spirals_boundary.png",
    "spirals_training.gif",
    "digits_curves.png",
    "digits_mistakes.png",
)


def main(out: str | Path = OUT, fast: bool = False) -> list[Path]:
    """Write the eight pictures into ``out``; return their paths.

    ``fast`` trains for a few epochs only (a smoke test of the pipeline; the
    committed pictures come from the full runs).
    """
    out = Path(out)
    few = 5 if fast else None  # epochs in fast mode; None: each example's own

    def epochs(default: int) -> int:
        return default if few is None else few

    steps: list[tuple[str, Callable[[], object]]] = [
        ("activations", lambda: activations.main(out)),
        ("backprop", lambda: backprop_figure.main(out)),
        (
            "initialization",
            lambda: initialization.main(out, epochs(initialization.EPOCHS)),
        ),
        ("optimizers", lambda: optimizers.main(out, epochs(optimizers.EPOCHS))),
        ("spirals", lambda: spirals.main(out, epochs(spirals.EPOCHS))),
        (
            "digits",
            lambda: digits.main(out, [0], epochs(digits.EPOCHS), compare=False),
        ),
    ]
    for name, run in steps:
        t0 = time.perf_counter()
        run()
        print(f"--- {name}: {time.perf_counter() - t0:.1f} s\n")
    paths = [out / n for n in NAMES]
    for p in paths:
        print(f"{p}: {p.stat().st_size / 1024:.0f} KB")
    return paths


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", default=str(OUT), help="directory for the pictures")
    cli.add_argument("--fast", action="store_true", help="a few epochs each")
    a = cli.parse_args()
    main(a.out, a.fast)
