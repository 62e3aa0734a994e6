"""Window strategies: every frame is covered, and merged exactly once."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.jumps.windowing import Blend, Closest, pad_to_window
from posekit.plugins.registry import get_registry

WINDOW = 24


@settings(max_examples=100, deadline=None)
@given(
    n_frames=st.integers(1, 100),
    overlap=st.sampled_from([0.0, 0.25, 0.5, 0.75]),
    name=st.sampled_from(["closest", "blend"]),
    seed=st.integers(0, 2**16),
)
def test_every_frame_is_covered_exactly_once(n_frames, overlap, name, seed):
    strategy = get_registry().windowings[name].cls(overlap=overlap)
    padded = max(n_frames, WINDOW)
    starts = strategy.starts(padded, WINDOW)
    assert starts[0] == 0 and starts[-1] + WINDOW == padded
    assert np.all(np.diff(starts) > 0)
    # Candidates carry their own frame index: a correct merge returns 0, 1, 2, ...
    frames = starts[:, None] + np.arange(WINDOW)
    candidates = np.stack([frames, frames], axis=-1).astype(float)
    losses = np.random.default_rng(seed).uniform(size=frames.shape)
    merged = strategy.merge(candidates, losses, starts, padded)[:n_frames]
    np.testing.assert_allclose(merged[:, 0], np.arange(n_frames))


def test_closest_takes_the_lowest_loss_per_frame():
    strategy = Closest(overlap=0.5)
    starts = strategy.starts(36, WINDOW)  # windows at 0 and 12
    candidates = np.stack([np.zeros(WINDOW), np.ones(WINDOW)])
    losses = np.stack([np.linspace(0, 1, WINDOW), np.linspace(1, 0, WINDOW)])
    merged = Closest().merge(candidates, losses, starts, 36)
    overlap_frames = np.arange(12, 24)
    expected = np.where(losses[0, overlap_frames] <= losses[1, overlap_frames - 12], 0.0, 1.0)
    np.testing.assert_array_equal(merged[overlap_frames], expected)
    assert (merged[:12] == 0).all() and (merged[24:] == 1).all()


def test_blend_is_continuous_across_the_overlap():
    strategy = Blend(overlap=0.5)
    starts = strategy.starts(36, WINDOW)
    candidates = np.stack([np.zeros(WINDOW), np.ones(WINDOW)])
    merged = strategy.merge(candidates, np.zeros((2, WINDOW)), starts, 36)
    assert np.all(np.diff(merged) >= 0) and np.max(np.diff(merged)) < 0.2


def test_pad_and_bad_overlap():
    assert pad_to_window(np.zeros((3, 2)), 5).shape == (5, 2)
    assert pad_to_window(np.zeros((7, 2)), 5).shape == (7, 2)
    with pytest.raises(ValueError, match="overlap"):
        Closest(overlap=1.0)
    with pytest.raises(ValueError, match="shorter"):
        Closest().starts(3, WINDOW)
