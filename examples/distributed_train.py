"""Training on more data than a worker can hold: ``.npy`` files read row by row.

The data set is synthetic and learnable: Gaussian inputs labelled by a
random teacher network (a ReLU layer of 64 units, 10 classes). It is
written to disk as two stacks of ``.npy`` files, one file per chunk
(``dask.array.to_npy_stack``, chunk by chunk: never whole in memory), and
opened lazily with ``dask.array.from_npy_stack``. Each worker of a local
cluster gets a memory limit smaller than the inputs; ``nnfunc.distributed.train``
keeps each chunk on disk and reads only the rows of each step, so the peak
memory of every worker (``VmHWM`` from ``/proc/self/status``, reset before
training) stays far below its limit. A held-out test set, in memory,
reports the accuracy. Run from the repository root::

    python examples/distributed_train.py                 # ~820 MB of inputs
    python examples/distributed_train.py --scheduler tcp://HOST:PORT
    python examples/distributed_train.py --tiny          # 4,000 rows, for tests

With ``--scheduler``, the workers must see the ``--data`` directory at the
same path (one machine, or a shared file system).
"""

from __future__ import annotations

import argparse
import contextlib
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any, NamedTuple

import dask
import dask.array as da
import numpy as np
import numpy.typing as npt
from distributed import Client

import nnfunc as nf
import nnfunc.distributed as nfd


class Settings(NamedTuple):
    """The data's size and the network's shape; one full set, one tiny."""

    rows: int
    features: int
    chunk: int  # rows per .npy file
    hidden: int
    batch_size: int
    epochs: int
    memory_limit: str  # per worker, for the local cluster


FULL = Settings(800_000, 256, 25_000, 128, 1024, 2, "350MiB")  # 819 MB of inputs
TINY = Settings(4_000, 16, 1_000, 16, 64, 2, "auto")
CLASSES = 10
TEACHER = 64  # hidden units of the network that labels the data
LR = 3e-3  # Adam
TEST_ROWS = 10_000
SEED = 0


def teacher(features: int) -> nf.Frozen[nf.Array]:
    return nf.init_params([features, TEACHER, CLASSES], output="softmax", seed=SEED + 1)


def features(
    block_id: tuple[int, int], rows: int, cols: int
) -> npt.NDArray[np.float32]:
    """Chunk ``block_id[0]``'s inputs, from its own seed (any order, any worker)."""
    rng = np.random.default_rng([SEED, block_id[0]])
    return rng.standard_normal((rows, cols), dtype=np.float32)


def labels(x: npt.NDArray[Any], params: nf.Frozen[nf.Array]) -> npt.NDArray[np.int64]:
    out: npt.NDArray[np.int64] = nf.predict(params, x).astype(np.int64)
    return out


def make_data(where: Path, s: Settings) -> tuple[da.Array, da.Array]:
    """The stacks ``where/x`` and ``where/y`` (written if missing), opened lazily."""
    x_dir, y_dir = where / "x", where / "y"
    if not ((x_dir / "info").exists() and (y_dir / "info").exists()) or (
        da.from_npy_stack(str(x_dir)).shape != (s.rows, s.features)
    ):
        where.mkdir(parents=True, exist_ok=True)
        chunks = ((s.chunk,) * (s.rows // s.chunk), (s.features,))
        x = da.map_blocks(
            features,
            chunks=chunks,
            dtype=np.float32,
            meta=np.empty((0, 0), np.float32),
            rows=s.chunk,
            cols=s.features,
        )
        y = x.map_blocks(
            labels,
            teacher(s.features),
            drop_axis=1,
            dtype=np.int64,
            meta=np.empty((0,), np.int64),
        )
        with dask.config.set(scheduler="threads"):  # written here, chunk by chunk
            da.to_npy_stack(str(x_dir), x)
            da.to_npy_stack(str(y_dir), y)
    return da.from_npy_stack(str(x_dir)), da.from_npy_stack(str(y_dir))


def held_out(s: Settings) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    rng = np.random.default_rng([SEED, 10**6])
    x = rng.standard_normal((min(TEST_ROWS, s.rows), s.features), dtype=np.float32)
    return x, labels(x, teacher(s.features))


def reset_peak() -> None:
    """Start the worker's peak resident size (VmHWM) again from its current size.

    (Where the kernel refuses, the peak counts from the worker's start.)
    """
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak() -> int:
    """The worker's peak resident size since the last reset, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def memory_report(client: Client, peaks: dict[str, int], data_bytes: float) -> None:
    workers = client.scheduler_info()["workers"]
    for address, used in sorted(peaks.items()):
        limit = workers[address]["memory_limit"] if address in workers else 0
        share = (
            f" = {used / limit:.0%} of its {limit / 1e6:.0f} MB limit" if limit else ""
        )
        print(f"  worker {address}: peak {used / 1e6:.0f} MB{share}")
    smallest = min((w["memory_limit"] for w in workers.values()), default=0)
    if smallest:
        print(
            f"  data: {data_bytes / 1e6:.0f} MB of inputs = "
            f"{data_bytes / smallest:.1f} x one worker's memory limit"
        )


def main(
    data: str | Path = "out/distributed_data",
    tiny: bool = False,
    scheduler: str | None = None,
    client: Client | None = None,
) -> tuple[float, dict[str, int]]:
    """Make or reuse the data, train, report; return test accuracy and peaks."""
    s = TINY if tiny else FULL
    t0 = time.perf_counter()
    x, y = make_data(Path(data), s)
    print(
        f"data: {x.shape[0]:,} x {x.shape[1]} float32 in {x.numblocks[0]} files "
        f"under {data}/ ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    x_test, y_test = held_out(s)
    params = nf.init_params(
        [s.features, s.hidden, CLASSES], output="softmax", seed=SEED, init="he"
    )
    local = nfd.connect(scheduler, memory_limit=s.memory_limit)
    with nullcontext(client) if client is not None else local as c:
        c.run(reset_peak)
        t0 = time.perf_counter()
        params, _, history = nfd.train(
            params,
            x,
            y,
            optimizer=nf.adam(LR),
            epochs=s.epochs,
            batch_size=s.batch_size,
            seed=SEED,
            client=c,
            verbose=True,
            validation=(x_test[:1000], y_test[:1000]),
        )
        seconds = time.perf_counter() - t0
        peaks = c.run(peak)
        accuracy = nf.accuracy(y_test, nf.predict(params, x_test))
        samples = len(history) * x.shape[0]
        print(
            f"test accuracy {accuracy:.2%} after {len(history)} epochs "
            f"({samples / seconds:,.0f} samples/s)"
        )
        print("peak memory while training:")
        memory_report(c, peaks, x.nbytes)
    return accuracy, peaks


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument(
        "--data", default="out/distributed_data", help="where the stacks go"
    )
    cli.add_argument("--scheduler", help="tcp://HOST:PORT of a running cluster")
    cli.add_argument("--tiny", action="store_true", help="a tiny data set, for tests")
    a = cli.parse_args()
    main(a.data, tiny=a.tiny, scheduler=a.scheduler)
