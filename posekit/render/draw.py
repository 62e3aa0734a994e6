"""Drawing skeletons with matplotlib: a figure of side-by-side panels, one frame at a time.

Bones come from the skeleton file (each joint to its parent) and take the colour of the
side of their child joint: left and right as the person sees it (the skeleton files'
convention), so a person facing the camera has the left side on the image's right.
Measured joints are filled markers; imputed ones (``imputed`` flag) are hollow, and a
bone touching an imputed joint is dashed. Missing joints (NaN) are not drawn.

matplotlib is imported by this module, so import it only when drawing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from posekit.core.errors import PosekitError
from posekit.core.sequence import PoseSequence
from posekit.core.skeleton import Skeleton
from posekit.plugins.registry import get_skeleton
from posekit.render.options import Style

#: Colour of each side (left and right as the person sees it).
SIDE_COLOURS: dict[str, str] = {"left": "#1f77b4", "right": "#d62728", "center": "#3c3c3c"}
#: Fill of an imputed joint's marker (hollow on a white background).
HOLLOW = "#ffffff"
_DPI = 100
#: Drawing area width over height, at least and at most (very thin or flat motions).
_ASPECT_LIMITS = (0.75, 2.0)
#: Share of the panel height above the drawing (titles) and below it (legend, clock).
_BAND = 0.1
#: A drawing area ``(x0, x1, y0, y1)`` in data units.
Box = tuple[float, float, float, float]


class RenderError(PosekitError):
    """A sequence cannot be drawn as asked."""


def skeleton_of(sequence: PoseSequence) -> Skeleton | None:
    """The sequence's skeleton for its bones, or None when it has none (points only).

    Raises
    ------
    RenderError
        If the keypoints are not the skeleton's joints.

    Examples
    --------
    >>> seq = PoseSequence.from_arrays(np.zeros((1, 2, 17, 1)), skeleton="coco_17")
    >>> skeleton_of(seq).name
    'coco_17'
    """
    if sequence.skeleton is None:
        return None
    skeleton = get_skeleton(sequence.skeleton)
    if sequence.keypoints != list(skeleton.joint_names):
        raise RenderError(
            f"the keypoints of the sequence are not those of its skeleton "
            f"{skeleton.name!r} ({', '.join(skeleton.joint_names)})"
        )
    return skeleton


def _sides(skeleton: Skeleton | None, n_joints: int) -> list[str]:
    if skeleton is None:
        return ["center"] * n_joints
    return [skeleton.side(j) for j in range(n_joints)]


class SkeletonArtist:
    """The artists of one person on an axes: bones, joint markers and joint names.

    Parameters
    ----------
    axes
        Where to draw.
    skeleton
        Gives the bones and the sides; None draws the joints only.
    keypoints
        Joint names (for the labels).
    size
        Scale of lines and markers, 1 for a 360-pixel-high panel.
    joint_names
        Label every drawn joint with its name.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> skeleton = get_skeleton("coco_17")
    >>> artist = SkeletonArtist(Figure().add_subplot(), skeleton, skeleton.joint_names)
    >>> xy = np.random.default_rng(0).normal(size=(17, 2))
    >>> imputed = np.zeros(17, bool)
    >>> imputed[0] = True
    >>> artist.update(xy, imputed)
    >>> len(artist.bones.get_segments()), artist.hollow_joints()
    (16, [0])
    """

    def __init__(
        self,
        axes: Axes,
        skeleton: Skeleton | None,
        keypoints: Sequence[str],
        *,
        size: float = 1.0,
        joint_names: bool = False,
    ) -> None:
        self.keypoints = list(keypoints)
        self.sides = _sides(skeleton, len(self.keypoints))
        self.bone_pairs = skeleton.bones if skeleton is not None else ()
        self.bones = LineCollection([], linewidths=2.2 * size, capstyle="round", zorder=2)
        axes.add_collection(self.bones)
        self.joints = axes.scatter(
            np.zeros(0), np.zeros(0), s=(5.5 * size) ** 2, linewidths=1.4 * size, zorder=3
        )
        self.labels = [
            axes.text(0, 0, name, fontsize=6 * size, visible=False, zorder=4,
                      color=SIDE_COLOURS[side], clip_on=True)
            for name, side in zip(self.keypoints, self.sides, strict=True)
        ] if joint_names else []  # fmt: skip
        self._drawn: np.ndarray = np.zeros(0, dtype=int)
        self._hollow: np.ndarray = np.zeros(0, dtype=bool)

    def update(self, xy: np.ndarray, imputed: np.ndarray) -> None:
        """Draw one pose: ``xy`` ``(joints, 2)`` (NaN missing), ``imputed`` ``(joints,)``."""
        finite = np.isfinite(xy).all(axis=-1)
        bones = [(p, c) for p, c in self.bone_pairs if finite[p] and finite[c]]
        self.bones.set_segments([xy[[p, c]] for p, c in bones])
        self.bones.set_colors([SIDE_COLOURS[self.sides[c]] for _, c in bones])
        self.bones.set_linestyle(
            [(0, (2.5, 1.5)) if imputed[p] or imputed[c] else "solid" for p, c in bones]
        )
        drawn = np.flatnonzero(finite)
        edges = [SIDE_COLOURS[self.sides[j]] for j in drawn]
        self.joints.set_offsets(xy[drawn] if len(drawn) else np.zeros((0, 2)))
        self.joints.set_edgecolor(edges)
        self.joints.set_facecolor(
            [HOLLOW if imputed[j] else edge for j, edge in zip(drawn, edges, strict=True)]
        )
        for j, label in enumerate(self.labels):
            label.set_visible(bool(finite[j]))
            if finite[j]:
                label.set_position((xy[j, 0], xy[j, 1]))
        self._drawn, self._hollow = drawn, imputed[drawn].astype(bool)

    def hollow_joints(self) -> list[int]:
        """Indices of the joints drawn hollow (imputed) in the last :meth:`update`."""
        return [int(j) for j in self._drawn[self._hollow]]


def bounds(positions: Sequence[np.ndarray], margin: float = 0.08) -> Box:
    """``(x0, x1, y0, y1)`` around every finite point of some ``(..., 2)`` arrays.

    Examples
    --------
    >>> bounds([np.array([[0.0, 0.0], [10.0, 5.0], [np.nan, 1.0]])], margin=0)
    (0.0, 10.0, 0.0, 5.0)
    """
    points = np.concatenate([p.reshape(-1, 2) for p in positions])
    points = points[np.isfinite(points).all(axis=-1)]
    if not len(points):
        return (0.0, 1.0, 0.0, 1.0)
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float((high - low).max())
    pad = margin * extent if extent > 0 else 1.0
    return (float(low[0] - pad), float(high[0] + pad), float(low[1] - pad), float(high[1] + pad))


def fit_aspect(box: Box) -> tuple[Box, float]:
    """Widen a box to an aspect (width / height) within the limits; returns both.

    Examples
    --------
    >>> fit_aspect((0.0, 1.0, 0.0, 4.0))
    ((-1.0, 2.0, 0.0, 4.0), 0.75)
    """
    x0, x1, y0, y1 = box
    width, height = x1 - x0, y1 - y0
    aspect = float(np.clip(width / height, *_ASPECT_LIMITS))
    if width / height < aspect:
        grow = (aspect * height - width) / 2
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (width / aspect - height) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1, y0, y1), aspect


class Panel:
    """One sequence on one axes: a :class:`SkeletonArtist` per individual (with its id
    when there are several) and an optional video frame behind."""

    def __init__(self, axes: Axes, sequence: PoseSequence, style: Style, *, video: bool) -> None:
        self.axes = axes
        self.sequence = sequence
        self.positions = sequence.positions()  # (I, T, K, 2)
        self.imputed = sequence.imputed_flags()
        skeleton = skeleton_of(sequence)
        size = style.height / 360
        self.people = [
            SkeletonArtist(axes, skeleton, sequence.keypoints, size=size,
                           joint_names=style.joint_names)
            for _ in sequence.individuals
        ]  # fmt: skip
        self.names = [
            axes.text(0, 0, name, fontsize=7 * size, ha="center", va="bottom", visible=False,
                      zorder=5, color="#222222", clip_on=True)
            for name in sequence.individuals
        ] if len(sequence.individuals) > 1 else []  # fmt: skip
        self.image = axes.imshow(np.zeros((1, 1, 3), np.uint8), zorder=0) if video else None

    def update(self, frame: int, background: np.ndarray | None) -> None:
        """Draw frame ``frame`` of the sequence (nothing past its end)."""
        if self.image is not None and background is not None:
            height, width = background.shape[:2]
            self.image.set_data(background)
            self.image.set_extent((0, width, height, 0))
        inside = frame < self.positions.shape[1]
        for i, person in enumerate(self.people):
            xy = self.positions[i, frame] if inside else np.full(self.positions.shape[2:], np.nan)
            person.update(xy, self.imputed[i, frame] if inside else np.zeros(len(xy), bool))
            if self.names:
                finite = xy[np.isfinite(xy).all(axis=-1)]
                self.names[i].set_visible(bool(len(finite)))
                if len(finite):
                    self.names[i].set_position((finite[:, 0].mean(), finite[:, 1].min()))


def _legend(figure: Figure, size: float) -> None:
    handles = [
        Line2D([], [], color=SIDE_COLOURS["left"], lw=2, label="left"),
        Line2D([], [], ls="", marker="o", color=SIDE_COLOURS["center"], label="measured"),
        Line2D([], [], color=SIDE_COLOURS["right"], lw=2, label="right"),
        Line2D([], [], ls="", marker="o", mfc=HOLLOW, color=SIDE_COLOURS["center"],
               label="imputed"),
    ]  # fmt: skip
    figure.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 0), ncols=2,
                  fontsize=6 * size, frameon=False, handlelength=1.4, columnspacing=0.8,
                  borderpad=0.2, labelspacing=0.2, handletextpad=0.4)  # fmt: skip


class FrameRenderer:
    """Draws frames of one or more sequences side by side into RGB arrays.

    Every panel shares the same limits (the motion's extent, or the video frame), so
    panels compare directly. Frames are matched by number.

    Parameters
    ----------
    sequences
        The sequences, one panel each, left to right; 2D.
    titles
        A title per panel.
    style
        Panel height and labels.
    video_size
        ``(width, height)`` of the video frames drawn behind; None: no video.

    Examples
    --------
    A tall motion gets drawing areas of the narrowest aspect, 0.75 (80 × 0.75 = 60
    pixels wide; the bands above and below take 20 of the 100 pixels):

    >>> xy = np.random.default_rng(0).normal(size=(3, 2, 17, 1)) * [[[1]], [[10]]]
    >>> seq = PoseSequence.from_arrays(xy, skeleton="coco_17")
    >>> renderer = FrameRenderer([seq, seq], ["a", "b"], Style(height=100))
    >>> renderer.frame(0).shape
    (100, 120, 3)
    >>> renderer.close()
    """

    def __init__(
        self,
        sequences: Sequence[PoseSequence],
        titles: Sequence[str],
        style: Style,
        *,
        video_size: tuple[int, int] | None = None,
    ) -> None:
        for sequence, title in zip(sequences, titles, strict=True):
            if sequence.n_space != 2:
                raise RenderError(f"{title}: render draws 2D sequences, this one is 3D")
        drawing_height = style.height * (1 - 2 * _BAND)
        if video_size is not None:
            width, height = video_size
            box, aspect = (0.0, float(width), 0.0, float(height)), width / height
        else:
            box, aspect = fit_aspect(bounds([s.positions() for s in sequences]))
        panel_width = 2 * round(drawing_height * aspect / 2)  # even: video codecs need it
        self.size = (panel_width * len(sequences), style.height)
        self.figure = Figure(figsize=(self.size[0] / _DPI, self.size[1] / _DPI), dpi=_DPI)
        self.canvas = FigureCanvasAgg(self.figure)
        size = style.height / 360
        self.panels: list[Panel] = []
        for index, (sequence, title) in enumerate(zip(sequences, titles, strict=True)):
            left = index / len(sequences)
            axes = self.figure.add_axes((left, _BAND, 1 / len(sequences), 1 - 2 * _BAND))
            axes.set_xlim(box[0], box[1])
            axes.set_ylim(box[3], box[2])  # image coordinates: y grows downwards
            axes.set_xticks([])
            axes.set_yticks([])
            axes.set_facecolor("white")
            self.figure.text(left + 0.01, 0.995, title, ha="left", va="top",
                             fontsize=6.5 * size, color="#222222")  # fmt: skip
            self.panels.append(Panel(axes, sequence, style, video=video_size is not None))
        _legend(self.figure, size)
        self.clock = self.figure.text(0.995, 0.01, "", ha="right", va="bottom",
                                      fontsize=6.5 * size, color="#222222")  # fmt: skip
        self.fps = sequences[0].fps
        self.times = sequences[0].dataset["time"].values

    def frame(self, index: int, background: np.ndarray | None = None) -> np.ndarray:
        """Frame ``index`` as a ``(height, width, 3)`` uint8 array.

        Parameters
        ----------
        index
            Frame number in the sequences.
        background
            The video frame to draw behind (``(h, w, 3)`` uint8), if any.
        """
        for panel in self.panels:
            panel.update(index, background)
        self.clock.set_text(self._clock(index))
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()

    def _clock(self, index: int) -> str:
        """``frame 12  0.40 s`` from the time coordinate (seconds when fps is known)."""
        time = float(self.times[index])
        if self.fps is None:
            return f"frame {round(time)}"
        return f"frame {round(time * self.fps)}  {time:.2f} s"

    def close(self) -> None:
        """Free the figure."""
        self.figure.clear()
