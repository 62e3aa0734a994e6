"""The value rules of the readers (posekit.io._values): values no position can have are
made missing with a warning, or the file is refused with a PoseFileError naming the
file and the field; never a bare library error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from pose_files import DLC_SINGLE, alphapose_records, write_json
from synthetic_mocap import amc_text, asf_text

from posekit.core.errors import InvalidPipelineError, PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io._values import ValueRepairWarning
from posekit.io.alphapose import AlphaPoseReader
from posekit.io.asf_amc import AsfAmcReader, read_amc
from posekit.io.bvh import BvhReader
from posekit.io.dlc import DeepLabCutReader
from posekit.io.netcdf import NetcdfReader
from posekit.pipeline.run import Pipeline


# -- coordinates and confidences (JSON readers share the rules through assemble) --------
@pytest.mark.parametrize("bad", ["Infinity", "-Infinity", "1e309", "1e308", "-2e9"])
def test_infinite_or_huge_coordinates_become_missing_with_a_warning(tmp_path, bad):
    records = alphapose_records(17)
    text = json.dumps(records).replace(json.dumps(records[0]["keypoints"][0]), bad, 1)
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.warns(ValueRepairWarning, match=r"a\.json: 1 keypoint with an infinite or huge"):
        seq = AlphaPoseReader().read(path)
    assert np.isfinite(seq.positions()).all(axis=-1).sum() == 17 * 5 - 1


def test_nan_coordinates_are_missing_without_fuss(tmp_path):
    records = alphapose_records(17)
    text = json.dumps(records).replace(json.dumps(records[0]["keypoints"][1]), "NaN", 1)
    (tmp_path / "a.json").write_text(text)
    seq = AlphaPoseReader().read(tmp_path / "a.json")
    assert (~seq.observed()).sum() > 0


def test_negative_confidences_become_unknown_with_a_warning(tmp_path):
    records = alphapose_records(17)
    records[0]["keypoints"][2] = -0.5
    write_json(tmp_path / "a.json", records)
    with pytest.warns(ValueRepairWarning, match="1 negative or infinite confidence set unknown"):
        seq = AlphaPoseReader().read(tmp_path / "a.json")
    confidence = seq.confidences()
    assert np.isnan(confidence).sum() > 0 and not (confidence < 0).any()


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf")])
def test_reader_fps_must_be_positive_and_finite(tmp_path, fps):
    write_json(tmp_path / "a.json", alphapose_records(17))
    with pytest.raises(PoseFileError, match="a.json, field fps: expected a positive finite"):
        AlphaPoseReader(fps=fps).read(tmp_path / "a.json")
    pipeline = {"input": {"path": str(tmp_path / "a.json"), "fps": fps}}
    with pytest.raises(InvalidPipelineError) as excinfo:
        Pipeline.from_dict(pipeline)
    assert [(e.step, e.key) for e in excinfo.value.errors] == [("input", "fps")]


# -- netCDF ------------------------------------------------------------------------------
def netcdf(path: Path, change=None, attrs: dict | None = None, individuals=("a", "b")) -> Path:
    """A valid posekit netCDF file, its dataset changed by ``change`` before writing."""
    seq = PoseSequence.from_arrays(
        np.ones((4, 2, 17, len(individuals))), skeleton="coco_17", fps=25,
        individuals=list(individuals),
    )
    dataset = seq.dataset.copy()  # the names on disk are the in-memory ones
    dataset.attrs.update(attrs or {})
    if change is not None:
        dataset = change(dataset)
    dataset.to_netcdf(path, engine="netcdf4")
    return path


@pytest.mark.parametrize(
    ("attrs", "field"),
    [
        ({"fps": -1.0}, "fps"),
        ({"fps": 0.0}, "fps"),
        ({"fps": float("nan")}, "fps"),
        ({"fps": float("inf")}, "fps"),
        ({"fps": "fast"}, "fps"),
        ({"ds_type": "bboxes"}, "ds_type"),
        ({"log": "not json"}, "log"),
        ({"log": '{"a": 1}'}, "log"),
    ],
)
def test_netcdf_attributes_are_checked(tmp_path, attrs, field):
    path = netcdf(tmp_path / "a.nc", attrs=attrs)
    with pytest.raises(PoseFileError, match=rf"a\.nc, field {field}: ") as excinfo:
        NetcdfReader().read(path)
    assert excinfo.value.path == str(path)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d.assign_coords(time=d["time"].values[::-1]), "time"),
        (lambda d: d.assign_coords(time=[0.0, np.nan, 2.0, 3.0]), "time"),
        (lambda d: d.isel(keypoint=slice(0, 0)).drop_attrs(), "keypoints"),
    ],
    ids=["reversed time", "nan time", "no keypoints"],
)
def test_netcdf_axes_are_checked(tmp_path, change, field):
    path = netcdf(tmp_path / "a.nc", change)
    with pytest.raises(PoseFileError, match=rf"field {field}: "):
        NetcdfReader().read(path)


def test_netcdf_duplicate_individuals_are_refused(tmp_path):
    path = netcdf(tmp_path / "a.nc", individuals=("a", "a"))
    with pytest.raises(PoseFileError, match=r"field individuals: individual ids repeat: \['a'\]"):
        NetcdfReader().read(path)


def test_netcdf_unknown_skeleton_is_kept_with_a_warning(tmp_path):
    path = netcdf(tmp_path / "a.nc", attrs={"skeleton": "made_up_99"})
    with pytest.warns(ValueRepairWarning, match="skeleton 'made_up_99' is not registered"):
        assert NetcdfReader().read(path).skeleton == "made_up_99"


def test_netcdf_infinite_positions_become_missing(tmp_path):
    def poison(dataset):
        dataset["position"][0, 0, 0, 0] = np.inf
        return dataset

    path = netcdf(tmp_path / "a.nc", poison)
    with pytest.warns(ValueRepairWarning, match="1 keypoint"):
        seq = NetcdfReader().read(path)
    assert int((~seq.observed()).sum()) == 1


def test_a_corrupt_netcdf_file_is_a_pose_file_error_naming_it(tmp_path):
    data = netcdf(tmp_path / "good.nc").read_bytes()
    path = tmp_path / "bad.nc"
    outcomes = set()
    for cut in range(0, len(data), 256):  # overwrite 64 bytes at each place in turn
        path.write_bytes(data[:cut] + b"\xff" * 64 + data[cut + 64 :])
        try:
            NetcdfReader().read(path)
        except PoseFileError as err:
            assert err.path == str(path)
            outcomes.add("refused")
        else:
            outcomes.add("read")
    assert outcomes == {"read", "refused"}  # metadata damage refused, data damage read


# -- DeepLabCut ----------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["-1", "1.5", "1e3", "nan"])
def test_dlc_numeric_row_labels_must_be_frame_indices(tmp_path, label):
    text = DLC_SINGLE.replace("\n1,", f"\n{label},")
    (tmp_path / "a.csv").write_text(text)
    with pytest.raises(PoseFileError, match="no frame number in the row label"):
        DeepLabCutReader().read(tmp_path / "a.csv")


def test_dlc_image_path_labels_still_give_frames(tmp_path):
    text = DLC_SINGLE.replace("\n1,", "\nlabeled-data/v/img0001.png,")
    (tmp_path / "a.csv").write_text(text)
    assert DeepLabCutReader().read(tmp_path / "a.csv").n_frames == 4


def test_dlc_a_body_part_without_its_x_column_is_refused(tmp_path):
    lines = DLC_SINGLE.splitlines()
    dropped = [",".join(cells[:4] + cells[5:]) for cells in (line.split(",") for line in lines)]
    (tmp_path / "a.csv").write_text("\n".join(dropped) + "\n")
    with pytest.raises(PoseFileError, match="field id_0 tailbase: no x column"):
        DeepLabCutReader().read(tmp_path / "a.csv")


# -- mocap ---------------------------------------------------------------------------------
def mocap(tmp_path: Path, frames: int = 3) -> Path:
    (tmp_path / "07.asf").write_text(asf_text())
    (tmp_path / "07_01.amc").write_text(amc_text(frames, seed=0))
    return tmp_path / "07_01.amc"


@pytest.mark.parametrize("numbers", [("1", "7", "8"), ("1", "2", "99999999999"), ("3", "2", "1")])
def test_amc_frame_numbers_count_up_by_one(tmp_path, numbers):
    path = mocap(tmp_path)
    lines = path.read_text().splitlines()
    frame_lines = [i for i, line in enumerate(lines) if line.strip().isdecimal()]
    for index, number in zip(frame_lines, numbers, strict=True):
        lines[index] = number
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PoseFileError, match="count up by one"):
        read_amc(path)


def test_amc_frames_may_start_anywhere(tmp_path):
    path = mocap(tmp_path)
    lines = path.read_text().splitlines()
    frame_lines = [i for i, line in enumerate(lines) if line.strip().isdecimal()]
    for offset, index in enumerate(frame_lines):
        lines[index] = str(100 + offset)
    path.write_text("\n".join(lines) + "\n")
    assert read_amc(path).positions.shape[0] == 3


def deep_bvh(depth: int) -> str:
    lines = ["HIERARCHY", "ROOT j0", "{", "OFFSET 0 0 0"]
    lines += ["CHANNELS 3 Xposition Yposition Zposition"]
    for k in range(1, depth):
        lines += [f"JOINT j{k}", "{", "OFFSET 0 1 0", "CHANNELS 0"]
    lines += ["}"] * depth
    lines += ["MOTION", "Frames: 1", "Frame Time: 0.01", "0 0 0"]
    return "\n".join(lines) + "\n"


def test_a_deep_bvh_chain_is_refused_not_a_recursion_error(tmp_path):
    (tmp_path / "a.bvh").write_text(deep_bvh(3000))
    with pytest.raises(PoseFileError, match="nested more than 256 deep"):
        BvhReader().read(tmp_path / "a.bvh")
    (tmp_path / "b.bvh").write_text(deep_bvh(50))
    assert BvhReader().read(tmp_path / "b.bvh").n_keypoints == 50


def unreadable(tmp_path: Path, kind: str, suffix: str) -> Path:
    path = tmp_path / f"07_01{suffix}"
    if kind == "folder":
        path.mkdir()
    elif kind == "loop":
        os.symlink(path, path)
    elif kind == "no permission":
        path.write_text("x")
        path.chmod(0)
    return path


@pytest.mark.parametrize("kind", ["folder", "loop", "missing", "no permission"])
@pytest.mark.parametrize("reader", [BvhReader, AsfAmcReader], ids=["bvh", "asf_amc"])
def test_mocap_readers_raise_pose_file_errors_for_unreadable_files(tmp_path, kind, reader):
    if kind == "no permission" and os.geteuid() == 0:
        pytest.skip("root reads any file")
    suffix = ".bvh" if reader is BvhReader else ".amc"
    if reader is AsfAmcReader:
        (tmp_path / "07.asf").write_text(asf_text())
    path = unreadable(tmp_path, kind, suffix)
    with pytest.raises(PoseFileError) as excinfo:
        reader().read(path)
    assert str(path) in str(excinfo.value)


def test_asf_amc_without_its_skeleton_is_a_pose_file_error(tmp_path):
    (tmp_path / "07_01.amc").write_text(amc_text(2, seed=0))
    with pytest.raises(PoseFileError, match="07.asf"):
        AsfAmcReader().read(tmp_path / "07_01.amc")
