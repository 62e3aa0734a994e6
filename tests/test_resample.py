"""Resampling in time by linear interpolation."""

import numpy as np
import pytest

from posekit.core.sequence import PoseSequence
from training.resample import resample_array, resample_sequence, resampled_length


@pytest.mark.parametrize(("n", "fps_in", "fps_out", "expected"),
                         [(1200, 120, 30, 300), (1201, 120, 30, 301), (5, 120, 30, 2),
                          (1, 120, 30, 1), (0, 120, 30, 0), (10, 30, 60, 19), (7, 50, 30, 4)])
def test_length(n, fps_in, fps_out, expected):
    assert resampled_length(n, fps_in, fps_out) == expected


def test_integer_ratio_takes_every_kth_frame():
    values = np.random.default_rng(0).normal(size=(401, 28, 3))
    np.testing.assert_array_equal(resample_array(values, 120, 30), values[::4])


def test_linear_motion_is_reproduced_at_any_rate():
    t_in = np.arange(100) / 50.0
    values = np.stack([3 * t_in - 1, -2 * t_in], axis=-1)
    out = resample_array(values, 50, 30)
    t_out = np.arange(len(out)) / 30.0
    np.testing.assert_allclose(out, np.stack([3 * t_out - 1, -2 * t_out], axis=-1), atol=1e-12)
    assert t_out[-1] <= t_in[-1]


def test_axis_and_nan_neighbours():
    values = np.arange(12.0).reshape(2, 6)
    values[0, 2] = np.nan
    out = resample_array(values, 60, 40, axis=1)  # samples at 0, 1.5, 3, 4.5
    np.testing.assert_allclose(out[1], [6.0, 7.5, 9.0, 10.5])
    assert np.isnan(out[0, 1])  # a neighbour is missing
    np.testing.assert_allclose(out[0, [0, 2, 3]], [0.0, 3.0, 4.5])


def test_sequence_keeps_layout_and_attrs():
    rng = np.random.default_rng(1)
    seq = PoseSequence.from_arrays(rng.normal(size=(121, 3, 31, 1)), skeleton="cmu_31", fps=120,
                                   source_file="a.amc")
    out = resample_sequence(seq, 30)
    assert out.n_frames == 31 and out.fps == 30.0 and out.skeleton == "cmu_31"
    assert out.dataset.attrs["source_file"] == "a.amc"
    np.testing.assert_allclose(out.dataset["time"].values, np.arange(31) / 30)
    np.testing.assert_array_equal(out.positions(), seq.positions()[:, ::4])
    assert out.log[-1]["stage"] == "resample"


def test_sequence_without_fps_is_refused():
    seq = PoseSequence.from_arrays(np.zeros((4, 2, 17, 1)), skeleton="coco_17")
    with pytest.raises(ValueError, match="frame rate"):
        resample_sequence(seq, 30)
