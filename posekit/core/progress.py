"""Progress bars inside stages, shown only where ``posekit run`` asks for them.

A stage does not know whether it runs under ``posekit run`` or ``-q``, in a script, a
test or a Dask worker. :func:`showing_progress` says so for the code it wraps (the
pipeline runner wraps the files it runs in this process), and :func:`progress_bar`
gives a tqdm bar that is silent unless it was asked for *and* stderr is a terminal.
tqdm is imported only when a bar is made.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from tqdm import tqdm

_SHOW: contextvars.ContextVar[bool] = contextvars.ContextVar("posekit_progress", default=False)


@contextlib.contextmanager
def showing_progress(show: bool) -> Iterator[None]:
    """Let stages show progress bars (``show``) in the code this context wraps.

    Examples
    --------
    >>> with showing_progress(True):
    ...     progress_bar(10, "jumps").disable  # True anyway: doctest output is no terminal
    True
    """
    token = _SHOW.set(show)
    try:
        yield
    finally:
        _SHOW.reset(token)


def progress_bar(total: int, description: str, unit: str = "window") -> tqdm[NoReturn]:
    """A tqdm bar on stderr over ``total`` units, left off the screen once done.

    Silent outside :func:`showing_progress` ``(True)`` and when stderr is not a
    terminal; it appears only after a second, so short runs print nothing.

    Examples
    --------
    >>> with progress_bar(3, "jumps") as bar:
    ...     bar.update(3)
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit=unit,
        disable=None if _SHOW.get() else True,  # None: off when stderr is not a tty
        leave=False,
        delay=1.0,
        dynamic_ncols=True,
    )
