"""BVH of issue 17: the root OFFSET, and units guessed from the skeleton's size."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.io.bvh import UNITS, BvhReader, guess_unit, read_bvh

#: A standing person's rest pose in metres: (joint, parent, offset from the parent).
_BONES = [
    ("Hips", None, (0.0, 0.95, 0.0)),
    ("LeftUpLeg", "Hips", (0.1, -0.05, 0.0)),
    ("LeftLeg", "LeftUpLeg", (0.0, -0.42, 0.0)),
    ("LeftFoot", "LeftLeg", (0.0, -0.42, 0.0)),
    ("LeftFoot_end", "LeftFoot", (0.0, -0.06, 0.12)),
    ("Spine", "Hips", (0.0, 0.25, 0.0)),
    ("Neck", "Spine", (0.0, 0.3, 0.0)),
    ("Head", "Neck", (0.0, 0.12, 0.0)),
    ("Head_end", "Head", (0.0, 0.13, 0.0)),
]


def person_bvh(unit: float, root_height: float = 0.95, n_frames: int = 3) -> str:
    """A BVH text of the rest-pose person, ``unit`` metres per file unit; the root's
    OFFSET and its Yposition channel both hold the hip height."""
    lines = ["HIERARCHY"]

    def write(name: str, depth: int) -> None:
        _, parent, offset = next(b for b in _BONES if b[0] == name)
        pad = "  " * depth
        children = [b[0] for b in _BONES if b[1] == name]
        values = " ".join(f"{v / unit:.6f}" for v in offset)
        if name.endswith("_end"):
            lines.extend([f"{pad}End Site", f"{pad}{{", f"{pad}  OFFSET {values}", f"{pad}}}"])
            return
        kind = "ROOT" if parent is None else "JOINT"
        lines.extend([f"{pad}{kind} {name}", f"{pad}{{", f"{pad}  OFFSET {values}"])
        if parent is None:
            lines.append(
                f"{pad}  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation"
            )
        else:
            lines.append(f"{pad}  CHANNELS 3 Zrotation Xrotation Yrotation")
        for child in children:
            write(child, depth + 1)
        lines.append(f"{pad}}}")

    write("Hips", 0)
    n_channels = 6 + 3 * sum(1 for b in _BONES if b[1] is not None and not b[0].endswith("_end"))
    row = [0.0, root_height / unit, 0.0] + [0.0] * (n_channels - 3)
    lines += ["MOTION", f"Frames: {n_frames}", "Frame Time: 0.04"]
    lines += [" ".join(f"{v:.6f}" for v in row)] * n_frames
    return "\n".join(lines) + "\n"


def lowest_point(path: Path, **parameters: float) -> float:
    seq = BvhReader(**parameters).read(path)
    return float(np.nanmin(seq.positions()[0, :, :, 1]))


def test_root_offset_is_not_added_to_the_root_position(tmp_path: Path) -> None:
    path = tmp_path / "person.bvh"
    path.write_text(person_bvh(0.01))
    motion = read_bvh(path, scale=0.01)
    assert motion.positions[0, 0, 1] == pytest.approx(0.95)  # not 1.9
    # the feet stand on the floor (the toe end is 0.01 m above the ankle's drop)
    assert lowest_point(path, scale=0.01) == pytest.approx(0.0, abs=1e-6)


def test_a_root_without_position_channels_keeps_its_offset(tmp_path: Path) -> None:
    text = (
        "HIERARCHY\nROOT Hips\n{\n OFFSET 0 90 0\n CHANNELS 3 Zrotation Xrotation Yrotation\n"
        " End Site\n {\n  OFFSET 0 -90 0\n }\n}\nMOTION\nFrames: 1\nFrame Time: 0.04\n0 0 0\n"
    )
    path = tmp_path / "a.bvh"
    path.write_text(text)
    assert read_bvh(path, scale=0.01).positions[0, :, 1].tolist() == pytest.approx([0.9, 0.0])


@pytest.mark.parametrize("unit_name", ["centimetres", "inches", "millimetres", "metres"])
def test_unit_guessed_from_the_skeleton_with_a_warning(tmp_path: Path, unit_name: str) -> None:
    path = tmp_path / "person.bvh"
    path.write_text(person_bvh(UNITS[unit_name]))
    with pytest.warns(UserWarning, match=f"read as {unit_name}"):
        seq = BvhReader().read(path)
    assert seq.log[-1]["parameters"]["scale"] == UNITS[unit_name]
    head_top = seq.positions()[0, 0, seq.keypoints.index("Head_end"), 1]
    assert head_top == pytest.approx(1.75, abs=1e-4)


def test_scale_overrides_the_guess(tmp_path: Path) -> None:
    path = tmp_path / "person.bvh"
    path.write_text(person_bvh(0.0254))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seq = BvhReader(scale=0.01).read(path)
    assert seq.log == []
    assert seq.positions()[0, 0, seq.keypoints.index("Head_end"), 1] == pytest.approx(
        1.75 / 2.54, abs=1e-4
    )


def test_an_implausible_size_is_said(tmp_path: Path) -> None:
    path = tmp_path / "tiny.bvh"
    path.write_text(person_bvh(0.17))  # 10 units tall: 10 m, 0.26 m in inches, ...
    with pytest.warns(UserWarning, match="no unit gives a person's size"):
        BvhReader().read(path)


@settings(max_examples=60, deadline=None)
@given(height=st.floats(1.1, 2.6), unit=st.sampled_from(sorted(UNITS)))
def test_guess_unit_finds_the_unit_of_any_person_size(height: float, unit: str) -> None:
    name, scale = guess_unit(height / UNITS[unit])
    assert name == unit and math.isclose(scale, UNITS[unit])
