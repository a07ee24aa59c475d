"""nnfunc: neural networks from scratch, as pure functions over NumPy arrays.

A network is an immutable mapping of parameter arrays; every function takes
values and returns new ones::

    import nnfunc as nf
    params = nf.init_params([2, 8, 1], seed=0)
    g = nf.grads(params, x, y, hidden="tanh", output="sigmoid")
    params = nf.sgd_step(params, g, lr=0.5)
"""

from nnfunc._types import (
    ActivationName,
    Array,
    Batch,
    Grads,
    Hidden,
    InitName,
    OutputName,
    Params,
    Seed,
    Targets,
)
from nnfunc.activations import ACTIVATION_NAMES, ACTIVATIONS
from nnfunc.backprop import grads, loss, loss_and_grads
from nnfunc.forward import forward, predict
from nnfunc.gradcheck import GradCheck, check_grads
from nnfunc.losses import OUTPUTS, log_softmax, softmax
from nnfunc.optim import sgd_step
from nnfunc.params import INITIALIZERS, freeze, init_params, layer_sizes, to_dict

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "ACTIVATION_NAMES",
    "INITIALIZERS",
    "OUTPUTS",
    "ActivationName",
    "Array",
    "Batch",
    "GradCheck",
    "Grads",
    "Hidden",
    "InitName",
    "OutputName",
    "Params",
    "Seed",
    "Targets",
    "__version__",
    "check_grads",
    "forward",
    "freeze",
    "grads",
    "init_params",
    "layer_sizes",
    "log_softmax",
    "loss",
    "loss_and_grads",
    "predict",
    "sgd_step",
    "softmax",
    "to_dict",
]
