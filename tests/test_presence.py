"""Filling only where the person was present: the presence mask and every filling stage."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from posekit.baselines.interpolate import Interpolate
from posekit.core.presence import bridge_gaps, presence
from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_registry, get_skeleton
from posekit.stages.provenance import apply_stage

N_FRAMES = 1235
#: The second person's detections: 41 + 35 = 76 frames of 1,235, with a 5-frame miss.
SEEN = np.r_[np.arange(300, 310), np.arange(315, 346), np.arange(700, 735)]
#: Where the second person is present with the default max_gap (30): 81 frames.
PRESENT = np.r_[np.arange(300, 346), np.arange(700, 735)]
#: The twelve body joints an AlphaPose COCO-17 result gives, in the 28-joint layout.
GIVEN = ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist",
         "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
         "right_ankle"]  # fmt: skip


def two_people() -> PoseSequence:
    """``id_0`` seen in every frame, ``id_1`` in the 76 frames of :data:`SEEN`; twelve
    joints measured (a walking-like sway around a standing pose)."""
    skeleton = get_skeleton("mpi_inf_3dhp_28")
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(28, 2)) * 60 + [500, 400]
    sway = np.sin(np.arange(N_FRAMES) / 7.0)[:, None, None] * 5
    position = np.full((N_FRAMES, 2, 28, 2), np.nan)
    given = skeleton.indices(GIVEN)
    for individual, frames in enumerate((np.arange(N_FRAMES), SEEN)):
        values = (pose + sway + [300 * individual, 0])[frames][:, given]  # (F, 12, 2)
        position[frames[:, None], :, given, individual] = values
    return PoseSequence.from_arrays(position, skeleton="mpi_inf_3dhp_28", fps=30)


def stage(name: str, **parameters):
    if name == "jumps":
        parameters = {"iterations": 2, "completion": None, **parameters}
    return get_registry().entry("stage", name).cls(**parameters)


FILLING = ["jumps", "interpolate", "ridge", "ridge_window", "knn", "mean_pose"]


@pytest.fixture(scope="module")
def source() -> PoseSequence:
    return two_people()


@pytest.mark.parametrize("name", FILLING)
def test_no_stage_invents_a_whole_person(source: PoseSequence, name: str) -> None:
    assert source.observed()[1].any(axis=-1).sum() == 76
    out = apply_stage(stage(name), source)
    frames_with_values = np.isfinite(out.positions()[1]).all(axis=-1).any(axis=-1)
    assert frames_with_values.sum() <= len(PRESENT)
    assert not frames_with_values[np.setdiff1d(np.arange(N_FRAMES), PRESENT)].any()
    assert not out.imputed_flags()[1][~np.isin(np.arange(N_FRAMES), PRESENT)].any()
    assert frames_with_values[SEEN].all()  # measured frames are kept
    if name in ("jumps", "interpolate"):  # these fill the short miss too
        assert frames_with_values[310:315].all()
    assert out.log[-1]["parameters"]["max_gap"] == 30


@pytest.mark.parametrize("name", ["jumps", "interpolate"])
def test_max_gap_bridges_longer_absences(source: PoseSequence, name: str) -> None:
    out = stage(name, max_gap=400)(source.select(frames=slice(250, 800)))
    frames_with_values = np.isfinite(out.positions()[1]).all(axis=-1).any(axis=-1)
    assert frames_with_values.tolist() == [250 + f in range(300, 735) for f in range(550)]


@pytest.mark.parametrize("name", FILLING)
def test_negative_max_gap_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="max_gap"):
        stage(name, max_gap=-1)


def test_presence_counts_detections_without_positions() -> None:
    position = np.full((5, 2, 2, 1), np.nan)
    confidence = np.full((5, 2, 1), np.nan)
    position[0], position[4] = 1.0, 1.0
    confidence[2, 0] = 0.1  # detected, every keypoint below the threshold
    seq = PoseSequence.from_arrays(position, confidence, keypoints=["a", "b"])
    assert presence(seq, max_gap=1).tolist() == [[True] * 5]
    assert presence(seq, max_gap=0).tolist() == [[True, False, True, False, True]]


@settings(max_examples=200, deadline=None)
@given(
    detected=hnp.arrays(bool, st.integers(0, 60)),
    max_gap=st.one_of(st.none(), st.integers(0, 10)),
)
def test_bridge_gaps_fills_exactly_the_short_absences(detected, max_gap) -> None:
    present = bridge_gaps(detected, max_gap)
    assert (present | ~detected).all() and present.shape == detected.shape
    seen = np.flatnonzero(detected)
    if not len(seen):
        assert not present.any()
        return
    assert not present[: seen[0]].any() and not present[seen[-1] + 1 :].any()
    for before, after in itertools.pairwise(seen):
        gap = after - before - 1
        bridged = max_gap is None or gap <= max_gap
        assert (present[before + 1 : after] == bridged).all()


@settings(max_examples=40, deadline=None)
@given(
    seen=hnp.arrays(bool, (40, 3)),
    max_gap=st.one_of(st.none(), st.integers(0, 8)),
)
def test_interpolate_never_fills_outside_the_presence(seen, max_gap) -> None:
    position = np.where(seen[:, None, :, None], np.arange(40.0)[:, None, None, None], np.nan)
    seq = PoseSequence.from_arrays(np.repeat(position, 2, axis=1), keypoints=["a", "b", "c"])
    out = Interpolate(max_gap=max_gap)(seq)
    filled = np.isfinite(out.positions()[0]).all(axis=-1).any(axis=-1)
    assert not (filled & ~presence(seq, max_gap)[0]).any()
    np.testing.assert_array_equal(out.positions()[seq.observed()], seq.positions()[seq.observed()])
