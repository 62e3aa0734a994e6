"""Readers and writers of pose and motion-capture files, one module per format."""
