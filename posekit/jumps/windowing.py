"""Window strategies: how a long sequence is cut into fixed-length windows, and how
the overlapping results are merged back into one sequence.

Strategies are registered like stages (hook ``posekit_register_windowings``) and chosen
by name with the ``windowing`` parameter of the ``jumps`` stage:

- ``closest`` (the JUMPS paper): where windows overlap, each frame takes the candidate
  whose contextual loss at that frame is lowest;
- ``blend``: a cross-fade, each window weighted by a tent that is highest at its centre.

A third-party strategy subclasses :class:`WindowStrategy` (or provides the same two
methods) and registers it under a new name.
"""

from __future__ import annotations

import attrs
import numpy as np

from posekit.plugins.hookspecs import hookimpl
from posekit.plugins.registry import Registry


def pad_to_window(values: np.ndarray, window: int, axis: int = 0) -> np.ndarray:
    """Pad a sequence shorter than ``window`` by repeating its last frame.

    Longer sequences are returned unchanged; crop the result back after processing.

    Examples
    --------
    >>> pad_to_window(np.arange(3), 5).tolist()
    [0, 1, 2, 2, 2]
    """
    missing = window - values.shape[axis]
    if missing <= 0:
        return values
    widths = [(0, 0)] * values.ndim
    widths[axis] = (0, missing)
    return np.pad(values, widths, mode="edge")


@attrs.frozen
class WindowStrategy:
    """Cut into windows with a given overlap; subclasses define :meth:`merge`.

    Parameters
    ----------
    overlap
        Fraction of a window shared with the next one, in ``[0, 1)``; 0.5 is the
        paper's half overlap, 0 cuts back to back.
    """

    overlap: float = attrs.field(default=0.5)

    @overlap.validator
    def _check(self, attribute: attrs.Attribute, value: float) -> None:
        if not 0.0 <= value < 1.0:
            raise ValueError(f"overlap must lie in [0, 1), got {value}")

    def starts(self, n_frames: int, window: int) -> np.ndarray:
        """First frame of each window; together they cover ``[0, n_frames)``.

        The last window is moved back to end at the last frame, so every window is
        full; ``n_frames`` must be at least ``window`` (see :func:`pad_to_window`).

        Examples
        --------
        >>> Closest(overlap=0.5).starts(50, 24).tolist()
        [0, 12, 24, 26]
        """
        if n_frames < window:
            raise ValueError(f"{n_frames} frames is shorter than a window of {window}")
        hop = max(1, round(window * (1.0 - self.overlap)))
        starts = list(range(0, n_frames - window + 1, hop))
        if starts[-1] + window < n_frames:
            starts.append(n_frames - window)
        return np.array(starts, dtype=np.int64)

    def merge(
        self, candidates: np.ndarray, losses: np.ndarray, starts: np.ndarray, n_frames: int
    ) -> np.ndarray:
        """Merge per-window results into one sequence.

        Parameters
        ----------
        candidates
            ``(n_windows, window, ...)`` results per window.
        losses
            ``(n_windows, window)`` contextual loss of each window at each frame.
        starts
            ``(n_windows,)`` first frame of each window.
        n_frames
            Length of the merged sequence.

        Returns
        -------
        ``(n_frames, ...)``
        """
        raise NotImplementedError


def _frames(starts: np.ndarray, window: int) -> np.ndarray:
    """``(n_windows, window)`` frame index of every window entry."""
    return starts[:, None] + np.arange(window)[None, :]


@attrs.frozen
class Closest(WindowStrategy):
    """Each frame takes the overlapping candidate with the lowest contextual loss there.

    Examples
    --------
    >>> s = Closest(overlap=0.5)
    >>> starts = s.starts(4, 2)
    >>> cands = np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    >>> losses = np.array([[0.0, 0.5], [0.1, 0.1], [0.0, 0.0]])
    >>> s.merge(cands, losses, starts, 4).tolist()
    [1.0, 2.0, 3.0, 3.0]
    """

    def merge(
        self, candidates: np.ndarray, losses: np.ndarray, starts: np.ndarray, n_frames: int
    ) -> np.ndarray:
        window = candidates.shape[1]
        frames = _frames(starts, window).ravel()
        flat_losses = np.nan_to_num(losses.ravel(), nan=np.inf)
        order = np.lexsort((flat_losses, frames))  # by frame, then by loss
        first = order[np.unique(frames[order], return_index=True)[1]]
        flat = candidates.reshape(-1, *candidates.shape[2:])
        return flat[first]


@attrs.frozen
class Blend(WindowStrategy):
    """A cross-fade: overlapping candidates are averaged with tent-shaped weights.

    Examples
    --------
    >>> s = Blend(overlap=0.5)
    >>> cands = np.array([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    >>> s.merge(cands, np.zeros((2, 4)), s.starts(6, 4), 6).round(2).tolist()
    [0.0, 0.0, 0.33, 0.67, 1.0, 1.0]
    """

    def merge(
        self, candidates: np.ndarray, losses: np.ndarray, starts: np.ndarray, n_frames: int
    ) -> np.ndarray:
        window = candidates.shape[1]
        offsets = np.arange(window)
        tent = np.minimum(offsets + 1, window - offsets).astype(np.float64)
        frames = _frames(starts, window).ravel()
        weights = np.broadcast_to(tent, (len(starts), window)).ravel()
        flat = candidates.reshape(len(frames), -1)
        total = np.zeros((n_frames, flat.shape[1]))
        np.add.at(total, frames, flat * weights[:, None])
        norm = np.bincount(frames, weights=weights, minlength=n_frames)
        return (total / norm[:, None]).reshape(n_frames, *candidates.shape[2:])


@hookimpl
def posekit_register_windowings(registry: Registry) -> None:
    """Register the paper's ``closest`` strategy and the ``blend`` cross-fade."""
    registry.add_windowing("closest", Closest)
    registry.add_windowing("blend", Blend)
