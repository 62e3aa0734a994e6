"""Running a pipeline's files: one after another here, or as tasks on a Dask cluster.

Each input file is one task: the same per-file function (``Pipeline._run_one``) runs in
the plain loop and on a Dask worker, reads the file, runs the steps and writes the
outputs itself, and returns a small :class:`~posekit.pipeline.report.FileResult`. A file that
fails comes back as a result with its error; the other files complete.

Dask (``pip install "posekit[cluster]"``) is imported only when a cluster is asked for,
so the plain loop and ``posekit --help`` never pay its import time.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from posekit.core.errors import ClusterError
from posekit.pipeline.report import FileResult

if TYPE_CHECKING:
    from pathlib import Path

Job = TypeVar("Job")

#: Seconds to wait for an existing scheduler before giving up.
CONNECT_TIMEOUT = 10.0

#: Dask sets this glibc variable in its workers to return freed memory sooner; it also
#: stops glibc from adapting its mmap threshold, so torch maps and unmaps its tensors
#: at every step: the JUMPS stage ran 1.75 times slower (benchmarks/batch_dask.py).
#: Local workers live for one run, so they go without it.
_MALLOC_TRIM = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"

INSTALL = 'python -m pip install "posekit[cluster]"  (or "dask[distributed]")'


@attrs.frozen
class Cluster:
    """Where the files of a run go: a local Dask cluster, or an existing scheduler.

    Parameters
    ----------
    workers
        Start a local cluster of this many worker processes (one thread each); the
        cluster is closed when the run ends.
    scheduler
        The address of a running Dask scheduler (``tcp://host:8786``); its workers must
        have posekit (and any plugin the pipeline uses) installed and see the input and
        output paths.

    Examples
    --------
    >>> Cluster(workers=2)
    Cluster(workers=2, scheduler=None)
    >>> Cluster(workers=2, scheduler="tcp://host:8786")
    Traceback (most recent call last):
    ...
    ValueError: give workers (a local cluster) or scheduler (an existing one), not both
    """

    workers: int | None = None
    scheduler: str | None = None

    def __attrs_post_init__(self) -> None:
        if (self.workers is None) == (self.scheduler is None):
            raise ValueError(
                "give workers (a local cluster) or scheduler (an existing one), not both"
                if self.workers is not None
                else "give workers (a local cluster) or scheduler (an existing one)"
            )
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")

    @contextmanager
    def client(self) -> Iterator[Any]:
        """A ``dask.distributed.Client`` on the cluster, closed (with a local cluster)
        on exit.

        Raises
        ------
        ClusterError
            If Dask is not installed, the local cluster does not start, or the scheduler
            cannot be reached.
        """
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as err:
            raise ClusterError(f"running on Dask needs Dask installed: {INSTALL} ({err})") from None
        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
            except Exception as err:  # noqa: BLE001  (OSError, TimeoutError, ValueError...)
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {self.scheduler!r} within "
                    f"{CONNECT_TIMEOUT:g} s: {err}; start one with `dask scheduler` and "
                    "workers with `dask worker ADDRESS`"
                ) from None
            with client:
                yield client
            return
        import dask

        with _environment_kept():
            try:
                with dask.config.set({_MALLOC_TRIM: None}):
                    local = LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",  # any free port, never a clash
                    )
            except Exception as err:  # noqa: BLE001
                raise ClusterError(
                    f"cannot start a local Dask cluster: {err} (workers are new processes "
                    "that import the main module: in a script, run under "
                    "`if __name__ == '__main__':`)"
                ) from None
            with local, Client(local) as client:
                yield client


@contextmanager
def _environment_kept() -> Iterator[None]:
    """Put back this process's environment variables on exit: Dask's nanny writes its
    workers' variables (``OMP_NUM_THREADS=1``...) into the parent's ``os.environ``."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_tasks(
    task: Callable[[Job], FileResult],
    jobs: Sequence[Job],
    paths: Sequence[Path],
    *,
    cluster: Cluster | None = None,
    progress: bool = True,
) -> list[FileResult]:
    """Run ``task`` on every job, here or on a Dask cluster, with a progress bar.

    Parameters
    ----------
    task
        The per-file function; it catches the file's own errors and returns a
        :class:`~posekit.pipeline.report.FileResult`. For a cluster it and the jobs must be
        picklable (the checked pipeline, the file path, the reader and writer objects).
    jobs
        One job per input file.
    paths
        The input file of each job, named when a task fails outside ``task`` (a worker
        that died, a job that could not be unpickled).
    cluster
        Where to run; None runs the jobs one after another in this process.
    progress
        Show a progress bar over files on stderr (when there are at least two).

    Returns
    -------
    list of FileResult
        In the order of ``jobs``, whatever order they finished in.

    Examples
    --------
    >>> from pathlib import Path
    >>> from posekit.pipeline.report import FileResult
    >>> done = run_tasks(lambda p: FileResult(p, (), None, {}), [Path("a.nc")], [Path("a.nc")])
    >>> [result.ok for result in done]
    [True]
    """
    from tqdm import tqdm

    quiet = not progress or len(jobs) < 2
    bar = functools.partial(tqdm, total=len(jobs), unit="file", disable=quiet)
    if cluster is None or not jobs:
        return [task(job) for job in bar(jobs)]
    results: list[FileResult | None] = [None] * len(jobs)
    with cluster.client() as client:
        from dask.distributed import as_completed

        futures = client.map(task, jobs, pure=False)
        index = {future.key: number for number, future in enumerate(futures)}
        for future in bar(as_completed(futures)):
            number = index[future.key]
            try:
                results[number] = future.result()
            except Exception as err:  # noqa: BLE001  (one lost task must not stop the others)
                results[number] = FileResult(
                    paths[number], (), f"dask worker: {type(err).__name__}: {err}", {}
                )
            future.release()
    return cast("list[FileResult]", results)  # every future has answered
