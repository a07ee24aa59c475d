"""A worker process: one system on one configuration, driven line by line.

``python bench_worker.py SYSTEM CONFIG SAMPLES`` (CONFIG: a name in
``bench_common.CONFIGS`` or a ``Config.spec``) imports the system's library,
makes the data, sets the system up, trains one warm-up epoch and prints a JSON
line ``{"ready": ...}``. Then each ``epoch N`` read on stdin trains one epoch
and prints ``{"seconds": ...}``; ``quit`` prints the peak memory and the
training accuracy and exits. Each system runs in its own process, so no
library's threads, allocator or imports disturb another's, and the memory
measured is the system's own.

``python bench_worker.py --memcheck SYSTEM SAMPLES`` trains one epoch of
configuration i on ``SAMPLES`` rows and prints the peak memory above the
memory held once the data exists.

Memory: Linux keeps the peak resident set size of a process (``VmHWM``, what
``getrusage`` reports as ``ru_maxrss``). Right after the data is made, the
worker resets that peak (``/proc/self/clear_refs``) and reads its resident
size; the peak at the end minus that baseline is what setting up and
training the system added: weights, buffers, temporaries, data copies the
library makes, compiled code. Where the reset is not possible the worker
falls back to the ``ru_maxrss`` delta.
"""

from __future__ import annotations

import gc
import importlib
import json
import resource
import sys
import time
import traceback
from dataclasses import replace
from typing import Any

from bench_common import CONFIGS, Loader, config_from, make_data
from bench_numpy import load_floor, load_nnfunc_loop, load_nnfunc_train, load_numpy
from bench_peers import load_jax, load_sklearn, load_torch

#: Every system: its key, its name in the tables, its loader.
SYSTEMS: dict[str, tuple[str, Loader]] = {
    "floor": ("floor (matmuls only)", load_floor),
    "nnfunc-loop": ("nnfunc, user loop", load_nnfunc_loop),
    "nnfunc-train": ("nnfunc, train", load_nnfunc_train),
    "numpy": ("plain NumPy", load_numpy),
    "torch": ("PyTorch eager", load_torch),
    "sklearn": ("scikit-learn MLPClassifier", load_sklearn),
    "jax": ("JAX jit", load_jax),
}


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak() -> tuple[int, str]:
    """Reset the peak RSS if the OS allows; return (baseline kB, method)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        rss = _status_kb("VmRSS")
        if rss is not None:
            return rss, "VmHWM after reset"
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss delta"


def peak_kb() -> int:
    hwm = _status_kb("VmHWM")
    return (
        hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )


def blas_info() -> list[dict[str, Any]]:
    """The BLAS and OpenMP pools loaded in this process (threadpoolctl)."""
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return []
    keys = ("internal_api", "prefix", "version", "architecture", "num_threads")
    return [{k: d.get(k) for k in keys} for d in threadpoolctl.threadpool_info()]


def emit(**record: Any) -> None:
    print(json.dumps(record), flush=True)


def serve(system: str, config: str, samples: int) -> None:
    cfg = config_from(config, samples)
    build = SYSTEMS[system][1]()
    x, y = make_data(cfg)
    base, method = reset_peak()
    t0 = time.perf_counter()
    sys_ = build(cfg, x, y)
    sys_.epoch(0)  # warm-up: first-touch allocations, JIT compilation, caches
    nnfunc = sys.modules.get("nnfunc")
    emit(
        ready=True,
        warmup_s=time.perf_counter() - t0,
        blas=blas_info(),
        nnfunc=getattr(nnfunc, "__file__", None),
    )
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "epoch":
            gc.collect()
            t0 = time.perf_counter()
            sys_.epoch(int(cmd[1]))
            emit(seconds=time.perf_counter() - t0)
        else:
            peak = peak_kb()
            emit(
                peak_mb=(peak - base) / 1024, memory_method=method, acc=sys_.accuracy()
            )
            return


def memcheck(system: str, samples: int) -> None:
    cfg = replace(CONFIGS["i"], samples=samples)
    build = SYSTEMS[system][1]()
    before = _status_kb("VmRSS")
    x, y = make_data(cfg)
    base, method = reset_peak()
    build(cfg, x, y).epoch(0)
    peak = peak_kb()
    emit(
        samples=samples,
        data_mb=(x.nbytes + y.nbytes) / 2**20,
        rss_before_data_mb=None if before is None else before / 1024,
        baseline_mb=base / 1024,
        peak_mb=peak / 1024,
        over_baseline_mb=(peak - base) / 1024,
        memory_method=method,
    )


def main(argv: list[str]) -> None:
    try:
        if argv[0] == "--memcheck":
            memcheck(argv[1], int(argv[2]))
        else:
            serve(argv[0], argv[1], int(argv[2]))
    except Exception as exc:  # reported to the harness, which skips the system
        emit(error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())


if __name__ == "__main__":
    main(sys.argv[1:])
