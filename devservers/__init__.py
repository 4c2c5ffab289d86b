"""Real servers for the dev profile and the tests, started on 127.0.0.1 in folders of their own.

``postgres`` stands in for Redshift, ``minio`` for S3. Neither is used by ``local`` or ``prod``.
"""
