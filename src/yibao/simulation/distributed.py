"""The same partitioned job on Dask (分布式测算, ADR 0013).

``dask_map`` sends one task per partition to a Dask cluster (an address such as
``tcp://10.0.0.5:8786``, or ``local:N`` for a ``LocalCluster`` of N worker processes here) and
yields each partition's sums as they complete. The scenarios are scattered once to every worker;
each task reads its partition from the dataset path (a shared file system or object store the
workers can read) and returns small integer tables, which the client adds up exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from yibao.simulation.aggregate import Partial
from yibao.simulation.dataset import PartitionRef
from yibao.simulation.replay import replay


def _replay(root: str, ref: PartitionRef, scenarios: Any, day_from: int, day_to: int) -> Partial:
    return replay(root, ref, scenarios, day_from, day_to)


def dask_map(
    refs: Sequence[PartitionRef], args: tuple[Any, ...], address: str
) -> Iterator[tuple[PartitionRef, Partial]]:
    from dask.distributed import Client, LocalCluster, as_completed

    root, scenarios, day_from, day_to = args
    with ExitStack() as stack:
        if address.startswith("local:"):
            n = int(address.split(":", 1)[1] or 2)
            cluster = stack.enter_context(
                LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
            )
            client = stack.enter_context(Client(cluster))  # type: ignore[no-untyped-call]
        else:
            client = stack.enter_context(Client(address))  # type: ignore[no-untyped-call]
        shared = client.scatter(scenarios, broadcast=True)
        futures = {
            client.submit(
                _replay, root, ref, shared, day_from, day_to, key=f"replay-{ref.path}"
            ): ref
            for ref in refs
        }
        for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            yield futures[fut], fut.result()
