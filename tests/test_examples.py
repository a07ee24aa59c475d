"""The examples run, in a fast mode, learn what they claim and write their pictures."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from examples import (
    activations,
    digits,
    initialization,
    make_figures,
    mnist,
    optimizers,
    spirals,
    xor,
)

PNG = b"\x89PNG\r\n\x1a\n"
GIF = b"GIF89a"


def is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG


def test_xor_two_hidden_units_learn_the_truth_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert xor.main() == 1.0
    table = capsys.readouterr().out
    assert len([line for line in table.splitlines() if "|" in line]) == 5
    assert "accuracy 100%" in table


def test_xor_survey_counts_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert xor.survey(seeds=3) == 3  # seeds 0, 1, 2 all work for 2-2-1
    assert capsys.readouterr().out == ""
    assert xor.survey(seeds=3, show=True) == 3
    assert capsys.readouterr().out == "[2, 2, 1]: +++ 3 of 3 seeds learn XOR\n"


def test_spirals_fast_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    acc = spirals.main(tmp_path, epochs=30, frames=4)
    assert acc >= 0.95
    assert is_png(tmp_path / "spirals_boundary.png")
    gif = (tmp_path / "spirals_training.gif").read_bytes()
    assert gif[:6] == GIF
    assert len(gif) < 1_500_000
    with Image.open(tmp_path / "spirals_training.gif") as im:
        assert min(im.size) >= 480
        assert getattr(im, "n_frames", 1) == 4  # epochs 1, 6, 16, 30
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'spirals_boundary.png'}" in out
    assert f"wrote {tmp_path / 'spirals_training.gif'}" in out


def test_activations_figure(tmp_path: Path) -> None:
    assert is_png(activations.main(tmp_path))


def test_initialization_small_normal_does_not_train(tmp_path: Path) -> None:
    final = initialization.main(tmp_path, epochs=8)
    assert is_png(tmp_path / "initialization.png")
    assert final["small_normal"] > 0.69  # stuck at ln 2: the signal vanished
    assert final["he"] < final["small_normal"] - 0.05
    tanh = initialization.layer_stds("small_normal", "tanh")
    assert tanh[-1] < 1e-6 * tanh[0]
    he = initialization.layer_stds("he", "relu")
    assert 0.1 < he[-1] / he[1] < 10


def test_optimizers_figure(tmp_path: Path) -> None:
    final = optimizers.main(tmp_path, epochs=5)
    assert is_png(tmp_path / "optimizers.png")
    assert set(final) == set(optimizers.OPTIMIZERS)
    assert all(np.isfinite(v) and v < np.log(2) + 0.05 for v in final.values())


def test_digits_fast_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = digits.main(tmp_path, seeds=[0], epochs=25, compare=False, verbose=False)
    assert result["accuracy"] >= 0.95
    assert is_png(tmp_path / "digits_curves.png")
    assert is_png(tmp_path / "digits_mistakes.png")
    out = capsys.readouterr().out
    assert "confusion matrix" in out
    assert "precision" in out
    assert f"wrote {tmp_path / 'digits_curves.png'}" in out
    assert f"wrote {tmp_path / 'digits_mistakes.png'}" in out


def test_digits_split_is_stratified_and_standardized() -> None:
    parts = digits.load(0)
    x_train = parts[0][0]
    assert np.allclose(x_train.mean(axis=0), 0.0)
    counts = np.array([np.bincount(y, minlength=10) for _, y in parts])
    assert counts.sum() == 1797
    total = counts.sum(axis=0)  # per class
    for fraction, row in zip(digits.SPLIT, counts, strict=True):
        assert np.all(np.abs(row - fraction * total) <= 1)


def test_digits_sklearn_baseline_on_same_rows() -> None:
    (x, y), val, test = digits.load(0)
    small = ((x[:100], y[:100]), val, test)
    acc, seconds = digits.sklearn_baseline(small, 0)
    assert 0.8 <= acc <= 1.0  # 100 training images are enough for 80%
    assert seconds > 0


def write_idx(path: Path, a: np.ndarray) -> None:
    """An IDX file of uint8 ``a`` (gzipped when the name ends in .gz)."""
    data = struct.pack(">BBBB", 0, 0, 0x08, a.ndim)
    data += struct.pack(f">{a.ndim}I", *a.shape) + a.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def fake_mnist(folder: Path, n_train: int, n_test: int) -> None:
    """Digits as a bright 7x7 block whose position depends on the label, plus noise."""
    rng = np.random.default_rng(0)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        y = rng.integers(0, 10, n)
        img = rng.integers(0, 60, (n, 28, 28))
        for i, c in enumerate(y):
            r, k = divmod(int(c), 4)
            img[i, 7 * r : 7 * r + 7, 7 * k : 7 * k + 7] += 190
        write_idx(folder / f"{stem}-images-idx3-ubyte.gz", img)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", y)


def test_mnist_on_a_fake_idx_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_mnist(tmp_path, n_train=500, n_test=100)
    acc = mnist.main(tmp_path, tmp_path / "out", epochs=3)
    assert acc >= 0.9
    assert is_png(tmp_path / "out" / "mnist_curves.png")
    assert f"wrote {tmp_path / 'out' / 'mnist_curves.png'}" in capsys.readouterr().out


def test_mnist_missing_files_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = mnist.cli(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "MNIST files missing" in err
    assert "train-images-idx3-ubyte" in err
    assert "http" in err
    assert not list(tmp_path.iterdir())  # nothing written


@pytest.mark.slow  # draws every figure twice: about 15 s
def test_make_figures_fast_writes_all_eight_the_same_twice(tmp_path: Path) -> None:
    paths = make_figures.main(tmp_path / "a", fast=True)
    assert len(paths) == 8
    for p in paths:
        magic = GIF if p.suffix == ".gif" else PNG
        assert p.read_bytes()[: len(magic)] == magic
    again = make_figures.main(tmp_path / "b", fast=True)
    for p, q in zip(paths, again, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name


def test_committed_pictures_exist_and_are_small() -> None:
    for name in make_figures.NAMES:
        size = (make_figures.OUT / name).stat().st_size
        assert 0 < size < (1_500_000 if name.endswith(".gif") else 200_000), name
    with Image.open(make_figures.OUT / "spirals_training.gif") as im:
        assert min(im.size) >= 480  # readable at its own size
