"""MNIST from its IDX files: a 784-256-128-10 ReLU net trained with Adam.

Needs the four MNIST files (``train-images-idx3-ubyte`` ... , gzipped or
not) in a directory given with ``--data``; without them it says where to get
them and exits with code 2. 5,000 training images (stratified) are held out
for validation and early stopping; pixels are standardized with the
training statistics; float32 throughout. Run::

    python examples/mnist.py --data ~/data/mnist --out out

Target (not measured here: this project's machines have no copy of MNIST):
at least 98% test accuracy with these settings; confirm it with the real
files. The test suite runs this script on a small synthetic IDX set.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import nnfunc as nf
from nnfunc.datasets import fit_standardize, load_mnist, split, standardize
from nnfunc.plotting import plot_history, save_figure

SIZES = [784, 256, 128, 10]
LR = 1e-3  # Adam
BATCH_SIZE = 128
EPOCHS = 20
PATIENCE = 3
L2 = 1e-4
VALIDATION = 5000  # training images held out for early stopping
SEED = 0


def main(data: str | Path, out: str | Path = "out", epochs: int = EPOCHS) -> float:
    """Train on the files in ``data``; save ``mnist_curves.png``; return test accuracy.

    Raises:
        FileNotFoundError: an MNIST file is missing (the message says where
            to get it).
    """
    out = Path(out)
    mnist = load_mnist(data)  # float32 pixels in [0, 1], int64 labels
    n = len(mnist.y_train)
    held = min(VALIDATION, n // 10) / n
    (x, y), (x_val, y_val) = split(
        mnist.x_train, mnist.y_train, (1 - held, held), seed=SEED, stratify=True
    )
    mean, std = fit_standardize(x)
    x, x_val, x_test = (standardize(a, mean, std) for a in (x, x_val, mnist.x_test))
    print(f"MNIST: {len(y)} train, {len(y_val)} validation, {len(x_test)} test",
          flush=True)  # fmt: skip
    params = nf.init_params(
        SIZES, output="softmax", seed=SEED, init="he", dtype=np.float32
    )
    t0 = time.perf_counter()
    params, _, history = nf.train(
        params, x, y, optimizer=nf.adam(LR), epochs=epochs, batch_size=BATCH_SIZE,
        seed=SEED, l2=L2, validation=(x_val, y_val),
        patience=PATIENCE,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    predicted = nf.predict(params, x_test)  # params record softmax
    acc = nf.accuracy(mnist.y_test, predicted)
    print(f"test accuracy {acc:.2%} after {len(history)} epochs, {seconds:.0f} s")
    print(nf.confusion_matrix(mnist.y_test, predicted, 10))

    out.mkdir(parents=True, exist_ok=True)
    fig = plot_history(history)
    fig.suptitle(f"MNIST, {SIZES}: test accuracy {acc:.2%}")
    print(f"wrote {save_figure(fig, out / 'mnist_curves.png', dpi=80)}")
    return acc


def cli(argv: list[str] | None = None) -> int:
    """Parse the command line, run ``main``; exit code 2 when files are missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="directory of the IDX files")
    parser.add_argument("--out", default="out", help="directory for the picture")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    a = parser.parse_args(argv)
    try:
        main(a.data, a.out, a.epochs)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(cli())
