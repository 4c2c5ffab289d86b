"""The Spark side of the lakehouse: no Dagster import anywhere below this folder.

Layers, each importing only the ones listed before it (``tests/test_architecture.py``
fails on an import that breaks this):

- ``settings``, ``tables``: the one config loader and the one table registry (plain Python).
- ``transforms``: pure ``DataFrame -> DataFrame`` functions; no I/O, no session.
- ``io``: the edges: the Spark session builder, the Delta reader/writer and the one write
  path, landing files and object storage.
- ``compose`` (with ``expectations``' rules and gates below it): what each table is made
  of and how it is audited before it is published.
- ``entrypoints``: what spark-submit runs (``<layer>_job.py``) and how it is submitted.
"""
