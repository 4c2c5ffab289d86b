"""The ``lakehouse`` commands, one module per group; :mod:`assets.cli` parses the command
line and calls them.

- :mod:`.base`: what the commands share (dates and ranges, the Dagster home, a Spark session);
- :mod:`.pipeline`: land, run, wait, worker, ui;
- :mod:`.ml`: train, score, model, mlflow-ui;
- :mod:`.tables`: status, health, maintain, quality, warehouse load and query.

Each command imports what it uses when it runs: `lakehouse --help` and a command that needs
no Spark stay quick.
"""
