"""Training windows: cutting, augmentations, and the cached, deterministic builder."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from synthetic_mocap import write_mocap_folder

from posekit.jumps.normalize import NECK, PELVIS, denormalize_windows
from posekit.plugins.registry import get_skeleton
from training.augment import bone_factors, mirror, scale_bones
from training.build_windows import (
    WindowSettings,
    build_windows,
    clip_cameras,
    cut_windows,
    main,
    window_starts,
)
from training.mocap import clip_rng, load_clips, split_clips

KEYS = ("windows", "clip", "camera", "start", "mirrored", "center", "scale", "settings")


@given(st.integers(1, 400), st.integers(1, 30), st.data())
def test_window_starts_cover_every_frame(n_frames, window, data):
    stride = data.draw(st.integers(1, window))
    starts = window_starts(n_frames, window, stride)
    covered = np.zeros(max(n_frames, window), dtype=bool)
    for start in starts:
        covered[start:start + window] = True
    assert covered.all()
    assert starts[0] == 0 and (np.diff(starts) > 0).all() and (np.diff(starts) <= stride).all()
    assert starts[-1] + window == max(n_frames, window)
    if n_frames >= window:  # every start on the stride grid but the last
        assert (starts[:-1] % stride == 0).all()


def test_stride_longer_than_a_window_is_refused():
    with pytest.raises(ValueError, match="stride"):
        window_starts(100, 24, 25)
    with pytest.raises(ValueError, match="stride"):
        WindowSettings(split="train", stride=30)


def test_cut_windows_content_and_padding():
    sequence = np.arange(30.0)[:, None, None] * np.ones((1, 28, 2))
    windows = cut_windows(sequence, window_starts(30, 24, 4), 24)
    assert windows.shape == (3, 24, 28, 2)
    np.testing.assert_array_equal(windows[:, :, 0, 0], np.arange(24) + np.array([[0], [4], [6]]))
    short = cut_windows(sequence[:10], window_starts(10, 24, 4), 24)
    assert short.shape == (1, 24, 28, 2)
    np.testing.assert_array_equal(short[0, :, 0, 0], np.minimum(np.arange(24), 9))


def test_mirror_swaps_sides_and_negates_x():
    skeleton = get_skeleton("mpi_inf_3dhp_28")
    pose = np.random.default_rng(0).normal(size=(5, 28, 3))
    out = mirror(pose)
    left, right = skeleton.index("left_wrist"), skeleton.index("right_wrist")
    np.testing.assert_array_equal(out[:, right], pose[:, left] * [-1, 1, 1])
    np.testing.assert_array_equal(out[:, PELVIS], pose[:, PELVIS] * [-1, 1, 1])
    np.testing.assert_array_equal(mirror(out), pose)


def test_bone_scale_keeps_left_and_right_equal_and_the_pelvis():
    skeleton = get_skeleton("mpi_inf_3dhp_28")
    pose = np.random.default_rng(1).normal(size=(7, 28, 3))
    pose = (pose + mirror(pose)) / 2  # a symmetric body: left bones as long as right ones
    factors = bone_factors(np.random.default_rng(2), 0.2)
    assert np.all(np.abs(factors - 1) <= 0.2) and len(set(factors.round(12))) > 5
    out = scale_bones(pose, factors)
    np.testing.assert_array_equal(out[:, PELVIS], pose[:, PELVIS])
    lengths = {}
    for child, parent in enumerate(skeleton.parents):
        if parent >= 0:
            before = np.linalg.norm(pose[:, child] - pose[:, parent], axis=-1)
            after = np.linalg.norm(out[:, child] - out[:, parent], axis=-1)
            np.testing.assert_allclose(after, factors[child] * before)
            lengths[skeleton.joint_names[child]] = after
    for left, right in skeleton.pairs:
        np.testing.assert_allclose(lengths[skeleton.joint_names[left]],
                                   lengths[skeleton.joint_names[right]])


def test_clip_seeds_are_stable_and_distinct():
    a = clip_rng(0, "01_01", "camera").random(3)
    np.testing.assert_array_equal(a, clip_rng(0, "01_01", "camera").random(3))
    assert not np.array_equal(a, clip_rng(1, "01_01", "camera").random(3))
    assert not np.array_equal(a, clip_rng(0, "01_02", "camera").random(3))
    assert not np.array_equal(a, clip_rng(0, "01_01", "bone_scale").random(3))


@pytest.fixture(scope="module")
def mocap(tmp_path_factory):
    return write_mocap_folder(tmp_path_factory.mktemp("mocap"))


def _load(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_builder_layout_and_normalization(mocap, tmp_path):
    settings = WindowSettings(split="train", cameras=3, stride=4, seed=0)
    path = build_windows(settings, mocap=mocap, out=tmp_path, cache=tmp_path, progress=False)
    data = _load(path)
    assert set(data) == set(KEYS)
    n = len(data["windows"])
    assert data["windows"].shape == (n, 24, 28, 2) and data["windows"].dtype == np.float32
    assert data["clip"].shape == (n,) and data["clip"].dtype.kind == "U"
    assert data["camera"].dtype == np.int32 and data["start"].dtype == np.int32
    assert data["center"].shape == (n, 2) and data["scale"].shape == (n,)
    assert np.isfinite(data["windows"]).all()
    # Clips of 400 and 241 frames at 120 fps: 100 and 61 frames at 30 fps.
    clips, _ = load_clips(mocap, split_clips(mocap, "train"), cache_dir=tmp_path,
                          progress=False)
    assert {k: len(v) for k, v in clips.items()} == {"01_01": 100, "01_02": 61}
    expected = sum(len(window_starts(len(v), 24, 4)) for v in clips.values()) * 3
    assert n == expected
    windows = data["windows"].astype(np.float64)
    np.testing.assert_allclose(windows[..., PELVIS, :].mean(axis=1), 0, atol=1e-5)
    torso = np.linalg.norm(windows[..., NECK, :] - windows[..., PELVIS, :], axis=-1)
    np.testing.assert_allclose(torso.mean(axis=1), 1, rtol=1e-5)
    # Un-normalized, a window is the projection of its clip by its camera.
    for i in (0, n // 2, n - 1):
        clip, camera, start = str(data["clip"][i]), int(data["camera"][i]), int(data["start"][i])
        cam = clip_cameras(clips[clip].astype(np.float64), settings, clip)[camera]
        projected = cam.project(clips[clip].astype(np.float64)[start:start + 24])
        pixels = denormalize_windows(windows[i], data["center"][i], data["scale"][i])
        np.testing.assert_allclose(pixels, projected, atol=1e-2)
    described = json.loads(str(data["settings"]))
    assert described["cameras"] == 3 and described["counts"]["windows"] == n
    assert described["code_version"].startswith("posekit ")


def test_builder_is_deterministic_and_reuses_its_cache(mocap, tmp_path, capsys):
    args = ["--split", "train", "--cameras", "2", "--stride", "6", "--seed", "7",
            "--mocap", str(mocap), "--quiet"]
    first = main([*args, "--out", str(tmp_path / "a")])
    second = main([*args, "--out", str(tmp_path / "b"), "--no-clip-cache"])
    assert first.name == second.name  # same settings, inputs and code: same file name
    a, b = _load(first), _load(second)
    for key in KEYS[:-1]:
        np.testing.assert_array_equal(a[key], b[key])
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "a")]) == first
    assert "reusing" in capsys.readouterr().out
    other = _load(main([*args[:-3], "--seed", "8", "--mocap", str(mocap), "--quiet",
                        "--out", str(tmp_path / "a")]))
    assert other["windows"].shape == a["windows"].shape
    assert not np.allclose(other["windows"], a["windows"])


def test_augmentations(mocap, tmp_path):
    plain = _load(build_windows(WindowSettings(split="train", cameras=2), mocap=mocap,
                                out=tmp_path, progress=False))
    augmented = _load(build_windows(
        WindowSettings(split="train", cameras=2, mirror=True, bone_scale=0.1,
                       focal_jitter=0.1, distance=(4.0, 8.0)),
        mocap=mocap, out=tmp_path, progress=False))
    assert len(augmented["windows"]) == 2 * len(plain["windows"])
    assert augmented["mirrored"].sum() == len(plain["windows"]) and not plain["mirrored"].any()
    assert np.isfinite(augmented["windows"]).all()
    described = json.loads(str(augmented["settings"]))
    assert described["mirror"] and described["bone_scale"] == 0.1
    assert described["distance"] == [4.0, 8.0]


def test_short_clips_are_padded(mocap, tmp_path):
    # 02_01 has 80 frames at 120 fps: 20 at 30 fps, shorter than a window.
    data = _load(build_windows(WindowSettings(split="val", cameras=2), mocap=mocap,
                               out=tmp_path, progress=False))
    assert len(data["windows"]) == 2 and (data["start"] == 0).all()
    np.testing.assert_array_equal(data["windows"][:, 19], data["windows"][:, 23])


def test_read_windows_drops_windows_with_a_non_finite_value(tmp_path):
    from training.build_windows import read_windows

    windows = np.random.default_rng(0).normal(size=(5, 24, 28, 2))
    windows[1, 3, 4, 0] = np.nan
    windows[3, 0, 0, 1] = np.inf
    path = tmp_path / "windows-train-x.npz"
    np.savez(path, windows=windows, settings=np.str_('{"split": "train"}'))
    read, settings, held = read_windows(path)
    assert held == 5 and settings == {"split": "train"} and read.dtype == np.float32
    np.testing.assert_array_equal(read, windows[[0, 2, 4]].astype(np.float32))
