"""Tests of the BVH reader and its forward kinematics."""

from __future__ import annotations

import gzip
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.core.errors import PoseFileError
from posekit.io.asf_amc import forward_kinematics, read_amc, read_asf
from posekit.io.bvh import CMU_BVH_SCALE, read_bvh

FIXTURES = Path(__file__).parent / "fixtures" / "mocap"
TINY_BVH = FIXTURES / "tiny.bvh"
TINY_ASF = FIXTURES / "tiny.asf"
MOCAP = Path(__file__).parents[2] / "shared" / "mocap"

#: tiny.bvh nests like CMU's conversion: each ASF bone ends at this BVH joint.
ASF_BONE_END = {
    "root": "Hips",
    "lhipjoint": "LeftUpLeg",
    "lfemur": "LeftLeg",
    "ltibia": "LeftFoot",
    "lfoot": "LeftFoot_end",
    "spine": "Head",
    "head": "Head_end",
    "larm": "LeftArm_end",
}
#: Channels of tiny.bvh in file order, (joint, channel count).
TINY_CHANNELS = [
    ("Hips", 6), ("LHipJoint", 3), ("LeftUpLeg", 3), ("LeftLeg", 3), ("LeftFoot", 2),
    ("Spine", 3), ("Head", 3), ("LeftArm", 3),
]


def hierarchy_text() -> str:
    return TINY_BVH.read_text().split("MOTION")[0]


def with_motion(values: np.ndarray, frame_time: float = 0.0083333) -> str:
    rows = "\n".join(" ".join(repr(float(v)) for v in row) for row in values)
    return (
        f"{hierarchy_text()}MOTION\nFrames: {len(values)}\nFrame Time: {frame_time}\n{rows}\n"
    )


def bone_vectors(positions: np.ndarray, parents: tuple[int, ...]) -> np.ndarray:
    return positions[..., 1:, :] - positions[..., list(parents[1:]), :]


def test_reads_the_hierarchy_and_frames() -> None:
    motion = read_bvh(TINY_BVH, scale=CMU_BVH_SCALE)
    assert motion.joint_names == (
        "Hips", "LHipJoint", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftFoot_end",
        "Spine", "Head", "Head_end", "LeftArm", "LeftArm_end",
    )
    assert motion.parents == (-1, 0, 1, 2, 3, 4, 0, 6, 7, 6, 9)
    assert motion.positions.shape == (3, 11, 3)
    assert motion.fps == pytest.approx(1 / 0.0083333)
    assert motion.source_file == str(TINY_BVH)
    np.testing.assert_allclose(motion.positions[1, 0], np.array([0.5, 16.2, -1.0]) * CMU_BVH_SCALE)


def test_zero_frame_reproduces_the_offsets() -> None:
    motion = read_bvh(TINY_BVH, scale=0.5)
    offsets = [
        (0, 0, 0), (2, 0, 0), (2.73616, -7.517544, 0), (2.39414, -6.577851, 0), (0, 0, 2),
        (0, 0, 0), (0, 5, 0), (0, 1.8, 2.4), (0, 5, 0), (6, 0, 0),
    ]
    np.testing.assert_allclose(motion.positions[0, 0], [0.0, 8.0, 0.0])
    np.testing.assert_allclose(bone_vectors(motion.positions[0], motion.parents),
                               np.array(offsets) * 0.5, atol=1e-12)


def test_channel_order_worked_by_hand(tmp_path: Path) -> None:
    # Zrotation 90 then Xrotation 90 as written: R = Rz(90) · Rx(90); Rx takes +z to -y,
    # then Rz takes -y to +x. The reverse product would leave it at -y.
    path = tmp_path / "a.bvh"
    path.write_text(
        "HIERARCHY\nROOT A\n{\n OFFSET 0 0 0\n CHANNELS 6 Xposition Yposition Zposition "
        "Zrotation Xrotation Yrotation\n End Site\n {\n  OFFSET 0 0 1\n }\n}\n"
        "MOTION\nFrames: 1\nFrame Time: 0.04\n1 2 3 90 90 0\n"
    )
    motion = read_bvh(path, scale=1.0)
    np.testing.assert_allclose(motion.positions[0], [[1, 2, 3], [2, 2, 3]], atol=1e-12)
    assert motion.fps == pytest.approx(25.0)


@settings(max_examples=40, deadline=None)
@given(angles=hnp.arrays(np.float64, (3, 26), elements=st.floats(-360.0, 360.0)))
def test_bone_lengths_do_not_change_with_the_angles(angles: np.ndarray, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("bvh") / "a.bvh"
    path.write_text(with_motion(angles))
    motion = read_bvh(path, scale=1.0)
    rest = read_bvh(TINY_BVH, scale=1.0).positions[0]
    lengths = np.linalg.norm(bone_vectors(motion.positions, motion.parents), axis=-1)
    expected = np.linalg.norm(bone_vectors(rest, motion.parents), axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(expected, lengths.shape),
                               rtol=1e-9, atol=1e-12)


def test_agrees_with_the_same_skeleton_written_as_asf_amc(tmp_path: Path) -> None:
    skeleton = read_asf(TINY_ASF)
    bvh = read_bvh(TINY_BVH, scale=CMU_BVH_SCALE)
    rest = skeleton.rest_positions()
    picked = [bvh.joint_index(ASF_BONE_END[name]) for name in skeleton.joint_names]
    from_root = bvh.positions[0, picked] - bvh.positions[0, :1]
    np.testing.assert_allclose(from_root, rest, atol=1e-6)
    rest_lengths = np.linalg.norm(bone_vectors(rest, skeleton.parents), axis=-1)
    bvh_lengths = np.linalg.norm(bvh.positions[:, picked[1:]] - bvh.positions[:, [
        picked[p] for p in skeleton.parents[1:]]], axis=-1)
    np.testing.assert_allclose(bvh_lengths, np.broadcast_to(rest_lengths, bvh_lengths.shape),
                               atol=1e-6)


def test_moves_like_asf_amc_where_bone_axes_are_zero(tmp_path: Path) -> None:
    # ASF dof "rx ry rz" (fixed axes, x first) is BVH "Zrotation Yrotation Xrotation" and
    # ASF "rz rx" is BVH "Xrotation Zrotation", when the ASF bone's axis is zero.
    skeleton = read_asf(TINY_ASF)
    rng = np.random.default_rng(11)
    n = 4
    root = np.concatenate([rng.uniform(-10, 10, (n, 3)), rng.uniform(-180, 180, (n, 3))], 1)
    spine, larm = rng.uniform(-180, 180, (2, n, 3))
    lfoot = rng.uniform(-180, 180, (n, 2))  # rz, rx
    channels = {name: np.zeros((n, count)) for name, count in skeleton.channel_counts().items()}
    channels.update(root=root, spine=spine, larm=larm, lfoot=lfoot)
    asf_positions = forward_kinematics(skeleton, channels)
    per_joint = {name: np.zeros((n, count)) for name, count in TINY_CHANNELS}
    per_joint["Hips"] = np.concatenate([root[:, :3], root[:, 3:][:, ::-1]], 1)
    per_joint["Spine"] = spine[:, ::-1]
    per_joint["LeftArm"] = larm[:, ::-1]
    per_joint["LeftFoot"] = lfoot[:, ::-1]
    path = tmp_path / "a.bvh"
    path.write_text(with_motion(np.concatenate([per_joint[j] for j, _ in TINY_CHANNELS], 1)))
    bvh = read_bvh(path, scale=CMU_BVH_SCALE)
    picked = [bvh.joint_index(ASF_BONE_END[name]) for name in skeleton.joint_names]
    np.testing.assert_allclose(bvh.positions[:, picked], asf_positions, atol=1e-9)


def test_crlf_and_gzip(tmp_path: Path) -> None:
    plain = read_bvh(TINY_BVH, scale=1.0)
    crlf = TINY_BVH.read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "a.bvh").write_bytes(crlf)
    (tmp_path / "a.bvh.gz").write_bytes(gzip.compress(crlf))
    for name in ("a.bvh", "a.bvh.gz"):
        np.testing.assert_array_equal(read_bvh(tmp_path / name, scale=1.0).positions,
                                      plain.positions)


def _frame_line(index: int) -> int:
    lines = TINY_BVH.read_text().splitlines()
    return lines.index("Frame Time: 0.0083333") + 2 + index


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("45 30 -20", "45 30", "expected 26 values, got 25", _frame_line(1)),
        ("45 30 -20", "45 30 -20 7", "expected 26 values, got 27", _frame_line(1)),
        ("-45 -30 20", "-45 -30 twenty", "expected a number, got 'twenty'", _frame_line(2)),
        ("Frames: 3", "Frames: 4", "file ends after 3 of 4 frames", _frame_line(2)),
        ("Frames: 3", "Frames: 2", "more frame lines than 'Frames: 2'", _frame_line(2)),
        ("Frames: 3", "Frames: three", "expected a count", _frame_line(-2)),
        ("Frame Time: 0.0083333", "Frame Time: 0", "positive number", _frame_line(-1)),
        ("Frame Time: 0.0083333", "Frame Rate: 120", "'Frame Time:'", _frame_line(-1)),
        ("CHANNELS 2 Xrotation Zrotation", "CHANNELS 2 Xrotation Wrotation",
         "unknown channel 'Wrotation'", 21),
        ("CHANNELS 2 Xrotation", "CHANNELS two Xrotation", "expected a channel count", 21),
        ("OFFSET 0 5 0", "OFFSET 0 five 0", "OFFSET y: expected a number", 36),
        ("End Site", "End Sight", "expected 'Site'", 22),
        ("JOINT LeftArm", "JOINT Head", "'Head' used twice", 43),
        ("\t\tJOINT Head\n", "\t\tBONE Head\n", "expected JOINT, End Site or '}'", 34),
        ("End Site\n\t\t\t{\n\t\t\t\tOFFSET 0 1.8 2.4\n\t\t\t}",
         ("End Site\n\t\t\t{\n\t\t\t\tOFFSET 0 1.8 2.4\n\t\t\t}\n\t\t\tEnd Site\n\t\t\t{\n"
          "\t\t\t\tOFFSET 0 1 0\n\t\t\t}"), "'Head_end' used twice", 42),
        ("HIERARCHY\n", "HIERARCHIES\n", "expected 'HIERARCHY'", 1),
        ("MOTION\n", "MOVES\n", "no MOTION section", None),
    ],
)
def test_malformed_bvh(tmp_path: Path, old: str, new: str, message: str, line) -> None:
    text = TINY_BVH.read_text()
    assert old in text
    path = tmp_path / "a.bvh"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(PoseFileError, match=message) as caught:
        read_bvh(path, scale=1.0)
    assert caught.value.path == str(path)
    assert caught.value.line == line


def test_hierarchy_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "a.bvh"
    text = TINY_BVH.read_text()
    path.write_text(text[: text.index("\tJOINT Spine")] + "MOTION\nFrames: 0\nFrame Time: 1\n")
    with pytest.raises(PoseFileError, match="file ends where") as caught:
        read_bvh(path, scale=1.0)
    assert caught.value.line == 29


# --- real CMU data ---------------------------------------------------------------------

CMU_BVH = MOCAP / "cmu" / "bvh" / "13_29.bvh"
#: CMU's BVH joint at the end of each ASF bone (see posekit.io.bvh).
CMU_BONE_END = {
    "lfemur": "LeftLeg", "ltibia": "LeftFoot", "rfemur": "RightLeg", "rtibia": "RightFoot",
    "lhumerus": "LeftForeArm", "lradius": "LeftHand", "rhumerus": "RightForeArm",
    "rradius": "RightHand", "lclavicle": "LeftArm", "rclavicle": "RightArm",
    "lowerback": "Spine", "upperback": "Spine1", "lowerneck": "Neck1", "upperneck": "Head",
    "head": "Head_end", "lfoot": "LeftToeBase", "ltoes": "LeftToeBase_end",
}


@pytest.mark.skipif(not CMU_BVH.is_file(), reason="no shared/mocap beside the repo")
def test_the_real_cmu_bvh_agrees_with_the_cmu_asf_skeletons() -> None:
    motion = read_bvh(CMU_BVH, scale=CMU_BVH_SCALE)
    assert motion.positions.shape == (4593, 38, 3)
    assert motion.fps == pytest.approx(120.0, rel=1e-4)
    lengths = np.linalg.norm(bone_vectors(motion.positions, motion.parents), axis=-1)
    np.testing.assert_allclose(lengths, np.broadcast_to(lengths[0], lengths.shape), atol=1e-9)
    names = motion.joint_names
    bvh_length = {
        name: lengths[0, names.index(joint) - 1] for name, joint in CMU_BONE_END.items()
    }
    assert 0.3 < bvh_length["lfemur"] < 0.55 and 0.3 < bvh_length["rtibia"] < 0.55
    # Subject 13's ASF is not among the shared files: compare with every subject's.
    asf_lengths: dict[str, list[float]] = {}
    for asf in sorted((MOCAP / "cmu" / "subjects").glob("*/*.asf")):
        skeleton = read_asf(asf)
        for bone in skeleton.bones:
            asf_lengths.setdefault(bone.name, []).append(bone.length * skeleton.scale)
    for name, length in bvh_length.items():
        assert 0.85 * min(asf_lengths[name]) < length < 1.15 * max(asf_lengths[name]), name
    # The feet touch the floor (y = 0) and the head is above the hips, Y up.
    toes = motion.positions[1:, [names.index("LeftToeBase_end"), names.index("RightToeBase_end")]]
    assert -0.1 < toes[..., 1].min() < 0.1
    above = motion.positions[1:, names.index("Head"), 1] > motion.positions[1:, 0, 1]
    assert above.mean() > 0.9


@pytest.mark.skipif(not CMU_BVH.is_file(), reason="no shared/mocap beside the repo")
def test_real_bvh_and_amc_stand_alike() -> None:
    # Different subjects, so only the build: hip height and the head above it, in metres.
    amc = min((MOCAP / "cmu" / "subjects").glob("*/*_*.amc.gz"))
    asf_motion = read_amc(amc)
    bvh_motion = read_bvh(CMU_BVH, scale=CMU_BVH_SCALE)
    asf_hips = np.median(asf_motion.positions[:, 0, 1])
    bvh_hips = np.median(bvh_motion.positions[1:, 0, 1])
    assert abs(asf_hips - bvh_hips) < 0.25
    asf_head = np.median(asf_motion.positions[:, asf_motion.joint_index("head"), 1]) - asf_hips
    bvh_head = np.median(bvh_motion.positions[1:, bvh_motion.joint_index("Head_end"), 1]) - bvh_hips
    assert abs(asf_head - bvh_head) < 0.25
