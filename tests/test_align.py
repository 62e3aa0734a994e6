"""The align stage: poses land on the target, and invert gives back the input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.core.errors import PoseSequenceError
from posekit.core.sequence import PoseSequence
from posekit.pipeline.run import Pipeline
from posekit.stages.align import Align, mean_pose
from posekit.stages.provenance import apply_stage


def rotation(angle: float, dims: int) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.eye(dims)
    matrix[:2, :2] = [[c, -s], [s, c]]
    return matrix


def moving_pose(
    frames: int, dims: int, seed: int, individuals: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """A rigid pose moved by a random similarity in each frame: (position, true pose)."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(size=(17, dims))
    position = np.empty((frames, dims, 17, individuals))
    for t in range(frames):
        for i in range(individuals):
            moved = rng.uniform(0.5, 2.0) * pose @ rotation(rng.uniform(0, 2 * np.pi), dims).T
            position[t, :, :, i] = (moved + rng.normal(scale=5.0, size=dims)).T
    return position, pose


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    frames=st.integers(1, 12),
    individuals=st.integers(1, 2),
    dims=st.sampled_from([2, 3]),
    per=st.sampled_from(["frame", "window"]),
    window=st.integers(1, 5),
    scale=st.booleans(),
    missing=st.floats(0.0, 0.6),
    twice=st.booleans(),
)
def test_invert_gives_back_the_input(
    seed, frames, individuals, dims, per, window, scale, missing, twice
):
    rng = np.random.default_rng(seed)
    position = (
        rng.normal(scale=3.0, size=(frames, dims, 17, individuals))
        + rng.normal(size=dims)[:, None, None]
    )
    gone = rng.random((frames, 17, individuals)) < missing
    position = np.where(gone[:, None], np.nan, position)
    sequence = PoseSequence.from_arrays(position, skeleton="coco_17", fps=30)
    stage = Align(per=per, window=window, scale=scale)
    aligned = stage(sequence)
    if twice:
        aligned = stage(aligned)
    back = Align(invert=True)(aligned)
    np.testing.assert_allclose(back.positions(), sequence.positions(), rtol=0, atol=1e-9)
    assert np.array_equal(np.isnan(back.positions()), np.isnan(sequence.positions()))
    np.testing.assert_array_equal(back.confidences(), sequence.confidences())
    np.testing.assert_array_equal(back.imputed_flags(), sequence.imputed_flags())
    assert set(back.dataset.data_vars) == {"position", "confidence", "imputed"}


@pytest.mark.parametrize("dims", [2, 3])
def test_per_frame_removes_a_rigid_motion(dims):
    position, _ = moving_pose(8, dims, seed=dims)
    aligned = Align()(PoseSequence.from_arrays(position, skeleton="coco_17")).positions()[0]
    np.testing.assert_allclose(aligned, np.broadcast_to(aligned[0], aligned.shape), atol=1e-9)


def test_without_scale_the_size_is_kept():
    position, _ = moving_pose(6, 3, seed=1)
    sequence = PoseSequence.from_arrays(position, skeleton="coco_17")
    aligned = Align(scale=False)(sequence)
    assert np.allclose(aligned.dataset["align_scale"], 1.0)
    size = lambda p: np.linalg.norm(p - p.mean(axis=-2, keepdims=True), axis=(-2, -1))
    np.testing.assert_allclose(size(aligned.positions()), size(sequence.positions()))


def test_per_window_keeps_the_motion_inside_a_window():
    position, _ = moving_pose(10, 2, seed=3)
    sequence = PoseSequence.from_arrays(position, skeleton="coco_17")
    aligned = Align(per="window", window=4)(sequence)
    scale = aligned.dataset["align_scale"].values[:, 0]
    assert (
        np.all(scale[:4] == scale[0])
        and np.all(scale[4:8] == scale[4])
        and np.all(scale[8:] == scale[8])
    )
    assert scale[0] != scale[4]


def test_reference_file_is_the_target(tmp_path):
    position, pose = moving_pose(6, 3, seed=4)
    reference = PoseSequence.from_arrays(pose.T[None, :, :, None], skeleton="coco_17")
    reference.to_netcdf(tmp_path / "ref.nc")
    aligned = apply_stage(
        Align(reference=tmp_path / "ref.nc"), PoseSequence.from_arrays(position, skeleton="coco_17")
    )
    np.testing.assert_allclose(aligned.positions()[0], np.broadcast_to(pose, (6, 17, 3)), atol=1e-9)
    assert aligned.log[-1]["parameters"]["reference"] == str(tmp_path / "ref.nc")


def test_reference_must_fit(tmp_path):
    PoseSequence.from_arrays(np.ones((1, 2, 17, 1)), skeleton="coco_17").to_netcdf(
        tmp_path / "ref2d.nc"
    )
    sequence = PoseSequence.from_arrays(np.ones((2, 3, 17, 1)), skeleton="coco_17")
    with pytest.raises(PoseSequenceError, match="does not fit"):
        Align(reference=tmp_path / "ref2d.nc")(sequence)


def test_invert_without_alignment_fails():
    with pytest.raises(PoseSequenceError, match="nothing to invert"):
        Align(invert=True)(PoseSequence.from_arrays(np.ones((2, 2, 17, 1)), skeleton="coco_17"))


def test_an_individual_without_joints_is_left_alone():
    position = np.full((3, 2, 17, 2), np.nan)
    position[..., 0] = np.random.default_rng(0).normal(size=(3, 2, 17))
    aligned = Align()(PoseSequence.from_arrays(position, skeleton="coco_17"))
    assert np.isnan(aligned.positions()[1]).all()
    assert np.isfinite(aligned.dataset["align_scale"].values).all()


def test_mean_pose_of_a_rigid_motion_is_the_anchor_pose():
    position, _ = moving_pose(5, 3, seed=7)
    points = np.moveaxis(position[..., 0], 1, 2)  # (time, keypoint, space)
    mean = mean_pose(points, np.ones((5, 17), bool))
    np.testing.assert_allclose(mean, points[0], atol=1e-9)


def test_alignment_survives_a_netcdf_round_trip_and_a_pipeline(tmp_path):
    position, _ = moving_pose(6, 2, seed=5)
    sequence = PoseSequence.from_arrays(position, skeleton="coco_17")
    aligned = Pipeline.from_dict({"steps": [{"align": {"per": "window", "window": 2}}]})(sequence)
    reread = PoseSequence.read_netcdf(aligned.to_netcdf(tmp_path / "a.nc"))
    back = Pipeline.from_dict({"steps": [{"align": {"invert": True}}]})(reread)
    np.testing.assert_allclose(back.positions(), sequence.positions(), atol=1e-9)
    assert [entry["stage"] for entry in back.log] == ["align", "align"]
