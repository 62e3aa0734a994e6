"""The ``interpolate`` baseline: a temporal cubic spline through each joint's observed
frames. It fills gaps of joints that are sometimes observed; a joint never observed
stays missing (it has nothing to interpolate)."""

from __future__ import annotations

import attrs
import numpy as np

from posekit.sequence import PoseSequence

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
        if inside.size:
            if known.size >= 2:
                out[inside, joint] = CubicSpline(known, values, axis=0)(inside)
        if edges:
            out[todo[todo < known[0]], joint] = values[0]
            out[todo[todo > known[-1]], joint] = values[-1]
    return out


@attrs.frozen
class Interpolate:
    """Fill the gaps of each joint by a temporal cubic spline (``interpolate: {}``).

    Measured joints pass through unchanged; every value it creates is marked imputed.

    Parameters
    ----------
    max_gap
        Longest gap filled, in frames; None: every gap.
    edges
        Hold the first and last observations over the sequence's ends.
    """

    max_gap: int | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.ge(0))
    )
    edges: bool = True

    def __call__(self, sequence: PoseSequence) -> PoseSequence:
        # Any layout and any dimension: there is no model behind it.
        position = sequence.positions()
        observed = sequence.observed()
        out = np.stack(
            [interpolate_gaps(position[i], observed[i], self.max_gap, self.edges)
             for i in range(position.shape[0])]
        )
        new = np.isfinite(out).all(axis=-1) & ~observed
        out[~np.isfinite(out).all(axis=-1)] = np.nan
        return sequence.replace(
            position=out,
            confidence=np.where(new, np.nan, sequence.confidences()),
            imputed=np.where(new, True, sequence.imputed_flags()),
        ).with_log(METHOD, attrs.asdict(self))
