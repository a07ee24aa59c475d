"""Where nnfunc's epoch time goes: cProfile of the user loop and ``train``.

Usage::

    python benchmarks/profile_nnfunc.py [--configs i,v] [--top 18] [--out FILE]

For each configuration and system, one warm-up epoch, then one profiled epoch;
prints the functions with the most own time, with calls per training step.
cProfile sees Python functions and NumPy methods (``.sum``, ``.astype``) but
not ufuncs or the ``@`` operator, whose time shows up in their caller's own
time. Profiling slows Python-heavy code, so compare shares, not seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path

from bench_common import CONFIGS, make_data
from bench_numpy import load_nnfunc_loop, load_nnfunc_train


def profile(config: str, system: str, top: int) -> str:
    cfg = CONFIGS[config]
    build = {"nnfunc-loop": load_nnfunc_loop, "nnfunc-train": load_nnfunc_train}[
        system
    ]()
    x, y = make_data(cfg)
    s = build(cfg, x, y)
    s.epoch(0)
    t0 = time.perf_counter()
    s.epoch(1)
    plain = time.perf_counter() - t0
    prof = cProfile.Profile()
    prof.runcall(s.epoch, 2)
    steps = -(-cfg.samples // cfg.batch)
    stats = pstats.Stats(prof)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])  # type: ignore[attr-defined]
    out = io.StringIO()
    print(
        f"== {cfg.label}, {system}: {steps} steps, epoch {plain * 1e3:.1f} ms "
        f"unprofiled, {total * 1e3:.1f} ms profiled",
        file=out,
    )
    print(f"{'own %':>6} {'cum %':>6} {'calls/step':>10}  function", file=out)
    for (path, line, name), (_, ncalls, tt, ct, _) in rows[:top]:
        where = f"{Path(path).parent.name}/{Path(path).name}:{line}" if line else ""
        print(
            f"{100 * tt / total:6.1f} {100 * ct / total:6.1f} {ncalls / steps:10.1f}  "
            f"{name} {where}",
            file=out,
        )
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", default="i,v")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    text = "\n".join(
        profile(c, s, args.top)
        for c in args.configs.split(",")
        for s in ("nnfunc-loop", "nnfunc-train")
    )
    print(text)
    if args.out is not None:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
