"""Attaching generated joints to the measured ones (posekit.jumps.attach)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.jumps.attach import attach_to_observed
from posekit.plugins.registry import get_skeleton

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


@settings(max_examples=30, deadline=None)
@given(generated=coordinates, shift=arrays(np.float64, (1, 1, 2), elements=st.floats(-50, 50)),
       observed=masks, smoothing=st.floats(0.5, 5.0))
def test_smoothing_keeps_a_constant_residual(generated, shift, observed, smoothing):
    """A residual constant over time survives the temporal smoothing unchanged."""
    truth = generated + shift
    measured = np.where(observed[..., None], truth, np.nan)
    out = attach_to_observed(generated, measured, observed, HOPS, smoothing)
    seen = observed.any(1)
    np.testing.assert_allclose(out[seen], truth[seen], atol=1e-6)


def test_smoothing_damps_noise_on_the_attached_joints():
    rng = np.random.default_rng(0)
    generated = np.zeros((200, 28, 2))
    observed = np.zeros((200, 28), bool)
    wrist, hand = SKELETON.index("left_wrist"), SKELETON.index("left_hand")
    observed[:, wrist] = True
    measured = np.full((200, 28, 2), np.nan)
    measured[:, wrist] = rng.normal(size=(200, 2))
    raw = attach_to_observed(generated, measured, observed, HOPS)[:, hand]
    smooth = attach_to_observed(generated, measured, observed, HOPS, smoothing=2.0)[:, hand]
    assert np.std(smooth) < 0.5 * np.std(raw)


@settings(max_examples=25, deadline=None)
@given(generated=coordinates, measured=coordinates, observed=masks)
def test_frames_grouped_by_pattern_give_the_frame_by_frame_shift(generated, measured, observed):
    hops = get_skeleton("mpi_inf_3dhp_28").hop_distances()
    expected = generated.copy()
    for t in range(FRAMES):  # the definition, one frame at a time
        seen = np.flatnonzero(observed[t])
        for k in range(hops.shape[0]):
            if seen.size:
                near = seen[hops[k, seen] == hops[k, seen].min()]
                expected[t, k] += (measured[t, near] - generated[t, near]).mean(0)
    np.testing.assert_allclose(
        attach_to_observed(generated, measured, observed, hops), expected, atol=1e-9
    )


@settings(max_examples=25, deadline=None)
@given(
    generated=arrays(np.float64, (23, 28, 2), elements=st.floats(-1e3, 1e3)),
    measured=arrays(np.float64, (23, 28, 2), elements=st.floats(-1e3, 1e3)),
    observed=arrays(np.bool_, (23, 28)),
    smoothing=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
    chunk=st.integers(1, 30),
)
def test_chunks_give_the_whole_sequence_result(generated, measured, observed, smoothing, chunk):
    whole = attach_to_observed(generated, measured, observed, HOPS, smoothing, chunk=10**6)
    chunked = attach_to_observed(generated, measured, observed, HOPS, smoothing, chunk=chunk)
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-9)
