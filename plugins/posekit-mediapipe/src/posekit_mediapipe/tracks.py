"""Track ids for one pose per frame.

MediaPipe's legacy Pose solution follows one person from frame to frame and, when it
loses them, detects a person again, who may be someone else. A track is a run of frames
with a pose; it ends when no pose was found for more than ``max_gap`` frames, or when
the pose reappears farther from where it was than the person's size (the diagonal of
the box around its landmarks). Each track becomes one individual, absent (NaN) outside
its frames, so stages that fill only where a person was present treat it as any
tracker's output.
"""

from __future__ import annotations

import numpy as np


def track_ids(points: np.ndarray, max_gap: int) -> np.ndarray:
    """The track number of each frame's pose: 0, 1, ... in order of appearance; -1 in
    frames without a pose.

    Parameters
    ----------
    points
        ``(time, keypoint, 2)`` pose positions; NaN where not found (a frame without a
        pose is all NaN).
    max_gap
        Frames without a pose a track may span.

    Examples
    --------
    >>> pose = np.array([[0.0, 0.0], [10.0, 20.0]])
    >>> far = pose + 100.0
    >>> missing = np.full_like(pose, np.nan)
    >>> track_ids(np.stack([pose, missing, pose, far, missing, missing, far]), 1).tolist()
    [0, -1, 0, 1, -1, -1, 2]
    """
    ids = np.full(len(points), -1, dtype=np.int64)
    track, last_frame, last_pose = -1, -1, None
    for frame, pose in enumerate(points):
        found = np.isfinite(pose).all(axis=-1)
        if not found.any():
            continue
        if last_pose is None or frame - last_frame - 1 > max_gap or _moved_away(last_pose, pose):
            track += 1
        ids[frame] = track
        last_frame, last_pose = frame, pose
    return ids


def _moved_away(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the centre of ``after`` lies farther from that of ``before`` than the
    size of ``before``."""
    corners = np.nanmin(before, axis=0), np.nanmax(before, axis=0)
    size = float(np.hypot(*(corners[1] - corners[0])))
    shift = np.nanmean(after, axis=0) - np.nanmean(before, axis=0)
    return float(np.hypot(*shift)) > size
