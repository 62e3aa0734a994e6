"""Scoring a predicted sequence against ground truth, matching prediction files to
reference files, and plotting the scores."""
