"""``import nnfunc`` needs NumPy alone; each integration stays behind its extra."""

from __future__ import annotations

import subprocess
import sys

import pytest

OPTIONAL = ("hypothesis", "sklearn", "dask", "distributed", "matplotlib", "scipy")


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_import_nnfunc_loads_no_optional_package() -> None:
    loaded = _loaded_after("import nnfunc; import nnfunc.datasets")
    assert "numpy" in loaded
    assert not loaded & set(OPTIONAL), sorted(loaded & set(OPTIONAL))


@pytest.mark.parametrize(
    ("module", "needs"),
    [
        ("nnfunc.testing", "hypothesis"),
        ("nnfunc.estimators", "sklearn"),
        ("nnfunc.plotting", "matplotlib"),
        ("nnfunc.distributed", "dask"),
    ],
)
def test_an_integration_without_its_extra_names_the_install_command(
    module: str, needs: str
) -> None:
    # Hide the optional package as if it were not installed.
    code = (
        f"import sys; sys.modules[{needs!r}] = None\n"
        f"try:\n    import {module}\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install" in out, out
