"""The benchmark harness runs end to end in its quick mode and writes its files.

No timing is asserted: only that every system either ran or was skipped with
a note (a peer library that is not installed is skipped by the harness).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "benchmarks" / "peers.py"
SYSTEMS = ["floor", "nnfunc-loop", "nnfunc-train", "numpy", "torch", "sklearn", "jax"]
PEER_MODULES = {"torch": "torch", "sklearn": "sklearn", "jax": "jax"}


#: Each test starts benchmark worker processes: seconds, not milliseconds.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, str(HARNESS), "--quick", "--configs", "v", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    run: dict[str, Any] = json.loads((out / "peers.json").read_text())
    return out, run


def test_writes_table_json_and_chart(run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = run
    md = (out / "peers.md").read_text()
    assert "| system | v |" in md
    assert "floor (matmuls only)" in md
    assert (out / "peers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_system_ran_or_was_skipped_with_a_note(
    run: tuple[Path, dict[str, Any]],
) -> None:
    _, data = run
    ran = data["configs"]["v"]["systems"]
    skipped = data["skipped"].get("v", {})
    for key in SYSTEMS:
        assert (key in ran) != (key in skipped), key
        if key in skipped:
            assert skipped[key], f"{key} skipped without a note"
    for key in ("floor", "nnfunc-loop", "numpy"):  # NumPy only: always run
        assert key in ran
    for key, module in PEER_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            assert key in ran, skipped.get(key)


def test_results_are_complete(run: tuple[Path, dict[str, Any]]) -> None:
    _, data = run
    for key, res in data["configs"]["v"]["systems"].items():
        assert len(res["seconds"]) == 1, key  # quick mode: one round
        assert res["median_s"] > 0
        assert res["ratio"] > 0
        assert res["peak_mb"] >= 0
    assert data["configs"]["v"]["systems"]["floor"]["ratio"] == 1.0
    mem = data["memcheck"]["nnfunc-loop"]
    assert mem["over_baseline_mb"] >= 0


def test_scaling_quick_runs_one_width_and_one_batch(tmp_path: Path) -> None:
    """``scaling.py --quick`` on the NumPy systems: both files, both sweeps."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "scaling.py"),
            "--quick",
            "--widths",
            "16",
            "--batches",
            "4",
            "--systems",
            "nnfunc-train,nnfunc-loop,numpy",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    md = (tmp_path / "scaling.md").read_text()
    assert "## Against hidden width w" in md
    assert "## Against batch size" in md
    assert "| w16 | 784-16-16-10 | 128 |" in md
    assert "| b4 | 784-256-128-10 | 4 |" in md
    for name in ("floor (matmuls only)", "nnfunc, train", "plain NumPy"):
        assert name in md
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
