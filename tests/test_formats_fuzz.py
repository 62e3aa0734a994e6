"""Mutated estimator files: a reader gives a valid PoseSequence or a PoseFileError.

Hypothesis starts from a valid file of each format and mutates it at random: deletes
keys and list items, puts values of other types (strings, nulls, booleans, nested
lists, huge and non-finite numbers) anywhere, changes list lengths, duplicates
records and truncates the text. Nothing else (KeyError, ValueError, MemoryError...)
may escape a reader.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pose_files import (
    DLC_LABELLED,
    DLC_MULTI,
    DLC_SINGLE,
    alphapose_records,
    coco_annotations,
    coco_results,
    keypoint_values,
    mmpose_instance,
    mmpose_video,
    openpose_frame,
)

from posekit.core.errors import PoseFileError
from posekit.core.sequence import PoseSequence
from posekit.io.alphapose import AlphaPoseReader
from posekit.io.coco import CocoReader
from posekit.io.dlc import DeepLabCutReader
from posekit.io.mmpose import MMPoseReader
from posekit.io.openpose import OpenPoseReader

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0, -1, 10**6, 10**15, 10**400, 1e308, float("nan"), float("inf")]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["12.jpg", "cat.png", "", "1e3", "NaN"]),
    st.lists(st.integers(-3, 3), max_size=3),
    st.builds(lambda: [[1.0]]),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

JSON_FORMATS: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "alphapose": (lambda: alphapose_records(26, tracked=True), AlphaPoseReader),
    "alphapose-untracked": (lambda: alphapose_records(17), AlphaPoseReader),
    "alphapose-open": (
        lambda: {
            f"{f}.jpg": {
                "version": "AlphaPose v0.3",
                "people": [{"pose_keypoints_2d": keypoint_values(18, 3.0 + f)}],
            }
            for f in (0, 2)
        },
        AlphaPoseReader,
    ),
    "mmpose-video": (mmpose_video, MMPoseReader),
    "mmpose-demo": (
        lambda: {
            "meta_info": {"dataset_name": "coco"},
            "instance_info": [{"frame_id": 1, "instances": [mmpose_instance(2.0)]}],
        },
        MMPoseReader,
    ),
    "coco-annotations": (coco_annotations, CocoReader),
    "coco-results": (coco_results, CocoReader),
}


def _paths(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths (tuples of keys and indices) to every node of a JSON tree."""
    found = [prefix]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: st.DataObject, tree: Any) -> Any:
    """Apply one random mutation to a JSON tree (in place when possible)."""
    path = data.draw(st.sampled_from(_paths(tree)), label="path")
    if not path:
        return data.draw(ODD_VALUES, label="new root")
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    key, node = path[-1], parent[path[-1]]
    operation = data.draw(st.sampled_from(["delete", "replace", "resize", "duplicate"]), label="op")
    if operation == "delete":
        del parent[key]
    elif operation == "replace":
        parent[key] = data.draw(ODD_VALUES, label="value")
    elif operation == "resize" and isinstance(node, list):
        size = data.draw(st.integers(0, len(node) + 3), label="size")
        parent[key] = (node * 2 + [1.0, 2.0, 3.0])[:size]
    elif operation == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(node))
    return tree


def _mutated_text(data: st.DataObject, tree: Any) -> str:
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        tree = _mutate(data, tree)
    text = json.dumps(tree)
    if data.draw(st.booleans(), label="truncate"):
        text = text[: data.draw(st.integers(0, len(text)), label="cut")]
    return text


def _read_or_pose_file_error(read: Callable[[], PoseSequence]) -> None:
    try:
        result = read()
    except PoseFileError:
        return
    assert isinstance(result, PoseSequence)


def _read_text_or_pose_file_error(
    name: str, text: str, read: Callable[[Path], PoseSequence]
) -> None:
    """Write ``text`` to a file called ``name`` and read it with ``read``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text)
        _read_or_pose_file_error(lambda: read(path))


@pytest.mark.parametrize("name", sorted(JSON_FORMATS))
@SETTINGS
@given(data=st.data())
def test_mutated_json_files(name: str, data: st.DataObject) -> None:
    build, reader = JSON_FORMATS[name]
    _read_text_or_pose_file_error("results.json", _mutated_text(data, build()), reader().read)


@SETTINGS
@given(data=st.data())
def test_mutated_openpose_folders(data: st.DataObject) -> None:
    frames = {
        0: openpose_frame([(100.0, -1), (300.0, -1)]),
        1: openpose_frame([(101.0, 2), (301.0, 5)]),
        3: openpose_frame([], 18),
    }
    frame = data.draw(st.sampled_from(sorted(frames)), label="frame")
    text = _mutated_text(data, frames[frame])
    names = {f: f"clip_{f:012d}_keypoints.json" for f in frames}
    names[frame] = data.draw(
        st.sampled_from(
            [
                names[frame],
                "clip_keypoints.json",
                "clip_000000000001_keypoints.json",
                f"x{frame}.json",
            ]
        ),
        label="file name",
    )
    with tempfile.TemporaryDirectory() as folder:
        for f, content in frames.items():
            (Path(folder) / names[f]).write_text(text if f == frame else json.dumps(content))
        _read_or_pose_file_error(lambda: OpenPoseReader().read(Path(folder)))


def _mutated_csv(data: st.DataObject, text: str) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not lines:
            break
        row = data.draw(st.integers(0, len(lines) - 1), label="line")
        cells = lines[row].split(",")
        operation = data.draw(
            st.sampled_from(
                ["drop line", "duplicate line", "drop cell", "replace cell", "add cell"]
            ),
            label="op",
        )
        if operation == "drop line":
            del lines[row]
        elif operation == "duplicate line":
            lines.insert(row, lines[row])
        else:
            column = data.draw(st.integers(0, len(cells) - 1), label="column")
            value = data.draw(
                st.one_of(
                    st.text(max_size=6),
                    st.sampled_from(["", "nan", "1e400", '"', "x", "scorer", "-5"]),
                ),
                label="value",
            )
            if operation == "drop cell":
                del cells[column]
            elif operation == "replace cell":
                cells[column] = value
            else:
                cells.insert(column, value)
            lines[row] = ",".join(cells)
    out = "\n".join(lines)
    if data.draw(st.booleans(), label="truncate"):
        out = out[: data.draw(st.integers(0, len(out)), label="cut")]
    return out


@pytest.mark.parametrize(
    "base", [DLC_SINGLE, DLC_MULTI, DLC_LABELLED], ids=["single", "multi", "labelled"]
)
@SETTINGS
@given(data=st.data())
def test_mutated_deeplabcut_csv(base: str, data: st.DataObject) -> None:
    _read_text_or_pose_file_error(
        "videoDLC.csv", _mutated_csv(data, base), DeepLabCutReader().read
    )


@pytest.mark.parametrize("name", sorted(JSON_FORMATS))
def test_unmutated_files_read(name: str, tmp_path: Path) -> None:
    build, reader = JSON_FORMATS[name]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(build()))
    assert isinstance(reader().read(path), PoseSequence)
