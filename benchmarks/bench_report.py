"""Write a benchmark run as Markdown tables, raw JSON and a bar chart."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Ratio of ``train``'s epoch time to the floor that each configuration must meet.
TRAIN_TARGETS = {"i": 1.30, "iii": 1.70, "iv": 2.50, "v": 3.00}

Run = dict[str, Any]


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format(value, spec)


def _pivot(run: Run, field: str, spec: str) -> list[str]:
    """One row per system, one column per configuration."""
    configs = run["configs"]
    names = {k: v["name"] for c in configs.values() for k, v in c["systems"].items()}
    head = "| system | " + " | ".join(configs) + " |"
    rows = [head, "|---|" + "---:|" * len(configs)]
    for key, name in names.items():
        cells = [
            _fmt(c["systems"][key][field], spec) if key in c["systems"] else "–"
            for c in configs.values()
        ]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def checks(run: Run) -> list[tuple[str, str, bool | None]]:
    """The targets: (what, measured, met?), None when not measured."""
    out: list[tuple[str, str, bool | None]] = []
    configs = run["configs"]
    for name, limit in TRAIN_TARGETS.items():
        r = (
            configs.get(name, {})
            .get("systems", {})
            .get("nnfunc-train", {})
            .get("ratio")
        )
        out.append(
            (f"{name}: train / floor <= {limit:.2f}", _fmt(r, ".2f"), _met(r, limit))
        )
    for name, c in configs.items():
        s = c["systems"]
        mine = s.get("nnfunc-loop", {}).get("median_s")
        for peer in ("numpy", "torch"):
            theirs = s.get(peer, {}).get("median_s")
            ok = None if mine is None or theirs is None else mine < theirs
            text = "–" if ok is None else f"{mine * 1e3:.1f} vs {theirs * 1e3:.1f} ms"
            out.append((f"{name}: user loop faster than {peer}", text, ok))
    mem = run.get("memcheck", {}).get("nnfunc-train")
    if mem and "over_baseline_mb" in mem:
        over = mem["over_baseline_mb"]
        out.append(
            ("memory: train peak <= data + 64 MB", f"data + {over:.1f} MB", over <= 64)
        )
    return out


def _met(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def markdown(run: Run) -> str:
    meta = run["meta"]
    lines = [
        "# nnfunc and its peers: one epoch of plain SGD on the same MLP",
        "",
        f"Run {meta['date']}, {meta['rounds']} timed rounds per system"
        f"{' (quick mode: tiny data, not a measurement)' if meta['quick'] else ''}.",
        f"Machine: {meta['cpu']}, {meta['cpu_count']} CPUs; load average at "
        f"start {meta['load_start']}, at end {meta['load_end']}.",
        f"Python {meta['python']}; "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        f"nnfunc at {meta['nnfunc_commit']}, imported from "
        f"{meta.get('nnfunc_path', 'nowhere (not run)')}.",
        "",
        "BLAS and thread pools per system (threadpoolctl, inside each worker):",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in meta["blas"].items()]
    env = ", ".join(f"{k}={v}" for k, v in meta["env"].items()) or "none set"
    lines += ["", f"Thread and BLAS environment variables: {env}.", ""]
    lines += [
        "## Configurations",
        "",
        "Other load: the share of all CPUs that processes outside the benchmark",
        "used while the systems were timed; the timings are only as good as this",
        "is small.",
        "",
        "| config | layers | batch | dtype | samples / epoch | other load |",
        "|---|---|---:|---|---:|---:|",
    ]
    for name, c in run["configs"].items():
        widths = "-".join(map(str, c["sizes"]))
        other = c.get("foreign_cpu")
        load = "–" if other is None else f"{100 * other:.1f}%"
        lines.append(
            f"| {name} | {widths} | {c['batch']} | {c['dtype']} | {c['samples']:,}"
            f" | {load} |"
        )
    busy = [n for n, c in run["configs"].items() if (c.get("foreign_cpu") or 0) > 0.05]
    if busy:
        lines += [
            "",
            f"**Caution:** other processes kept the CPUs busy during {', '.join(busy)};"
            " libraries that spin-wait on two threads (PyTorch's OpenMP, OpenBLAS)"
            " suffer most. Re-run on an idle machine before drawing conclusions.",
        ]
    sections: list[tuple[str, str, str]] = [
        ("Epoch time / floor epoch time (median; lower is better)", "ratio", ".2f"),
        ("Samples per second (median epoch)", "samples_per_s", ",.0f"),
        ("Median epoch time (ms)", "median_ms", ".1f"),
        ("Peak memory above the data (MB)", "peak_mb", ".1f"),
        (
            "Training accuracy at the end (sanity check, first 2048 samples)",
            "accuracy",
            ".3f",
        ),
    ]
    for title, field, spec in sections:
        lines += ["", f"## {title}", "", *_pivot(run, field, spec)]
    lines += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for what, value, ok in checks(run):
        lines.append(
            f"| {what} | {value} | {'–' if ok is None else 'yes' if ok else 'NO'} |"
        )
    lines += ["", "## Memory check: `train` on 60,000 x 784 float32", ""]
    for key, m in run.get("memcheck", {}).items():
        if "error" in m:
            lines.append(f"- {key}: skipped ({m['error']})")
        else:
            lines.append(
                f"- {key}: {m['samples']:,} samples, data {m['data_mb']:.1f} MB; peak "
                f"{m['peak_mb']:.1f} MB = baseline {m['baseline_mb']:.1f} MB + "
                f"**{m['over_baseline_mb']:.1f} MB** ({m['memory_method']})"
            )
    notes = [f"- {c}/{k}: {v}" for c, s in run["skipped"].items() for k, v in s.items()]
    if notes:
        lines += ["", "## Skipped", "", *notes]
    return "\n".join(lines) + "\n"


def chart(run: Run, path: Path) -> None:
    """Grouped bars: ratio to the floor, per configuration and system (log y)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = run["configs"]
    keys = [k for k in run["order"] if k != "floor"]
    names = {k: v["name"] for c in configs.values() for k, v in c["systems"].items()}
    keys = [k for k in keys if k in names]
    width = 0.8 / max(len(keys), 1)
    fig, ax = plt.subplots(figsize=(10, 5))
    for j, key in enumerate(keys):
        xs, hs = [], []
        for i, c in enumerate(configs.values()):
            r = c["systems"].get(key, {}).get("ratio")
            if r is not None:
                xs.append(i + (j - (len(keys) - 1) / 2) * width)
                hs.append(r)
        ax.bar(xs, hs, width, label=names[key])
    ax.axhline(1.0, color="black", linewidth=0.8, label="floor (matmuls only)")
    ax.set_yscale("log")
    ax.set_xticks(
        range(len(configs)),
        [c["label"].replace(": ", "\n").replace(", ", "\n") for c in configs.values()],
        fontsize=8,
    )
    ax.set_ylabel("epoch time / floor epoch time (log)")
    ax.set_title("One epoch of plain SGD, median of rounds (lower is better)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(run: Run, out: Path, echo: Callable[[str], None] = print) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "peers.json").write_text(json.dumps(run, indent=1) + "\n")
    (out / "peers.md").write_text(markdown(run))
    chart(run, out / "peers.png")
    echo(f"wrote {out / 'peers.md'}, {out / 'peers.json'}, {out / 'peers.png'}")
