"""posekit: post-processing of human pose sequences."""

__version__ = "0.1.0"
