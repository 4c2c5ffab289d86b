"""What ``spark-submit/submit --dry-run`` prints is meant to be pasted into tickets and CI
logs: no secret of the submitting process may appear in it, for any target or profile."""

from __future__ import annotations

import secrets

import pytest

ARGS = ["--start", "2013-01-01", "--end", "2013-01-31"]
CANARIES = {
    "AWS_SECRET_ACCESS_KEY": f"canary-secret-{secrets.token_hex(8)}",
    "AWS_SESSION_TOKEN": f"canary-token-{secrets.token_hex(8)}",
    "LAKEHOUSE_WAREHOUSE_PASSWORD": f"canary-password-{secrets.token_hex(8)}",
}


@pytest.mark.parametrize(
    ("env", "target"),
    [
        ("local", "local"),
        ("dev", "local"),
        ("prod", "emr"),
        ("prod", "emr-serverless"),
    ],
)
@pytest.mark.parametrize("job", ["bronze", "gold", "ml"])
def test_dry_run_output_holds_no_secret(wrappers, capsys, monkeypatch, env, target, job):
    for name, value in CANARIES.items():
        monkeypatch.setenv(name, value)
    argv = ["submit", job, "--env", env, "--target", target, *ARGS, "--dry-run"]
    if target == "local":
        argv.append("--packaged")  # the form that names the most: archives, conf, jars
    assert wrappers.main(argv) == 0
    printed = capsys.readouterr()
    output = printed.out + printed.err
    assert "2013-01-31" in output  # it printed the command or request
    for name, value in CANARIES.items():
        assert value not in output, f"{name} is in the --dry-run output"
