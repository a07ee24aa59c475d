"""The workspace of one ``train`` call: buffers sized once, ``*_into`` kernels.

The textbook path of ``train`` (``nnfunc._epoch``) allocates every ``z``,
every error ``delta`` and every gradient afresh at each step, packs the
gradient into a value, and has the optimizer's ``step`` check and freeze a
new value. That is the right way to read the maths and the slow way to run
it on a small network, where a step is a few dozen NumPy calls of about a
microsecond each. Here the same maths writes into buffers that ``train``
allocated once, before the first step:

- the batch, gathered with ``np.take(..., out=)``;
- ``forward_into``: each ``z = a W + b`` in its own buffer;
- ``backward_into``: each ``delta`` in its own buffer, and ``dW``, ``db``
  straight into one flat gradient buffer laid out like the params;
- the optimizer's ``*_into`` kernel (``Optimizer.kernel``), reading the
  current params and slots from one set of buffers and writing the next
  into the other ("ping-pong"): the current set is never written, so an
  interrupt or a non-finite result always leaves the last good state whole.

Nothing here is a second copy of the maths: ``forward_into`` and
``backward_into`` are ``forward_cache`` and ``backward`` line for line with
``out=`` buffers, and the optimizer kernels are the very ones the public
steps run. ``tests/test_workspace.py`` proves that both paths give the
same bits. Values of the library's own type are made only at the edges of
an epoch (a copy in, a copy out).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from nnfunc._checks import NonFiniteError, all_finite
from nnfunc._epoch import Halt, OnStep
from nnfunc._optstate import Kernel, blame, flat_of, lr_at, new_state, slot_of
from nnfunc._plan import Pair, Plan
from nnfunc._types import Array, Net
from nnfunc.backprop import loss_value
from nnfunc.batching import batch_indices, derive_seed, n_batches
from nnfunc.clip import clip_factor
from nnfunc.forward import Cache, Setup, activate
from nnfunc.losses import OUTPUTS
from nnfunc.params import wrap_flat


class Workspace(NamedTuple):
    """Every buffer one ``train`` call needs, allocated once.

    ``thetas``/``slots``: two sets of params and optimizer slots (flat,
    laid out ``W1, b1, ...``) that the steps alternate between; ``setups``:
    the kernels' view of each params buffer. ``x``/``Y``: a batch. ``z``
    and ``delta``: one ``(rows, n_l)`` buffer per layer. ``grad``: the flat
    gradient, and ``g`` its views by layer.
    """

    kernel: Kernel
    thetas: tuple[Array, Array]
    slots: tuple[dict[str, Array], dict[str, Array]]
    setups: tuple[Setup, Setup]
    x: Array
    Y: Array
    z: tuple[Array, ...]
    delta: tuple[Array, ...]
    grad: Array
    g: Net


def workspace(plan: Plan, like: Net) -> Workspace:
    """Allocate the buffers of a run of ``plan`` on a network shaped ``like``."""
    assert plan.optimizer.kernel is not None  # the caller chose this path
    size = sum(a.size for _, a in like.items())
    rows = min(plan.batch_size, plan.x.shape[0])
    dt = like.dtype
    thetas = (np.empty(size, dt), np.empty(size, dt))
    slots = tuple({s: np.empty(size, dt) for s in plan.optimizer.slots} for _ in "ab")
    nets = tuple(_views(like, theta) for theta in thetas)
    setups = tuple(
        Setup(net, plan.acts, plan.output, plan.rate, None, plan.hidden)
        for net in nets
    )
    grad = np.empty(size, dt)
    return Workspace(
        plan.optimizer.kernel(like),
        thetas,
        (slots[0], slots[1]),
        (setups[0], setups[1]),
        np.empty((rows, plan.x.shape[1]), dt),
        np.empty((rows, plan.Y.shape[1]), dt),
        tuple(np.empty((rows, n), dt) for n in like.sizes[1:]),
        tuple(np.empty((rows, n), dt) for n in like.sizes[1:]),
        grad,
        _views(like, grad),
    )


def _views(like: Net, flat: Array) -> Net:
    """A Net of views of ``flat``, laid out like ``like`` (W1, b1, ...)."""
    views, start = [], 0
    for a in (a for pair in zip(like.Ws, like.bs, strict=True) for a in pair):
        views.append(flat[start : start + a.size].reshape(a.shape))
        start += a.size
    return Net(tuple(views[0::2]), tuple(views[1::2]), like.dtype, like.sizes, flat)


def forward_into(s: Setup, x: Array, z_buffers: tuple[Array, ...]) -> Cache:
    """``forward_cache``, writing each ``z`` into ``z_buffers[l - 1][:batch]``.

    The same arithmetic in the same order: ``z = a @ W`` (into its buffer),
    ``z += b``, ``a = f(z)`` (times the dropout mask).
    """
    a = x
    As, Hs, Zs, Ms = [x], [], [], []
    L = len(s.net.Ws)
    for l, (W, b) in enumerate(zip(s.net.Ws, s.net.bs, strict=True), 1):
        z = z_buffers[l - 1][: x.shape[0]]
        np.matmul(a, W, out=z)  # z = a @ W, in the workspace
        z += b
        Zs.append(z)
        if l == L:
            break
        a, h, mask = activate(s, l, z)
        As.append(a)
        Hs.append(h)
        Ms.append(mask)
    return Cache(tuple(As), tuple(Hs), tuple(Zs), tuple(Ms))


def backward_into(
    s: Setup,
    cache: Cache,
    Y: Array,
    l2: float,
    g: Net,
    delta_buffers: tuple[Array, ...],
) -> None:
    """``backward``, writing ``dW``/``db`` into ``g``, each ``delta`` into a buffer.

    BP1 to BP4 in the same order as ``nnfunc.backprop.backward``.
    """
    L = len(s.net.Ws)
    batch = Y.shape[0]
    # BP1: dL/dz^L = (a^L - y) / B
    delta = delta_buffers[L - 1][:batch]
    np.subtract(OUTPUTS[s.output].f(cache.z[-1]), Y, out=delta)
    delta /= delta.dtype.type(batch)
    for l in range(L, 0, -1):
        W, a = s.net.Ws[l - 1], cache.a[l - 1]
        dW = g.Ws[l - 1]
        np.matmul(a.T, delta, out=dW)  # BP4: dW = a^(l-1).T @ delta
        if l2:
            dW += l2 * W
        np.add.reduce(delta, axis=0, out=g.bs[l - 1])  # BP3: db = sum of delta
        if l > 1:
            prev = delta_buffers[l - 2][:batch]
            np.matmul(delta, W.T, out=prev)  # BP2: (delta W.T) * f'(z)
            prev *= s.acts[l - 2].df(cache.z[l - 2], cache.h[l - 2])
            mask = cache.masks[l - 2]
            if mask is not None:
                prev *= mask
            delta = prev


def run_epoch(
    plan: Plan, ws: Workspace, pair: Pair, epoch: int, on_step: OnStep | None = None
) -> tuple[Pair, float]:
    """``nnfunc._epoch.run_epoch`` in the workspace: same batches, bits, faults."""
    params, state = pair
    net = params._net
    assert net is not None  # train's params are values of its own
    np.copyto(ws.thetas[0], flat_of(net))  # a copy in: the values stay whole
    for name in plan.optimizer.slots:
        np.copyto(ws.slots[0][name], slot_of(state, name, net))
    lr, count = plan.optimizer.lr, int(state["count"])
    good = (0, count)  # which buffers hold the last good state, and its count

    def snapshot() -> Pair:
        i, c = good
        p = wrap_flat(net, ws.thetas[i].copy(), plan.hidden, plan.output)
        slots = {k: v.copy() for k, v in ws.slots[i].items()}
        return p, new_state(net, c, slots)

    n, size = plan.x.shape[0], plan.batch_size
    steps = n_batches(n, size, plan.drop_last)
    seed = derive_seed(plan.seed, epoch)
    total, seen, step = 0.0, 0, 0
    try:
        for step, idx in enumerate(batch_indices(n, size, seed, plan.drop_last)):
            i, c = good
            m = idx.shape[0]
            x, Y = ws.x[:m], ws.Y[:m]
            np.take(plan.x, idx, axis=0, out=x)  # the batch, into the workspace
            np.take(plan.Y, idx, axis=0, out=Y)
            s = ws.setups[i]
            if plan.rate:
                s = s._replace(rng=np.random.default_rng(derive_seed(seed, step)))
            cache = forward_into(s, x, ws.z)
            value = loss_value(s, cache.z[-1], Y, plan.l2)
            if not math.isfinite(value):
                raise Halt("loss", snapshot(), step, steps)
            backward_into(s, cache, Y, plan.l2, ws.g, ws.delta)
            if plan.clip is not None:
                scale = clip_factor([a for _, a in ws.g.items()], plan.clip)
                if scale is not None:
                    # the workspace's own gradient buffer
                    np.multiply(ws.grad, scale, out=ws.grad)
            total += value * m
            seen += m
            j = 1 - i  # write the next state over the other set of buffers
            eta = lr_at(lr, c)
            ws.kernel(
                ws.thetas[i], ws.grad, ws.slots[i], eta, c + 1,
                ws.thetas[j], ws.slots[j],
            )  # fmt: skip
            if not all(map(all_finite, (ws.thetas[j], *ws.slots[j].values()))):
                try:  # the step's own error, naming params, grads, a slot or lr
                    blame(ws.thetas[i], ws.grad, ws.slots[i], eta)
                except NonFiniteError as e:
                    raise Halt("update", snapshot(), step, steps) from e
            good = (j, c + 1)  # one assignment: the step is taken
            if on_step is not None:  # progress: a function of the numbers only
                on_step(epoch, step + 1, total / seen)
    except KeyboardInterrupt as e:
        raise Halt("interrupt", snapshot(), step, steps) from e
    except Halt:
        raise
    except Exception as e:  # a schedule, the OS, ...
        raise Halt("error", snapshot(), step, steps) from e
    return snapshot(), total / seen


__all__ = ["Workspace", "backward_into", "forward_into", "run_epoch", "workspace"]
