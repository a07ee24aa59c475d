"""Every public function is fuzzed: by the spec file of its area, or not, and why.

The specs live in one file per area (``test_core``, ``test_optim``,
``test_training``, ``test_io``, ``test_data``); each public name of
``nnfunc`` and of its public submodules ``datasets`` and ``schedules`` is
fuzzed by exactly one of them, or listed in ``NOT_FUZZED`` with the reason.
"""

from __future__ import annotations

import inspect
from typing import Any

import nnfunc as nf
from nnfunc import datasets, schedules
from tests.fuzz import test_core, test_data, test_io, test_optim, test_training
from tests.fuzz.harness import Spec

AREAS = (test_core, test_optim, test_training, test_io, test_data)

#: Every fuzzed function's spec, by public name, from all the areas.
SPECS: dict[str, Spec] = {n: s for area in AREAS for n, s in area.SPECS.items()}

#: Public names that are not functions to fuzz, and why.
NOT_FUZZED: dict[str, str] = {
    **dict.fromkeys(
        ("ACTIVATIONS", "ACTIVATION_NAMES", "INITIALIZERS", "OUTPUTS"),
        "a registry (dict or tuple) of names, not a function",
    ),
    **dict.fromkeys(
        (
            "ActivationName",
            "Array",
            "Batch",
            "Callback",
            "FloatDType",
            "Grads",
            "Hidden",
            "History",
            "InitName",
            "LearningRate",
            "OptState",
            "OutputName",
            "Params",
            "Schedule",
            "Seed",
            "State",
            "Targets",
        ),
        "a type alias for annotations",
    ),
    **dict.fromkeys(
        ("Checkpoint", "EpochRecord", "GradCheck", "TrainResult", "Optimizer"),
        "a record type (NamedTuple) the library returns",
    ),
    **dict.fromkeys(
        (
            "CallbackError",
            "CheckpointError",
            "TrainingError",
            "TrainingFailed",
            "TrainingInterrupted",
        ),
        "an exception class",
    ),
    "Frozen": "the value type; Frozen(...) is a TypeError (tested in test_core): "
    "values are built by freeze and init_params, fuzzed",
    "__version__": "a string",
    "datasets": "a module; its functions are fuzzed as datasets.*",
    "schedules": "a module; its functions are fuzzed as schedules.*",
    "datasets.IDX_TYPES": "a table of IDX type codes",
    "datasets.MNIST": "a record type (NamedTuple) load_mnist returns",
    "datasets.MNIST_FILES": "a tuple of file names",
}


def public_names() -> list[str]:
    """Every public name: nnfunc's, and those of its two public submodules."""
    return [
        *nf.__all__,
        *(f"datasets.{n}" for n in datasets.__all__),
        *(f"schedules.{n}" for n in schedules.__all__),
    ]


def resolve(name: str) -> Any:
    obj: Any = nf
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_public_function_is_fuzzed() -> None:
    assert sum(len(area.SPECS) for area in AREAS) == len(SPECS)  # none twice
    names = public_names()
    missing = [n for n in names if n not in SPECS and n not in NOT_FUZZED]
    assert not missing, (
        f"public names neither fuzzed nor listed in NOT_FUZZED: {missing}"
    )
    for n in NOT_FUZZED:  # nothing listed there is a plain function
        assert not inspect.isfunction(resolve(n)), f"{n} is a function: fuzz it"
    assert sorted(SPECS) == sorted(n for n in names if n in SPECS)
    for n, spec in SPECS.items():
        assert spec.fn is resolve(n)
