"""PoseSequence: construction, selection, remapping and exact netCDF round trips."""

import json

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from posekit.core.errors import PoseFileError, PoseSequenceError
from posekit.core.sequence import PoseSequence
from posekit.plugins.registry import get_skeleton


def test_from_arrays_defaults():
    position = np.ones((4, 2, 17, 1))
    position[1, :, 3, 0] = np.nan
    seq = PoseSequence.from_arrays(position, skeleton="coco_17", fps=25)
    assert seq.keypoints == list(get_skeleton("coco_17").joint_names)
    assert seq.individuals == ["id_0"]
    np.testing.assert_allclose(seq.dataset["time"].values, np.arange(4) / 25)
    assert np.isnan(seq.confidences()[0, 1, 3]) and seq.confidences()[0, 0, 3] == 1
    assert not seq.imputed_flags().any()
    assert seq.observed().sum() == 4 * 17 - 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"position": np.zeros((4, 4, 17, 1)), "skeleton": "coco_17"}, "space 2 or 3"),
        ({"position": np.zeros((4, 2, 17)), "skeleton": "coco_17"}, "shape"),
        ({"position": np.zeros((4, 2, 16, 1)), "skeleton": "coco_17"}, "16 keypoints"),
        ({"position": np.zeros((4, 2, 17, 1))}, "keypoints names or a skeleton"),
        ({"position": np.zeros((4, 2, 2, 1)), "keypoints": ["a", "a"]}, "unique"),
        (
            {"position": np.zeros((4, 2, 17, 2)), "skeleton": "coco_17", "individuals": ["a"]},
            "1 individual ids",
        ),
    ],
)
def test_from_arrays_validation(kwargs, match):
    with pytest.raises(PoseSequenceError, match=match):
        PoseSequence.from_arrays(**kwargs)


def test_unknown_skeleton_suggests_a_name():
    with pytest.raises(KeyError, match="did you mean 'coco_17'"):
        PoseSequence.from_arrays(np.zeros((1, 2, 17, 1)), skeleton="coco17")


def test_select_by_names():
    seq = PoseSequence.from_arrays(np.random.rand(6, 2, 17, 2), skeleton="coco_17")
    part = seq.select(keypoints=["left_knee"], individuals=["id_1"], frames=slice(1, 3))
    np.testing.assert_array_equal(
        part.positions()[0, :, 0], seq.positions()[1, 1:3, seq.keypoints.index("left_knee")]
    )
    with pytest.raises(PoseSequenceError, match="no keypoints"):
        seq.select(keypoints=["tail"])


def test_remap_coco_to_28_and_combined_joint_confidence():
    rng = np.random.default_rng(0)
    position = rng.normal(size=(5, 2, 18, 1))
    confidence = rng.uniform(size=(5, 18, 1))
    seq = PoseSequence.from_arrays(position, confidence, skeleton="coco_18")
    out = seq.remap("mpi_inf_3dhp_28")
    coco18 = get_skeleton("coco_18")
    target = get_skeleton("mpi_inf_3dhp_28")
    # Shared joints carry over unchanged.
    for name in ("left_knee", "right_wrist"):
        np.testing.assert_array_equal(
            out.positions()[..., target.index(name), :], seq.positions()[..., coco18.index(name), :]
        )
    # Joints without a source are missing.
    assert np.isnan(out.positions()[..., target.index("left_toe"), :]).all()
    assert np.isnan(out.confidences()[..., target.index("left_toe")]).all()
    assert out.log == seq.log  # the remap stage's entry is written by apply_stage


def test_remap_midpoint_confidence_is_minimum():
    cmu = get_skeleton("cmu_31")
    rng = np.random.default_rng(1)
    seq = PoseSequence.from_arrays(
        rng.normal(size=(3, 3, 31, 1)), rng.uniform(size=(3, 31, 1)), skeleton="cmu_31"
    )
    out = seq.remap("mpi_inf_3dhp_28")
    target = get_skeleton("mpi_inf_3dhp_28")
    head = target.index("head")
    a, b = cmu.index("upperneck"), cmu.index("head")
    np.testing.assert_allclose(
        out.positions()[..., head, :], (seq.positions()[..., a, :] + seq.positions()[..., b, :]) / 2
    )
    np.testing.assert_array_equal(
        out.confidences()[..., head], np.minimum(seq.confidences()[..., a], seq.confidences()[..., b])
    )


def test_remap_combined_joint_is_imputed_if_any_source_is():
    cmu, target = get_skeleton("cmu_31"), get_skeleton("mpi_inf_3dhp_28")
    a, b = cmu.index("upperneck"), cmu.index("head")
    imputed = np.zeros((4, 31, 1), dtype=bool)
    imputed[0, a] = True  # one source filled in frame 0
    imputed[1, [a, b]] = True  # both in frame 1
    imputed[3, cmu.index("lfemur")] = True  # an unrelated joint in frame 3
    seq = PoseSequence.from_arrays(np.ones((4, 3, 31, 1)), skeleton="cmu_31", imputed=imputed)
    out = seq.remap("mpi_inf_3dhp_28").imputed_flags()[0]  # (time, keypoint)
    assert out[:, target.index("head")].tolist() == [True, True, False, False]
    # One-source joints carry their source's flag.
    assert out[:, target.index("neck")].tolist() == [True, True, False, False]
    assert out[:, target.index("head_top")].tolist() == [False, True, False, False]
    assert out[:, target.index("left_knee")].tolist() == [False, False, False, True]
    assert int(out.sum()) == 2 + 2 + 1 + 1


def test_remap_through_the_hub_and_back():
    seq = PoseSequence.from_arrays(np.random.rand(2, 2, 26, 1), skeleton="halpe_26")
    out = seq.remap("body_25")
    assert out.skeleton == "body_25" and out.n_keypoints == 25
    back = seq.remap("mpi_inf_3dhp_28").remap("coco_17")
    np.testing.assert_array_equal(back.positions()[..., 5:, :], seq.positions()[..., 5:17, :])


def test_remap_needs_a_skeleton():
    seq = PoseSequence.from_arrays(np.zeros((2, 2, 2, 1)), keypoints=["a", "b"])
    with pytest.raises(PoseSequenceError, match="skeleton"):
        seq.remap("mpi_inf_3dhp_28")


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)


@st.composite
def sequences(draw):
    n_time = draw(st.integers(1, 6))
    n_space = draw(st.sampled_from([2, 3]))
    keypoints = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    n_ind = draw(st.integers(1, 3))
    floats = st.floats(allow_nan=True, allow_infinity=False, width=64)
    position = draw(arrays(np.float64, (n_time, n_space, len(keypoints), n_ind), elements=floats))
    confidence = draw(arrays(np.float64, (n_time, len(keypoints), n_ind), elements=floats))
    imputed = draw(arrays(bool, (n_time, len(keypoints), n_ind)))
    fps = draw(st.none() | st.floats(1, 240))
    seq = PoseSequence.from_arrays(
        position, confidence, keypoints=keypoints, imputed=imputed, fps=fps,
        individuals=[f"person {i}" for i in range(n_ind)],
    )
    extra = draw(st.dictionaries(names, st.integers(-5, 5) | names, max_size=3))
    extra = {f"user_{k}": v for k, v in extra.items()}
    return seq.with_attrs(**extra).with_log("test", {"x": draw(st.integers())})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=sequences())
def test_netcdf_round_trip_is_identical(tmp_path, seq):
    path = seq.to_netcdf(tmp_path / "seq.nc")
    back = PoseSequence.read_netcdf(path)
    xr.testing.assert_identical(back.dataset, seq.dataset)
    assert back == seq
    assert not list(tmp_path.glob("*.tmp"))


def test_reading_a_movement_style_file_fills_posekit_fields(tmp_path):
    ds = xr.Dataset(
        {
            "position": (("time", "space", "keypoint", "individual"), np.zeros((3, 2, 2, 1))),
            "confidence": (("time", "keypoint", "individual"), np.ones((3, 2, 1))),
        },
        coords={"time": [0, 1, 2], "space": ["x", "y"], "keypoint": ["a", "b"], "individual": ["i"]},
        attrs={"source_software": "DeepLabCut", "ds_type": "poses", "fps": 30.0},
    )
    ds.to_netcdf(tmp_path / "m.nc")
    seq = PoseSequence.read_netcdf(tmp_path / "m.nc")
    assert not seq.imputed_flags().any() and seq.log == [] and seq.skeleton is None


def test_reading_a_broken_file_names_it(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    with pytest.raises(PoseFileError, match="bad.nc"):
        PoseSequence.read_netcdf(bad)
    other = tmp_path / "other.nc"
    xr.Dataset({"foo": ("x", [1, 2])}).to_netcdf(other)
    with pytest.raises(PoseFileError, match="position"):
        PoseSequence.read_netcdf(other)


def test_log_is_json_and_appends():
    seq = PoseSequence.from_arrays(np.zeros((1, 2, 17, 1)), skeleton="coco_17")
    seq = seq.with_log("a", {"p": 1}).with_log("b", {})
    assert [e["stage"] for e in seq.log] == ["a", "b"]
    assert json.loads(seq.dataset.attrs["log"])[0]["parameters"] == {"p": 1}


def test_errors_survive_pickling():
    """Errors raised in worker processes must reach the parent intact."""
    import pickle

    from posekit.core.errors import InvalidPipelineError, PipelineError, SkeletonFileError

    errors = [
        PoseFileError("a.json", "expected a number", record="[3]", field="keypoints", line=4),
        SkeletonFileError("s.toml", "cycle", entry="knee"),
        InvalidPipelineError([PipelineError("p.yaml", "unknown stage", step="steps[1]", key="x")]),
    ]
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error) and str(back) == str(error)
    assert pickle.loads(pickle.dumps(errors[0])).field == "keypoints"


def test_files_use_movement_dim_names_and_default_permissions(tmp_path):
    import os
    import stat

    seq = PoseSequence.from_arrays(np.zeros((2, 2, 17, 1)), skeleton="coco_17")
    path = seq.to_netcdf(tmp_path / "a.nc")
    with xr.open_dataset(path) as raw:  # movement >= 0.17
        assert {"keypoint", "individual"} <= set(raw.dims)
    legacy = seq.to_netcdf(tmp_path / "legacy.nc", legacy_dims=True)
    with xr.open_dataset(legacy) as raw:  # movement <= 0.16
        assert {"keypoints", "individuals"} <= set(raw.dims)
    assert PoseSequence.read_netcdf(legacy) == PoseSequence.read_netcdf(path) == seq
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
