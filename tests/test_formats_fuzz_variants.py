"""Mutated files of the variants of issue 17 (posekit CSV, TRC, OpenPose with face and
hands, Halpe-style COCO annotations): a valid PoseSequence or a PoseFileError."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from format_fixtures import openpose_frame, person_2d
from hypothesis import given
from hypothesis import strategies as st
from test_formats_coco_unnamed import halpe_annotations
from test_formats_fuzz import (
    SETTINGS,
    _mutated_csv,
    _mutated_text,
    _read_or_pose_file_error,
    _read_text_or_pose_file_error,
)
from test_io_trc_csv import trc_text

from posekit.core.sequence import PoseSequence
from posekit.io.coco import CocoReader
from posekit.io.csv import CsvReader, CsvWriter
from posekit.io.openpose import OpenPoseReader
from posekit.io.trc import TrcReader

# The readers' notes (dropped face arrays, markers without a joint) are expected here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def posekit_csv() -> str:
    position = np.arange(2 * 2 * 3 * 2, dtype=np.float64).reshape(2, 2, 3, 2)
    position[1, :, 0, 1] = np.nan
    seq = PoseSequence.from_arrays(position, keypoints=["a", "b", "c"], fps=10)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.csv"
        CsvWriter().write(seq, path)
        return path.read_text()


@SETTINGS
@given(data=st.data())
def test_mutated_posekit_csv(data: st.DataObject) -> None:
    _read_text_or_pose_file_error("p.csv", _mutated_csv(data, posekit_csv()), CsvReader().read)


@SETTINGS
@given(data=st.data())
def test_mutated_trc(data: st.DataObject) -> None:
    frames = np.arange(2 * 3 * 3, dtype=np.float64).reshape(2, 3, 3)
    text = trc_text(["RHip", "LHip", "Nose"], frames, units="mm")
    # the CSV mutator on tab-separated cells
    mutated = _mutated_csv(data, text.replace("\t", ",")).replace(",", "\t")
    skeleton = data.draw(st.sampled_from([None, "body_25b"]), label="skeleton")
    _read_text_or_pose_file_error("a.trc", mutated, TrcReader(skeleton=skeleton).read)


@SETTINGS
@given(data=st.data())
def test_mutated_openpose_parts(data: st.DataObject) -> None:
    points = person_2d("body_25", 2)
    frames = [
        {
            "version": 1.3,
            "people": [
                {
                    "person_id": [-1],
                    "pose_keypoints_2d": openpose_frame(points[f]),
                    "face_keypoints_2d": [1.0, 2.0, 0.5] * 70,
                    "hand_left_keypoints_2d": [],
                    "hand_right_keypoints_2d": [3.0, 4.0, 0.5] * 21,
                }
            ],
        }
        for f in range(2)
    ]
    text = _mutated_text(data, frames[0])
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "c_000000000000_keypoints.json").write_text(text)
        (Path(folder) / "c_000000000001_keypoints.json").write_text(json.dumps(frames[1]))
        parts = data.draw(st.sampled_from([("body",), ("body", "hands", "face")]), label="parts")
        _read_or_pose_file_error(lambda: OpenPoseReader(parts=parts).read(Path(folder)))


@SETTINGS
@given(data=st.data())
def test_mutated_halpe_annotations(data: st.DataObject) -> None:
    text = _mutated_text(data, halpe_annotations(26))
    skeleton = data.draw(st.sampled_from([None, "halpe_26"]), label="skeleton")
    _read_text_or_pose_file_error("halpe.json", text, CocoReader(skeleton=skeleton).read)
