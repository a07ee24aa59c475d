"""Mini-batches: every sample once per epoch, seeded, validated at the call."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnfunc.batching import batches, derive_seed, epoch_seed, n_batches


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    # row i of x is (i, -i), so a batch tells which samples it holds
    i = np.arange(n, dtype=np.float64)
    return np.stack([i, -i], axis=1), np.arange(n)


@settings(deadline=None)
@given(
    n=st.integers(1, 120),
    batch_size=st.integers(1, 40),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_every_sample_once_per_epoch(
    n: int, batch_size: int, drop_last: bool, seed: int
) -> None:
    x, y = _data(n)
    got = list(batches(x, y, batch_size=batch_size, seed=seed, drop_last=drop_last))
    assert len(got) == n_batches(n, batch_size, drop_last)
    for xb, yb in got:
        assert xb.shape == (yb.shape[0], 2)
        np.testing.assert_array_equal(xb[:, 0], yb)  # rows stay paired
    sizes = [yb.shape[0] for _, yb in got]
    seen = np.concatenate([yb for _, yb in got]) if got else np.array([], int)
    assert len(set(seen.tolist())) == seen.size  # no sample twice
    if drop_last:
        assert all(s == batch_size for s in sizes)
        assert seen.size == n - n % batch_size
    else:
        assert all(s == batch_size for s in sizes[:-1])
        assert sorted(seen.tolist()) == list(range(n))


def test_same_seed_same_batches_and_different_seeds_differ() -> None:
    x, y = _data(50)

    def order(seed: int | np.random.SeedSequence) -> list[int]:
        got = [yb for _, yb in batches(x, y, batch_size=7, seed=seed)]
        out: list[int] = np.concatenate(got).tolist()
        return out

    assert order(3) == order(3)
    assert order(3) != order(4)
    assert order(np.random.SeedSequence(9)) == order(np.random.SeedSequence(9))
    assert order(epoch_seed(3, 0)) != order(epoch_seed(3, 1))


def test_derive_seed_is_the_spawned_child_without_a_counter() -> None:
    for seed in (0, 12345, np.random.SeedSequence(77)):
        parent = np.random.SeedSequence(seed) if isinstance(seed, int) else seed
        child = np.random.SeedSequence(parent.entropy).spawn(4)[3].spawn(3)[2]
        a = derive_seed(seed, 3, 2).generate_state(4)
        np.testing.assert_array_equal(a, child.generate_state(4))
    assert epoch_seed(5, 2).spawn_key == (2,)
    s = np.random.SeedSequence(1)
    derive_seed(s, 0)
    assert s.n_children_spawned == 0  # no hidden state moved


def test_inputs_unchanged_and_batches_are_copies() -> None:
    x, y = _data(10)
    x0, y0 = x.copy(), y.copy()
    for xb, yb in batches(x, y, batch_size=3, seed=0):
        xb[...] = -1.0
        yb[...] = -1
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


def test_accepts_lists_and_2d_targets() -> None:
    out = list(batches([[1.0], [2.0]], [[0, 1], [1, 0]], batch_size=1, seed=0))
    assert [yb.shape for _, yb in out] == [(1, 2), (1, 2)]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"y": np.arange(4)}, ValueError, "x has 5 samples but y has 4"),
        ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, ValueError, "at least one"),
        ({"x": np.float64(1.0)}, ValueError, "0-d"),
        ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"batch_size": 2.0}, TypeError, "batch_size must be an int"),
        ({"batch_size": True}, TypeError, "batch_size must be an int"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
        ({"seed": "0"}, TypeError, "seed must be a non-negative int"),
        ({"drop_last": 1}, TypeError, "drop_last must be a bool"),
    ],
)
def test_bad_arguments_raise_at_the_call(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    x, y = _data(5)
    args: dict[str, object] = {"x": x, "y": y, "batch_size": 2, "seed": 0, **kwargs}
    with pytest.raises(error, match=match):
        batches(**args)  # type: ignore[call-overload]  # raises before any next()
