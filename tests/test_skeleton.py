"""Skeleton loader: every shipped file validates; each kind of broken file is reported."""

import pytest

from posekit.core.errors import RemapError, SkeletonFileError
from posekit.core.skeleton import joint_mapping, load_skeleton
from posekit.plugins.registry import get_registry, get_skeleton

GOOD = '''
name = "tiny"
joints = [["root", ""], ["left_leg", "root"], ["right_leg", "root"]]
pairs = [["left_leg", "right_leg"]]
[to.other]
a = "root"
b = { left_leg = 0.5, right_leg = 0.5 }
'''


@pytest.mark.parametrize("name", sorted(get_registry().skeleton_files))
def test_every_shipped_file_validates(name):
    skeleton = get_skeleton(name)
    assert skeleton.name == name
    assert len(set(skeleton.joint_names)) == skeleton.n_joints
    if name != "mpi_inf_3dhp_28":
        mapping = joint_mapping(skeleton, get_skeleton("mpi_inf_3dhp_28"))
        assert mapping.defined.sum() >= 12


def test_good_file(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    skeleton = load_skeleton(path)
    assert skeleton.parents == (-1, 0, 0)
    assert skeleton.pairs == ((1, 2),)
    assert skeleton.mappings_to["other"]["b"] == (("left_leg", 0.5), ("right_leg", 0.5))


@pytest.mark.parametrize(
    ("old", "new", "entry", "message"),
    [
        ('["right_leg", "root"]', '["left_leg", "root"]', "left_leg", "used twice"),
        ('["left_leg", "root"]', '["left_leg", ""]', "joints", "exactly one root"),
        ('["right_leg", "root"]', '["right_leg", "hip"]', "right_leg", "parent 'hip'"),
        (
            'joints = [["root", ""], ["left_leg", "root"], ["right_leg", "root"]]',
            'joints = [["root", ""], ["left_leg", "right_leg"], ["right_leg", "left_leg"]]',
            "left_leg",
            "cycle",
        ),
        ('pairs = [["left_leg", "right_leg"]]', 'pairs = [["left_leg", "left_leg"]]', None, "distinct"),
        ('pairs = [["left_leg", "right_leg"]]', 'pairs = [["left_leg", "arm"]]', None, "'arm' is not a joint"),
        (
            'pairs = [["left_leg", "right_leg"]]',
            'pairs = [["left_leg", "right_leg"], ["right_leg", "root"]]',
            None,
            "two pairs",
        ),
        ("left_leg = 0.5, right_leg = 0.5", "left_leg = 0.5, right_leg = 0.4", "to.other.b", "sum to 1"),
        ('a = "root"', 'a = "tail"', "to.other.a", "unknown joint 'tail'"),
        ('a = "root"', "a = 3", "to.other.a", "joint name or a table"),
        ('name = "tiny"', "", "name", "missing 'name'"),
        ('name = "tiny"', 'name = "tiny', None, "not valid TOML"),
    ],
)
def test_broken_files_name_path_and_entry(tmp_path, old, new, entry, message):
    path = tmp_path / "broken.toml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new))
    with pytest.raises(SkeletonFileError, match=message) as info:
        load_skeleton(path)
    assert str(path) in str(info.value)
    if entry is not None:
        assert info.value.entry == entry


def test_missing_mapping_is_reported():
    with pytest.raises(RemapError, match="no joint mapping"):
        joint_mapping(get_skeleton("coco_17"), get_skeleton("h36m_17"))


def test_mapping_through_hub_composes_weights():
    mapping = joint_mapping(
        get_skeleton("cmu_31"), get_skeleton("h36m_17"), hub=get_skeleton("mpi_inf_3dhp_28")
    )
    cmu = get_skeleton("cmu_31")
    thorax = get_skeleton("h36m_17").index("thorax")  # thorax <- neck <- upperneck end
    assert mapping.terms[thorax] == ((cmu.index("upperneck"), 1.0),)


def test_mirror_permutation_is_an_involution():
    for name in get_registry().skeleton_files:
        perm = get_skeleton(name).mirror_permutation()
        assert (perm[perm] == range(len(perm))).all()
