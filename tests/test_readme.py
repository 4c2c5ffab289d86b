"""The README is executable: every shell block in it (and in docs/) runs here as written.

A ```bash block is preceded by a marker that readers of the rendered page do not see:

    <!-- readme-test: WALKTHROUGH [mode=run|check] [env=K=V]... [serve="URL COMMAND"]...
                      [background="URL COMMAND"]... [self="COMMAND"] [expect="REGEX"] -->

- Blocks run in the order the documents show them, as a reader goes from top to bottom,
  all in one fresh lakehouse root (`LAKEHOUSE_ROOT`). Blocks of one walkthrough share one
  shell (exports, activated venv, working folder); each walkthrough starts from the same
  clean environment.
- `mode=check`: the block needs what cannot run here (real AWS). It is parsed with
  `bash -n` and each command runs with `--dry-run`, which contacts nothing.
- `env`: set for this block only; the README says so beside the block.
- `serve`: a line starting with COMMAND runs a server: it is started in the background,
  must answer URL, and is then stopped.
- `background`: the same, but the server keeps running while the block's next lines run (a
  second terminal's commands), and is stopped when the block ends.
- `self`: a line starting with COMMAND is the test command that is running this test;
  `.ci/run` must run exactly it.
- `expect`: the block's output must match the regular expression (may be repeated).
- `root=own`: the walkthrough needs nothing an earlier one made (`make bench` makes its own
  roots), so it runs apart, in a fresh root of its own (`tests/test_readme_own_root.py`):
  another test process can take it while this one runs the rest top to bottom.
- `test=MODULE`: a `root=own` walkthrough that MODULE runs instead (`run_walkthrough`), so
  that its own assertions look at what the walkthrough made while its servers still run
  (the dev walkthrough: `tests/test_dev_profile.py`).
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assets import run_worker
from devservers import free_port, minio
from devservers import mlflow as mlflow_server
from devservers import postgres as pgserver
from jobs.settings import REPO_ROOT

DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
MARKER = re.compile(r"^<!--\s*readme-test:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)\s*$")
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
BLOCK_TIMEOUT_S = 1800  # `make demo` beside the other test worker: about 7 minutes


@dataclass
class Block:
    """One shell block of a document and how the README says it is tested."""

    document: Path
    line: int  # of the opening fence
    text: str
    walkthrough: str = ""
    mode: str = "run"
    env: dict[str, str] = field(default_factory=dict)
    serve: list[tuple[str, str]] = field(default_factory=list)  # (url, command prefix)
    background: list[tuple[str, str]] = field(default_factory=list)  # (url, command prefix)
    self_command: str | None = None
    expect: list[str] = field(default_factory=list)
    own_root: bool = False
    test: str | None = None  # the module that runs this walkthrough (root=own only)

    @property
    def where(self) -> str:
        shown = (
            self.document.relative_to(REPO_ROOT)
            if self.document.is_relative_to(REPO_ROOT)
            else self.document.name
        )
        return f"{shown}:{self.line}"


def parse_marker(body: str, block: Block) -> None:
    """Fill ``block`` from the text of its ``readme-test:`` marker."""
    words = shlex.split(body)
    if not words or "=" in words[0]:
        raise ValueError(f"{block.where}: the marker must start with a walkthrough name")
    block.walkthrough = words[0]
    for word in words[1:]:
        key, _, value = word.partition("=")
        if key == "mode" and value in ("run", "check"):
            block.mode = value
        elif key == "env" and "=" in value:
            name, _, setting = value.partition("=")
            block.env[name] = setting
        elif key in ("serve", "background") and " " in value:
            url, _, command = value.partition(" ")
            getattr(block, key).append((url, command.strip()))
        elif key == "self" and value:
            block.self_command = value
        elif key == "expect" and value:
            block.expect.append(value)
        elif key == "root" and value == "own":
            block.own_root = True
        elif key == "test" and value:
            block.test = value
        else:
            raise ValueError(f"{block.where}: cannot read {word!r} in the readme-test marker")


def shell_blocks(document: Path) -> list[Block]:
    """Every shell block of ``document``, with its marker read (unmarked: no walkthrough)."""
    blocks: list[Block] = []
    lines = document.read_text().splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.match(lines[index])
        if not fence:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not FENCE.match(lines[end]):
            end += 1
        if fence.group(1) in SHELL_LANGUAGES:
            block = Block(document, index + 1, "\n".join(lines[index + 1 : end]) + "\n")
            marker = MARKER.match(lines[index - 1]) if index else None
            if marker:
                parse_marker(marker.group(1), block)
            blocks.append(block)
        index = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for document in DOCUMENTS for block in shell_blocks(document)]


# --------------------------------------------------------------------------- the harness
# A server a block starts: started, answered at its URL, then stopped (serve) or left
# running until the block ends (background). Ctrl-C stops it, as a user stops it: a
# background job of a script ignores Ctrl-C, so the server gets it back, and a process group
# of its own (Ctrl-C reaches what it started); it also gets Ctrl-C when this supervisor dies
# (a block killed at its time limit), so no server outlives its block.
_SUPERVISOR = r"""
import ctypes, os, signal, subprocess, sys, tempfile, time, urllib.request
mode, url, command, ready = sys.argv[1:5]
log = tempfile.TemporaryFile()

def setup():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setpgrp()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG

def stop():
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

def output():
    log.seek(0)
    return log.read().decode(errors="replace")[-4000:]

server = subprocess.Popen(["bash", "-c", command], stdout=log, stderr=subprocess.STDOUT,
                          preexec_fn=setup)
answered, deadline = False, time.monotonic() + 240
while not answered and server.poll() is None and time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            answered = response.status < 500
    except OSError:
        time.sleep(1)
if not answered or mode == "serve":
    stop()
if not answered:
    print(f"readme: {command!r} did not answer at {url}; its output:\n{output()}", flush=True)
    sys.exit(1)
print(f"readme: {command!r} answered at {url}", flush=True)
if mode == "background":  # until the block's end sends SIGTERM
    ending = []
    signal.signal(signal.SIGTERM, lambda *_: ending.append(True))
    with open(ready, "w") as marker:
        marker.write("answered")
    while server.poll() is None and not ending:
        time.sleep(0.5)
    if not ending:
        print(f"readme: {command!r} ended before its block; its output:\n{output()}", flush=True)
    stop()
"""

_HELPERS = f"""
README_SUPERVISOR={shlex.quote(_SUPERVISOR)}
README_SUPERVISORS=()
readme_serve() {{  # readme_serve URL COMMAND...: start a server, wait for URL, stop it
  "$README_PYTHON" -c "$README_SUPERVISOR" serve "$1" "${{*:2}}" /dev/null
}}
readme_background() {{  # readme_background URL COMMAND...: a server for the rest of the block
  local ready pid
  ready=$(mktemp)
  "$README_PYTHON" -c "$README_SUPERVISOR" background "$1" "${{*:2}}" "$ready" &
  pid=$!
  README_SUPERVISORS+=("$pid")
  until [ -s "$ready" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; return 1; fi
    sleep 1
  done
}}
readme_stop_background() {{
  local pid
  for pid in "${{README_SUPERVISORS[@]}}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${{README_SUPERVISORS[@]}}"; do wait "$pid" 2>/dev/null || true; done
}}
"""


def _starts_with(line: str, prefix: str) -> bool:
    return line.strip() == prefix or line.strip().startswith(prefix + " ")


def script_for(block: Block, state: Path) -> str:
    """The bash script that runs ``block`` in its walkthrough's shell state."""
    lines = []
    for line in block.text.splitlines():
        served = [url for url, command in block.serve if _starts_with(line, command)]
        behind = [url for url, command in block.background if _starts_with(line, command)]
        if block.self_command and _starts_with(line, block.self_command):
            line = f": {shlex.quote(line.strip())}  # the test command running this test"
        elif served:
            line = f"readme_serve {served[0]} {line.strip()}"
        elif behind:
            line = f"readme_background {behind[0]} {line.strip()}"
        lines.append(line)
    body = "\n".join(lines)
    if block.background:
        body = f"trap readme_stop_background EXIT\n{body}"
    if block.mode == "check":
        checked = [
            line if "--dry-run" in line else f"{line.split('#')[0].rstrip()} --dry-run"
            for line in lines
            if line.strip() and not line.lstrip().startswith("#")
        ]
        body = f"bash -n <<'README_BLOCK'\n{body}\nREADME_BLOCK\n" + "\n".join(checked)
    exports = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in block.env.items())
    unsets = "".join(f"unset {k}\n" for k in block.env)
    restore = f'source {state}\ncd "$(cat {state}.cwd)"\n' if state.exists() else ""
    return (
        f"set -euo pipefail\n{restore}{_HELPERS}\n{exports}{body}\n"
        f"{unsets}export -p > {state}\npwd > {state}.cwd\n"
    )


def clean_environment(root: Path) -> dict[str, str]:
    """What a walkthrough starts from: this process's environment without the test's own
    secrets, make's variables or a Dagster home, and a fresh lakehouse root."""
    drop = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "DAGSTER_HOME", "LAKEHOUSE_ENV")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in drop and not k.startswith(("AWS_", "PYTEST_", "VIRTUAL_ENV"))
    }
    env["LAKEHOUSE_ROOT"] = str(root)
    env["README_PYTHON"] = str(REPO_ROOT / ".venv" / "bin" / "python")
    return env


def _run_script(script: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a block's script in a process group of its own: the exit code (-9 after
    ``BLOCK_TIMEOUT_S``) and the output. Whatever the block started (make, the lakehouse
    CLI, its JVM) is killed with it when it times out or the test is interrupted, instead of
    running on beside the rest of the suite."""
    with subprocess.Popen(
        ["bash", "-c", script], cwd=REPO_ROOT, env=env, text=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    ) as process:  # fmt: skip
        try:
            output, _ = process.communicate(timeout=BLOCK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            output += f"\n--- killed after {BLOCK_TIMEOUT_S} s ---"
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    return process.returncode, output


def run_blocks(
    blocks: list[Block], root: Path, env: dict[str, str] | None = None, shells: Path | None = None
) -> Iterator[tuple[Block, str]]:
    """Run ``blocks`` in order, each in its walkthrough's shell state (kept in ``shells``, a
    temporary folder unless given), with ``env`` added to the clean environment; yields each
    block with its output and fails naming the block that broke."""
    with tempfile.TemporaryDirectory(prefix="readme-shell-") as folder:
        for block in blocks:
            state = (shells or Path(folder)) / f"state-{block.walkthrough}"
            began = time.monotonic()
            environment = {**clean_environment(root), **(env or {})}
            code, output = _run_script(script_for(block, state), environment)
            assert code == 0, (
                f"the block at {block.where} ({block.walkthrough}) failed with exit code "
                f"{code}:\n{block.text}\n--- output ---\n{output[-6000:]}"
            )
            for expected in block.expect:
                assert re.search(expected, output, re.MULTILINE), (
                    f"the block at {block.where} printed nothing matching {expected!r}:\n"
                    f"{output[-6000:]}"
                )
            print(f"{block.where} ({block.walkthrough}): {time.monotonic() - began:.0f} s")
            yield block, output


# --------------------------------------------------------------------------- the tests
def test_every_shell_block_says_how_it_is_tested():
    unmarked = [block.where for block in all_blocks() if not block.walkthrough]
    assert not unmarked, f"shell blocks without a readme-test marker: {unmarked}"


def test_the_test_command_is_what_ci_runs():
    selves = {block.self_command for block in all_blocks() if block.self_command}
    assert selves == {"make check"}
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].endswith(" make check"), ci[-1]


def test_a_marker_that_cannot_be_read_is_refused(tmp_path):
    document = tmp_path / "README.md"
    document.write_text("<!-- readme-test: x colour=blue -->\n```bash\ntrue\n```\n")
    with pytest.raises(ValueError, match="colour=blue"):
        shell_blocks(document)


def test_a_failing_command_fails_naming_its_block(tmp_path):
    document = tmp_path / "README.md"
    document.write_text(
        "<!-- readme-test: x -->\n```bash\nexport GREETING=hello\n```\n\n"
        '<!-- readme-test: x expect="^hello$" -->\n```bash\necho "$GREETING"\n```\n\n'
        "<!-- readme-test: x -->\n```bash\nlakehouse no-such-command\n```\n"
    )
    ran = []
    with pytest.raises(AssertionError, match=r"README.md:12 \(x\) failed"):
        for block, _ in run_blocks(shell_blocks(document), tmp_path / "root"):
            ran.append(block.line)
    assert ran == [2, 7]  # the export carried over to the second block


def test_a_block_that_overruns_is_killed_with_what_it_started(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.test_readme.BLOCK_TIMEOUT_S", 2)
    started = tmp_path / "pid"
    code, output = _run_script(f"echo begun; sleep 300 & echo $! > {started}; wait", {})
    assert (code, output.split()) == (-9, ["begun", "---", "killed", "after", "2", "s", "---"])
    pid, deadline = started.read_text().strip(), time.monotonic() + 10
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _running(pid), "the sleep runs on"


def _running(pid: str) -> bool:
    """Whether the process runs (a killed one may stay a zombie until it is reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def run_document(folder: Path, text: str) -> int:
    """Write ``text`` as ``folder/README.md`` and run its blocks (root ``folder/root``): how
    many ran."""
    document = folder / "README.md"
    document.write_text(text)
    return len(list(run_blocks(shell_blocks(document), folder / "root")))


def test_walkthroughs_keep_their_own_shell(tmp_path):
    ran = run_document(
        tmp_path,
        "<!-- readme-test: a -->\n```bash\nexport WHO=a\n```\n"
        '<!-- readme-test: b expect="^unset$" -->\n```bash\necho "${WHO:-unset}"\n```\n'
        '<!-- readme-test: a expect="^a$" -->\n```bash\necho "$WHO"\n```\n',
    )
    assert ran == 3


def own_root_walkthroughs() -> dict[str, list[Block]]:
    """The walkthroughs marked ``root=own``, each with its blocks in document order."""
    apart: dict[str, list[Block]] = {}
    for block in all_blocks():
        if block.own_root:
            apart.setdefault(block.walkthrough, []).append(block)
    return apart


def walkthrough_blocks(name: str) -> list[Block]:
    """The blocks of walkthrough ``name``, in document order."""
    blocks = [block for block in all_blocks() if block.walkthrough == name]
    assert blocks, f"no walkthrough {name!r} in the documents"
    return blocks


def shell_exports(shells: Path, walkthrough: str) -> dict[str, str]:
    """The variables walkthrough ``walkthrough`` has exported so far (its shell state in the
    ``shells`` folder given to :func:`run_blocks`)."""
    state = shells / f"state-{walkthrough}"
    done = subprocess.run(
        ["bash", "-c", 'source "$1" && env -0', "-", str(state)],
        env={}, capture_output=True, check=True,
    )  # fmt: skip
    pairs = (item.decode().partition("=") for item in done.stdout.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


@contextmanager
def fresh_lakehouse_root() -> Iterator[Path]:
    """A fresh lakehouse root that the dev servers' system users can enter (pytest's own
    temporary folders are private to root); servers a failed block left running are stopped."""
    with tempfile.TemporaryDirectory(prefix="readme-lakehouse-") as name:
        root = Path(name)
        root.chmod(0o755)
        try:
            yield root
        finally:
            run_worker.stop_under(root)
            mlflow_server.stop(root / "mlflow-server")
            minio.stop(root / "minio")
            pgserver.stop(root / "postgres")


def test_a_walkthrough_runs_apart_with_all_its_blocks_or_not_at_all():
    apart = own_root_walkthroughs()
    assert apart, "no walkthrough runs apart: tests/test_readme_own_root.py checks nothing"
    split = [b.where for b in all_blocks() if b.walkthrough in apart and not b.own_root]
    assert not split, f"blocks of a root=own walkthrough without root=own: {split}"
    for name, blocks in apart.items():
        assert len({block.test for block in blocks}) == 1, f"{name}: one test= for all blocks"


def test_a_walkthrough_a_module_claims_is_run_there():
    claimed = {b.walkthrough: b.test for b in all_blocks() if b.test}
    assert all(b.own_root for b in all_blocks() if b.test), "test= needs root=own"
    for name, module in claimed.items():
        path = REPO_ROOT / module
        assert path.is_file(), f"walkthrough {name!r} names {module}, which does not exist"
        assert f'walkthrough_blocks("{name}")' in path.read_text(), (
            f"{module} does not run walkthrough {name!r} (walkthrough_blocks)"
        )


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(2700)  # 17 minutes beside the other test worker
def test_the_documents_run_top_to_bottom():
    blocks = [block for block in all_blocks() if not block.own_root]
    with fresh_lakehouse_root() as root:
        ran = [block.where for block, _ in run_blocks(blocks, root)]
    assert ran == [block.where for block in blocks]


def test_a_server_is_started_answered_and_stopped(tmp_path):
    port = free_port()
    command = f"python3 -m http.server {port} --bind 127.0.0.1"
    ran = run_document(
        tmp_path,
        f'<!-- readme-test: x serve="http://127.0.0.1:{port}/ python3 -m http.server" '
        f'expect="answered at" -->\n```bash\n{command}   # serves this folder\n```\n',
    )
    assert ran == 1
    assert not listening(port), "the server is still running"


def test_a_background_server_answers_the_blocks_next_lines_and_stops_with_the_block(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    ran = run_document(
        tmp_path,
        f'<!-- readme-test: x background="{url} python3 -m http.server" expect="^200$" -->\n'
        f"```bash\npython3 -m http.server {port} --bind 127.0.0.1   # terminal 1\n"
        f"python3 -c 'import urllib.request as u; print(u.urlopen(\"{url}\").status)'\n```\n",
    )
    assert ran == 1
    assert not listening(port), "the server is still running"


def test_a_killed_block_takes_its_background_server_with_it(tmp_path, monkeypatch):
    monkeypatch.setattr("tests.test_readme.BLOCK_TIMEOUT_S", 8)
    port = free_port()
    block = Block(tmp_path / "README.md", 1, f"python3 -m http.server {port}\nsleep 300\n")
    block.background.append((f"http://127.0.0.1:{port}/", "python3 -m http.server"))
    env = clean_environment(tmp_path / "root")
    code, output = _run_script(script_for(block, tmp_path / "state"), env)
    assert code == -9 and "answered at" in output, output
    deadline = time.monotonic() + 10
    while listening(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not listening(port), "the background server outlived its killed block"


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
