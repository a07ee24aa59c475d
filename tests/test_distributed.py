"""nnfunc.distributed on a local cluster: exact, fault-tolerant, on loopback only.

One module-scoped cluster of two worker processes serves every test (its
client is Dask's default, so ``loss_and_grads``/``forward`` run on it).
"""

from __future__ import annotations

import itertools
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
import pytest
from distributed import Client, LocalCluster
from hypothesis import given, settings
from hypothesis import strategies as st

import nnfunc as nf
import nnfunc.distributed as nfd
from examples import distributed_train, sweep
from nnfunc.distributed._shards import on_disk

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS: tuple[nf.OutputName, ...] = ("sigmoid", "softmax", "identity")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # The scheduler's HTTP server (health and metrics; no dashboard) takes a
    # free loopback port instead of 127.0.0.1:8787, which another cluster
    # on this machine may hold (distributed then warns, an error here).
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def problem(
    output: nf.OutputName, n: int, seed: int = 0
) -> tuple[nf.Frozen[nf.Array], npt.NDArray[Any], npt.NDArray[Any]]:
    """A small net for ``output`` and ``n`` rows of data it can read."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5))
    y: npt.NDArray[Any]
    if output == "softmax":
        k, y = 3, rng.integers(0, 3, n)  # labels
    elif output == "sigmoid":
        k, y = 2, rng.random((n, 2))
    else:
        k, y = 1, rng.standard_normal(n)
    p = nf.init_params([5, 4, k], hidden="tanh", output=output, seed=seed)
    return p, x, y


def rel(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """``||a - b|| / ||b||`` (0 for two zero arrays)."""
    scale = float(np.linalg.norm(b))
    diff = float(np.linalg.norm(a - b))
    return diff / scale if scale else diff


def close(a: nf.Params, b: nf.Params, tol: float) -> bool:
    return a.keys() == b.keys() and all(rel(a[k], b[k]) <= tol for k in a)


@st.composite
def chunkings(draw: st.DrawFn) -> tuple[int, ...]:
    """Row chunk sizes of 1..30 rows in 1..6 chunks."""
    n = draw(st.integers(1, 30))
    cuts = (
        draw(st.lists(st.integers(1, n - 1), unique=True, max_size=5)) if n > 1 else []
    )
    edges = [0, *sorted(cuts), n]
    return tuple(b - a for a, b in itertools.pairwise(edges))


# --- the extra -------------------------------------------------------------


def test_nnfunc_does_not_import_dask() -> None:
    code = (
        "import sys, nnfunc\n"
        "top = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(top & {'dask', 'distributed'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert out.stdout.strip() == "[]"


def test_without_dask_the_error_names_the_extra() -> None:
    code = (
        "import sys\nsys.modules['dask'] = None\n"
        "try:\n    import nnfunc.distributed\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "pip install -e '.[distributed]'" in out.stdout


# --- loss, gradient, forward -------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(
    chunks=chunkings(),
    output=st.sampled_from(OUTPUTS),
    l2=st.sampled_from([0.0, 0.3]),
    y_dask=st.booleans(),
)
def test_loss_and_grads_equal_in_memory_for_any_chunking(
    client: Client,
    chunks: tuple[int, ...],
    output: nf.OutputName,
    l2: float,
    y_dask: bool,
) -> None:
    p, x, y = problem(output, sum(chunks))
    xd = da.from_array(x, chunks=(chunks, -1))
    yd: Any = da.from_array(y, chunks=-1) if y_dask else y  # rechunked to x's rows
    value, g = nfd.loss_and_grads(p, xd, yd, l2=l2)
    ref_value, ref_g = nf.loss_and_grads(p, x, y, l2=l2)
    assert abs(value - ref_value) <= 1e-12 * abs(ref_value)
    assert close(g, ref_g, 1e-12)
    assert isinstance(g, nf.Frozen)
    assert (g.hidden, g.output) == ("tanh", output)
    assert abs(nfd.loss(p, xd, yd, l2=l2) - ref_value) <= 1e-12 * abs(ref_value)
    if len(chunks) == 1:  # one chunk: the in-memory computation itself
        assert value == ref_value
        assert g == ref_g


def test_grads_carry_the_record_and_match(client: Client) -> None:
    p, x, y = problem("softmax", 40)
    g = nfd.grads(p, da.from_array(x, chunks=(7, 5)), y)
    assert close(g, nf.grads(p, x, y), 1e-12)
    assert g.output == "softmax"


@pytest.mark.parametrize("output", OUTPUTS)
def test_forward_and_predict_map_over_chunks(
    client: Client, output: nf.OutputName
) -> None:
    p, x, _ = problem(output, 23)
    xd = da.from_array(x, chunks=(6, 2))  # columns chunked too: undone
    a = nfd.forward(p, xd)
    labels = nfd.predict(p, xd)
    assert isinstance(a, da.Array)
    assert isinstance(labels, da.Array)
    np.testing.assert_allclose(a.compute(), nf.forward(p, x), rtol=1e-12, atol=1e-15)
    got, ref = labels.compute(), nf.predict(p, x)
    assert got.shape == ref.shape
    assert got.dtype == ref.dtype
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_chunk_errors_name_their_rows(client: Client) -> None:
    p, x, y = problem("sigmoid", 30)
    x[12, 3] = np.nan
    with pytest.raises(ValueError, match=r"x has NaN .*rows 10:20"):
        nfd.loss(p, da.from_array(x, chunks=(10, -1)), y)


def test_arguments_are_checked_up_front() -> None:
    p, x, y = problem("sigmoid", 8)
    with pytest.raises(TypeError, match="must be a Dask array"):
        nfd.loss_and_grads(p, x, y)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has 4 features but W1 expects 5"):
        nfd.forward(p, da.from_array(x[:, :4]))
    with pytest.raises(ValueError, match="y has 7 rows but x has 8"):
        nfd.loss(p, da.from_array(x), y[:7])
    with pytest.raises(TypeError, match=r"optimizer must be an nnfunc\.Optimizer"):
        nfd.train(p, da.from_array(x), y, optimizer="adam", epochs=1)  # type: ignore[arg-type]


# --- train -------------------------------------------------------------------


def kwargs() -> dict[str, Any]:
    rng = np.random.default_rng(9)
    val = (rng.standard_normal((20, 5)), rng.integers(0, 3, 20))
    return {
        "optimizer": nf.adam(1e-2),
        "epochs": 3,
        "batch_size": 16,
        "seed": 7,
        "l2": 1e-3,
        "validation": val,
        "verbose": False,
    }


def test_one_chunk_trains_as_nnfunc_train(client: Client) -> None:
    p, x, y = problem("softmax", 75)
    ref = nf.train(p, x, y, **kwargs())
    got = nfd.train(
        p, da.from_array(x, chunks=-1), da.from_array(y), client=client, **kwargs()
    )
    assert close(got.params, ref.params, 1e-12)
    assert got.params.output == "softmax"
    assert close(got.opt_state, ref.opt_state, 1e-12)
    for a, b in zip(got.history, ref.history, strict=True):
        assert a.epoch == b.epoch
        assert a.lr == b.lr
        assert abs(a.train_loss - b.train_loss) <= 1e-12 * b.train_loss
        assert a.val_loss is not None
        assert b.val_loss is not None
        assert abs(a.val_loss - b.val_loss) <= 1e-12 * b.val_loss


def test_many_chunks_take_the_same_steps(client: Client) -> None:
    p, x, y = problem("softmax", 75)
    ref = nf.train(p, x, y, **kwargs())
    got = nfd.train(p, da.from_array(x, chunks=(11, -1)), y, client=client, **kwargs())
    assert close(got.params, ref.params, 1e-9)  # the same batches, summed in pieces
    assert int(got.opt_state["epoch"]) == 3


def test_resuming_continues_the_run(client: Client) -> None:
    p, x, y = problem("sigmoid", 40)
    xd = da.from_array(x, chunks=(13, -1))
    kw: dict[str, Any] = {
        "optimizer": nf.sgd(0.1),
        "batch_size": 8,
        "verbose": False,
        "client": client,
    }
    whole = nfd.train(p, xd, y, epochs=2, **kw)
    first = nfd.train(p, xd, y, epochs=1, **kw)
    rest = nfd.train(first.params, xd, y, epochs=1, opt_state=first.opt_state, **kw)
    assert close(rest.params, whole.params, 1e-12)
    assert rest.history[0].epoch == 2


def test_npy_chunks_are_read_row_by_row(tmp_path: Path) -> None:
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    np.save(tmp_path / "x.npy", x)
    rows = on_disk(np.load(tmp_path / "x.npy", mmap_mode="r"))
    assert rows is not None
    idx = np.array([7, 3, 4, 5, 19, 0])
    np.testing.assert_array_equal(rows.take(idx), x[idx])
    assert on_disk(np.load(tmp_path / "x.npy")) is None  # in memory: not a file


def test_train_from_npy_stack_equals_in_memory(client: Client, tmp_path: Path) -> None:
    p, x, y = problem("softmax", 90, seed=3)
    da.to_npy_stack(
        str(tmp_path / "x"), da.from_array(x.astype(np.float32), chunks=(30, -1))
    )
    da.to_npy_stack(str(tmp_path / "y"), da.from_array(y, chunks=30))
    xd, yd = (
        da.from_npy_stack(str(tmp_path / "x")),
        da.from_npy_stack(str(tmp_path / "y")),
    )
    kw: dict[str, Any] = {
        "optimizer": nf.adam(1e-2),
        "epochs": 2,
        "batch_size": 32,
        "verbose": False,
    }
    got = nfd.train(p, xd, yd, client=client, **kw)
    ref = nf.train(p, x.astype(np.float32), y, **kw)
    assert close(got.params, ref.params, 1e-9)


def test_bad_rows_on_disk_fail_with_the_last_good_state(
    client: Client, tmp_path: Path
) -> None:
    p, x, y = problem("softmax", 60, seed=4)
    x[45] = np.inf  # found when a step reads it, not before
    da.to_npy_stack(str(tmp_path / "x"), da.from_array(x, chunks=(30, -1)))
    xd = da.from_npy_stack(str(tmp_path / "x"))
    with pytest.raises(nf.TrainingFailed, match="ValueError") as info:
        nfd.train(
            p,
            xd,
            y,
            optimizer=nf.sgd(0.1),
            epochs=2,
            batch_size=10,
            client=client,
            verbose=False,
        )
    e = info.value
    assert "rows 30:60" in str(e.__cause__)
    assert all(np.isfinite(a).all() for a in e.params.values())
    again = pickle.loads(pickle.dumps(e))
    assert again.params == e.params
    assert again.opt_state == e.opt_state


@pytest.mark.slow
def test_a_killed_worker_loses_nothing_learned(client: Client) -> None:
    p, x, y = problem("softmax", 3000, seed=5)
    xd = da.from_array(x, chunks=(500, -1))
    victim = sorted(client.run(os.getpid).values())[0]
    killed = threading.Event()

    def kill_during_epoch_2(record: nf.EpochRecord, params: nf.Params) -> None:
        if record.epoch == 1:  # lands some steps into epoch 2

            def kill() -> None:
                os.kill(victim, signal.SIGKILL)
                killed.set()

            threading.Timer(0.1, kill).start()

    try:
        result = nfd.train(
            p,
            xd,
            y,
            optimizer=nf.adam(1e-2),
            epochs=4,
            batch_size=20,
            client=client,
            verbose=False,
            callback=kill_during_epoch_2,
        )
        params, state = result.params, result.opt_state
        assert len(result.history) == 4  # Dask recomputed the lost shards
    except (nf.TrainingFailed, nf.TrainingError) as e:
        params, state = e.params, e.opt_state
    assert killed.wait(10)
    assert all(np.isfinite(a).all() for a in params.values())
    assert all(np.isfinite(a).all() for a in state.values())
    client.wait_for_workers(2, timeout=60)  # the nanny started a new one


# --- the cluster -------------------------------------------------------------


def listening() -> list[str]:
    """The local IPv4/IPv6 addresses this process listens on (Linux /proc)."""
    fds = Path("/proc/self/fd")
    inodes: set[str] = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: list[str] = []
    for table in ("tcp", "tcp6"):
        path = Path("/proc/self/net") / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # 0A: LISTEN
                found.append(_ip(cols[1].split(":")[0]))
    return found


def _ip(hex_ip: str) -> str:
    raw = bytes.fromhex(hex_ip)
    if len(raw) == 4:
        return ".".join(str(b) for b in raw[::-1])
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
    return ":".join(w.hex() for w in words)


def test_everything_listens_on_loopback_only(client: Client) -> None:
    info = client.scheduler_info()
    assert info["address"].startswith("tcp://127.0.0.1:")
    assert len(info["workers"]) == 2
    for address, worker in info["workers"].items():
        assert address.startswith("tcp://127.0.0.1:")
        assert worker["nanny"].startswith("tcp://127.0.0.1:")
    for process in (client.run(listening), client.run(listening, nanny=True)):
        for ips in process.values():
            assert ips
            assert set(ips) == {"127.0.0.1"}


@pytest.mark.slow
def test_embedded_cluster_by_default() -> None:
    p, x, y = problem("softmax", 75)
    got = nfd.train(p, da.from_array(x, chunks=-1), y, **kwargs())
    assert close(got.params, nf.train(p, x, y, **kwargs()).params, 1e-12)


# --- the examples ------------------------------------------------------------


@pytest.mark.slow
def test_sweep_example_tiny(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = sweep.main(tmp_path, tiny=True, client=client)
    assert len(outcomes) == 4
    assert all(o.val_accuracy > 0.5 for o in outcomes)
    assert (tmp_path / "sweep_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "val acc" in out
    assert f"heatmap in {tmp_path / 'sweep_heatmap.png'}" in out


@pytest.mark.slow
def test_distributed_train_example_tiny(
    client: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accuracy, peaks = distributed_train.main(tmp_path, tiny=True, client=client)
    assert accuracy > 0.5
    assert len(peaks) == 2
    assert all(v > 0 for v in peaks.values())
    out = capsys.readouterr().out
    assert "test accuracy" in out
    assert "peak" in out
