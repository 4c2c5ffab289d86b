"""Where the project's own programs are: ``.tools/bin`` first, never luck with ``PATH``.

``make setup`` installs uv (and ``make minio-bin`` MinIO) into ``.tools/bin`` of the
checkout, so the wrappers, dev servers, benchmarks and tests find the same pinned builds
whatever the caller's ``PATH`` holds. An environment variable can point at another build.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"

# How each tool gets into .tools/bin, for the error that says it is missing.
_INSTALLED_BY = {"uv": "make setup", "minio": "make minio-bin"}


class ToolMissing(RuntimeError):
    """A program the project needs is not installed where the set-up puts it."""


def tool(name: str, env_override: str | None = None) -> Path:
    """The path of program ``name``: ``$env_override`` if set, else ``.tools/bin/<name>``.

    Falls back to ``PATH`` only for tools the set-up does not install itself.
    """
    if env_override and os.environ.get(env_override):
        path = Path(os.environ[env_override])
        if not path.is_file():
            raise ToolMissing(f"{env_override}={path}: no such file")
        return path
    own = TOOLS_BIN / name
    if own.is_file():
        return own
    if name not in _INSTALLED_BY:
        found = shutil.which(name)
        if found:
            return Path(found)
    how = _INSTALLED_BY.get(name, f"install {name}")
    raise ToolMissing(f"{name} not found at {own}: run `{how}` in {REPO_ROOT}")
