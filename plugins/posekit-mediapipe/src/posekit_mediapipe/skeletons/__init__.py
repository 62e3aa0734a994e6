"""Skeleton files (data only): posekit reads the ``*.toml`` files of this folder."""
