"""Attaching generated joints to the measured ones (posekit.jumps.attach)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.jumps.attach import attach_to_observed
from posekit.registry import get_skeleton

SKELETON = get_skeleton("mpi_inf_3dhp_28")
HOPS = SKELETON.hop_distances()
FRAMES = 5

coordinates = arrays(np.float64, (FRAMES, 28, 2), elements=st.floats(-1e3, 1e3))
masks = arrays(np.bool_, (FRAMES, 28))


def test_hop_distances_are_a_tree_metric():
    assert (HOPS == HOPS.T).all() and (np.diag(HOPS) == 0).all()
    for parent, child in SKELETON.bones:
        assert HOPS[parent, child] == 1
    # Tree: the number of joint pairs one bone apart is twice the number of bones.
    assert (HOPS == 1).sum() == 2 * len(SKELETON.bones)
    assert HOPS.max() < 28


@settings(max_examples=50, deadline=None)
@given(generated=coordinates, measured=coordinates, observed=masks)
def test_observed_joints_land_on_their_measured_values(generated, measured, observed):
    out = attach_to_observed(generated, measured, observed, HOPS)
    np.testing.assert_allclose(out[observed], measured[observed], atol=1e-6)
    empty = ~observed.any(1)
    np.testing.assert_array_equal(out[empty], generated[empty])


@settings(max_examples=50, deadline=None)
@given(generated=coordinates, shift=arrays(np.float64, (FRAMES, 1, 2), elements=st.floats(-50, 50)),
       observed=masks)
def test_a_translated_generation_is_moved_back_exactly(generated, shift, observed):
    """If the truth is the generated pose shifted per frame, one observed joint suffices."""
    truth = generated + shift
    out = attach_to_observed(generated, np.where(observed[..., None], truth, np.nan), observed, HOPS)
    seen = observed.any(1)
    np.testing.assert_allclose(out[seen], truth[seen], atol=1e-6)


def test_a_joint_follows_its_nearest_observed_joint():
    generated = np.zeros((1, 28, 2))
    measured = np.full((1, 28, 2), np.nan)
    observed = np.zeros((1, 28), bool)
    wrist, ankle = SKELETON.index("left_wrist"), SKELETON.index("left_ankle")
    measured[0, wrist], measured[0, ankle] = [5.0, 0.0], [0.0, -7.0]
    observed[0, [wrist, ankle]] = True
    out = attach_to_observed(generated, measured, observed, HOPS)[0]
    np.testing.assert_allclose(out[SKELETON.index("left_hand")], [5.0, 0.0])
    np.testing.assert_allclose(out[SKELETON.index("left_toe")], [0.0, -7.0])
