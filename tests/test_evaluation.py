"""posekit.evaluation.scoring, the evaluate stage and ``posekit evaluate`` on hand-made predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from posekit.cli import app
from posekit.core.sequence import PoseSequence
from posekit.evaluation.files import evaluate_files
from posekit.evaluation.plots import plot_result
from posekit.evaluation.scoring import (
    UPSAMPLE_JOINTS,
    Evaluation,
    EvaluationError,
    parse_joints,
)
from posekit.plugins.registry import get_skeleton, get_stage
from posekit.stages.provenance import apply_stage

NAMES = get_skeleton("mpi_inf_3dhp_28").joint_names
HEAD_TOP, NECK = NAMES.index("head_top"), NAMES.index("neck")
GIVEN = np.array([n in UPSAMPLE_JOINTS for n in NAMES])


def truth(frames: int = 6, head: float = 4.0, seed: int = 0) -> np.ndarray:
    """(T, 28, 2) integer coordinates, head top ``head`` above the neck in every frame."""
    rng = np.random.default_rng(seed)
    gt = rng.integers(-50, 50, size=(frames, 28, 2)).astype(float)
    gt[:, HEAD_TOP] = gt[:, NECK] + [0.0, -head]
    return gt


def sequence(position: np.ndarray, imputed: np.ndarray | None = None) -> PoseSequence:
    """A one-individual PoseSequence from (T, 28, 2)."""
    return PoseSequence.from_arrays(
        position.transpose(0, 2, 1)[..., None],
        skeleton="mpi_inf_3dhp_28",
        imputed=None if imputed is None else imputed[..., None],
    )


def evaluate(pred: np.ndarray, gt: np.ndarray, **kwargs) -> dict:
    evaluation = Evaluation()
    evaluation.add("clip", sequence(pred), sequence(gt), **kwargs)
    return evaluation.result().groups


def test_perfect_prediction_scores_one():
    gt = truth()
    groups = evaluate(gt, gt, given=UPSAMPLE_JOINTS)
    for name in ("all", "added", "given"):
        row = groups[name]
        assert row["pckh@0.1"] == row["pckh@0.5"] == row["pckh@1"] == 1.0
        assert row["auc"] == 1.0
        assert row["mean_error"] == 0.0
        assert row["jitter"] == 0.0
    assert groups["added"]["count"] == 6 * 16 and groups["given"]["count"] == 6 * 12


def test_constant_offset_of_a_quarter_head():
    """Every joint 0.25 head units off: PCKh@0.1 = 0, @0.5 = @1 = 1, and the AUC counts
    the thresholds 0.25, 0.26, ..., 1.00: 76 of the 101."""
    gt = truth(head=4.0)
    pred = gt + [1.0, 0.0]  # 1 pixel = 0.25 head
    row = evaluate(pred, gt, given=[])["all"]
    assert (row["pckh@0.1"], row["pckh@0.5"], row["pckh@1"]) == (0.0, 1.0, 1.0)
    assert row["auc"] == pytest.approx(76 / 101, abs=1e-12)
    assert row["mean_error"] == pytest.approx(0.25)
    assert row["jitter"] == pytest.approx(0.0, abs=1e-12)


def test_offset_on_added_joints_only():
    gt = truth(head=2.0)
    pred = gt.copy()
    pred[:, ~GIVEN] += [0.0, 1.5]  # 0.75 head
    groups = evaluate(pred, gt, given=UPSAMPLE_JOINTS)
    assert groups["given"]["auc"] == 1.0
    assert (groups["added"]["pckh@0.5"], groups["added"]["pckh@1"]) == (0.0, 1.0)
    assert groups["added"]["auc"] == pytest.approx(26 / 101, abs=1e-12)  # 0.75, ..., 1.00
    assert groups["all"]["pckh@0.5"] == pytest.approx(12 / 28)


def test_missing_predictions_count_as_wrong():
    gt = truth()
    pred = gt.copy()
    pred[:3, NAMES.index("left_toe")] = np.nan  # 3 of 6 frames
    pred[:, NAMES.index("right_toe")] = np.nan
    evaluation = Evaluation()
    evaluation.add("clip", sequence(pred), sequence(gt), given=UPSAMPLE_JOINTS)
    result = evaluation.result()
    added = result.groups["added"]
    assert added["pckh@1"] == pytest.approx(1 - 9 / 96)
    assert added["missing"] == pytest.approx(9 / 96)
    assert added["mean_error"] == 0.0  # over predicted entries only
    assert result.joints["left_toe"]["pckh@1"] == 0.5
    assert result.joints["right_toe"]["auc"] == 0.0


def test_missing_ground_truth_is_excluded():
    gt = truth()
    gt[0, NAMES.index("left_toe")] = np.nan
    groups = evaluate(truth(), gt, given=UPSAMPLE_JOINTS)
    assert groups["added"]["count"] == 6 * 16 - 1
    assert groups["added"]["auc"] == 1.0


def test_jitter_of_a_spike():
    gt = truth(frames=5, head=1.0)
    gt[:] = gt[0]  # still ground truth: no acceleration
    pred = gt.copy()
    pred[2, 0] += [1.0, 0.0]  # joint 0: accelerations 1, -2, 1 (head units)
    evaluation = Evaluation()
    evaluation.add("clip", sequence(pred), sequence(gt), given=[])
    result = evaluation.result()
    assert result.joints[NAMES[0]]["jitter"] == pytest.approx(4 / 3)
    assert result.groups["all"]["jitter"] == pytest.approx(4 / 3 / 28)


def test_given_from_imputed_flags_and_from_input():
    gt = truth()
    imputed = np.broadcast_to(~GIVEN, (6, 28)).copy()
    imputed[2, GIVEN.argmax()] = True  # a gap-filled input joint stays "given"
    pred = sequence(gt, imputed=imputed)
    evaluation = Evaluation()
    evaluation.add("clip", pred, sequence(gt))
    result = evaluation.result()
    assert result.groups["given"]["count"] == 6 * 12
    assert {j for j, row in result.joints.items() if row["given"]} == set(UPSAMPLE_JOINTS)

    observed_input = np.where(GIVEN[None, :, None], gt, np.nan)
    evaluation = Evaluation()
    evaluation.add("clip", sequence(gt), sequence(gt), input=sequence(observed_input))
    assert evaluation.result().groups["added"]["count"] == 6 * 16


def test_filled_group_scores_the_entries_the_input_lacked():
    gt = truth(head=4.0)
    seen = np.ones((6, 28), bool)
    seen[2:4, :5] = False  # a 2-frame gap in 5 joints: 10 entries
    pred = gt.copy()
    pred[~seen] += [3.0, 0.0]  # 0.75 head off where the input had nothing
    evaluation = Evaluation()
    evaluation.add("clip", sequence(pred), sequence(gt),
                   input=sequence(np.where(seen[..., None], gt, np.nan)))
    groups = evaluation.result().groups
    assert groups["filled"]["count"] == 10 and groups["added"]["count"] == 0
    assert (groups["filled"]["pckh@0.5"], groups["filled"]["pckh@1"]) == (0.0, 1.0)
    assert groups["given"]["pckh@0.5"] == pytest.approx(1 - 10 / (6 * 28))


def test_mismatched_frames_and_unknown_joints_are_refused():
    gt = truth()
    with pytest.raises(EvaluationError, match="frames"):
        Evaluation().add("clip", sequence(gt[:4]), sequence(gt))
    with pytest.raises(EvaluationError, match="nose"):
        Evaluation().add("clip", sequence(gt), sequence(gt), given=["nose"])
    with pytest.raises(EvaluationError, match="nothing to evaluate"):
        Evaluation().result()


def test_parse_joints():
    assert parse_joints("upsample") == UPSAMPLE_JOINTS
    assert parse_joints("neck,head_top") == ("neck", "head_top")


def test_outputs_json_csv_and_plots(tmp_path):
    gt = truth()
    evaluation = Evaluation(thresholds=(0.2, 0.5))
    evaluation.add("a", sequence(gt + 1.0), sequence(gt), given=UPSAMPLE_JOINTS)
    result = evaluation.result()
    data = json.loads(result.write_json(tmp_path / "m.json").read_text())
    assert data["groups"]["all"]["pckh@0.5"] == 1.0
    assert len(data["curves"]["added"]) == 101 and "a" in data["clips"]
    lines = result.write_csv(tmp_path / "m.csv").read_text().splitlines()
    assert lines[0].startswith("scope,name,pckh@0.2,pckh@0.5,auc")
    assert len(lines) == 1 + 4 + 28
    paths = plot_result(result, tmp_path / "plots")
    assert [p.name for p in paths] == ["pckh_curves.png", "per_joint.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in paths)
    assert "added" in result.table()


@pytest.fixture
def folders(tmp_path):
    pred, ref = tmp_path / "pred", tmp_path / "ref"
    for i, name in enumerate(["walk", "run", "jump"]):
        gt = truth(seed=i)
        sequence(gt).to_netcdf(ref / f"{name}.nc")
        if name != "jump":
            sequence(gt + [0.0, 1.0]).to_netcdf(pred / f"{name}.nc")
    sequence(truth()).to_netcdf(pred / "extra.nc")
    return pred, ref


def test_evaluate_files_reports_missing(folders):
    result = evaluate_files(*folders, given=UPSAMPLE_JOINTS)
    assert sorted(result.clips) == ["run", "walk"]
    assert result.missing == {"pred": ["jump"], "ref": ["extra"]}
    assert not result.complete
    assert result.groups["all"]["pckh@0.5"] == 1.0 and result.groups["all"]["pckh@0.1"] == 0.0


def test_cli_reports_missing_file_and_exit_status(folders, tmp_path):
    pred, ref = folders
    out = tmp_path / "scores.json"
    result = CliRunner().invoke(
        app, ["evaluate", str(pred), str(ref), "--given", "upsample", "--json", str(out), "-q"]
    )
    assert result.exit_code == 1
    assert "missing prediction: jump" in result.output
    assert "missing reference: extra" in result.output
    assert json.loads(out.read_text())["missing"]["pred"] == ["jump"]


def test_cli_complete_folders_exit_zero(folders, tmp_path):
    pred, ref = folders
    (ref / "jump.nc").unlink()
    (pred / "extra.nc").unlink()
    result = CliRunner().invoke(
        app, ["evaluate", str(pred), str(ref), "--csv", str(tmp_path / "s.csv"), "-q",
              "--no-joints"]
    )
    assert result.exit_code == 0, result.output
    assert "2 clips evaluated" in result.output
    assert (tmp_path / "s.csv").is_file()


def test_cli_single_files_and_bad_options(folders):
    pred, ref = folders
    runner = CliRunner()
    ok = runner.invoke(app, ["evaluate", str(pred / "walk.nc"), str(ref / "walk.nc"), "-q"])
    assert ok.exit_code == 0, ok.output
    both = runner.invoke(
        app, ["evaluate", str(pred), str(ref), "--given", "neck", "--input", str(ref)]
    )
    assert both.exit_code == 2
    nothing = runner.invoke(app, ["evaluate", str(pred / "nope"), str(ref), "-q"])
    assert nothing.exit_code == 1 and "nope" in nothing.output


def test_evaluate_stage_writes_json_and_passes_the_sequence(tmp_path):
    gt = truth()
    ref = sequence(gt).to_netcdf(tmp_path / "truth" / "clip.nc")
    seq = sequence(gt).with_attrs(source_file=str(tmp_path / "input" / "clip.json"))
    stage = get_stage("evaluate")(reference=tmp_path / "truth", output=tmp_path / "m.json",
                                  given="upsample")
    out = apply_stage(stage, seq)
    assert np.array_equal(out.positions(), seq.positions(), equal_nan=True)
    assert out.log[-1]["parameters"]["auc_added"] == 1.0
    assert json.loads((tmp_path / "m.json").read_text())["groups"]["given"]["auc"] == 1.0
    assert apply_stage(get_stage("evaluate")(reference=ref), seq).log[-1]["stage"] == "evaluate"
