"""What a benchmark run records about its machine: versions, BLAS, CPU, load.

``CpuMeter`` measures how busy *other* processes kept the CPUs while the
systems were timed: all CPUs' busy time (``/proc/stat``) minus the CPU time
of the harness and its workers (``/proc/<pid>/stat``). On a 2-core machine a
few percent of foreign load already slows the libraries that spin-wait on two
threads, so every configuration reports it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

PACKAGES = (
    "numpy",
    "nnfunc",
    "torch",
    "jax",
    "jaxlib",
    "scikit-learn",
    "threadpoolctl",
    "matplotlib",
)
ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)
HERE = Path(__file__).resolve().parent


def blas_text(pools: list[dict[str, Any]]) -> str:
    """Thread pools as text: ``openblas 0.3.31 SkylakeX (...), 2 threads``."""
    return (
        "; ".join(
            f"{p['internal_api']} {p['version'] or ''} {p['architecture'] or ''}"
            f" ({p['prefix']}), {p['num_threads']} threads".replace("  ", " ")
            for p in pools
        )
        or "threadpoolctl not installed"
    )


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _git(*args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=HERE, check=False
        )
    except OSError:
        return "unknown"
    return proc.stdout.strip()


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def meta(quick: bool, rounds: int, pause: float) -> dict[str, Any]:
    """Machine, versions, nnfunc's commit, BLAS variables, load at start."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    dirty = _git("status", "--porcelain", "--", str(HERE.parent / "nnfunc"))
    commit = _git("rev-parse", "--short", "HEAD")
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "quick": quick,
        "rounds": rounds,
        "pause_s": pause,
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {p: _version(p) for p in PACKAGES},
        "nnfunc_commit": commit + (" + uncommitted changes" if dirty else ""),
        "env": {k: os.environ[k] for k in ENV_VARS if k in os.environ},
        "load_start": load(),
        "blas": {},
    }


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


def _process_ticks(pid: int) -> int:
    """User + system clock ticks of a process, all its threads."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


class CpuMeter:
    """The share of all CPUs that other processes used between start and stop."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.start: tuple[int, int, int] | None
        try:
            self.start = (*_cpu_ticks(), self._ours())
        except OSError:
            self.start = None

    def _ours(self) -> int:
        own = os.times()
        hz = os.sysconf("SC_CLK_TCK")
        return sum(map(_process_ticks, self.pids)) + round((own.user + own.system) * hz)

    def stop(self) -> float | None:
        """Foreign busy ticks / all ticks; None where /proc is missing."""
        if self.start is None:
            return None
        try:
            busy, total, ours = (*_cpu_ticks(), self._ours())
        except OSError:
            return None
        b0, t0, o0 = self.start
        return max(0.0, ((busy - b0) - (ours - o0)) / max(total - t0, 1))
