"""nnfunc: neural networks from scratch, as pure functions over NumPy arrays.

A network is an immutable mapping of parameter arrays (a ``Frozen`` value,
which records its activations and pickles); every function takes values and
returns new ones::

    import nnfunc as nf
    params = nf.init_params([2, 8, 1], hidden="tanh", output="sigmoid", seed=0)
    g = nf.grads(params, x, y)           # the params record how to run them
    params = nf.sgd_step(params, g, lr=0.5)

The core (``init_params``, ``forward``, ``loss``, ``grads``, ``sgd_step``)
is the maths of one network; the toolkit (optimizers, schedules, clipping,
batching, ``train``, metrics, ``save``/``load``) trains real ones; the
submodules ``nnfunc.datasets`` and ``nnfunc.schedules`` hold data helpers
and learning-rate schedules.
"""

from nnfunc import datasets, schedules
from nnfunc._types import (
    ActivationName,
    Array,
    Batch,
    FloatDType,
    Frozen,
    Grads,
    Hidden,
    InitName,
    LearningRate,
    OptState,
    OutputName,
    Params,
    Schedule,
    Seed,
    State,
    Targets,
)
from nnfunc.activations import ACTIVATION_NAMES, ACTIVATIONS
from nnfunc.adaptive import (
    adam,
    adam_init,
    adam_step,
    adamw,
    adamw_init,
    adamw_step,
    rmsprop,
    rmsprop_init,
    rmsprop_step,
)
from nnfunc.backprop import grads, loss, loss_and_grads
from nnfunc.batching import batches, derive_seed
from nnfunc.clip import clip_by_global_norm, global_norm
from nnfunc.forward import forward, predict
from nnfunc.gradcheck import GradCheck, check_grads
from nnfunc.io import Checkpoint, CheckpointError, load, save
from nnfunc.losses import OUTPUTS, log_softmax, softmax
from nnfunc.metrics import accuracy, confusion_matrix, precision_recall
from nnfunc.optim import (
    Optimizer,
    momentum,
    momentum_init,
    momentum_step,
    sgd,
    sgd_init,
    sgd_step,
)
from nnfunc.params import INITIALIZERS, freeze, init_params, layer_sizes, to_dict
from nnfunc.training import (
    Callback,
    CallbackError,
    EpochRecord,
    History,
    TrainingError,
    TrainingFailed,
    TrainingInterrupted,
    TrainResult,
    train,
)
from nnfunc.tree import num_params, summary, tree_map

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "INITIALIZERS",
    "OUTPUTS",
    "ActivationName",
    "Array",
    "Batch",
    "Callback",
    "CallbackError",
    "Checkpoint",
    "CheckpointError",
    "EpochRecord",
    "FloatDType",
    "Frozen",
    "GradCheck",
    "Grads",
    "Hidden",
    "History",
    "InitName",
    "LearningRate",
    "OptState",
    "Optimizer",
    "OutputName",
    "Params",
    "Schedule",
    "Seed",
    "State",
    "Targets",
    "TrainResult",
    "TrainingError",
    "TrainingFailed",
    "TrainingInterrupted",
    "__version__",
    "accuracy",
    "adam",
    "adam_init",
    "adam_step",
    "adamw",
    "adamw_init",
    "adamw_step",
    "batches",
    "check_grads",
    "clip_by_global_norm",
    "confusion_matrix",
    "datasets",
    "derive_seed",
    "forward",
    "freeze",
    "global_norm",
    "grads",
    "init_params",
    "layer_sizes",
    "load",
    "log_softmax",
    "loss",
    "loss_and_grads",
    "momentum",
    "momentum_init",
    "momentum_step",
    "num_params",
    "precision_recall",
    "predict",
    "rmsprop",
    "rmsprop_init",
    "rmsprop_step",
    "save",
    "schedules",
    "sgd",
    "sgd_init",
    "sgd_step",
    "softmax",
    "summary",
    "to_dict",
    "train",
    "tree_map",
]
