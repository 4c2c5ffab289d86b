"""The edges: Spark session, Delta tables (the one reader and writer), landing, S3."""
