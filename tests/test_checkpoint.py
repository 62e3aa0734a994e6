"""Checkpoints: safetensors + JSON, hashed, refused when corrupted, never unpickled."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from posekit.jumps.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model,
    save_checkpoint,
    sha256_file,
)
from posekit.jumps.networks import build_networks


@pytest.fixture()
def saved(tmp_path):
    torch.manual_seed(0)
    nets = build_networks()
    # Non-trivial BatchNorm statistics, so that buffers are part of the round trip.
    nets["G"].train()
    with torch.no_grad():
        nets["G"](torch.randn(32, 64))
    path = tmp_path / "model.safetensors"
    save_checkpoint(path, nets, {"steps": 7, "config": {"seed": 0}})
    return path, {k: v.eval() for k, v in nets.items()}


def test_round_trip_is_bit_exact(saved):
    path, nets = saved
    model = load_model(path)
    torch.manual_seed(1)
    z = torch.randn(4, 64)
    x = torch.randn(4, 24, 28, 2)
    assert torch.equal(model.G(z), nets["G"](z))
    assert torch.equal(model.D(nets["G"](z)), nets["D"](nets["G"](z)))
    assert torch.equal(model.E.encode(x), nets["E"].encode(x))
    assert not model.G.training and not model.E.training and not model.D.training
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["steps"] == 7 and meta["sha256"] == sha256_file(path)
    assert meta["code_version"]["posekit"]
    assert model.metadata["config"] == {"seed": 0}


def test_wrong_hash_is_refused(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256 mismatch") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_missing_key_is_refused(saved):
    path, _ = saved
    tensors = load_file(str(path))
    del tensors["G.net.0.weight"]
    save_file(tensors, str(path))
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = sha256_file(path)  # a consistent hash: the keys are what is wrong
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=r"network G: missing keys G\.net\.0\.weight") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_wrong_shape_and_missing_metadata_are_refused(saved):
    path, _ = saved
    tensors = load_file(str(path))
    tensors["D.head.2.bias"] = torch.zeros(3)
    save_file(tensors, str(path))
    meta_path = path.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = sha256_file(path)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_model(path)
    meta_path.unlink()
    with pytest.raises(CheckpointError, match="metadata file not found"):
        load_model(path)
    with pytest.raises(CheckpointError, match="weights file not found"):
        load_model(path.with_name("absent.safetensors"))


def test_truncated_file_is_refused(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="SHA-256 mismatch"):
        load_checkpoint(path)


def test_loading_never_unpickles(saved, monkeypatch):
    path, _ = saved

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling is not allowed")

    monkeypatch.setattr(torch, "load", refuse)
    import pickle

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    assert load_model(path).G is not None


def test_shipped_model_loads_or_is_reported_missing():
    from importlib import resources

    shipped = resources.files("posekit") / "models" / "jumps_cmu.safetensors"
    if not shipped.is_file():  # an install without the model: the error says so
        with pytest.raises(CheckpointError, match="jumps_cmu.safetensors"):
            load_model()
        return
    model = load_model()  # shipped: it must load (a wrong SHA-256 fails here)
    assert model.E is not None
    assert model.G(torch.zeros(1, 64)).shape == (1, 4, 24, 18)
    assert model.metadata["steps"] > 0
