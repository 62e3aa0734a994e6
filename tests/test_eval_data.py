"""Evaluation data: the three input conditions, their statistics, and the files."""

import json

import numpy as np
import pytest
from synthetic_mocap import write_mocap_folder

from posekit.core.sequence import PoseSequence
from posekit.ops.metrics import head_size
from posekit.plugins.registry import get_skeleton
from training.build_eval import (
    CONDITIONS,
    GAP_LENGTH,
    HEAD_JOINTS,
    HPE_NOISE,
    INPUT_JOINTS,
    alphapose_records,
    expected_missing_fraction,
    main,
    make_conditions,
    occlusion_mask,
)

HUB = get_skeleton("mpi_inf_3dhp_28")
COCO = get_skeleton("coco_17")
INPUTS = np.isin(HUB.joint_names, INPUT_JOINTS)


def _truth(n_frames, seed=0):
    """A projected-looking random walk of 28 joints, head size about 40 px."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(scale=60.0, size=(28, 2)) + [960, 540]
    pose[HUB.index("head_top")] = pose[HUB.index("neck")] + [0.0, -40.0]
    drift = np.cumsum(rng.normal(scale=0.5, size=(n_frames, 1, 2)), axis=0)
    return pose + drift


def test_occlusion_mask_statistics():
    mask = occlusion_mask(np.random.default_rng(0), (40000, 28))
    assert abs(mask.mean() - expected_missing_fraction()) < 0.005
    # Stationary from the first frame: gaps may have started before the clip.
    first = occlusion_mask(np.random.default_rng(2), (5, 100000))
    assert abs(first.mean() - expected_missing_fraction()) < 0.005
    assert 0.18 < expected_missing_fraction() < 0.2
    # Rare gaps do not overlap: their lengths are uniform in [1, 20].
    rare = occlusion_mask(np.random.default_rng(1), (200000, 4), probability=0.002)
    lengths = []
    for joint in range(rare.shape[1]):
        edges = np.diff(np.concatenate([[0], rare[:, joint].astype(int), [0]]))
        lengths += list(np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0])
    lengths = np.array(lengths)
    assert lengths.min() == 1 and lengths.max() <= 2 * GAP_LENGTH[1]
    assert (lengths <= GAP_LENGTH[1]).mean() > 0.95
    assert abs(np.median(lengths) - 10.5) <= 1.5
    starts = len(lengths) / rare.size
    assert 0.0017 < starts < 0.0021  # ~0.002, a little less where gaps merge


def test_occlusion_mask_of_a_batch_without_lead_in_follows_its_draws():
    """Each window of a batch: a gap drawn at frame s with length L hides s .. s+L-1,
    cut at the window's end; nothing starts before the window."""
    shape, probability, lengths = (6, 24, 5), 0.05, (1, 20)
    mask = occlusion_mask(np.random.default_rng(3), shape, probability, lengths, lead_in=False)
    rng = np.random.default_rng(3)
    starts = rng.random(shape) < probability
    length = rng.integers(lengths[0], lengths[1] + 1, size=shape)
    expected = np.zeros(shape, dtype=bool)
    for window, frame, joint in zip(*np.nonzero(starts), strict=True):
        expected[window, frame : frame + length[window, frame, joint], joint] = True
    assert starts.any() and np.array_equal(mask, expected)


def test_conditions_missing_patterns_and_noise():
    truth = _truth(30000)
    conditions = make_conditions("01_01", truth, seed=0)
    upsample, hpe, dropout = (conditions[c] for c in CONDITIONS)
    # upsample: the 12 joints exactly, the 16 others missing.
    np.testing.assert_array_equal(upsample[:, INPUTS], truth[:, INPUTS])
    assert np.isnan(upsample[:, ~INPUTS]).all()
    # hpe: the 16 others missing; the 12 with bursts and noise of 0.05 head size.
    assert np.isnan(hpe[:, ~INPUTS]).all()
    missing = np.isnan(hpe[:, INPUTS, 0])
    assert (np.isnan(hpe[:, INPUTS, 0]) == np.isnan(hpe[:, INPUTS, 1])).all()
    assert abs(missing.mean() - expected_missing_fraction()) < 0.01
    error = (hpe - truth)[:, INPUTS] / head_size(truth, *HUB.indices(HEAD_JOINTS))[:, None, None]
    seen = error[~missing]
    assert abs(seen.mean()) < 0.002 and abs(seen.std() - HPE_NOISE) < 0.001
    assert abs(np.corrcoef(seen[:, 0], seen[:, 1])[0, 1]) < 0.02
    # dropout: all 28 joints, exact where seen, with bursts.
    gone = np.isnan(dropout[..., 0])
    assert abs(gone.mean() - expected_missing_fraction()) < 0.01
    assert gone.any(axis=0).all() and (~gone).any(axis=0).all()
    np.testing.assert_array_equal(dropout[~gone], truth[~gone])
    # hpe and dropout draw different bursts.
    assert (np.isnan(hpe[:, INPUTS, 0]) != gone[:, INPUTS]).any()


def test_conditions_are_deterministic_per_clip():
    truth = _truth(300)
    a, b = make_conditions("09_01", truth, 0), make_conditions("09_01", truth, 0)
    for name in CONDITIONS:
        np.testing.assert_array_equal(a[name], b[name])
    c = make_conditions("09_02", truth, 0)
    assert not np.array_equal(np.isnan(a["dropout"]), np.isnan(c["dropout"]))


def test_alphapose_records_layout():
    truth = _truth(500)
    conditions = make_conditions("01_01", truth, 0)
    records = alphapose_records("01_01", truth, conditions["hpe_noisy"],
                                conditions["hpe_occluded"], 0)
    assert len(records) == len(truth)
    body = COCO.indices([j for j in COCO.joint_names if j in INPUT_JOINTS])
    face = [j for j in range(17) if j not in body]
    hidden = conditions["hpe_occluded"][:, HUB.indices([COCO.joint_names[j] for j in body])]
    for t, record in enumerate(records):
        assert set(record) == {"image_id", "category_id", "keypoints", "score", "box", "idx"}
        assert record["image_id"] == f"{t}.jpg" and record["category_id"] == 1
        assert record["idx"] == 0 and len(record["box"]) == 4 and record["box"][2] > 0
        keypoints = np.array(record["keypoints"]).reshape(17, 3)
        scores = keypoints[body, 2]
        assert (scores[hidden[t]] >= 0.05).all() and (scores[hidden[t]] <= 0.3).all()
        assert (scores[~hidden[t]] >= 0.6).all() and (scores[~hidden[t]] <= 0.95).all()
        assert (keypoints[face, 2] == 0).all()
        seen = [COCO.joint_names[j] for j, h in zip(body, hidden[t], strict=True) if not h]
        np.testing.assert_allclose(keypoints[COCO.indices(seen), :2],
                                   conditions["hpe"][t, HUB.indices(seen)], atol=1e-3)
        assert np.isfinite(keypoints).all()
        assert record["score"] > 1.0


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    mocap = write_mocap_folder(root / "mocap")
    folder = main(["--split", "test", "--mocap", str(mocap), "--out", str(root / "eval"),
                   "--cache", str(root / "cache"), "--quiet"])
    return root, mocap, folder


def test_files_and_layout(built):
    _, _, folder = built
    for clip, n_frames in (("01_01", 100), ("01_02", 61)):
        truth = PoseSequence.read_netcdf(folder / "truth" / f"{clip}.nc")
        assert truth.skeleton == "mpi_inf_3dhp_28" and truth.fps == 30.0 and truth.n_space == 2
        assert truth.n_frames == n_frames and truth.observed().all()
        for name in CONDITIONS:
            seq = PoseSequence.read_netcdf(folder / name / f"{clip}.nc")
            assert seq.keypoints == truth.keypoints and seq.n_frames == n_frames
            assert seq.dataset.attrs["condition"] == name
            observed = seq.observed()[0]
            if name == "upsample":
                assert (observed == INPUTS).all()
                np.testing.assert_array_equal(seq.positions()[0][:, INPUTS],
                                              truth.positions()[0][:, INPUTS])
            elif name == "hpe":
                assert not observed[:, ~INPUTS].any()
        for name in ("upsample", "hpe"):
            records = json.loads((folder / f"{name}_alphapose" / f"{clip}.json").read_text())
            assert len(records) == n_frames and len(records[0]["keypoints"]) == 51
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["clips"]) == {"01_01", "01_02"} and manifest["frames"] == 161
    camera = json.loads(truth.dataset.attrs["camera"])
    assert camera["focal"] == 1000.0 and camera["image_size"] == [1920, 1080]


def test_build_is_deterministic(built, tmp_path):
    _, mocap, folder = built
    again = main(["--split", "test", "--mocap", str(mocap), "--out", str(tmp_path),
                  "--no-clip-cache", "--quiet"])
    for name in ("truth", *CONDITIONS):
        a = PoseSequence.read_netcdf(folder / name / "01_02.nc").positions()
        b = PoseSequence.read_netcdf(again / name / "01_02.nc").positions()
        np.testing.assert_array_equal(a, b)
    for name in ("upsample_alphapose", "hpe_alphapose"):
        assert (folder / name / "01_01.json").read_text() == (again / name / "01_01.json").read_text()


def test_tables_and_results_page(built, tmp_path):
    """The tables runner scores methods on the built split and writes the results page."""
    from training.reproduce_tables import main as tables

    _, _, folder = built
    page = tmp_path / "docs" / "results.md"
    rows = tables(["--split", "test", "--eval", str(folder.parent), "--methods",
                   "mean_pose,ridge,jumps,jumps_fast", "--conditions", "upsample,hpe",
                   "--paper-frames", "50", "--set", 'jumps.iterations=2',
                   "--results-md", str(page), "--quiet"])
    full = {(r["method"], r["condition"]): r for r in rows if not r["subset"]}
    subset = [r for r in rows if r["subset"]]
    # The paper-settings method runs on the subset only, the fast preset on both.
    assert ("jumps", "upsample") not in full and ("jumps_fast", "upsample") in full
    assert {r["method"] for r in subset} == {"jumps", "jumps_fast"}
    assert all(r["clips"] == 1 for r in subset) and full["ridge", "hpe"]["clips"] == 2
    ridge = full["ridge", "upsample"]["groups"]
    assert ridge["given"]["auc"] == 1.0 and 0.0 < ridge["added"]["auc"] < 1.0
    text = page.read_text()
    assert "Table I" in text and "Table II" in text and "*paper: JUMPS*" in text
    assert "per-frame ridge regression" in text and "subset" in text
    for image in ("results-added-auc.png", "results-upsample-curves.png",
                  "results-hpe-joints.png"):
        assert (page.parent / "images" / image).stat().st_size > 1000


def test_diagnosis_paths(built, tmp_path):
    from training.diagnose_jumps import PATHS
    from training.diagnose_jumps import main as diagnose

    _, _, folder = built
    results = diagnose(["--split", "test", "--eval", str(folder.parent), "--limit", "1",
                        "--json", str(tmp_path / "d.json")])
    assert set(results) == set(PATHS)
    assert results["ridge"]["given_auc"] == 1.0  # given joints pass through
    assert results["ceiling"]["given_auc"] < 1.0  # the generator's own version of them
    assert json.loads((tmp_path / "d.json").read_text())["paths"] == results


def test_linear_reference_keeps_a_sequence_at_full_rank():
    """At full rank the PCA code keeps every window, so the merged half-overlapping
    windows give the sequence back (short and long clips); a small code does not."""
    from training.diagnose_jumps import linear_path
    from training.linear_code import LinearCode

    rng = np.random.default_rng(0)
    windows = rng.normal(size=(1500, 24, 28, 2))
    for n_frames in (10, 61):
        positions = rng.normal(size=(n_frames, 2, 28, 1)) * 30 + 300
        truth = PoseSequence.from_arrays(positions, skeleton="mpi_inf_3dhp_28", fps=30)
        full = linear_path(LinearCode.fit(windows, 24 * 28 * 2))(None, truth)
        np.testing.assert_allclose(full.positions(), truth.positions(), atol=1e-6)
        small = linear_path(LinearCode.fit(windows, 4))(None, truth)
        assert not np.allclose(small.positions(), truth.positions(), atol=1.0)
