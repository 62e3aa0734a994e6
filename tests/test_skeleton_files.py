"""Checks of the skeleton data files in ``skeletons/``, independent of posekit's loader.

Every ``skeletons/*.toml`` is parsed with :mod:`tomllib` and checked as data: a single
tree of uniquely named joints, consistent left/right pairs, well-formed joint mappings
whose names exist on both sides, and the joint orders that outputs and inputs rely on.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest

SKELETON_DIR = Path(__file__).resolve().parents[1] / "skeletons"
HUB = "mpi_inf_3dhp_28"

FILES = sorted(SKELETON_DIR.glob("*.toml"))
DATA = {path.stem: tomllib.loads(path.read_text(encoding="utf-8")) for path in FILES}

# The 28-joint layout (MPI-INF-3DHP "all" set), in order, with each joint's parent, as
# written in the mocap README (shared/mocap/README.md): posekit's output contract.
HUB_JOINTS = [
    ("spine3", "spine2"),
    ("spine4", "spine3"),
    ("spine2", "spine"),
    ("spine", "pelvis"),
    ("pelvis", ""),
    ("neck", "spine4"),
    ("head", "neck"),
    ("head_top", "head"),
    ("left_clavicle", "neck"),
    ("left_shoulder", "left_clavicle"),
    ("left_elbow", "left_shoulder"),
    ("left_wrist", "left_elbow"),
    ("left_hand", "left_wrist"),
    ("right_clavicle", "neck"),
    ("right_shoulder", "right_clavicle"),
    ("right_elbow", "right_shoulder"),
    ("right_wrist", "right_elbow"),
    ("right_hand", "right_wrist"),
    ("left_hip", "pelvis"),
    ("left_knee", "left_hip"),
    ("left_ankle", "left_knee"),
    ("left_foot", "left_ankle"),
    ("left_toe", "left_foot"),
    ("right_hip", "pelvis"),
    ("right_knee", "right_hip"),
    ("right_ankle", "right_knee"),
    ("right_foot", "right_ankle"),
    ("right_toe", "right_foot"),
]

_COCO_17 = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]  # fmt: skip

# Upstream joint orders (the index of a joint in the estimator's output is a contract).
EXPECTED_ORDER = {
    # COCO person keypoints.
    "coco_17": _COCO_17,
    # Halpe-FullBody README / AlphaPose halpe_26: COCO-17, then Head, Neck, Hip and feet.
    "halpe_26": _COCO_17 + [
        "head", "neck", "hip", "left_big_toe", "right_big_toe",
        "left_small_toe", "right_small_toe", "left_heel", "right_heel",
    ],
    # OpenPose POSE_BODY_25_BODY_PARTS (doc/02_output.md).
    "body_25": [
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist", "mid_hip",
        "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "right_eye", "left_eye", "right_ear", "left_ear",
        "left_big_toe", "left_small_toe", "left_heel",
        "right_big_toe", "right_small_toe", "right_heel",
    ],
    # OpenPose POSE_BODY_25B_BODY_PARTS (openpose_train experimental_models): COCO-17,
    # UpperNeck, HeadTop, then the feet in BODY_25's order.
    "body_25b": _COCO_17 + [
        "neck", "head_top", "left_big_toe", "left_small_toe", "left_heel",
        "right_big_toe", "right_small_toe", "right_heel",
    ],
    # OpenPose POSE_MPI_BODY_PARTS (models MPI, MPI_4_layers).
    "mpi_15": [
        "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist",
        "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "chest",
    ],
    # COCO-WholeBody keypoints 0-22 (body, then feet).
    "coco_wholebody_23": _COCO_17 + [
        "left_big_toe", "left_small_toe", "left_heel",
        "right_big_toe", "right_small_toe", "right_heel",
    ],
    # OpenPose POSE_COCO_BODY_PARTS.
    "coco_18": [
        "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
        "left_shoulder", "left_elbow", "left_wrist",
        "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
        "right_eye", "left_eye", "right_ear", "left_ear",
    ],
    # Human3.6M-17 in the order common to 3D pose lifters.
    "h36m_17": [
        "pelvis", "right_hip", "right_knee", "right_ankle",
        "left_hip", "left_knee", "left_ankle", "spine", "thorax", "neck_nose", "head",
        "left_shoulder", "left_elbow", "left_wrist",
        "right_shoulder", "right_elbow", "right_wrist",
    ],
    # CMU ASF :hierarchy (root, then the bones depth first).
    "cmu_31": [
        "root", "lhipjoint", "lfemur", "ltibia", "lfoot", "ltoes",
        "rhipjoint", "rfemur", "rtibia", "rfoot", "rtoes",
        "lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
        "lclavicle", "lhumerus", "lradius", "lwrist", "lhand", "lfingers", "lthumb",
        "rclavicle", "rhumerus", "rradius", "rwrist", "rhand", "rfingers", "rthumb",
    ],
    HUB: [name for name, _ in HUB_JOINTS],
}  # fmt: skip

# Parents of the CMU skeleton, as in the :hierarchy section of the CMU .asf files.
CMU_HIERARCHY = """
root lhipjoint rhipjoint lowerback
lhipjoint lfemur
lfemur ltibia
ltibia lfoot
lfoot ltoes
rhipjoint rfemur
rfemur rtibia
rtibia rfoot
rfoot rtoes
lowerback upperback
upperback thorax
thorax lowerneck lclavicle rclavicle
lowerneck upperneck
upperneck head
lclavicle lhumerus
lhumerus lradius
lradius lwrist
lwrist lhand lthumb
lhand lfingers
rclavicle rhumerus
rhumerus rradius
rradius rwrist
rwrist rhand rthumb
rhand rfingers
"""

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def joint_names(data: dict) -> list[str]:
    return [j[0] for j in data["joints"]]


def parents_of(data: dict) -> dict[str, str]:
    return {j[0]: j[1] for j in data["joints"]}


def mirror_name(name: str, names: set[str]) -> tuple[str, str] | None:
    """The ``(side, counterpart)`` of a sided joint name, or None for an axial joint.

    ``left_x``/``right_x`` are always sided; ``lx``/``rx`` (ASF style) are sided when the
    counterpart exists (so ``lowerback`` is axial).
    """
    for prefix, other, side in (("left_", "right_", "left"), ("right_", "left_", "right")):
        if name.startswith(prefix):
            return side, other + name[len(prefix) :]
    for prefix, other, side in (("l", "r", "left"), ("r", "l", "right")):
        if name.startswith(prefix) and other + name[1:] in names:
            return side, other + name[1:]
    return None


def terms(value: object) -> dict[str, float]:
    """A mapping entry as ``{source_joint: weight}``; fails on a malformed entry."""
    if isinstance(value, str):
        return {value: 1.0}
    assert isinstance(value, dict) and value, f"expected a joint name or weights, got {value!r}"
    for joint, weight in value.items():
        assert isinstance(joint, str)
        assert not isinstance(weight, bool) and isinstance(weight, int | float), (
            f"weight of {joint!r} must be a number, got {weight!r}"
        )
        assert math.isfinite(weight) and weight != 0, f"weight of {joint!r} is {weight!r}"
    return {joint: float(weight) for joint, weight in value.items()}


def mapping_tables():
    """(file stem, direction, other skeleton, table) for every mapping table."""
    for stem, data in DATA.items():
        for direction in ("to", "from"):
            for other, table in data.get(direction, {}).items():
                yield stem, direction, other, table


MAPPINGS = list(mapping_tables())


def test_expected_files_present():
    assert set(DATA) >= set(EXPECTED_ORDER), sorted(set(EXPECTED_ORDER) - set(DATA))


@pytest.mark.parametrize("stem", sorted(DATA))
def test_header(stem):
    data = DATA[stem]
    assert data["name"] == stem, "name must equal the file name"
    for key in ("description", "source", "convention"):
        assert isinstance(data.get(key), str) and data[key].strip(), f"missing {key!r}"
    assert "left and right as the person sees it" in data["convention"]
    dims = data["dimensions"]
    assert isinstance(dims, list) and dims and set(dims) <= {2, 3}
    allowed = {"name", "description", "source", "convention", "dimensions", "joints",
               "pairs", "to", "from"}  # fmt: skip
    assert set(data) <= allowed, f"unknown keys {sorted(set(data) - allowed)}"


@pytest.mark.parametrize("stem", sorted(DATA))
def test_joints_form_one_tree(stem):
    data = DATA[stem]
    joints = data["joints"]
    assert isinstance(joints, list) and joints
    for item in joints:
        assert isinstance(item, list) and len(item) == 2, item
        assert all(isinstance(v, str) for v in item), item
        assert SNAKE.match(item[0]), f"joint name {item[0]!r} is not snake_case"
    names = joint_names(data)
    assert len(names) == len(set(names)), "joint names repeat"
    # The trailing number of the name is the joint count (coco_17 has 17 joints); a
    # letter may follow it for variants of one count (body_25b).
    count = re.fullmatch(r"(\d+)[a-z]?", stem.rsplit("_", 1)[1])
    assert count is not None and len(names) == int(count.group(1))

    parents = parents_of(data)
    roots = [n for n, p in parents.items() if p == ""]
    assert len(roots) == 1, f"expected exactly one root, found {roots}"
    for joint, parent in parents.items():
        assert parent == "" or parent in parents, f"{joint}: parent {parent!r} does not exist"
        assert parent != joint, f"{joint} is its own parent"
    for start in names:
        seen, node = set(), start
        while node:
            assert node not in seen, f"the parents form a cycle through {start}"
            seen.add(node)
            node = parents[node]
        assert roots[0] in seen, f"{start} does not reach the root"


@pytest.mark.parametrize("stem", sorted(DATA))
def test_pairs(stem):
    data = DATA[stem]
    names = set(joint_names(data))
    paired: dict[str, str] = {}
    for pair in data.get("pairs", []):
        assert isinstance(pair, list) and len(pair) == 2, pair
        left, right = pair
        assert left != right, f"pair {pair} has one joint twice"
        for joint in pair:
            assert joint in names, f"pair {pair}: {joint!r} is not a joint"
            assert joint not in paired, f"{joint!r} is in two pairs"
        paired[left], paired[right] = right, left
        assert mirror_name(left, names) == ("left", right), f"pair {pair} is not [left, right]"
        assert mirror_name(right, names) == ("right", left), f"pair {pair} is not [left, right]"
    # Every sided joint is paired, with its counterpart; axial joints are not paired.
    for joint in names:
        mirrored = mirror_name(joint, names)
        if mirrored is None:
            assert joint not in paired, f"axial joint {joint!r} is paired"
        else:
            assert mirrored[1] in names, f"{joint!r} has no counterpart {mirrored[1]!r}"
            assert paired.get(joint) == mirrored[1], f"{joint!r} is not paired with {mirrored[1]!r}"


@pytest.mark.parametrize("stem", sorted(EXPECTED_ORDER))
def test_joint_order(stem):
    assert joint_names(DATA[stem]) == EXPECTED_ORDER[stem]


def test_hub_matches_readme():
    assert [tuple(j) for j in DATA[HUB]["joints"]] == HUB_JOINTS


def test_cmu_parents_match_asf_hierarchy():
    expected = {"root": ""}
    for line in CMU_HIERARCHY.strip().splitlines():
        parent, *children = line.split()
        for child in children:
            expected[child] = parent
    assert parents_of(DATA["cmu_31"]) == expected


@pytest.mark.parametrize(
    ("stem", "direction", "other", "table"),
    MAPPINGS,
    ids=[f"{s}-{d}-{o}" for s, d, o, _ in MAPPINGS],
)
def test_mapping_table(stem, direction, other, table):
    assert other in DATA, f"[{direction}.{other}] names an unknown skeleton"
    assert other != stem
    assert isinstance(table, dict) and table
    own, theirs = set(joint_names(DATA[stem])), set(joint_names(DATA[other]))
    # [to.X]: keys are X's joints, made from ours; [from.X]: keys are ours, made from X's.
    targets, sources = (theirs, own) if direction == "to" else (own, theirs)
    for key, value in table.items():
        assert key in targets, f"[{direction}.{other}] {key!r} is not a target joint"
        weights = terms(value)
        for joint in weights:
            assert joint in sources, f"[{direction}.{other}] {key}: unknown joint {joint!r}"
        total = math.fsum(weights.values())
        assert abs(total - 1.0) <= 1e-9, f"[{direction}.{other}] {key}: weights sum to {total}"


@pytest.mark.parametrize("stem", sorted(DATA))
def test_one_to_one_mappings_agree_both_ways(stem):
    """Where a file has both [to.X] and [from.X], one-to-one entries are inverses."""
    data = DATA[stem]
    for other, to_table in data.get("to", {}).items():
        from_table = data.get("from", {}).get(other)
        if from_table is None:
            continue
        to_pairs = {(v, k) for k, v in to_table.items() if isinstance(v, str)}
        from_pairs = {(k, v) for k, v in from_table.items() if isinstance(v, str)}
        assert to_pairs == from_pairs, sorted(to_pairs ^ from_pairs)


@pytest.mark.parametrize("stem", sorted(set(DATA) - {HUB}))
def test_every_layout_maps_to_the_hub(stem):
    assert HUB in DATA[stem].get("to", {}), f"{stem} has no [to.{HUB}]"


def test_hub_mappings_use_shared_joints():
    """The joint sets each layout gives to, and takes from, the 28-joint layout."""
    limbs = {f"{side}_{part}" for side in ("left", "right")
             for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")}  # fmt: skip
    toes = {"left_toe", "right_toe"}
    given = {stem: set(DATA[stem]["to"][HUB]) for stem in DATA if stem != HUB}
    assert given["coco_17"] == limbs
    assert given["coco_18"] == limbs | {"neck"}
    assert given["body_25"] == limbs | toes | {"neck", "pelvis"}
    assert given["halpe_26"] == limbs | toes | {"neck", "pelvis", "head_top"}
    assert given["h36m_17"] == limbs | {"pelvis", "spine", "neck", "head", "head_top"}
    assert given["cmu_31"] == set(EXPECTED_ORDER[HUB])
    # A face point never makes a 28-joint joint.
    face = {"nose", "left_eye", "right_eye", "left_ear", "right_ear"}
    for stem in ("coco_17", "coco_18", "body_25", "halpe_26"):
        for key, value in DATA[stem]["to"][HUB].items():
            assert not set(terms(value)) & face, f"{stem}: {key} uses a face point"


def test_cmu_hub_mapping_is_the_readme_table():
    table = {k: terms(v) for k, v in DATA["cmu_31"]["to"][HUB].items()}
    expected = {
        "pelvis": {"root": 1.0},
        "spine": {"lowerback": 1.0},
        "spine2": {"upperback": 1.0},
        "spine3": {"thorax": 1.0},
        "spine4": {"lowerneck": 1.0},
        "neck": {"upperneck": 1.0},
        "head": {"upperneck": 0.5, "head": 0.5},
        "head_top": {"head": 1.0},
    }
    for side in ("l", "r"):
        name = "left" if side == "l" else "right"
        expected |= {
            f"{name}_clavicle": {"thorax": 0.5, f"{side}clavicle": 0.5},
            f"{name}_shoulder": {f"{side}clavicle": 1.0},
            f"{name}_elbow": {f"{side}humerus": 1.0},
            f"{name}_wrist": {f"{side}radius": 1.0},
            f"{name}_hand": {f"{side}hand": 1.0},
            f"{name}_hip": {f"{side}hipjoint": 1.0},
            f"{name}_knee": {f"{side}femur": 1.0},
            f"{name}_ankle": {f"{side}tibia": 1.0},
            f"{name}_foot": {f"{side}foot": 1.0},
            f"{name}_toe": {f"{side}toes": 1.0},
        }
    assert table == expected
