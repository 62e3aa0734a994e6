"""``posekit info --reader NAME --param KEY=VALUE`` and its measured/imputed/missing
summary (issue 17)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from posekit.cli import app
from posekit.cli.commands.info import keypoint_shares
from posekit.core.sequence import PoseSequence

runner = CliRunner()

BVH = (
    "HIERARCHY\nROOT Hips\n{\n OFFSET 0 0 0\n"
    " CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    " End Site\n {\n  OFFSET 0 -40 0\n }\n}\n"
    "MOTION\nFrames: 2\nFrame Time: 0.04\n0 40 0 0 0 0\n0 40 0 0 0 0\n"
)


def fields_of(output: str) -> dict[str, str]:
    return dict(line.split(None, 1) for line in output.splitlines() if line and line[0] != " ")


def test_reader_parameters_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "a.bvh"
    path.write_text(BVH)
    result = runner.invoke(app, ["info", str(path), "--reader", "bvh", "--param", "scale=0.5",
                                 "-p", "first_frame=1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    fields = fields_of(result.stdout)
    assert fields["frames"] == "1 (0.04 s)" and fields["log"] == "0 entries"


def test_a_bad_parameter_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "a.bvh"
    path.write_text(BVH)
    for args, message in (
        (["--param", "scale=big"], "expected float | None"),
        (["--param", "scael=1"], "scael"),
        (["--param", "scale"], "expected key=value"),
        (["--reader", "bhv"], "did you mean 'bvh'"),
    ):
        result = runner.invoke(app, ["info", str(path), *args])
        assert result.exit_code == 2 and message in result.stderr, (args, result.output)


def test_measured_imputed_and_missing_add_up(tmp_path: Path) -> None:
    position = np.ones((3, 2, 17, 2))
    position[0, :, :5, 0] = np.nan  # 5 of 102 keypoints missing
    imputed = np.zeros((3, 17, 2), dtype=bool)
    imputed[1:, :, 1] = True  # 34 of 102 generated
    seq = PoseSequence.from_arrays(position, skeleton="coco_17", imputed=imputed)
    path = seq.to_netcdf(tmp_path / "a.nc")
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    fields = fields_of(result.stdout)
    assert fields["measured"].startswith("61.8 %")
    assert fields["imputed"].startswith("33.3 %")
    assert fields["missing"].startswith("4.9 %")
    assert "id_1: measured 33.3 %, imputed 66.7 %, missing 0.0 %" in result.stdout


@settings(max_examples=60, deadline=None)
@given(
    observed=st.lists(st.booleans(), min_size=1, max_size=40),
    seed=st.integers(0, 1000),
)
def test_shares_always_add_up_to_100(observed: list[bool], seed: int) -> None:
    observed_array = np.array(observed).reshape(1, -1)
    imputed = np.random.default_rng(seed).random(observed_array.shape) < 0.5
    for row in keypoint_shares(observed_array, imputed):
        values = [float(re.match(r"([\d.]+) %", share).group(1)) for share in row]
        assert round(sum(values), 1) == 100.0 and all(v >= 0 for v in values)
