"""nnfunc on a Dask cluster: exact losses and gradients over chunked data, training.

Needs the ``distributed`` extra (``pip install -e '.[distributed]'``:
``dask[array]`` and ``distributed``); ``import nnfunc`` itself never
imports Dask. The data are Dask arrays chunked along rows; each chunk's
work runs where the chunk lives, and only parameter-sized values travel::

    import dask.array as da
    import nnfunc as nf
    import nnfunc.distributed as nfd

    x = da.from_npy_stack("data/x")            # (n, n_0), one .npy per chunk
    y = da.from_npy_stack("data/y")            # (n,) labels
    value, g = nfd.loss_and_grads(params, x, y)  # == nf.loss_and_grads, in memory
    result = nfd.train(params, x, y, optimizer=nf.adam(1e-3), epochs=5,
                       batch_size=256)         # an nf.TrainResult

- ``loss_and_grads``, ``loss``, ``grads``: the mean over all rows, merged
  from per-chunk parts weighted by their rows (the L2 term added once);
  equal to the in-memory functions up to rounding, bit for bit for one chunk.
- ``forward``, ``predict``: lazy Dask arrays, chunk by chunk.
- ``train``: synchronous data-parallel mini-batch training; params and
  optimizer state stay on the driver; same result type, history and
  failure promise as ``nnfunc.train``.
- ``local_cluster``, ``connect``: the embedded default cluster (worker
  processes on 127.0.0.1, no dashboard), or a client of a running one.
"""

try:
    import dask.array
    import distributed
except ImportError as e:  # pragma: no cover - exercised in a subprocess
    raise ImportError(
        "nnfunc.distributed needs Dask: pip install -e '.[distributed]' "
        "(or pip install 'nnfunc[distributed]'), which installs dask[array] "
        f"and distributed ({e})"
    ) from e

from nnfunc.distributed._arrays import forward, grads, loss, loss_and_grads, predict
from nnfunc.distributed._cluster import connect, local_cluster
from nnfunc.distributed._train import train

del dask, distributed

__all__ = [
    "connect",
    "forward",
    "grads",
    "local_cluster",
    "loss",
    "loss_and_grads",
    "predict",
    "train",
]
