"""New people for training: skeletons and postures mixed from the train subjects."""

import json

import numpy as np
import pytest
from synthetic_mocap import asf_text, write_mocap_folder

from posekit.plugins.registry import get_skeleton
from training.build_windows import WindowSettings, build_windows
from training.mocap import read_clip
from training.people import (
    POSTURE_BONES,
    bone_vectors,
    mixed_people,
    mixed_skeleton,
    posture_stats,
    subject_skeletons,
    twin,
)


@pytest.fixture(scope="module")
def mocap(tmp_path_factory):
    """Two train subjects whose bones differ (02's are 1.3 times 01's), one val subject."""
    root = write_mocap_folder(tmp_path_factory.mktemp("mocap"),
                              {"01_01": 240, "01_02": 200, "02_01": 240, "02_02": 160,
                               "03_01": 120})
    lines = [f"     length {float(line.split()[1]) * 1.3:g}" if line.startswith("     length")
             else line for line in asf_text().splitlines()]
    (root / "cmu/subjects/02/02.asf").write_text("\n".join(lines))
    splits = json.loads((root / "splits.json").read_text())
    splits["splits"] = {"train": ["01", "02"], "val": ["03"], "test": ["03"]}
    (root / "splits.json").write_text(json.dumps(splits))
    return root


def test_twins():
    assert [twin(b) for b in ("lfemur", "rclavicle", "lowerback", "head")] == [
        "rfemur", "lclavicle", "lowerback", "head"]


def test_mixed_bones_blend_two_donors_and_twins_share_the_draw(mocap):
    donors = subject_skeletons(mocap, "train")
    small, large = bone_vectors(donors["01"]), bone_vectors(donors["02"])
    for seed in range(5):
        mixed = mixed_skeleton(donors["01"], list(donors.values()), np.random.default_rng(seed))
        vectors = bone_vectors(mixed)
        ratios = {}
        for name, vector in vectors.items():
            low, high = np.linalg.norm(small[name]), np.linalg.norm(large[name])
            length = np.linalg.norm(vector)
            assert low - 1e-9 <= length <= high + 1e-9
            # Same direction in both donors: the blend keeps it.
            np.testing.assert_allclose(vector / length, small[name] / low, atol=1e-9)
            ratios[name] = length / low
        for name in vectors:
            assert ratios[name] == pytest.approx(ratios[twin(name)])
        assert len({round(r, 9) for r in ratios.values()}) > 1  # bones draw independently


def test_posture_stats_are_over_and_between_subjects(mocap):
    stats = posture_stats(mocap, "train")
    assert set(stats) == set(POSTURE_BONES)
    mean, between, within = stats["head"]
    assert mean.shape == between.shape == within.shape == (3,)
    assert (between > 0).all() and (within > 0).all()


def test_new_people_replay_the_motion_on_other_bodies(mocap):
    original = read_clip(mocap / "cmu/subjects/01/01_01.amc")
    first = mixed_people(mocap, "01_01", "train", 2, np.random.default_rng(0))
    again = mixed_people(mocap, "01_01", "train", 2, np.random.default_rng(0))
    assert len(first) == 2
    for person, repeat in zip(first, again):
        assert person.shape == original.shape and person.dtype == np.float32
        assert np.isfinite(person).all()
        np.testing.assert_array_equal(person, repeat)
        assert not np.allclose(person, original, atol=1e-3)
    # The root's motion is the clip's own: the pelvis follows the same path.
    np.testing.assert_allclose(first[0][:, 4], original[:, 4], atol=1e-5)
    assert not np.allclose(first[0], first[1], atol=1e-3)


def test_partners_move_the_upper_body_only(mocap):
    own = mixed_people(mocap, "01_01", "train", 1, np.random.default_rng(3))[0]
    mixed = mixed_people(mocap, "01_01", "train", 1, np.random.default_rng(3),
                         partners=["02_01"])[0]
    sk = get_skeleton("mpi_inf_3dhp_28")
    legs = sk.indices(["left_knee", "right_ankle", "left_hip"])
    arms = sk.indices(["left_elbow", "right_wrist", "head_top"])
    # The same skeleton draw comes first: the legs, relative to the pelvis, are the
    # clip's own; the arms and head move as in the partner.
    relative = lambda x, j: x[:, j] - x[:, [4]]
    np.testing.assert_allclose(relative(mixed, legs), relative(own, legs), atol=1e-4)
    assert not np.allclose(relative(mixed, arms), relative(own, arms), atol=1e-2)


def test_builder_adds_people_per_clip(mocap, tmp_path):
    plain = build_windows(WindowSettings(split="train", cameras=2), mocap=mocap, out=tmp_path,
                          progress=False)
    more = build_windows(WindowSettings(split="train", cameras=2, people=2), mocap=mocap,
                         out=tmp_path, progress=False)
    mixed = build_windows(WindowSettings(split="train", cameras=2, people=2, mix_motions=True),
                          mocap=mocap, out=tmp_path, progress=False)
    with np.load(plain) as a, np.load(more) as b, np.load(mixed) as c:
        assert len(b["windows"]) == len(c["windows"]) == 3 * len(a["windows"])
        assert json.loads(str(b["settings"]))["people"] == 2
        assert json.loads(str(c["settings"]))["mix_motions"]
        assert np.isfinite(b["windows"]).all() and np.isfinite(c["windows"]).all()
        assert not np.allclose(b["windows"], c["windows"])
    with pytest.raises(ValueError, match="--people"):
        WindowSettings(split="train", people=-1)


def test_probe_normalizes_by_the_inputs_only():
    from training.people_probe import ADDED, by_inputs

    rng = np.random.default_rng(0)
    windows = rng.normal(size=(3, 24, 28, 2))
    moved = windows * 2.5 + np.array([10.0, -4.0])
    np.testing.assert_allclose(by_inputs(moved), by_inputs(windows), atol=1e-4)
    changed = windows.copy()
    changed[:, :, ADDED] += 5.0  # the added joints do not enter the normalization
    np.testing.assert_allclose(np.delete(by_inputs(changed), ADDED, axis=2),
                               np.delete(by_inputs(windows), ADDED, axis=2), atol=1e-5)


def test_probe_scores_and_learns():
    from training.people_probe import added_auc, train_probe

    rng = np.random.default_rng(1)
    windows = rng.normal(size=(64, 24, 28, 2)).astype(np.float32)
    perfect, per_joint = added_auc(windows, windows)
    assert perfect == pytest.approx(1.0) and per_joint.shape == (16,)
    far, _ = added_auc(windows + 1e3, windows)
    assert far == pytest.approx(0.0)
    predict = train_probe(windows, steps=3, batch=8)
    assert predict(windows[:5]).shape == (5, 24, 28, 2)


def test_probe_keeps_the_first_subjects_windows(mocap, tmp_path):
    from training.people_probe import first_subjects

    path = build_windows(WindowSettings(split="train", cameras=2), mocap=mocap, out=tmp_path,
                         progress=False)
    with np.load(path) as data:
        windows, clips = data["windows"], data["clip"].astype(str)
    ones, subjects = first_subjects(path, mocap, 1)
    assert subjects == ["01"]
    np.testing.assert_array_equal(ones, windows[np.char.startswith(clips, "01_")])
    assert 0 < len(ones) < len(windows)
    both, subjects = first_subjects(path, mocap, 5)  # more than the split has: all of them
    assert subjects == ["01", "02"]
    np.testing.assert_array_equal(both, windows)


def test_val_variants_exchange_one_part(mocap):
    from training.people_probe import val_variants

    variants = val_variants(mocap, WindowSettings(split="val", cameras=2))
    assert set(variants) == {"val", "val_on_train_skeletons", "val_with_train_posture"}
    shapes = {v.shape for v in variants.values()}
    assert len(shapes) == 1 and np.isfinite(variants["val"]).all()
    # Subject 03's skeleton is 01's (the first train skeleton): replaying on it changes nothing.
    np.testing.assert_allclose(variants["val_on_train_skeletons"], variants["val"], atol=1e-5)
    assert not np.allclose(variants["val_with_train_posture"], variants["val"], atol=1e-3)


def test_docstring_examples_run():
    import doctest

    import training.people

    result = doctest.testmod(training.people, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
