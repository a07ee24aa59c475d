"""The embedded default cluster, and connecting to a running one.

The default is a ``LocalCluster`` of worker processes on this machine whose
scheduler, workers and nannies listen on ``127.0.0.1`` only, with no
dashboard: nothing is reachable from another machine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster


def cpus() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def local_cluster(
    n_workers: int | None = None, memory_limit: str | float | None = "auto"
) -> LocalCluster:
    """Worker processes on this machine, on the loopback interface only.

    ``LocalCluster(host="127.0.0.1", processes=True, n_workers=min(2, cpus),
    threads_per_worker=1, dashboard_address=None)``: one thread per worker
    (each worker's NumPy runs one BLAS thread, as Dask's nanny sets it), no
    dashboard, no port beyond ``127.0.0.1`` (the scheduler's small HTTP
    server, health and metrics only, takes a free loopback port).
    ``memory_limit`` is per worker (``"auto"``: the machine's memory divided
    among the workers). Close it (or use it in a ``with``) when done.
    """
    return LocalCluster(
        host="127.0.0.1",
        processes=True,
        n_workers=min(2, cpus()) if n_workers is None else n_workers,
        threads_per_worker=1,
        dashboard_address=None,
        memory_limit=memory_limit,
        # the scheduler's HTTP endpoints (health, metrics; no dashboard) on a
        # free loopback port, not 127.0.0.1:8787, which may be taken
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )


@contextmanager
def connect(
    scheduler: str | None = None,
    n_workers: int | None = None,
    memory_limit: str | float | None = "auto",
) -> Iterator[Client]:
    """A client of a running scheduler, or of a new ``local_cluster``.

    ``scheduler`` is an address ``"tcp://HOST:PORT"``; None starts
    ``local_cluster(n_workers, memory_limit)``. The client (and the cluster
    it started) is closed on leaving the ``with``.
    """
    if scheduler is not None:
        with Client(scheduler, set_as_default=False) as client:
            yield client
        return
    with (
        local_cluster(n_workers, memory_limit) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client
