"""`archiver sync --scheduler`: the checks of a run as tasks on a Dask distributed cluster.

The syncing process keeps what must be single (the plan, the state store, the commit
stream, the lock); each task fetches, extracts and compares one article on a worker and
hands back `Checked.to_json()`. Politeness is the cluster's, not a worker's: see gate.py.
Imported only when a run names a scheduler, so a local sync never loads Dask.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from archiver.errors import ClusterError

if TYPE_CHECKING:
    from archiver.archive import Archive
    from archiver.capture.checker import Checker, StoredTexts
    from archiver.fetch.client import Fetcher

EXTRA = "pip install 'archiver[cluster]'"


def cluster_checker(
    archive: Archive,
    fetcher: Fetcher,
    stored: StoredTexts,
    address: str,
    agent: str,
    proxy: str | None = None,
) -> AbstractAsyncContextManager[Checker]:
    """A Checker whose checks run on the workers of the Dask scheduler at `address`."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(f"--scheduler needs Dask distributed: {EXTRA}") from None
    from archiver.cluster.client import cluster_run

    return cluster_run(archive, fetcher, stored, address, agent, proxy)
