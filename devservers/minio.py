"""A MinIO server on 127.0.0.1: the dev profile's S3, reached by Spark through S3A.

The binary is built once by ``make minio-bin`` with ``go install`` at the version pinned in
the Makefile into ``.tools/bin`` (git-ignored); MinIO is AGPL-3.0 and runs as a separate
server, never linked or shipped. Credentials are the standard AWS variables, so boto3,
S3A and MinIO agree without any key in a file.

    AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
        python -m devservers.minio start --dir DIR [--port N]  # default: the dev settings'
    python -m devservers.minio stop --dir DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from devservers import answers, dev_ports, pid_alive, server_arguments, stop_or_reset, stop_pid
from devservers.tools import ToolMissing, tool

KEY_ENV, SECRET_ENV = "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"


class MinioUnavailable(RuntimeError):
    """The MinIO binary is missing or the server did not come up."""


def binary() -> Path:
    """The MinIO binary (``LAKEHOUSE_MINIO_BIN`` or ``.tools/bin/minio``)."""
    try:
        return tool("minio", "LAKEHOUSE_MINIO_BIN")
    except ToolMissing as exc:
        raise MinioUnavailable(f"{exc} (go install of the pinned version)") from exc


@dataclass(frozen=True)
class MinioServer:
    directory: Path
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "minio.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "minio.pid"


def _healthy(endpoint: str) -> bool:
    return answers(f"{endpoint}/minio/health/live", timeout=1)


def start(directory: Path, port: int, access_key: str, secret_key: str) -> MinioServer:
    """Start MinIO serving ``directory/data`` on 127.0.0.1:``port``; waits until it is live.

    A server already started from ``directory`` is left running and returned.
    """
    directory = directory.resolve()
    server = MinioServer(directory, port)
    if pid_alive(server.pid_file) and _healthy(server.endpoint):
        return server
    if len(access_key) < 3 or len(secret_key) < 8:
        raise MinioUnavailable(f"MinIO needs {KEY_ENV} of 3+ and {SECRET_ENV} of 8+ characters")
    (directory / "data").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MINIO_ROOT_USER": access_key,
        "MINIO_ROOT_PASSWORD": secret_key,
        "MINIO_BROWSER": "off",
        "MINIO_UPDATE": "off",
    }
    address = f"127.0.0.1:{port}"
    with open(server.log, "ab") as log:
        process = subprocess.Popen(
            [str(binary()), "server", str(directory / "data"), "--address", address, "--quiet"],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    server.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _healthy(server.endpoint):
            return server
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop(directory)
    tail = server.log.read_text(errors="replace")[-2000:]
    raise MinioUnavailable(f"MinIO did not start on {address}; log {server.log}:\n{tail}")


def stop(directory: Path) -> None:
    """Stop the server started in ``directory`` (no error if it is not running)."""
    stop_pid(directory / "minio.pid")


def main(argv: list[str] | None = None) -> int:
    args = server_arguments("devservers.minio", __doc__ or "", dev_ports().minio, argv)
    if args.action != "start":
        return stop_or_reset(args.action, args.dir, "MinIO", stop)
    key, secret = os.environ.get(KEY_ENV), os.environ.get(SECRET_ENV)
    if not (key and secret):
        print(f"set {KEY_ENV} and {SECRET_ENV}: MinIO's root credentials", file=sys.stderr)
        return 2
    try:
        server = start(args.dir, args.port, key, secret)
    except MinioUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"MinIO on {server.endpoint}, data {args.dir / 'data'}; log {server.log}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
