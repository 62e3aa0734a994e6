"""The registered motion-capture readers: ``asf_amc`` and ``bvh``."""

import gzip
from pathlib import Path

import numpy as np
import pytest
from synthetic_mocap import amc_text, asf_text

from posekit.io.asf_amc import AsfAmcReader, read_amc
from posekit.io.bvh import CMU_BVH_JOINTS, BvhReader
from posekit.plugins.registry import get_registry, get_skeleton

MOCAP = Path(__file__).resolve().parents[2] / "shared" / "mocap"
TINY_BVH = Path(__file__).parent / "fixtures" / "mocap" / "tiny.bvh"


@pytest.fixture()
def subject(tmp_path):
    (tmp_path / "01.asf").write_text(asf_text())
    text = amc_text(9, seed=0)
    (tmp_path / "01_01.amc").write_text(text)
    (tmp_path / "01_02.amc.gz").write_bytes(gzip.compress(text.replace("\n", "\r\n").encode()))
    return tmp_path


def test_registered_with_suffixes():
    registry = get_registry()
    assert registry.entry("reader", "asf_amc").cls is AsfAmcReader
    assert registry.entry("reader", "bvh").cls is BvhReader
    assert set(AsfAmcReader.suffixes) == {".amc", ".amc.gz"}
    assert set(BvhReader.suffixes) == {".bvh", ".bvh.gz"}


def test_asf_amc_gives_cmu_31_in_3d(subject):
    seq = AsfAmcReader().read(subject / "01_01.amc")
    assert seq.skeleton == "cmu_31" and seq.n_space == 3 and seq.fps == 120.0
    assert seq.keypoints == list(get_skeleton("cmu_31").joint_names)
    motion = read_amc(subject / "01_01.amc")
    np.testing.assert_array_equal(seq.positions()[0], motion.positions)
    gz = AsfAmcReader(fps=60).read(subject / "01_02.amc.gz")
    assert gz.fps == 60.0
    np.testing.assert_array_equal(gz.positions(), seq.positions())
    assert seq.remap("mpi_inf_3dhp_28").observed().all()


def test_asf_amc_sniff(subject, tmp_path):
    assert AsfAmcReader.sniff(subject / "01_01.amc")
    assert AsfAmcReader.sniff(subject / "01_02.amc.gz")
    assert not AsfAmcReader.sniff(subject / "01.asf")
    assert not BvhReader.sniff(subject / "01_01.amc")
    assert BvhReader.sniff(TINY_BVH) and not AsfAmcReader.sniff(TINY_BVH)


def test_asf_amc_other_skeleton_has_no_skeleton_name(tmp_path):
    (tmp_path / "09.asf").write_text(
        ":units\n length 0.45\n:bonedata\n begin\n name femur\n direction 0 -1 0\n"
        " length 9\n axis 0 0 0 XYZ\n dof rx\n end\n:hierarchy\n begin\n root femur\n end\n")
    (tmp_path / "09_01.amc").write_text(":FULLY-SPECIFIED\n:DEGREES\n1\nroot 0 18 0 0 0 0\n"
                                         "femur 0\n")
    seq = AsfAmcReader().read(tmp_path / "09_01.amc")
    assert seq.skeleton is None and seq.keypoints == ["root", "femur"]


def test_bvh_without_cmu_names_keeps_its_joints():
    seq = BvhReader(scale=0.01).read(TINY_BVH)
    assert seq.skeleton is None and seq.n_space == 3


def test_cmu_renaming_covers_every_cmu_31_joint():
    assert set(CMU_BVH_JOINTS) == set(get_skeleton("cmu_31").joint_names)
    assert len(set(CMU_BVH_JOINTS.values())) == 31


@pytest.mark.skipif(not (MOCAP / "cmu" / "bvh" / "13_29.bvh").is_file(),
                    reason="shared mocap not available")
def test_cmu_bvh_reads_as_cmu_31():
    seq = BvhReader(first_frame=1).read(MOCAP / "cmu" / "bvh" / "13_29.bvh")
    assert seq.skeleton == "cmu_31" and round(seq.fps) == 120
    positions = seq.positions()[0]
    skeleton = get_skeleton("cmu_31")
    lengths = np.stack([np.linalg.norm(positions[:, c] - positions[:, p], axis=-1)
                        for p, c in skeleton.bones], axis=1)
    assert lengths.std(axis=0).max() < 1e-9  # rigid bones
    femur = lengths[0, [c for _, c in skeleton.bones].index(skeleton.index("lfemur"))]
    assert 0.35 < femur < 0.5  # metres
    assert seq.remap("mpi_inf_3dhp_28").observed().all()
