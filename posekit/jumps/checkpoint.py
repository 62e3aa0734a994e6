"""JUMPS checkpoints: safetensors weights plus a JSON record beside them.

A checkpoint is two files:

- ``NAME.safetensors``: the state dicts of the networks, keys prefixed with the
  network's name (``G.net.0.weight``, ``E.mean_pose``, ``D.head.2.bias``, ...);
- ``NAME.json``: the architecture, the training configuration, the data it was
  trained on, the number of steps, the code version, the validation figures, the
  training time and device, and the SHA-256 of the weights file.

Loading checks the hash, then the keys and shapes against the architecture, and
refuses anything that does not match with a :class:`CheckpointError` naming the file
and the problem. Loading never unpickles: weights are read with safetensors only.

:func:`load_model` gives the networks ready for inference; without a path it loads the
pretrained model shipped in the package (``posekit/models/jumps_cmu.*``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from posekit.core.atomic import atomic_path
from posekit.core.errors import PosekitError

FORMAT = "posekit-jumps-checkpoint"
FORMAT_VERSION = 1
SHIPPED_MODEL = "jumps_cmu.safetensors"
"""File name of the pretrained model inside ``posekit/models/``."""


class CheckpointError(PosekitError):
    """A checkpoint is missing, corrupted or does not match the networks.

    Parameters
    ----------
    path
        The weights or metadata file.
    message
        What is wrong.

    Examples
    --------
    >>> str(CheckpointError("m.safetensors", "SHA-256 mismatch"))
    'm.safetensors: SHA-256 mismatch'
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


def metadata_path(weights: str | Path) -> Path:
    """The JSON file beside a weights file (``x.safetensors`` -> ``x.json``)."""
    return Path(weights).with_suffix(".json")


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> dict[str, str | None]:
    """posekit's version and, when run from a git checkout, the commit (None otherwise)."""
    import subprocess

    import posekit

    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(posekit.__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,  # outside a git checkout there is no commit: None
        )
        if out.returncode == 0:
            commit = out.stdout.strip() or None
    return {"posekit": posekit.__version__, "git_commit": commit}


def save_checkpoint(path: str | Path, networks: dict[str, Any], metadata: dict | None = None) -> Path:
    """Write ``networks`` to ``path`` (safetensors) and their record to ``path``'s ``.json``.

    Parameters
    ----------
    path
        The weights file, ending in ``.safetensors``.
    networks
        ``{"G": module, "E": module, "D": module}`` (any subset).
    metadata
        Anything JSON-serialisable to record (config, data, steps, validation, ...);
        ``format``, ``networks``, ``weights_file`` and ``sha256`` are filled in here, and
        ``code_version`` if absent.

    Returns
    -------
    Path
        The metadata file.
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"a checkpoint's weights file must end in .safetensors, got {path}")
    tensors = {}
    for name, net in networks.items():
        for key, value in net.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().to("cpu").contiguous().clone()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT})
    record = dict(metadata or {})
    record.setdefault("code_version", code_version())
    record.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        networks=sorted(networks),
        weights_file=path.name,
        sha256=sha256_file(path),
    )
    meta = metadata_path(path)
    text = json.dumps(record, indent=2, sort_keys=False, default=_json_default) + "\n"
    with atomic_path(meta) as tmp:
        tmp.write_text(text)
    return meta


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def read_metadata(path: str | Path) -> dict:
    """The JSON record of a checkpoint (``path`` is the weights or the JSON file)."""
    meta = metadata_path(path)
    if not meta.is_file():
        raise CheckpointError(meta, "metadata file not found (every .safetensors checkpoint "
                              "needs its .json beside it)")
    try:
        record = json.loads(meta.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(meta, f"not valid JSON: {err}") from None
    except OSError as err:
        raise CheckpointError(meta, f"cannot read: {err.strerror}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(meta, f"not a posekit JUMPS checkpoint record (format != {FORMAT!r})")
    if record.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            meta, f"unsupported format_version {record.get('format_version')!r} "
            f"(this posekit reads {FORMAT_VERSION})"
        )
    for key in ("sha256", "networks"):
        if key not in record:
            raise CheckpointError(meta, f"metadata lacks the {key!r} entry")
    networks = record["networks"]
    if (
        not isinstance(networks, list)
        or "G" not in networks
        or not set(networks) <= {"G", "D", "E"}
        or len(set(networks)) != len(networks)
    ):
        raise CheckpointError(
            meta, f"'networks' must list G and optionally D and E, got {networks!r:.80}"
        )
    if not isinstance(record["sha256"], str):
        raise CheckpointError(meta, "'sha256' must be a string")
    check_architecture(record.get("architecture"), meta)
    return record


#: Bounds of the architecture entries: a record may not ask for absurd allocations.
_SIZE_LIMITS = {
    "latent": 4096, "latent_frames": 24, "frames": 24, "critic_hidden": 16384,
    "encoder_hidden": 16384,
}  # fmt: skip
_GENERATORS = ("dcgan", "temporal")
_WIDTH_KEYS = ("generator_widths", "critic_widths", "encoder_widths")


def check_architecture(architecture: Any, meta: str | Path) -> None:
    """Raise if a record's ``architecture`` is not sizes the networks can be built with.

    Every size is a positive integer under a bound (``latent`` at most 4096, widths
    lists of 1 to 8 sizes of at most 4096), so a malformed record is refused before
    any memory is allocated.

    Examples
    --------
    >>> check_architecture({"latent": 64, "generator_widths": [312, 156, 78]}, "m.json")
    >>> try:
    ...     check_architecture({"latent": 1e9}, "m.json")
    ... except CheckpointError as err:
    ...     print(err)
    m.json: architecture 'latent' must be an integer from 1 to 4096, got 1000000000.0
    """
    if architecture is None:
        return
    if not isinstance(architecture, dict):
        raise CheckpointError(meta, f"'architecture' must be a mapping, got {architecture!r:.80}")

    def size(value: Any, limit: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= limit

    if architecture.get("generator", "dcgan") not in _GENERATORS:
        raise CheckpointError(
            meta, f"architecture 'generator' must be one of {', '.join(_GENERATORS)}, got "
            f"{architecture['generator']!r:.80}"
        )
    if not isinstance(architecture.get("linear_path", False), bool):
        raise CheckpointError(
            meta, f"architecture 'linear_path' must be true or false, got "
            f"{architecture['linear_path']!r:.80}"
        )
    for key, value in architecture.items():
        if key in _SIZE_LIMITS and not size(value, _SIZE_LIMITS[key]):
            raise CheckpointError(
                meta, f"architecture {key!r} must be an integer from 1 to "
                f"{_SIZE_LIMITS[key]}, got {value!r:.80}"
            )
        if key in _WIDTH_KEYS and not (
            isinstance(value, list) and 1 <= len(value) <= 8 and all(size(v, 4096) for v in value)
        ):
            raise CheckpointError(
                meta, f"architecture {key!r} must be a list of 1 to 8 sizes from 1 to 4096, "
                f"got {value!r:.80}"
            )


def verify_checkpoint(path: str | Path | None = None) -> None:
    """Check a checkpoint without loading it (no torch): its record reads, its
    architecture is sane and the weights hash to the recorded SHA-256.

    Parameters
    ----------
    path
        The ``.safetensors`` file; None: the shipped model.

    Raises
    ------
    CheckpointError
        As :func:`load_checkpoint` would, before any work.

    Examples
    --------
    >>> verify_checkpoint("missing.safetensors")
    Traceback (most recent call last):
    ...
    posekit.jumps.checkpoint.CheckpointError: missing.safetensors: weights file not found
    """
    if path is None:
        with _shipped_model() as shipped:
            verify_checkpoint(shipped)
        return
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "weights file not found")
    weights, meta = path.stat(), metadata_path(path)
    stamp = (weights.st_mtime_ns, weights.st_size, meta.stat().st_mtime_ns if meta.is_file() else 0)
    _verified(str(path), path.resolve(), stamp)


@functools.lru_cache(maxsize=16)
def _verified(shown: str, resolved: Path, stamp: tuple[int, int, int]) -> None:
    """:func:`verify_checkpoint` of one version of the files (``resolved`` and the
    files' times and size key the cache; failures are not cached), so a pipeline's
    check before work and the load that follows hash the weights once."""
    path = Path(shown)
    record = read_metadata(path)
    try:
        actual = sha256_file(path)
    except OSError as err:
        raise CheckpointError(path, f"cannot read: {err.strerror}") from None
    if actual != record["sha256"]:
        raise CheckpointError(
            path, f"SHA-256 mismatch: the file hashes to {actual}, its metadata "
            f"({metadata_path(path).name}) records {record['sha256']:.80}; the weights are "
            "corrupted or were changed"
        )


def load_checkpoint(path: str | Path) -> tuple[dict[str, dict[str, Any]], dict]:
    """Read and verify a checkpoint; no unpickling.

    Returns
    -------
    state_dicts : dict
        ``{"G": state_dict, ...}`` on the CPU.
    metadata : dict
        The JSON record.

    Raises
    ------
    CheckpointError
        If a file is missing, the weights' SHA-256 differs from the record, the file
        cannot be parsed, or its keys do not match the networks the record names.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    verify_checkpoint(path)
    record = read_metadata(path)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(path, f"cannot read the safetensors data: {err}") from None
    names = list(record["networks"])
    state_dicts: dict[str, dict[str, Any]] = {name: {} for name in names}
    stray = []
    for key, value in tensors.items():
        prefix, _, rest = key.partition(".")
        if prefix in state_dicts and rest:
            state_dicts[prefix][rest] = value
        else:
            stray.append(key)
    if stray:
        raise CheckpointError(path, f"unexpected keys outside the networks {names}: {_few(stray)}")
    return state_dicts, record


def _few(keys: list[str], limit: int = 5) -> str:
    keys = sorted(keys)
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_networks(path: str | Path, device: str = "cpu") -> tuple[dict[str, Any], dict]:
    """Build the networks a checkpoint names and load its weights into them (strict).

    Returns the networks (in eval mode, on ``device``) and the metadata.
    """
    from posekit.jumps.networks import build_networks

    state_dicts, record = load_checkpoint(path)  # networks and architecture checked there
    names = tuple(state_dicts)
    try:
        networks = build_networks(record.get("architecture"), names=names)
    except (TypeError, ValueError, KeyError) as err:
        raise CheckpointError(metadata_path(path), f"bad architecture entry: {err}") from None
    for name, net in networks.items():
        expected = set(net.state_dict())
        found = set(state_dicts[name])
        if expected != found:
            problems = []
            if expected - found:
                problems.append(f"missing keys {_few([f'{name}.{k}' for k in expected - found])}")
            if found - expected:
                problems.append(f"unexpected keys {_few([f'{name}.{k}' for k in found - expected])}")
            raise CheckpointError(path, f"network {name}: " + "; ".join(problems))
        wrong = [
            f"{name}.{k} {tuple(v.shape)} (expected {tuple(net.state_dict()[k].shape)})"
            for k, v in state_dicts[name].items()
            if tuple(v.shape) != tuple(net.state_dict()[k].shape)
        ]
        if wrong:
            raise CheckpointError(path, f"network {name}: wrong shapes: {_few(wrong)}")
        net.load_state_dict(state_dicts[name], strict=True)
        net.to(resolve_device(device)).eval()
    return networks, record


def resolve_device(device: str = "cpu") -> str:
    """``"auto"`` -> ``"cuda"`` when available, else ``"cpu"``; other names unchanged."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


@dataclass
class JumpsModel:
    """A loaded JUMPS model: the networks in eval mode and the checkpoint's record.

    ``E`` is None for a model trained without the encoder (``--no-encoder``).
    """

    G: Any
    D: Any
    E: Any | None
    metadata: dict = field(default_factory=dict)
    path: str = ""

    @property
    def latent(self) -> int:
        """Size of the latent code."""
        return int(self.G.latent)


@contextlib.contextmanager
def _shipped_model() -> Iterator[Path]:
    root = resources.files("posekit") / "models"
    weights = root / SHIPPED_MODEL
    meta = root / Path(SHIPPED_MODEL).with_suffix(".json").name
    if not weights.is_file() or not meta.is_file():
        raise CheckpointError(
            f"posekit/models/{SHIPPED_MODEL}",
            "the pretrained model is not installed with this posekit (its .safetensors "
            "and .json must ship in posekit/models/); pass a checkpoint path instead",
        )
    with resources.as_file(weights) as w, resources.as_file(meta) as m:
        if Path(w).parent != Path(m).parent:  # extracted separately (zip install)
            with tempfile.TemporaryDirectory() as tmp:
                for src in (w, m):
                    Path(tmp, Path(src).name).write_bytes(Path(src).read_bytes())
                yield Path(tmp, Path(w).name)
                return
        yield Path(w)


def load_model(path: str | Path | None = None, device: str = "cpu") -> JumpsModel:
    """Load a JUMPS model for inference (networks in eval mode, weights frozen: the
    latent fit needs gradients with respect to ``z`` only).

    Parameters
    ----------
    path
        A ``.safetensors`` checkpoint with its ``.json`` beside it; None: the pretrained
        model shipped with posekit (``posekit/models/jumps_cmu.safetensors``).
    device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``... or ``"auto"``.

    Raises
    ------
    CheckpointError
        If the checkpoint is missing, corrupted (hash) or does not match (keys, shapes).
    """
    if path is None:
        with _shipped_model() as shipped:
            networks, record = load_networks(shipped, device)
            where = f"posekit/models/{SHIPPED_MODEL}"
    else:
        networks, record = load_networks(path, device)
        where = str(path)
    for network in networks.values():
        network.requires_grad_(False)
    return JumpsModel(
        G=networks["G"], D=networks.get("D"), E=networks.get("E"), metadata=record, path=where
    )
