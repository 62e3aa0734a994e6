"""YAML pipelines: the file's schema and checks, running one file or many, and the
run report."""
