"""Rendering pose sequences: skeleton clips (PNG, GIF, MP4), side-by-side comparisons
and overlays on the source video.

:func:`render` draws a sequence into a file; :mod:`posekit.render.draw` holds the
matplotlib drawing, :mod:`posekit.render.media` the image and video files and
:mod:`posekit.render.options` the options. Only :mod:`posekit.render.draw` imports
matplotlib, when a rendering runs.
"""

from posekit.render.clip import render
from posekit.render.options import Style, TimeRange

__all__ = ["Style", "TimeRange", "render"]
