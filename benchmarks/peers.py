"""nnfunc side by side with its peers: one epoch of plain SGD on the same MLP.

Usage::

    python benchmarks/peers.py [--quick] [--configs i,iv] [--rounds N]
                               [--systems nnfunc-loop,torch,...] [--out DIR]

Every system trains the same network (ReLU hidden layers; softmax
cross-entropy, or sigmoid binary cross-entropy for one output unit; plain SGD,
lr 0.01; reshuffled every epoch) on the same synthetic data, each in its own
worker process (``bench_worker.py``). Per configuration, each system trains a
warm-up epoch, then the systems take turns, one epoch each, round after round
(A B C ... A B C ...); the median epoch time over the rounds is reported as
samples per second and as a ratio to the floor (the matrix products alone).
A system whose library is missing is skipped with a note. See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import bench_report
from bench_common import CONFIGS, Config, quick
from bench_env import CpuMeter, blas_text, load, meta
from bench_worker import SYSTEMS

HERE = Path(__file__).resolve().parent
WORKER = str(HERE / "bench_worker.py")
MEMCHECK_SAMPLES = 60_000


class WorkerError(Exception):
    """A worker could not set up or run its system."""


class Worker:
    """One system on one configuration, in a child process (see bench_worker)."""

    def __init__(self, system: str, cfg: Config) -> None:
        # kept open for the worker's lifetime; closed in close()
        self.stderr: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115
        args = [sys.executable, WORKER, system, cfg.spec, str(cfg.samples)]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def ask(self, command: str | None = None) -> dict[str, Any]:
        """Send ``command`` (if any) and read the worker's next JSON line."""
        if self.proc.stdin is None or self.proc.stdout is None:
            raise WorkerError("worker has no pipes")
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            tail = self.stderr.read().strip().splitlines()[-1:] or ["no output"]
            raise WorkerError(f"worker exited: {tail[0]}")
        record: dict[str, Any] = json.loads(line)
        if "error" in record:
            raise WorkerError(record["error"])
        return record

    def close(self) -> None:
        """Let the worker exit and release its files."""
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.stderr.close()


def run_config(
    cfg: Config, systems: list[str], rounds: int, pause: float, run: dict[str, Any]
) -> None:
    """Time every system on ``cfg`` in turns; store the results in ``run``."""
    workers: dict[str, Worker] = {}
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}

    def drop(key: str, exc: Exception) -> None:
        skipped[key] = str(exc)
        workers.pop(key).proc.kill()
        print(f"  {key}: skipped ({exc})")

    for key in systems:  # one at a time, so warm-ups do not overlap
        workers[key] = Worker(key, cfg)
        try:
            ready = workers[key].ask()
        except WorkerError as exc:
            drop(key, exc)
            continue
        results[key] = {"name": SYSTEMS[key][0], "warmup_s": ready["warmup_s"]}
        results[key]["seconds"] = []
        run["meta"]["blas"].setdefault(key, blas_text(ready["blas"]))
        if ready["nnfunc"]:
            run["meta"]["nnfunc_path"] = str(Path(ready["nnfunc"]).parent)
    meter = CpuMeter([w.proc.pid for w in workers.values()])
    for r in range(rounds):
        for key in list(workers):
            time.sleep(pause)  # let the last system's spinning threads go idle
            try:
                answer = workers[key].ask(f"epoch {r + 1}")
            except WorkerError as exc:
                drop(key, exc)
                continue
            results[key]["seconds"].append(answer["seconds"])
    foreign = meter.stop()
    for key, w in list(workers.items()):
        try:
            end = w.ask("quit")
        except WorkerError as exc:
            drop(key, exc)
            continue
        w.close()
        results[key].update(peak_mb=end["peak_mb"], accuracy=end["acc"])
        run["meta"]["memory_method"] = end["memory_method"]
    _summarize(cfg, {k: results[k] for k in systems if k in workers})
    if foreign is not None:
        print(f"  other processes used {100 * foreign:.1f}% of the CPUs meanwhile")
    run["configs"][cfg.name] = {
        "label": cfg.label,
        "sizes": cfg.sizes,
        "batch": cfg.batch,
        "dtype": cfg.dtype,
        "samples": cfg.samples,
        "foreign_cpu": foreign,
        "systems": {k: results[k] for k in systems if k in workers},
    }
    if skipped:
        run["skipped"][cfg.name] = skipped


def wait_quiet(limit: float, threshold: float = 0.05) -> float | None:
    """Wait (at most ``limit`` s) until other processes use < 5% of the CPUs.

    Returns the last one-second measurement (None without ``/proc``).
    """
    deadline = time.monotonic() + limit
    while True:
        meter = CpuMeter([])
        time.sleep(1.0)
        other = meter.stop()
        if other is None or other < threshold or time.monotonic() > deadline:
            return other
        print(f"  waiting: other processes use {100 * other:.0f}% of the CPUs")


def _summarize(cfg: Config, results: dict[str, dict[str, Any]]) -> None:
    """Median, samples/s and ratio to the floor's median, in place; print them."""
    floor = results.get("floor")
    floor_s = statistics.median(floor["seconds"]) if floor else None
    for res in results.values():
        med = statistics.median(res["seconds"])
        ratio = None if floor_s is None else med / floor_s
        res.update(
            median_s=med,
            median_ms=med * 1e3,
            samples_per_s=cfg.samples / med,
            ratio=ratio,
        )
        print(
            f"  {res['name']:<28} {med * 1e3:9.1f} ms {cfg.samples / med:11,.0f}"
            f" samples/s  x{ratio or float('nan'):6.2f} {res['peak_mb']:7.1f} MB"
        )


def use_nnfunc_at(rev: str, into: Path) -> str:
    """Export nnfunc/ at git revision ``rev`` into ``into``; workers import it.

    Benchmarks a committed nnfunc instead of whatever the working tree holds
    (the export is put first on the workers' ``PYTHONPATH``). Returns the
    revision's short hash.
    """
    root = HERE.parent
    archive = subprocess.run(
        ["git", "archive", rev, "nnfunc"], cwd=root, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    paths = [str(into), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    short = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=root, capture_output=True, text=True
    )
    return short.stdout.strip()


def memcheck(system: str, samples: int) -> dict[str, Any]:
    """Peak memory of one epoch of ``system`` on ``samples`` x 784 float32."""
    proc = subprocess.run(
        [sys.executable, WORKER, "--memcheck", system, str(samples)],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["no output"])[-1]}
    record: dict[str, Any] = json.loads(lines[-1])
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny data, 1 round (smoke test)"
    )
    parser.add_argument("--configs", default=",".join(CONFIGS), help="e.g. i,iv")
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help="the floor always runs"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 7)"
    )
    parser.add_argument(
        "--pause", type=float, default=0.1, help="seconds between turns"
    )
    parser.add_argument(
        "--no-memcheck", action="store_true", help="skip the 60,000-row check"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each config, wait up to this long for other processes to "
        "use < 5%% of the CPUs",
    )
    parser.add_argument(
        "--nnfunc",
        metavar="REV",
        default=None,
        help="benchmark nnfunc as committed at git revision REV (e.g. HEAD), "
        "not the working tree",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 7)
    names = args.configs.split(",")
    keys = ["floor", *(k for k in args.systems.split(",") if k != "floor")]
    for bad in [n for n in names if n not in CONFIGS] + [
        k for k in keys if k not in SYSTEMS
    ]:
        parser.error(
            f"unknown config or system {bad!r}; configs: {', '.join(CONFIGS)}; "
            f"systems: {', '.join(SYSTEMS)}"
        )
    run: dict[str, Any] = {
        "meta": meta(args.quick, args.rounds, args.pause),
        "order": keys,
        "configs": {},
        "skipped": {},
    }
    m = run["meta"]
    if args.nnfunc is not None:
        export = Path(tempfile.mkdtemp(prefix="nnfunc-"))
        m["nnfunc_commit"] = use_nnfunc_at(args.nnfunc, export) + " (exported)"
    print(f"{m['cpu']}, {m['cpu_count']} CPUs, load {m['load_start']}")
    print(f"python {m['python']}, nnfunc at {m['nnfunc_commit']}")
    print(", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    print(f"environment: {m['env'] or 'no BLAS/thread variables set'}")
    for name in names:
        cfg = quick(CONFIGS[name]) if args.quick else CONFIGS[name]
        print(f"config {cfg.label}, {cfg.samples} samples, {args.rounds} rounds")
        if args.wait_quiet:
            wait_quiet(args.wait_quiet)
        run_config(cfg, keys, args.rounds, args.pause, run)
    print("BLAS per system:", *(f"  {k}: {v}" for k, v in m["blas"].items()), sep="\n")
    if not args.no_memcheck:
        samples = MEMCHECK_SAMPLES // 10 if args.quick else MEMCHECK_SAMPLES
        run["memcheck"] = {
            k: memcheck(k, samples) for k in ("nnfunc-train", "nnfunc-loop")
        }
        print("memory check:", json.dumps(run["memcheck"]))
    m["load_end"] = load()
    bench_report.write(run, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
