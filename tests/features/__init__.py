"""Tests of the features package (segmentation: frames, tracks, activity, nuclei)."""
