"""How the cost grows: epoch time against hidden width and against batch size.

Usage::

    python benchmarks/scaling.py [--quick] [--widths 16,256] [--batches 1,64]
                                 [--systems nnfunc-train,torch,...]
                                 [--rounds N] [--wait-quiet S] [--out DIR]

Two sweeps of plain SGD on float32 data, with the machinery of ``peers.py``
(one worker process per system, a warm-up epoch, systems taking turns, median
of the rounds, ratio to the floor):

- **width**: 784-w-w-10, batch 128, w = 16 ... 2048;
- **batch**: 784-256-128-10, batch 1 ... 1024.

Samples per epoch are chosen so that the floor's epoch lasts about 50-200 ms
on a 2-core machine: at the small end, where a step takes tens of
microseconds, a thousand steps or more (at most 131,072 samples, so the data
stays at 411 MB per worker); at the large end, where a step takes
milliseconds, the epoch is capped at 16 or 32 steps. Writes ``scaling.md``
and ``scaling.png`` (time per sample against width and against batch,
log-log, the floor dashed). See README.md, "How the cost grows".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import Config, quick
from bench_env import load, meta
from bench_worker import SYSTEMS
from peers import run_config, wait_quiet

HERE = Path(__file__).resolve().parent

#: Hidden width -> samples per epoch (784-w-w-10, batch 128).
WIDTHS: dict[int, int] = {
    16: 131072,  # at most 131,072 samples (411 MB of data in each worker)
    32: 131072,
    64: 98304,
    128: 65536,
    256: 32768,
    512: 12288,
    1024: 4096,  # capped: 32 steps
    2048: 2048,  # capped: 16 steps
}
#: Batch size -> samples per epoch (784-256-128-10).
BATCHES: dict[int, int] = {
    1: 512,
    4: 8192,
    16: 16384,
    64: 32768,
    256: 32768,
    1024: 32768,  # capped: 32 steps
}
DEFAULT_SYSTEMS = ("floor", "nnfunc-train", "nnfunc-loop", "numpy", "torch", "jax")
#: "Near the floor": an epoch of at most this many floor epochs.
NEAR_FLOOR = (1.5, 2.0)

Run = dict[str, Any]


def width_config(w: int, samples: int) -> Config:
    return Config(f"w{w}", (784, w, w, 10), 128, "float32", samples)


def batch_config(b: int, samples: int) -> Config:
    return Config(f"b{b}", (784, 256, 128, 10), b, "float32", samples)


def _ints(text: str, allowed: dict[int, int], what: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise SystemExit(f"unknown {what} {bad}; choose from {list(allowed)}")
    return values


# ------------------------------------------------------------------ report


def _ms(s: float) -> str:
    return f"{s * 1e3:.1f}"


def _three(v: float | None) -> str:
    """Three significant digits, trailing zeros kept: 0.412, 3.00, 41.2, 263."""
    if v is None:
        return "–"
    a = abs(v)
    digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{v:.{digits}f}"


def _us_per_sample(c: dict[str, Any], key: str) -> float | None:
    res = c["systems"].get(key)
    return None if res is None else res["median_s"] / c["samples"] * 1e6


def _near_floor_from(run: Run, sweep: str, key: str, limit: float) -> str:
    """The smallest x from which ``key`` stays within ``limit`` floors."""
    xs, names = run["sweeps"][sweep]["x"], run["sweeps"][sweep]["configs"]
    ratios = [run["configs"][n]["systems"].get(key, {}).get("ratio") for n in names]
    if any(r is None for r in ratios):
        return "–"
    start = None
    for x, r in zip(reversed(xs), reversed(ratios), strict=True):
        if r > limit:
            break
        start = x
    return "never" if start is None else f"≥ {start}"


def _excess_per_step(c: dict[str, Any], key: str) -> float | None:
    """(epoch - floor epoch) / steps, in microseconds: what a step adds."""
    res, floor = c["systems"].get(key), c["systems"].get("floor")
    if res is None or floor is None:
        return None
    steps: int = c["samples"] // c["batch"]
    excess: float = res["median_s"] - floor["median_s"]
    return excess / steps * 1e6


def summary(run: Run) -> list[tuple[str, list[str]]]:
    """Per system: for each sweep, the ratio at both ends and where it nears 1."""
    rows = []
    for key in run["order"]:
        if key == "floor":
            continue
        cells = []
        for sweep, s in run["sweeps"].items():
            ends = [
                run["configs"][n]["systems"].get(key, {}).get("ratio")
                for n in (s["configs"][0], s["configs"][-1])
            ]
            cells.append(" → ".join("–" if r is None else f"{r:.2f}" for r in ends))
            cells += [_near_floor_from(run, sweep, key, lim) for lim in NEAR_FLOOR]
        rows.append((SYSTEMS[key][0], cells))
    return rows


def markdown(run: Run) -> str:
    m = run["meta"]
    lines = [
        "# How the cost grows: epoch time against width and batch size",
        "",
        f"Run {m['date']}, {m['rounds']} timed round(s) per system, "
        f"{m['wall_s'] / 60:.1f} min in all"
        f"{' (quick mode: tiny data, not a measurement)' if m['quick'] else ''}.",
        f"Machine: {m['cpu']}, {m['cpu_count']} CPUs; load average at start "
        f"{m['load_start']}, at end {m['load_end']}.",
        f"Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"nnfunc at {m['nnfunc_commit']}, imported from "
        f"{m.get('nnfunc_path', 'nowhere (not run)')}.",
        "",
        "BLAS and thread pools per system (threadpoolctl, inside each worker):",
        "",
        *(f"- {k}: {v}" for k, v in m["blas"].items()),
        "",
        "Thread and BLAS environment variables: "
        + (", ".join(f"{k}={v}" for k, v in m["env"].items()) or "none set")
        + ".",
        "",
        "## Configurations",
        "",
        "Plain SGD (lr 0.01), float32, ReLU hidden layers, softmax cross-entropy;",
        "the systems of `peers.py`, each in its own worker process, taking turns.",
        "Other load: the share of all CPUs that processes outside the benchmark",
        "used while the systems were timed.",
        "",
        "| config | layers | batch | samples / epoch | steps | floor epoch (ms)"
        " | other load |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, c in run["configs"].items():
        floor = c["systems"].get("floor")
        other = c.get("foreign_cpu")
        lines.append(
            f"| {name} | {'-'.join(map(str, c['sizes']))} | {c['batch']}"
            f" | {c['samples']:,} | {c['samples'] // c['batch']:,}"
            f" | {_ms(floor['median_s']) if floor else '–'}"
            f" | {'–' if other is None else f'{100 * other:.1f}%'} |"
        )
    busy = [n for n, c in run["configs"].items() if (c.get("foreign_cpu") or 0) > 0.05]
    if busy:
        lines += [
            "",
            f"**Caution:** other processes kept the CPUs busy during "
            f"{', '.join(busy)}; re-run on an idle machine before drawing "
            "conclusions from those columns.",
        ]
    names = {k: SYSTEMS[k][0] for k in run["order"]}
    for s in run["sweeps"].values():
        cols = [run["configs"][n] for n in s["configs"]]
        head = f"| system | {' | '.join(map(str, s['x']))} |"
        rule = "|---|" + "---:|" * len(cols)
        lines += ["", f"## Against {s['title']}", ""]
        lines += ["Microseconds per sample (median epoch / samples):", "", head, rule]
        for key, name in names.items():
            cells = [_us_per_sample(c, key) for c in cols]
            lines.append(f"| {name} | " + " | ".join(map(_three, cells)) + " |")
        lines += ["", "Epoch time / floor epoch time (lower is better):", ""]
        lines += [head, rule]
        for key, name in names.items():
            cells2 = [c["systems"].get(key, {}).get("ratio") for c in cols]
            lines.append(
                f"| {name} | "
                + " | ".join("–" if v is None else f"{v:.2f}" for v in cells2)
                + " |"
            )
        lines += ["", "What a step adds to the floor's, in microseconds"]
        lines += ["((epoch - floor epoch) / steps):", "", head, rule]
        for key, name in names.items():
            if key != "floor":
                cells3 = [_excess_per_step(c, key) for c in cols]
                lines.append(f"| {name} | " + " | ".join(map(_three, cells3)) + " |")
    lo, hi = NEAR_FLOOR
    head2, rule2 = "| system |", "|---|"
    for s in run["sweeps"].values():
        x0, x1 = s["x"][0], s["x"][-1]
        head2 += f" {s['key']} {x0} → {x1} | within {lo}x | within {hi}x |"
        rule2 += "---|---|---|"
    lines += [
        "",
        "## Where each system leaves the floor",
        "",
        "Ratio to the floor at both ends of each sweep, and the smallest width",
        f"or batch from which the epoch takes at most {lo} (or {hi}) times the",
        "floor's at every larger one.",
        "",
        head2,
        rule2,
        *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in summary(run)),
    ]
    lines += ["", "## Every round (epoch time, ms)", ""]
    lines += ["| config | " + " | ".join(names.values()) + " |"]
    lines += ["|---|" + "---|" * len(names)]
    for name, c in run["configs"].items():
        cells4 = [
            " ".join(map(_ms, c["systems"][k]["seconds"])) if k in c["systems"] else "–"
            for k in names
        ]
        lines.append(f"| {name} | " + " | ".join(cells4) + " |")
    notes = [f"- {c}/{k}: {v}" for c, s in run["skipped"].items() for k, v in s.items()]
    if notes:
        lines += ["", "## Skipped", "", *notes]
    return "\n".join(lines) + "\n"


def chart(run: Run, path: Path) -> None:
    """Two log-log panels: microseconds per sample against width and batch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = run["sweeps"]
    fig, axes = plt.subplots(1, len(sweeps), figsize=(6 * len(sweeps), 4.8))
    axes_list = list(axes) if len(sweeps) > 1 else [axes]
    for ax, s in zip(axes_list, sweeps.values(), strict=True):
        for key in run["order"]:
            pts = [
                (x, v)
                for x, n in zip(s["x"], s["configs"], strict=True)
                if (v := _us_per_sample(run["configs"][n], key)) is not None
            ]
            if not pts:
                continue
            floor = key == "floor"
            ax.plot(
                *zip(*pts, strict=True),
                linestyle="--" if floor else "-",
                color="black" if floor else None,
                marker="" if floor else "o",
                markersize=3,
                linewidth=1.6 if floor else 1.1,
                label=SYSTEMS[key][0],
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(s["x"], [str(x) for x in s["x"]])
        ax.set_xlabel(s["title"])
        ax.set_ylabel("µs per sample (median epoch / samples)")
        ax.set_title(s["subtitle"], fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    axes_list[0].legend(fontsize=8)
    fig.suptitle("One epoch of plain SGD, float32: time per sample (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------- run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="tiny data, 1 round (smoke test)"
    )
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)))
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument(
        "--systems", default=",".join(DEFAULT_SYSTEMS), help="the floor always runs"
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="timed rounds (default 3)"
    )
    parser.add_argument(
        "--pause", type=float, default=0.1, help="seconds between turns"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each config, wait up to this long for other processes to "
        "use < 5%% of the CPUs",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    widths = _ints(args.widths, WIDTHS, "width")
    batches = _ints(args.batches, BATCHES, "batch size")
    keys = ["floor", *(k for k in args.systems.split(",") if k and k != "floor")]
    if bad := [k for k in keys if k not in SYSTEMS]:
        parser.error(f"unknown systems {bad}; systems: {', '.join(SYSTEMS)}")
    sweeps: dict[str, tuple[str, str, list[int], list[Config]]] = {
        "width": (
            "hidden width w",
            "784-w-w-10, batch 128",
            widths,
            [width_config(w, WIDTHS[w]) for w in widths],
        ),
        "batch": (
            "batch size",
            "784-256-128-10",
            batches,
            [batch_config(b, BATCHES[b]) for b in batches],
        ),
    }
    run: Run = {
        "meta": meta(args.quick, rounds, args.pause),
        "order": keys,
        "configs": {},
        "skipped": {},
        "sweeps": {},
    }
    m = run["meta"]
    print(f"{m['cpu']}, {m['cpu_count']} CPUs, load {m['load_start']}")
    print(f"python {m['python']}, nnfunc at {m['nnfunc_commit']}")
    print(", ".join(f"{k} {v}" for k, v in m["versions"].items()))
    print(f"environment: {m['env'] or 'no BLAS/thread variables set'}")
    t0 = time.monotonic()
    for sweep, (title, subtitle, xs, cfgs) in sweeps.items():
        if not cfgs:
            continue
        run["sweeps"][sweep] = {
            "key": sweep,
            "title": title,
            "subtitle": subtitle,
            "x": xs,
            "configs": [c.name for c in cfgs],
        }
        for full in cfgs:
            cfg = quick(full) if args.quick else full
            print(f"config {cfg.label}, {cfg.samples} samples, {rounds} rounds")
            if args.wait_quiet:
                wait_quiet(args.wait_quiet)
            run_config(cfg, keys, rounds, args.pause, run)
    m["wall_s"] = time.monotonic() - t0
    m["load_end"] = load()
    print("BLAS per system:", *(f"  {k}: {v}" for k, v in m["blas"].items()), sep="\n")
    print(f"load average at start {m['load_start']}, at end {m['load_end']}")
    print(f"took {m['wall_s']:.0f} s")
    print("ratio to the floor at both ends; within 1.5x, 2x of it from:")
    for name, cells in summary(run):
        print(f"  {name:<20} " + "  ".join(f"{c:>12}" for c in cells))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.md").write_text(markdown(run))
    chart(run, args.out / "scaling.png")
    print(f"wrote {args.out / 'scaling.md'}, {args.out / 'scaling.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
