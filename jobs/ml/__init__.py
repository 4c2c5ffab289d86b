"""The departure-delay model: features, Spark ML pipeline, baseline and evaluation (no I/O)."""
