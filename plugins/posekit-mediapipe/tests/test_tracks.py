"""Track ids of one pose per frame: invariants over random presence patterns."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from posekit_mediapipe.tracks import track_ids


def poses(present: list[bool]) -> np.ndarray:
    """A still pose (a 20-pixel box) in the frames marked present, NaN elsewhere."""
    pose = np.array([[0.0, 0.0], [20.0, 0.0], [10.0, 20.0]])
    frames = [pose if p else np.full_like(pose, np.nan) for p in present]
    return np.stack(frames) if frames else np.empty((0, *pose.shape))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.booleans(), max_size=60), st.integers(0, 5))
def test_tracks_follow_presence_and_break_only_at_long_gaps(present, max_gap):
    ids = track_ids(poses(present), max_gap)
    assert ((ids >= 0) == np.array(present, dtype=bool)).all()
    found = np.flatnonzero(ids >= 0)
    if not len(found):
        return
    assert ids[found[0]] == 0
    steps = np.diff(ids[found])
    gaps = np.diff(found) - 1
    # A still person keeps the track across short gaps and starts a new one after long ones.
    assert ((steps == 1) == (gaps > max_gap)).all() and set(steps) <= {0, 1}


def test_a_person_reappearing_elsewhere_starts_a_new_track():
    still = poses([True, True, True])
    still[2] += 100.0  # farther than the 22-pixel size of the pose
    assert track_ids(still, max_gap=10).tolist() == [0, 0, 1]
    still[2] -= 90.0
    assert track_ids(still, max_gap=10).tolist() == [0, 0, 0]
