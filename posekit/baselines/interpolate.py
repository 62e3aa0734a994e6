"""The ``interpolate`` baseline: a temporal cubic spline through each joint's observed
frames. It fills gaps of joints that are sometimes observed, where the person is present
(:mod:`posekit.core.presence`); a joint never observed stays missing (it has nothing to
interpolate)."""

from __future__ import annotations

import attrs
import numpy as np

from posekit.baselines.common import filled_sequence
from posekit.core.presence import DEFAULT_MAX_GAP, check_max_gap
from posekit.core.sequence import PoseSequence

METHOD = "interpolate"


def interpolate_gaps(
    position: np.ndarray, observed: np.ndarray, max_gap: int | None = None, edges: bool = True
) -> np.ndarray:
    """Cubic-spline interpolation of every joint's missing frames.

    Parameters
    ----------
    position, observed
        ``(T, J, D)`` and ``(T, J)``.
    max_gap
        Longest interior gap filled (frames); None: every gap.
    edges
        Also fill the frames before the first and after the last observation with
        those observations (held constant); a spline extrapolated would run away.

    Returns
    -------
    numpy.ndarray
        ``(T, J, D)``: observed values unchanged, gaps filled.

    Examples
    --------
    >>> t = np.arange(6.0)
    >>> pos = np.stack([t**2, t], axis=-1)[:, None, :]  # a parabola: the spline is exact
    >>> seen = np.array([True, True, False, False, True, True])[:, None]
    >>> np.round(interpolate_gaps(pos, seen)[2:4, 0], 6).tolist()
    [[4.0, 2.0], [9.0, 3.0]]
    """
    from scipy.interpolate import CubicSpline

    out = position.copy()
    frames = np.arange(position.shape[0])
    for joint in range(position.shape[1]):
        known = frames[observed[:, joint]]
        if known.size == 0 or known.size == frames.size:
            continue
        values = position[known, joint]
        todo = frames[~observed[:, joint]]
        inside = todo[(todo > known[0]) & (todo < known[-1])]
        if max_gap is not None and inside.size:
            after = np.searchsorted(known, inside)
            gap = known[after] - known[after - 1] - 1
            inside = inside[gap <= max_gap]
        if inside.size and known.size >= 2:
            out[inside, joint] = CubicSpline(known, values, axis=0)(inside)
        if edges:
            out[todo[todo < known[0]], joint] = values[0]
            out[todo[todo > known[-1]], joint] = values[-1]
    return out


@attrs.frozen
class Interpolate:
    """Fill the gaps of each joint by a temporal cubic spline (``interpolate: {}``).

    Measured joints pass through unchanged; every value it creates is marked imputed.
    Only frames where the person is present are filled (:mod:`posekit.core.presence`).

    Parameters
    ----------
    max_gap
        Longest gap filled, in frames, of a joint and of the whole person; longer
        gaps, and the frames before the person's first and after its last detection,
        stay missing. None: every gap in between.
    edges
        Hold a joint's first and last observations over the frames before and after
        them where the person is present.

    Examples
    --------
    >>> position = np.full((6, 2, 1, 1), np.nan)
    >>> position[[1, 3]] = 1.0
    >>> seq = PoseSequence.from_arrays(position, keypoints=["a"])
    >>> Interpolate()(seq).observed()[0, :, 0].astype(int).tolist()
    [0, 1, 1, 1, 0, 0]
    """

    max_gap: int | None = attrs.field(default=DEFAULT_MAX_GAP, validator=check_max_gap)
    edges: bool = True

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        # Any layout and any dimension: there is no model behind it.
        position = sequence.positions()
        observed = sequence.observed()
        out = np.stack(
            [interpolate_gaps(position[i], observed[i], self.max_gap, self.edges)
             for i in range(position.shape[0])]
        )
        return filled_sequence(sequence, out, self.max_gap)
