"""New people and new motions for training: CMU motions replayed on skeletons and
postures mixed from the train subjects, their upper bodies moving as in other clips
(all **ours**; the paper trains on MPI-INF-3DHP's 8 actors as they are).

A learner trained on the 13 train subjects does much better on new clips of those
subjects than on new subjects (issue #14; ``python -m training.people_probe``). Which
differences carry that gap was measured by replaying the val subjects' motions with
parts of them exchanged (``people_probe --decompose``): on the train subjects'
skeletons the gap stays whole, so bone lengths and directions carry almost none of it;
with the val subjects' posture re-centred on the train subjects' (the clip-mean angles
of the spine, neck, head, toes and hands) a plain MLP gains a little and ridge more;
most of it is the motions themselves, which the 13 people's repertoire does not cover.
This module makes training data along all three lines, for ``build_windows --people K
[--mix-motions]``:

- a **skeleton** whose every bone vector (direction × length, in metres) is a random
  convex blend of that bone in two train subjects, a left bone and its right twin drawn
  together (:func:`mixed_skeleton`);
- a **posture**: each :data:`POSTURE_BONES` angle offset for the whole clip by a normal
  draw as wide as those angles differ between the train subjects (:func:`posture_stats`);
- with ``partners``, a **motion** whose upper body (lower back and above) moves as in
  another clip of the split while the legs and root keep the clip's own
  (:func:`partner_motion`).

The angles are replayed by posekit's own forward kinematics (:func:`replay`).

Example::

    python -m training.people            # how the train subjects' bones and postures differ
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from posekit.io.asf_amc import AsfSkeleton, forward_kinematics, read_amc_channels, read_asf
from training.mocap import CMU_FPS, SKELETON, TARGET_FPS, clip_file, default_mocap_root, load_splits


def twin(name: str) -> str:
    """The bone of the other side (``lfemur`` ↔ ``rfemur``), or the name itself.

    Examples
    --------
    >>> twin("lfemur"), twin("rhand"), twin("thorax")
    ('rfemur', 'lhand', 'thorax')
    """
    if name[:1] in ("l", "r") and name not in ("lowerback", "lowerneck"):
        return ("r" if name[0] == "l" else "l") + name[1:]
    return name


def bone_vectors(skeleton: AsfSkeleton) -> dict[str, np.ndarray]:
    """Every bone's rest-pose vector (direction × length) in metres, world axes."""
    return {bone.name: np.asarray(bone.direction) * bone.length * skeleton.scale
            for bone in skeleton.bones}


def split_subjects(root: Path, split: str) -> list[str]:
    """The subjects of ``split``; ``train-fit`` and ``train-heldout`` have the train ones."""
    return load_splits(root)["splits"]["train" if split.startswith("train") else split]


def subject_skeletons(root: Path, split: str) -> dict[str, AsfSkeleton]:
    """The ASF skeleton of every subject of ``split`` (:func:`split_subjects`)."""
    return {s: subject_skeleton(root, s) for s in split_subjects(root, split)}


@functools.cache
def subject_skeleton(root: Path, subject: str) -> AsfSkeleton:
    """A subject's skeleton, read once from ``cmu/subjects/<SS>/<SS>.asf``."""
    return read_asf(Path(root) / "cmu" / "subjects" / subject / f"{subject}.asf")


def mixed_skeleton(
    base: AsfSkeleton, donors: Sequence[AsfSkeleton], rng: np.random.Generator
) -> AsfSkeleton:
    """``base`` with every bone vector a random blend of that bone in two donors.

    A bone and its left/right twin share the donors and the blend weight, each side
    blending the donors' own bone of that side. The bone's local axes and degrees of
    freedom stay the base's, so the base's AMC motion replays on it unchanged.

    Parameters
    ----------
    base
        The skeleton of the motion's own subject.
    donors
        Skeletons with the same bone names (the train subjects).
    rng
        Random stream.

    Examples
    --------
    >>> from posekit.io.asf_amc import AsfBone
    >>> bone = AsfBone("lfemur", "root", (0.0, -1.0, 0.0), 10.0, (0.0, 0.0, 0.0), "xyz", ("rx",))
    >>> a = AsfSkeleton((bone,), ("tx", "ty", "tz", "rx", "ry", "rz"), "xyz",
    ...                 (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0, "deg", "a.asf")
    >>> b = attrs.evolve(a, bones=(attrs.evolve(bone, length=20.0),))
    >>> mixed = mixed_skeleton(a, [a, b], np.random.default_rng(0))
    >>> 10.0 <= mixed.bones[0].length <= 20.0, mixed.bones[0].direction
    (True, (0.0, -1.0, 0.0))
    """
    vectors = [bone_vectors(d) for d in donors]
    draws: dict[str, tuple[int, int, float]] = {}
    bones = []
    for bone in base.bones:
        key = min(bone.name, twin(bone.name))
        if key not in draws:
            first, second = rng.choice(len(donors), size=2, replace=len(donors) < 2)
            draws[key] = (int(first), int(second), float(rng.uniform()))
        first, second, weight = draws[key]
        vector = weight * vectors[first][bone.name] + (1 - weight) * vectors[second][bone.name]
        length = float(np.linalg.norm(vector))
        direction = tuple(float(v) for v in vector / length) if length > 0 else bone.direction
        bones.append(attrs.evolve(bone, direction=direction, length=length / base.scale))
    return attrs.evolve(base, bones=tuple(bones))


#: Bones whose mean angles differ more between the train subjects than between one
#: subject's clips (posture and marker placement; ``python -m training.people`` prints
#: both): the spine, neck and head, the toes and the hands, all ends of added joints.
#: (The feet and wrists vary as much within a subject as between subjects.)
POSTURE_BONES = ("lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
                 "ltoes", "rtoes", "lhand", "rhand")


def clip_channels(root: Path, clip: str) -> tuple[AsfSkeleton, dict[str, np.ndarray]]:
    """A clip's own skeleton and its AMC values."""
    skeleton = subject_skeleton(root, clip.split("_")[0])
    return skeleton, read_amc_channels(clip_file(root, clip), skeleton,
                                       drop_incomplete_last_frame=True)


@functools.cache
def posture_stats(root: Path, split: str) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per posture bone, over the split's subjects, of the clips' mean angles (per
    channel, degrees): the mean over subjects, the between-subject sd and the
    within-subject sd."""
    clips = load_splits(root)["clips"]
    means: dict[str, dict[str, list[np.ndarray]]] = {}
    for subject in split_subjects(root, split):
        for clip in clips[subject]:
            _, channels = clip_channels(root, clip)
            for bone in POSTURE_BONES:
                means.setdefault(bone, {}).setdefault(subject, []).append(channels[bone].mean(0))
    out = {}
    for bone, per_subject in means.items():
        subject_means = [np.mean(v, axis=0) for v in per_subject.values()]
        within = np.mean([np.std(v, axis=0) for v in per_subject.values() if len(v) > 1], axis=0)
        out[bone] = (np.mean(subject_means, axis=0), np.std(subject_means, axis=0), within)
    return out


#: The bones of the upper body (the lower back and everything above it).
UPPER_BODY = ("lowerback", "upperback", "thorax", "lowerneck", "upperneck", "head",
              *(side + bone for side in "lr" for bone in
                ("clavicle", "humerus", "radius", "wrist", "hand", "fingers", "thumb")))


def partner_motion(
    channels: dict[str, np.ndarray], partner: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``channels`` with the upper body's angles taken from ``partner``: a random stretch
    of it as long as the clip, played back and forth when the partner is shorter.

    Examples
    --------
    >>> own = {"root": np.zeros((5, 6)), "lfemur": np.zeros((5, 3)), "head": np.zeros((5, 3))}
    >>> partner = {"root": np.ones((3, 6)), "lfemur": np.ones((3, 3)),
    ...            "head": np.arange(9.0).reshape(3, 3)}
    >>> mixed = partner_motion(own, partner, np.random.default_rng(0))
    >>> mixed["head"][:, 0].tolist(), float(mixed["lfemur"].max()), float(mixed["root"].max())
    ([0.0, 3.0, 6.0, 6.0, 3.0], 0.0, 0.0)
    """
    n = len(channels["root"])
    m = len(partner["root"])
    start = int(rng.integers(0, max(m - n, 0) + 1))
    index = np.arange(start, start + n) % (2 * m)
    index = np.where(index < m, index, 2 * m - 1 - index)
    return {**channels, **{bone: partner[bone][index] for bone in UPPER_BODY if bone in partner}}


def replay(
    skeleton: AsfSkeleton, channels: dict[str, np.ndarray], name: str, fps: float = TARGET_FPS
) -> np.ndarray:
    """AMC values played on a skeleton: ``(T, 28, 3)`` float32 metres at ``fps``, as
    :func:`training.mocap.read_clip` makes a clip from its files."""
    from posekit.io.asf_amc import CMU_SKELETON, MotionCapture, motion_to_sequence
    from training.resample import resample_sequence

    motion = MotionCapture(skeleton.joint_names, skeleton.parents,
                           forward_kinematics(skeleton, channels), CMU_FPS, name)
    sequence = motion_to_sequence(motion, skeleton=CMU_SKELETON,
                                  source_software="Acclaim ASF/AMC").remap(SKELETON)
    if sequence.fps != fps:
        sequence = resample_sequence(sequence, fps)
    return sequence.positions()[0].astype(np.float32)


def mixed_people(
    root: Path,
    clip: str,
    split: str,
    count: int,
    rng: np.random.Generator,
    *,
    partners: Sequence[str] = (),
    fps: float = TARGET_FPS,
) -> list[np.ndarray]:
    """``count`` new people doing a clip's motion: ``(T, 28, 3)`` float32 metres at ``fps``.

    Each has a skeleton mixed from the split's subjects (:func:`mixed_skeleton`) and a
    posture of its own: every :data:`POSTURE_BONES` angle is offset, for the whole clip,
    by a normal draw with the between-subject sd of :func:`posture_stats`. With
    ``partners`` (clip names), each moves its upper body as in one of them drawn at
    random (:func:`partner_motion`).
    """
    base, channels = clip_channels(root, clip)
    donors = list(subject_skeletons(root, split).values())
    posture = posture_stats(root, split)
    people = []
    for _ in range(count):
        skeleton = mixed_skeleton(base, donors, rng)
        posed = dict(channels)
        if partners:
            posed = partner_motion(posed, clip_channels(root, str(rng.choice(partners)))[1], rng)
        for bone in POSTURE_BONES:
            posed[bone] = posed[bone] + rng.normal(0.0, posture[bone][1])
        people.append(replay(skeleton, posed, clip, fps))
    return people


def bone_spread(skeletons: dict[str, AsfSkeleton]) -> list[tuple[str, float, float, float]]:
    """Per bone: mean length (cm), between-subject sd of length (cm) and of direction
    (degrees from the mean direction)."""
    rows = []
    vectors = {s: bone_vectors(k) for s, k in skeletons.items()}
    for name in next(iter(vectors.values())):
        v = np.stack([vectors[s][name] for s in vectors]) * 100
        lengths = np.linalg.norm(v, axis=1)
        units = v / np.maximum(lengths[:, None], 1e-9)
        mean = units.mean(0) / max(np.linalg.norm(units.mean(0)), 1e-9)
        angles = np.degrees(np.arccos(np.clip(units @ mean, -1, 1)))
        rows.append((name, float(lengths.mean()), float(lengths.std()),
                     float(np.sqrt((angles**2).mean()))))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.people",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--mocap", type=Path, default=default_mocap_root())
    parser.add_argument("--split", default="train")
    args = parser.parse_args(argv)
    print(f"bone           length cm   sd cm   direction sd deg   ({args.split} subjects)")
    for name, length, sd, angle in bone_spread(subject_skeletons(args.mocap, args.split)):
        print(f"{name:12s} {length:10.1f} {sd:7.2f} {angle:12.1f}")
    print("posture bone   clips' mean angle sd, deg: between subjects | within a subject")
    for bone, (_, between, within) in posture_stats(args.mocap, args.split).items():
        print(f"{bone:12s} {np.array2string(between, precision=1):>20s} | "
              f"{np.array2string(within, precision=1)}")


if __name__ == "__main__":
    main()
