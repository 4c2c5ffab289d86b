"""A throwaway PostgreSQL server on 127.0.0.1, from Debian's ``postgresql`` package.

Used by the test fixtures, the warehouse benchmark and ``make postgres`` (the dev
profile's server). It creates its own cluster in a folder of its own, never touches the
system cluster, and stops with ``stop``.

    LAKEHOUSE_WAREHOUSE_PASSWORD=... python -m devservers.postgres start --dir DIR --port 55432
    python -m devservers.postgres stop --dir DIR
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from devservers import server_arguments

DEFAULT_PASSWORD_ENV = "LAKEHOUSE_WAREHOUSE_PASSWORD"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def bin_dir() -> Path:
    """The newest installed PostgreSQL server's ``bin`` folder."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql: "
            "install Debian's package (apt-get install -y postgresql); `make setup` does it"
        )
    return Path(found[-1]).parent


def _as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; run them as the package's system user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class PgServer:
    directory: Path
    port: int
    user: str
    database: str

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def conninfo(self, password: str) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={self.database} user={self.user} "
            f"password={password}"
        )


def start(
    directory: Path, port: int, password: str, user: str = "lakehouse", database: str = "lakehouse"
) -> PgServer:
    """Create (first time) and start a cluster in ``directory``, listening on 127.0.0.1:``port``."""
    server = PgServer(directory, port, user, database)
    tools = bin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    if not (server.data / "PG_VERSION").exists():
        pwfile = directory / "pwfile"
        pwfile.write_text(password)
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
        try:
            subprocess.run(
                _as_postgres(
                    [str(tools / "initdb"), "-D", str(server.data), "-U", user,
                     "--pwfile", str(pwfile), "--auth=scram-sha-256", "-E", "UTF8",
                     "--locale=C.UTF-8"]
                ),
                check=True, capture_output=True, text=True,
            )  # fmt: skip
        except subprocess.CalledProcessError as exc:
            raise RuntimeError(f"initdb failed in {server.data}: {exc.stderr.strip()}") from exc
        finally:
            pwfile.unlink(missing_ok=True)
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    result = subprocess.run(
        _as_postgres(
            [str(tools / "pg_ctl"), "-D", str(server.data), "-l", str(server.log), "-w", "-t", "60",
             "-o", options, "start"]
        ),
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        log = server.log.read_text()[-2000:] if server.log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{port}: {result.stderr}\n{log}")
    _create_database(server, password)
    return server


def _create_database(server: PgServer, password: str) -> None:
    import psycopg

    info = (
        f"host=127.0.0.1 port={server.port} dbname=postgres user={server.user} password={password}"
    )
    with psycopg.connect(info, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (server.database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{server.database}"')


def stop(directory: Path) -> None:
    """Stop the cluster in ``directory`` (no error if it is not running)."""
    data = directory / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True, text=True,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = server_arguments("devservers.postgres", __doc__ or "", 55432, argv)
    if args.action == "stop":
        stop(args.dir)
        print(f"stopped PostgreSQL in {args.dir}")
        return 0
    password = os.environ.get(DEFAULT_PASSWORD_ENV)
    if not password:
        print(f"set {DEFAULT_PASSWORD_ENV} to the password the server should use", file=sys.stderr)
        return 2
    server = start(args.dir, args.port, password)
    print(
        f"PostgreSQL on 127.0.0.1:{server.port}, database {server.database}, "
        f"user {server.user}; log {server.log}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
