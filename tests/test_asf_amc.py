"""Tests of the Acclaim ASF/AMC reader and its forward kinematics."""

from __future__ import annotations

import gzip
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.core.errors import PoseFileError
from posekit.io.asf_amc import (
    AsfSkeleton,
    MotionCapture,
    find_asf,
    forward_kinematics,
    read_amc,
    read_asf,
)

FIXTURES = Path(__file__).parent / "fixtures" / "mocap"
TINY_ASF = FIXTURES / "tiny.asf"
CMU_SCALE = 0.0254 / 0.45
MOCAP = Path(__file__).parents[2] / "shared" / "mocap"


def amc_text(skeleton: AsfSkeleton, channels: dict[str, np.ndarray], angle=":DEGREES") -> str:
    """An AMC file listing every bone with dofs in ASF order, frames numbered from 1."""
    names = ["root", *(bone.name for bone in skeleton.bones if bone.dof)]
    lines = ["# written by posekit's tests", ":FULLY-SPECIFIED", angle]
    for frame in range(len(channels["root"])):
        lines.append(str(frame + 1))
        for name in names:
            lines.append(" ".join([name, *(repr(float(v)) for v in channels[name][frame])]))
    return "\n".join(lines) + "\n"


def random_channels(skeleton: AsfSkeleton, rng: np.random.Generator, n_frames: int) -> dict:
    channels = {
        name: rng.uniform(-180.0, 180.0, size=(n_frames, count))
        for name, count in skeleton.channel_counts().items()
    }
    channels["root"][:, :3] = rng.uniform(-20.0, 20.0, size=(n_frames, 3))
    return channels


def bone_vectors(positions: np.ndarray, parents: tuple[int, ...]) -> np.ndarray:
    return positions[..., 1:, :] - positions[..., list(parents[1:]), :]


def fixed_axis_matrix(axes: str, degrees) -> np.ndarray:
    """Rotation about fixed axes taken in order, built one explicit matrix at a time."""
    out = np.eye(3)
    for axis, angle in zip(axes, np.radians(degrees)):
        c, s = np.cos(angle), np.sin(angle)
        turn = {
            "x": [[1, 0, 0], [0, c, -s], [0, s, c]],
            "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
            "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
        }[axis]
        out = np.array(turn) @ out
    return out


def textbook_fk(skeleton: AsfSkeleton, channels: dict, frame: int) -> np.ndarray:
    """One frame of ``L = L_parent · C · M · C⁻¹``, ``end = end_parent + L · d · l``."""
    root = channels["root"][frame]
    world = {"root": fixed_axis_matrix("xyz", root[3:])}
    ends = {"root": root[:3]}
    for bone in skeleton.bones:
        axes = fixed_axis_matrix(bone.axis_order, bone.axis)
        motion = fixed_axis_matrix("".join(d[1] for d in bone.dof), channels[bone.name][frame])
        world[bone.name] = world[bone.parent] @ axes @ motion @ np.linalg.inv(axes)
        vector = world[bone.name] @ (np.array(bone.direction) * bone.length)
        ends[bone.name] = ends[bone.parent] + vector
    return np.array([ends[name] for name in skeleton.joint_names]) * skeleton.scale


@pytest.fixture
def tiny() -> AsfSkeleton:
    return read_asf(TINY_ASF)


def write_clip(folder: Path, skeleton: AsfSkeleton, channels: dict, name="tiny_01.amc") -> Path:
    (folder / "tiny.asf").write_bytes(TINY_ASF.read_bytes())
    path = folder / name
    path.write_text(amc_text(skeleton, channels))
    return path


# --- the skeleton ----------------------------------------------------------------------


def test_reads_the_skeleton(tiny: AsfSkeleton) -> None:
    assert tiny.joint_names == (
        "root", "lhipjoint", "lfemur", "ltibia", "lfoot", "spine", "head", "larm",
    )
    assert tiny.parents == (-1, 0, 1, 2, 3, 0, 5, 5)
    assert tiny.root_order == ("tx", "ty", "tz", "rx", "ry", "rz")
    assert tiny.length_unit == 0.45 and tiny.angle_unit == "deg"
    assert tiny.scale == pytest.approx(CMU_SCALE)
    bones = {bone.name: bone for bone in tiny.bones}
    assert bones["lfoot"].dof == ("rz", "rx")
    assert bones["head"].axis == (10.0, 20.0, 30.0) and bones["head"].axis_order == "zyx"
    assert bones["lhipjoint"].dof == ()
    assert tiny.channel_counts()["lfemur"] == 3 and tiny.channel_counts()["lhipjoint"] == 0


def test_rest_pose_reproduces_the_bone_vectors(tiny: AsfSkeleton) -> None:
    rest = tiny.rest_positions()
    np.testing.assert_allclose(rest[0], 0.0)
    expected = [np.array(b.direction) * b.length * CMU_SCALE for b in tiny.bones]
    np.testing.assert_allclose(bone_vectors(rest, tiny.parents), expected, atol=1e-12)


def test_zero_angle_frame_of_a_file_reproduces_the_bone_vectors(
    tiny: AsfSkeleton, tmp_path: Path
) -> None:
    channels = {name: np.zeros((1, n)) for name, n in tiny.channel_counts().items()}
    channels["root"][0, :3] = (1.0, 17.0, -2.0)
    motion = read_amc(write_clip(tmp_path, tiny, channels))
    np.testing.assert_allclose(motion.positions[0, 0], np.array([1.0, 17.0, -2.0]) * CMU_SCALE)
    expected = [np.array(b.direction) * b.length * CMU_SCALE for b in tiny.bones]
    np.testing.assert_allclose(bone_vectors(motion.positions[0], motion.parents), expected,
                               atol=1e-12)


def test_forward_kinematics_matches_the_textbook_formula(tiny: AsfSkeleton) -> None:
    channels = random_channels(tiny, np.random.default_rng(7), 5)
    positions = forward_kinematics(tiny, channels)
    for frame in range(5):
        np.testing.assert_allclose(positions[frame], textbook_fk(tiny, channels, frame),
                                   atol=1e-12)


def test_a_rotation_worked_by_hand(tmp_path: Path) -> None:
    # C = Rz(90) turns the bone's local x onto world y, so rx turns about world y:
    # direction +x by 90 degrees about y goes to -z.
    asf = tmp_path / "s.asf"
    asf.write_text(
        ":units\n length 1\n:bonedata\n begin\n name arm\n direction 1 0 0\n length 2\n"
        " axis 0 0 90 XYZ\n dof rx\n end\n:hierarchy\n begin\n root arm\n end\n"
    )
    amc = tmp_path / "s_1.amc"
    amc.write_text("1\nroot 0 0 0 0 0 0\narm 90\n2\nroot 10 0 0 0 90 0\narm 0\n")
    motion = read_amc(amc)
    np.testing.assert_allclose(motion.positions[0, 1], [0.0, 0.0, -2 * 0.0254], atol=1e-12)
    # root ry 90 turns the arm (+x) to -z as well, from the root at x = 10 in.
    np.testing.assert_allclose(motion.positions[1, 1], [0.254, 0.0, -2 * 0.0254], atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    angles=hnp.arrays(np.float64, (3, 6 + 3 + 1 + 2 + 3 + 3 + 3),
                      elements=st.floats(-360.0, 360.0)),
)
def test_bone_lengths_do_not_change_with_the_angles(angles: np.ndarray) -> None:
    tiny = read_asf(TINY_ASF)
    channels, column = {}, 0
    for name, count in tiny.channel_counts().items():
        channels[name] = angles[:, column : column + count]
        column += count
    positions = forward_kinematics(tiny, channels)
    lengths = np.linalg.norm(bone_vectors(positions, tiny.parents), axis=-1)
    expected = [np.linalg.norm(b.direction) * b.length * CMU_SCALE for b in tiny.bones]
    np.testing.assert_allclose(lengths, np.broadcast_to(expected, lengths.shape), rtol=1e-9)


def test_translation_and_length_dofs(tmp_path: Path) -> None:
    asf = tmp_path / "s.asf"
    asf.write_text(
        ":units\n length 1\n:root\n order RY TZ TX RX TY RZ\n axis XYZ\n:bonedata\n"
        " begin\n name slide\n direction 0 1 0\n length 4\n axis 0 0 90 XYZ\n dof l tx\n end\n"
        ":hierarchy\n begin\n root slide\n end\n"
    )
    amc = tmp_path / "s_1.amc"
    amc.write_text("1\nroot 0 3 1 0 2 0\nslide 1 5\n")
    motion = read_amc(amc, fps=30)
    inch = 0.0254
    np.testing.assert_allclose(motion.positions[0, 0], np.array([1.0, 2.0, 3.0]) * inch)
    # tx moves the start along the bone's local x, which C = Rz(90) puts on world y;
    # l stretches the bone from 4 to 5.
    np.testing.assert_allclose(motion.positions[0, 1], np.array([1.0, 2.0 + 5 + 5, 3.0]) * inch)
    assert motion.fps == 30.0


# --- the files -------------------------------------------------------------------------


def test_read_amc_finds_the_skeleton_and_matches_forward_kinematics(
    tiny: AsfSkeleton, tmp_path: Path
) -> None:
    channels = random_channels(tiny, np.random.default_rng(1), 4)
    path = write_clip(tmp_path, tiny, channels)
    motion = read_amc(path)
    assert isinstance(motion, MotionCapture)
    assert motion.joint_names == tiny.joint_names and motion.parents == tiny.parents
    assert motion.positions.shape == (4, 8, 3) and motion.positions.dtype == np.float64
    assert motion.fps == 120.0 and motion.source_file == str(path)
    np.testing.assert_allclose(motion.positions, forward_kinematics(tiny, channels), atol=1e-12)
    same = read_amc(path, TINY_ASF)
    np.testing.assert_array_equal(same.positions, motion.positions)
    scaled = read_amc(path, tiny, scale=1.0)
    np.testing.assert_allclose(scaled.positions * CMU_SCALE, motion.positions, atol=1e-12)


def test_crlf_and_gzip(tiny: AsfSkeleton, tmp_path: Path) -> None:
    channels = random_channels(tiny, np.random.default_rng(2), 3)
    plain = read_amc(write_clip(tmp_path, tiny, channels))
    folder = tmp_path / "packed"
    folder.mkdir()
    crlf_asf = TINY_ASF.read_bytes().replace(b"\n", b"\r\n")
    (folder / "tiny.asf").write_bytes(crlf_asf)
    amc = amc_text(tiny, channels).replace("\n", "\r\n").encode()
    (folder / "tiny_01.amc").write_bytes(amc)
    (folder / "tiny_02.amc.gz").write_bytes(gzip.compress(amc))
    for name in ("tiny_01.amc", "tiny_02.amc.gz"):
        motion = read_amc(folder / name)
        np.testing.assert_array_equal(motion.positions, plain.positions)
    (folder / "tiny.asf").unlink()
    (folder / "tiny.asf.gz").write_bytes(gzip.compress(crlf_asf))
    np.testing.assert_array_equal(read_amc(folder / "tiny_02.amc.gz").positions, plain.positions)


def test_irregular_layout_gives_the_same_motion(tiny: AsfSkeleton, tmp_path: Path) -> None:
    channels = random_channels(tiny, np.random.default_rng(3), 3)
    path = write_clip(tmp_path, tiny, channels)
    regular = read_amc(path)
    lines = path.read_text().splitlines()
    # Reverse the bone order of frame 2, add comments, blank lines and a no-dof bone.
    start = lines.index("2")
    frame2 = lines[start + 1 : start + 8]
    lines[start + 1 : start + 8] = ["# a comment", *frame2[::-1], "", "lhipjoint"]
    lines[2] += "  # the angle unit"
    path.write_text("\n".join(lines) + "\n\n")
    np.testing.assert_array_equal(read_amc(path).positions, regular.positions)


def test_radians(tiny: AsfSkeleton, tmp_path: Path) -> None:
    channels = random_channels(tiny, np.random.default_rng(4), 2)
    degrees = read_amc(write_clip(tmp_path, tiny, channels))
    in_radians = {name: values.copy() for name, values in channels.items()}
    for name, values in in_radians.items():
        order = tiny.root_order if name == "root" else next(
            b.dof for b in tiny.bones if b.name == name
        )
        for i, dof in enumerate(order):
            if dof[0] == "r":
                values[:, i] = np.radians(values[:, i])
    path = tmp_path / "tiny_02.amc"
    path.write_text(amc_text(tiny, in_radians, angle=":RADIANS"))
    np.testing.assert_allclose(read_amc(path).positions, degrees.positions, atol=1e-12)
    asf_in_radians = tmp_path / "rad" / "tiny.asf"
    asf_in_radians.parent.mkdir()
    asf_in_radians.write_text(
        TINY_ASF.read_text()
        .replace("angle deg", "angle rad")
        .replace("axis 10 20 30", " ".join(["axis", *(str(np.radians(a)) for a in (10, 20, 30))]))
        .replace("axis 0 0 20", f"axis 0 0 {np.radians(20)}")
    )
    np.testing.assert_allclose(
        read_amc(path, asf_in_radians).positions, degrees.positions, atol=1e-12
    )


def test_find_asf(tmp_path: Path) -> None:
    (tmp_path / "07.asf").write_text("")
    assert find_asf(tmp_path / "07_12.amc.gz") == tmp_path / "07.asf"
    with pytest.raises(PoseFileError, match="08.asf"):
        find_asf(tmp_path / "08_01.amc")


def test_drop_incomplete_last_frame(tiny: AsfSkeleton, tmp_path: Path) -> None:
    channels = random_channels(tiny, np.random.default_rng(5), 3)
    path = write_clip(tmp_path, tiny, channels)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-3]))
    with pytest.raises(PoseFileError):
        read_amc(path)
    motion = read_amc(path, drop_incomplete_last_frame=True)
    np.testing.assert_allclose(motion.positions, forward_kinematics(tiny, channels)[:2],
                               atol=1e-12)


# --- malformed files -------------------------------------------------------------------


def _replace(lines: list[str], prefix: str, occurrence: int, new: str | None) -> int:
    """Replace (or drop, when ``new`` is None) the n-th line starting with ``prefix``;
    return its 1-based line number."""
    hits = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    index = hits[occurrence]
    if new is None:
        del lines[index]
    else:
        lines[index] = new
    return index + 1


def _truncated(lines: list[str]) -> int:
    del lines[-4:]
    return lines.index("3") + 1


def _without_head(lines: list[str]) -> int:
    _replace(lines, "head", 0, None)
    return lines.index("1") + 1  # reported at the frame's number


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_truncated, "frame 3 has no values for"),
        (lambda lines: _replace(lines, "ltibia", 1, "ltibia 1.0 2.0"), "expected 1 values, got 2"),
        (lambda lines: _replace(lines, "spine", 0, "spine 1 2"), "expected 3 values, got 2"),
        (lambda lines: _replace(lines, "larm", 2, "lknee 1 2 3"), "unknown bone 'lknee'"),
        (lambda lines: _replace(lines, "lfoot", 1, "lfoot 1 abc"), "expected numbers"),
        (lambda lines: _replace(lines, "lfoot", 1, "lfoot 1 nan"), "finite"),
        (_without_head, "frame 1 has no values for head"),
        (lambda lines: _replace(lines, "larm", 1, "spine 1 2 3"), "given twice"),
        (lambda lines: _replace(lines, "1", 0, "root 1 2 3 4 5 6"), "expected a frame number"),
    ],
)
def test_malformed_amc(tiny: AsfSkeleton, tmp_path: Path, edit, message: str) -> None:
    channels = random_channels(tiny, np.random.default_rng(6), 3)
    path = write_clip(tmp_path, tiny, channels)
    lines = path.read_text().splitlines()
    line = edit(lines)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(PoseFileError, match=message) as caught:
        read_amc(path)
    assert caught.value.path == str(path)
    assert caught.value.line == line
    assert f"line {line}" in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    lfemur ltibia", "    lfemur lshin", "unknown bone 'lshin'"),
        ("    dof rz rx", "    dof rz rq", "unknown degree of freedom 'rq'"),
        ("     length 7", "     length seven", "expected numbers"),
        ("     axis 0 0 0  XYZ\n    dof rz rx", "     axis 0 0 0 XYQ\n    dof rz rx",
         "permutation of XYZ"),
        ("     direction 0 1 0", "     direction 0 1", "expected 3 values"),
        ("   order TX TY TZ RX RY RZ", "   order TX TY TZ RX RY RX", "repeated"),
        ("    spine head larm", "    spine head", "not connected"),
        ("    spine head larm", "    spine head larm lfemur", "second parent"),
        ("  length 0.45", "  length 0", "must be positive"),
        ("  angle deg", "  angle grad", "angle deg"),
        ("     name larm", "     name spine", "used twice"),
    ],
)
def test_malformed_asf(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = TINY_ASF.read_text()
    assert old in text
    path = tmp_path / "tiny.asf"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(PoseFileError, match=message) as caught:
        read_asf(path)
    assert caught.value.path == str(path)
    if message != "not connected":
        lines = path.read_text().splitlines()
        expected = len(lines) - lines[::-1].index(new.split("\n")[0])
        if message == "used twice":
            expected -= 2  # reported at the bone's 'begin'
        assert caught.value.line == expected


def test_asf_without_axis_names_the_bone_block(tmp_path: Path) -> None:
    path = tmp_path / "tiny.asf"
    path.write_text(TINY_ASF.read_text().replace("     axis 0 0 0  XYZ\n  end", "  end", 1))
    with pytest.raises(PoseFileError, match="lacks axis") as caught:
        read_asf(path)
    assert caught.value.line == path.read_text().splitlines().index("  begin") + 1


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x_01.amc.gz"
    path.write_bytes(gzip.compress(b"1\nroot 0 0 0 0 0 0\n" * 100)[:40])
    with pytest.raises(PoseFileError, match="gzip"):
        read_amc(path, TINY_ASF)


def test_motion_capture_checks_its_shapes() -> None:
    with pytest.raises(ValueError, match="shape"):
        MotionCapture(("a", "b"), (-1, 0), np.zeros((3, 3, 3)), 120, "x")
    with pytest.raises(ValueError, match="parents"):
        MotionCapture(("a", "b"), (-1,), np.zeros((3, 2, 3)), 120, "x")
    with pytest.raises(ValueError, match="fps"):
        MotionCapture(("a", "b"), (-1, 0), np.zeros((3, 2, 3)), 0, "x")


# --- real CMU data ---------------------------------------------------------------------

needs_mocap = pytest.mark.skipif(not MOCAP.is_dir(), reason="no shared/mocap beside the repo")


@needs_mocap
def test_a_real_cmu_clip_has_plausible_bones() -> None:
    path = min((MOCAP / "cmu" / "subjects").glob("*/*_*.amc.gz"))
    motion = read_amc(path)
    assert motion.positions.shape[1:] == (31, 3)
    lengths = np.linalg.norm(bone_vectors(motion.positions, motion.parents), axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-9)
    named = dict(zip(motion.joint_names[1:], lengths[0]))
    for bone in ("lfemur", "rfemur", "ltibia", "rtibia"):
        assert 0.3 < named[bone] < 0.55
    for bone in ("lhumerus", "rhumerus"):
        assert 0.2 < named[bone] < 0.4
    height = motion.positions[:, motion.joint_index("head"), 1]
    toes = motion.positions[:, [motion.joint_index("ltoes"), motion.joint_index("rtoes")], 1]
    assert 1.3 < np.median(height) < 2.0  # top of the head, Y up
    assert -0.1 < toes.min() < 0.1  # the floor is at y = 0


@needs_mocap
def test_the_truncated_cmu_clip() -> None:
    path = MOCAP / "cmu" / "subjects" / "07" / "07_12.amc.gz"
    if not path.is_file():
        pytest.skip("07_12 is not in shared/mocap")
    with pytest.raises(PoseFileError, match="frame 245") as caught:
        read_amc(path)
    assert caught.value.line == 7324
    assert read_amc(path, drop_incomplete_last_frame=True).n_frames == 244
