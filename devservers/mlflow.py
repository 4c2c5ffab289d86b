"""An MLflow tracking server on 127.0.0.1 for the dev profile: its backend store is a
database ``mlflow`` on the dev PostgreSQL, its artifacts go to MinIO (the server proxies
them, so clients need no S3 settings).

Secrets never reach the command line (where ``ps`` shows them): the backend store URI,
which holds the PostgreSQL password, and the S3 keys are passed through the environment.

    LAKEHOUSE_WAREHOUSE_PASSWORD=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \\
        python -m devservers.mlflow start --dir DIR [--port N] \\
        [--postgres-port N] [--s3-endpoint URL]   # defaults: the dev settings'
    python -m devservers.mlflow stop --dir DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devservers import (
    answers,
    dev_ports,
    pid_alive,
    postgres,
    stop_or_reset,
    stop_pid,
)

DATABASE = "mlflow"
BUCKET = "mlflow-dev"


class MlflowUnavailable(RuntimeError):
    """The tracking server did not come up."""


@dataclass(frozen=True)
class MlflowServer:
    directory: Path
    port: int

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "mlflow.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "mlflow.pid"


def start(
    directory: Path,
    port: int,
    postgres_port: int,
    postgres_password: str,
    s3_endpoint: str,
    user: str = "lakehouse",
) -> MlflowServer:
    """Start the server (database and bucket created if missing); waits until it answers.
    A server already started from ``directory`` is left running and returned."""
    from jobs.io import model_registry
    from jobs.io.objectstore import ensure_bucket
    from jobs.settings import S3Settings

    directory = directory.resolve()
    server = MlflowServer(directory, port)
    if pid_alive(server.pid_file) and answers(f"{server.uri}/health"):
        return server
    directory.mkdir(parents=True, exist_ok=True)
    pg = postgres.PgServer(directory, postgres_port, user, DATABASE)
    postgres.create_database(pg, postgres_password, DATABASE)
    s3 = S3Settings(
        endpoint=s3_endpoint, path_style_access=True, credentials="environment", create_buckets=True
    )
    ensure_bucket(s3, BUCKET)
    env = {
        **model_registry.SERVER_ENVIRONMENT,
        **os.environ,
        "MLFLOW_BACKEND_STORE_URI": (
            f"postgresql+psycopg://{user}:{postgres_password}@127.0.0.1:{postgres_port}/{DATABASE}"
        ),
        "MLFLOW_S3_ENDPOINT_URL": s3_endpoint,
    }
    command = [
        sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
        "--artifacts-destination", f"s3://{BUCKET}/artifacts", "--workers", "1",
    ]  # fmt: skip
    with open(server.log, "ab") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 120  # the first start creates the schema
    while time.monotonic() < deadline:
        if answers(f"{server.uri}/health"):
            return server
        if process.poll() is not None:
            break
        time.sleep(0.5)
    stop(directory)
    tail = server.log.read_text(errors="replace")[-3000:]
    raise MlflowUnavailable(f"MLflow did not start on 127.0.0.1:{port}; log {server.log}:\n{tail}")


def stop(directory: Path) -> None:
    """Stop the server started in ``directory`` and the workers it forked."""
    stop_pid(directory / "mlflow.pid", group=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devservers.mlflow", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "reset"])
    parser.add_argument("--dir", type=lambda p: Path(p).resolve(), required=True)
    ports = dev_ports()  # where the dev settings (and so the clients) look for each server
    parser.add_argument("--port", type=int, default=ports.mlflow, help=f"default {ports.mlflow}")
    parser.add_argument(
        "--postgres-port", type=int, default=ports.postgres, help=f"default {ports.postgres}"
    )
    endpoint = f"http://127.0.0.1:{ports.minio}"
    parser.add_argument("--s3-endpoint", default=endpoint, help=f"default {endpoint}")
    args = parser.parse_args(argv)
    if args.action != "start":
        return stop_or_reset(args.action, args.dir, "MLflow", stop)
    password = os.environ.get(postgres.DEFAULT_PASSWORD_ENV)
    if not password:
        print(f"set {postgres.DEFAULT_PASSWORD_ENV} (the dev PostgreSQL's)", file=sys.stderr)
        return 2
    try:
        server = start(args.dir, args.port, args.postgres_port, password, args.s3_endpoint)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"MLflow on {server.uri}: store postgresql://127.0.0.1:{args.postgres_port}/{DATABASE}, "
        f"artifacts s3://{BUCKET}/artifacts on {args.s3_endpoint}; log {server.log}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
