"""Grid representation: exact round trip, axial averaging, mirroring."""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.core.sequence import PoseSequence
from posekit.jumps.grid import (
    ENTRIES,
    from_grid,
    grid_from_sequence,
    mirror_grid,
    sequence_from_grid,
    to_grid,
)
from posekit.plugins.registry import get_skeleton

finite = st.floats(-1e6, 1e6, allow_nan=False, width=64)
with_nan = st.floats(-1e6, 1e6, width=64) | st.just(float("nan"))


@st.composite
def pose_batches(draw, elements=finite):
    lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    frames = draw(st.integers(1, 30))
    return draw(arrays(np.float64, (*lead, frames, 28, 2), elements=elements))


@settings(max_examples=60, deadline=None)
@given(pose_batches(with_nan))
def test_round_trip_numpy_is_exact(positions):
    np.testing.assert_array_equal(from_grid(to_grid(positions)), positions)


@settings(max_examples=30, deadline=None)
@given(pose_batches())
def test_round_trip_torch_is_exact(positions):
    tensor = torch.from_numpy(positions)
    back = from_grid(to_grid(tensor))
    assert isinstance(back, torch.Tensor)
    assert torch.equal(back, tensor)


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (2, 4, 24, 18), elements=finite))
def test_axial_copies_average(grid):
    names = get_skeleton("mpi_inf_3dhp_28").joint_names
    positions = from_grid(grid)
    for entry, name in enumerate(ENTRIES):
        if name in names:  # axial joint: the mean of its two copies
            expected = (grid[:, 0:2, :, entry] + grid[:, 2:4, :, entry]) / 2
            np.testing.assert_allclose(positions[:, :, names.index(name)], np.moveaxis(expected, 1, -1))


@settings(max_examples=30, deadline=None)
@given(pose_batches())
def test_agreeing_axial_copies_return_the_joint(positions):
    grid = to_grid(positions)
    np.testing.assert_array_equal(from_grid(grid), positions)


@settings(max_examples=40, deadline=None)
@given(pose_batches())
def test_mirroring_the_person_swaps_entry_halves(positions):
    perm = get_skeleton("mpi_inf_3dhp_28").mirror_permutation()
    mirrored = positions[..., perm, :]
    np.testing.assert_array_equal(to_grid(mirrored), mirror_grid(to_grid(positions)))


def test_grid_shape_and_order():
    x = np.arange(28 * 2, dtype=float).reshape(1, 28, 2)
    grid = to_grid(x)
    assert grid.shape == (4, 1, 18)
    names = get_skeleton("mpi_inf_3dhp_28").joint_names
    # First entry holds the hands: left in channels 0-1, right in 2-3.
    np.testing.assert_array_equal(grid[0:2, 0, 0], x[0, names.index("left_hand")])
    np.testing.assert_array_equal(grid[2:4, 0, 0], x[0, names.index("right_hand")])
    np.testing.assert_array_equal(grid[2:4, 0, ENTRIES.index("toe")], x[0, names.index("right_toe")])


def test_sequence_window_round_trip():
    rng = np.random.default_rng(0)
    seq = PoseSequence.from_arrays(rng.normal(size=(24, 2, 28, 3)), skeleton="mpi_inf_3dhp_28", fps=30)
    back = sequence_from_grid(grid_from_sequence(seq), fps=30, individuals=seq.individuals)
    np.testing.assert_array_equal(back.positions(), seq.positions())


def test_wrong_shapes_are_refused():
    import pytest

    with pytest.raises(ValueError, match=r"\(\.\.\., F, 28, 2\)"):
        to_grid(np.zeros((24, 17, 2)))
    with pytest.raises(ValueError, match="grid"):
        from_grid(np.zeros((3, 24, 18)))
    seq = PoseSequence.from_arrays(np.zeros((24, 2, 17, 1)), skeleton="coco_17")
    with pytest.raises(ValueError, match="remap"):
        grid_from_sequence(seq)
