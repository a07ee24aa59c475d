"""What scaling out on Dask costs and buys: a sweep, a chunked gradient, big data.

(a) **Sweep.** The 8 digits trainings of a 2 x 2 x 2 grid
    (``examples/sweep.py``'s ``fit``, 100 epochs each, no early stopping) run
    as ``client.map`` tasks on a local cluster of 2 worker processes, against
    the same 8 one after another in this process. Dask's overhead is the
    wall time beyond the ideal, ``sum(task seconds) / workers``.
(b) **Exact gradient over chunks.** ``nnfunc.distributed.loss_and_grads`` over
    100,000 x 784 float32 rows (784-256-128-10, softmax) persisted on the 2
    workers in 4, 8 and 32 chunks, against ``nnfunc.loss_and_grads`` on the
    same rows in memory (median of rounds; ratio = distributed / in memory).
(c) **Data past memory.** ``nnfunc.distributed.train`` for one epoch on
    ``examples/distributed_train.py``'s data (``.npy`` files, >= 2 x a
    worker's memory limit) on 2 workers with that limit: each worker's peak
    resident size (VmHWM, reset before training) against its limit, and
    samples/s against ``nnfunc.train`` on the rows that fit in memory.

Run from the repository root (after the data of (c) is written once, ~1 GB
in ``out/distributed_data``)::

    python benchmarks/bench_distributed.py   # writes benchmarks/results/distributed.md
    python benchmarks/bench_distributed.py --quick   # tiny sizes: a smoke test
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import numpy.typing as npt
from distributed import Client

if __package__ in (None, ""):  # run as a script: make `examples` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nnfunc as nf
import nnfunc.distributed as nfd
from examples import distributed_train as big
from examples import sweep
from examples.digits import load

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 5  # (b): median of this many calls
CHUNKS = (4, 8, 32)  # (b)
SWEEP_EPOCHS = 100  # (a): every run this long (no early stopping: equal work)
Row = tuple[str, ...]


def busy(seconds: float = 1.0) -> float:
    """The fraction of all CPUs that were busy over ``seconds`` (``/proc/stat``)."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split()[1:9]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields) - idle, sum(fields)

    b0, t0 = sample()
    time.sleep(seconds)
    b1, t1 = sample()
    return (b1 - b0) / max(t1 - t0, 1)


def wait_quiet(limit: float) -> str:
    """Wait up to ``limit`` seconds for other processes to leave the CPUs idle.

    Returns how busy the CPUs were when the wait ended (this process is
    idle meanwhile, so that is the foreign load).
    """
    end = time.monotonic() + limit
    load = busy()
    while load > 0.05 and time.monotonic() < end:
        load = busy()
    return f"{load:.0%}"


def timed(f: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def load_module(name: str) -> None:
    """Import ``name`` (on a worker, before timing its tasks)."""
    importlib.import_module(name)


def sweep_bench(quick: bool) -> tuple[list[Row], list[str]]:
    """(a): 8 runs on 2 workers vs one after another here."""
    configs = sweep.grid((3e-3, 1e-3), (64, 128), (0.0, 1e-3))
    epochs = 2 if quick else SWEEP_EPOCHS
    data = load(sweep.SEED)

    def one(c: sweep.Config) -> sweep.Outcome:
        return sweep.fit(c, data, epochs, patience=None)

    t0 = time.perf_counter()
    local = [one(c) for c in configs]
    sequential = time.perf_counter() - t0
    t0 = time.perf_counter()
    with nfd.local_cluster(2) as cluster, Client(cluster) as client:
        start = time.perf_counter() - t0
        client.run(load_module, "examples.sweep")  # imports done before timing
        t0 = time.perf_counter()
        [on_workers] = client.scatter([data], broadcast=True)
        futures = client.map(
            sweep.fit,
            configs,
            data=on_workers,
            epochs=epochs,
            patience=None,
            pure=False,
        )
        remote = client.gather(futures)
        parallel = time.perf_counter() - t0
    busy = sum(o.seconds for o in remote)
    ideal = busy / 2
    same = all(
        a.test_accuracy == b.test_accuracy for a, b in zip(local, remote, strict=True)
    )
    rows: list[Row] = [
        ("8 runs, one after another (this process)", f"{sequential:.2f} s", ""),
        (
            "8 runs, client.map on 2 workers",
            f"{parallel:.2f} s",
            f"**{sequential / parallel:.2f}x** faster",
        ),
        (
            "training time inside the tasks (sum)",
            f"{busy:.2f} s",
            f"{busy / sum(o.seconds for o in local):.2f}x the in-process runs' own",
        ),
        (
            "Dask overhead: wall - sum / 2 workers",
            f"{parallel - ideal:.2f} s",
            f"{(parallel - ideal) / parallel:.0%} of the wall time",
        ),
        ("starting the local cluster (not in the above)", f"{start:.2f} s", ""),
    ]
    notes = [
        f"the 8 remote runs gave the same test accuracies as the local ones: {same}"
    ]
    return rows, notes


def gradient_bench(quick: bool) -> tuple[list[Row], list[str]]:
    """(b): loss_and_grads over persisted chunks vs in memory."""
    n, d = (4_000, 784) if quick else (100_000, 784)
    p = nf.init_params([d, 256, 128, 10], output="softmax", dtype=np.float32, init="he")
    rounds = 1 if quick else ROUNDS
    step = n // max(CHUNKS)
    rows: list[Row] = []
    worst = 0.0
    with nfd.local_cluster(2) as cluster, Client(cluster) as client:
        # made on the workers, block by block, so nothing large crosses
        base = da.map_blocks(
            big.features,
            chunks=((step,) * max(CHUNKS), (d,)),
            dtype=np.float32,
            meta=np.empty((0, 0), np.float32),
            rows=step,
            cols=d,
        )
        x = base.compute()
        y = np.random.default_rng(0).integers(0, 10, n)
        memory = statistics.median(
            timed(lambda: nf.loss_and_grads(p, x, y)) for _ in range(rounds)
        )
        rows.append(
            ("in memory, nnfunc.loss_and_grads", f"{memory * 1e3:.0f} ms", "1.00")
        )
        value, g = nf.loss_and_grads(p, x, y)
        for c in CHUNKS:
            xd = client.persist(base.rechunk((n // c, d)))
            yd = client.persist(da.from_array(y, chunks=n // c))
            nfd.loss_and_grads(p, xd, yd)  # warm: imports, first transfers
            call = functools.partial(nfd.loss_and_grads, p, xd, yd)
            t = statistics.median(timed(call) for _ in range(rounds))
            got, gd = nfd.loss_and_grads(p, xd, yd)
            worst = max(
                worst,
                abs(got - value) / value,
                *(float(np.abs(gd[k] - g[k]).max() / np.abs(g[k]).max()) for k in g),
            )
            rows.append(
                (
                    f"Dask, {c} chunks on 2 workers",
                    f"{t * 1e3:.0f} ms",
                    f"{t / memory:.2f}",
                )
            )
    notes = [
        f"{n:,} x {d} float32, 784-256-128-10 softmax; in memory: this process, "
        f"its BLAS threads; largest relative difference from in memory "
        f"(float32): {worst:.1e}"
    ]
    return rows, notes


def big_bench(quick: bool) -> tuple[list[Row], list[str]]:
    """(c): train past the workers' memory, from .npy files."""
    s = big.TINY if quick else big.FULL
    s = s._replace(epochs=1)
    where = ROOT / "out" / ("distributed_data_quick" if quick else "distributed_data")
    x, y = big.make_data(where, s)
    params = nf.init_params(
        [s.features, s.hidden, big.CLASSES], output="softmax", seed=0, init="he"
    )
    with nfd.connect(memory_limit=s.memory_limit) as client:
        client.run(big.reset_peak)
        t0 = time.perf_counter()
        result = nfd.train(
            params,
            x,
            y,
            optimizer=nf.adam(big.LR),
            epochs=1,
            batch_size=s.batch_size,
            client=client,
            verbose=False,
        )
        seconds = time.perf_counter() - t0
        peaks = client.run(big.peak)
        limits = {
            a: w["memory_limit"] for a, w in client.scheduler_info()["workers"].items()
        }
    x_test, y_test = big.held_out(s)
    accuracy = nf.accuracy(y_test, nf.predict(result.params, x_test))
    n = int(x.shape[0])
    fits = n // 4  # a quarter of the rows: within one worker's limit
    xm: npt.NDArray[Any] = np.asarray(x[:fits])
    ym: npt.NDArray[Any] = np.asarray(y[:fits])
    t0 = time.perf_counter()
    nf.train(
        params,
        xm,
        ym,
        optimizer=nf.adam(big.LR),
        epochs=1,
        batch_size=s.batch_size,
        verbose=False,
    )
    local = time.perf_counter() - t0
    rows: list[Row] = []
    for a in sorted(peaks):
        limit = limits.get(a, 0)
        rows.append(
            (
                f"worker {a}: peak / limit",
                f"{peaks[a] / 1e6:.0f} MB / {limit / 1e6:.0f} MB",
                f"{peaks[a] / limit:.0%}" if limit else "",
            )
        )
    rows += [
        (
            "nnfunc.distributed.train, 1 epoch from .npy",
            f"{n / seconds:,.0f} samples/s",
            f"{seconds:.1f} s for {n:,} rows",
        ),
        (
            "nnfunc.train in memory, the rows that fit",
            f"{fits / local:,.0f} samples/s",
            f"{local:.1f} s for {fits:,} rows",
        ),
    ]
    smallest = min(limits.values()) if limits else 1
    notes = [
        f"{n:,} x {s.features} float32 = {x.nbytes / 1e6:.0f} MB of inputs = "
        f"{x.nbytes / smallest:.2f} x a worker's memory limit; batch {s.batch_size}, "
        f"{s.features}-{s.hidden}-{big.CLASSES}; test accuracy after 1 epoch "
        f"{accuracy:.2%}; the files were in the page cache (written just before, "
        "24 GB of RAM), so the reads cost system calls, not disk time",
    ]
    return rows, notes


def table(title: str, rows: list[Row], notes: list[str]) -> str:
    head = ["", f"### {title}", "", "| | measured | |", "|---|---:|---|"]
    body = [f"| {' | '.join(r)} |" for r in rows]
    return "\n".join([*head, *body, "", *(f"- {n}" for n in notes)])


def main(
    quick: bool = False,
    out: Path = ROOT / "benchmarks" / "results",
    quiet: float = 300.0,
) -> str:
    parts = [
        "# nnfunc.distributed: benchmarks",
        "",
        f"Machine: {os.cpu_count()} CPUs; load average at start "
        + " ".join(f"{v:.2f}" for v in os.getloadavg())
        + f"; numpy {np.__version__}, dask {da.__name__ and _version('dask')}, "
        f"distributed {_version('distributed')}. Workers: local processes, one "
        "thread each (one BLAS thread).",
    ]
    for title, bench in (
        ("(a) a sweep of 8 digits trainings", sweep_bench),
        ("(b) loss_and_grads over chunks vs in memory", gradient_bench),
        ("(c) training on data past a worker's memory", big_bench),
    ):
        foreign = wait_quiet(0.0 if quick else quiet)
        print(f"running {title} (CPUs {foreign} busy before) ...", flush=True)
        rows, notes = bench(quick)
        notes.append(f"other processes kept the CPUs {foreign} busy just before")
        text = table(title, rows, notes)
        print(text, flush=True)
        parts.append(text)
    parts.append(
        "\nLoad average at the end: " + " ".join(f"{v:.2f}" for v in os.getloadavg())
    )
    report = "\n".join(parts) + "\n"
    if not quick:
        out.mkdir(parents=True, exist_ok=True)
        (out / "distributed.md").write_text(report)
        print(f"written to {out / 'distributed.md'}")
    return report


def _version(package: str) -> str:
    import importlib.metadata

    return importlib.metadata.version(package)


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--quick", action="store_true", help="tiny sizes, nothing written")
    cli.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        help="before each part, wait up to this long for idle CPUs",
    )
    a = cli.parse_args()
    main(quick=a.quick, quiet=a.wait_quiet)
