"""A throwaway PostgreSQL server on 127.0.0.1, from Debian's ``postgresql`` package.

Used by the test fixtures, the warehouse benchmark and ``make postgres`` (the dev
profile's server). It creates its own cluster in a folder of its own, never touches the
system cluster, and stops with ``stop``.

    LAKEHOUSE_WAREHOUSE_PASSWORD=... python -m devservers.postgres start --dir DIR [--port N]
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

from devservers import dev_ports, server_arguments, stop_or_reset

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
    """Create (first time) and start a cluster in ``directory``, listening on 127.0.0.1:``port``.

    Starting a cluster that already runs is a no-op; one created with another password
    fails saying so (the password is fixed when the cluster is first created).
    """
    # Absolute: the server resolves its socket folder after changing into its data folder.
    directory = directory.resolve()
    server = PgServer(directory, port, user, database)
    tools = bin_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
        _check_reachable(directory)
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
    if _running(server.data):
        _create_database(server, password)
        return server
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


def _check_reachable(directory: Path) -> None:
    """As root the server runs as the ``postgres`` user, which must reach ``directory``."""
    for folder in [*reversed(directory.parents), directory]:
        allowed = subprocess.run(_as_postgres(["test", "-x", str(folder)]), capture_output=True)
        if allowed.returncode != 0:
            raise RuntimeError(
                f"PostgreSQL runs as the system user 'postgres', which cannot enter {folder} "
                f"(mode {folder.stat().st_mode & 0o777:o}), so it cannot use {directory}: "
                "set LAKEHOUSE_ROOT to a folder outside it (e.g. under /var/tmp or /srv)"
            )


def _running(data: Path) -> bool:
    if not (data / "postmaster.pid").exists():
        return False
    status = subprocess.run(
        _as_postgres([str(bin_dir() / "pg_ctl"), "-D", str(data), "status"]),
        capture_output=True, text=True,
    )  # fmt: skip
    return status.returncode == 0


def _create_database(server: PgServer, password: str, name: str | None = None) -> None:
    """Create database ``name`` (default: the server's own) if it does not exist."""
    import psycopg

    database = name or server.database

    info = (
        f"host=127.0.0.1 port={server.port} dbname=postgres user={server.user} password={password}"
    )
    try:
        conn = psycopg.connect(info, autocommit=True)
    except psycopg.OperationalError as exc:
        if "password authentication failed" not in str(exc):
            raise
        raise RuntimeError(
            f"the PostgreSQL cluster in {server.directory} was created with another password "
            f"than the {DEFAULT_PASSWORD_ENV} given now: export the first one again, or delete "
            f"the cluster and its data with `make postgres-reset` (or `python -m "
            f"devservers.postgres reset --dir {server.directory}`)"
        ) from None
    with conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


create_database = _create_database


def stop(directory: Path) -> None:
    """Stop the cluster in ``directory`` (no error if it is not running)."""
    data = directory.resolve() / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres([str(bin_dir() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True, text=True,
        )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = server_arguments("devservers.postgres", __doc__ or "", dev_ports().postgres, argv)
    if args.action != "start":
        return stop_or_reset(args.action, args.dir, "PostgreSQL", stop)
    password = os.environ.get(DEFAULT_PASSWORD_ENV)
    if not password:
        print(f"set {DEFAULT_PASSWORD_ENV} to the password the server should use", file=sys.stderr)
        return 2
    try:
        server = start(args.dir, args.port, password)
    except (RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"PostgreSQL on 127.0.0.1:{server.port}, database {server.database}, "
        f"user {server.user}; log {server.log}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
