"""The project's programs come from ``.tools/bin``, whatever the caller's PATH holds."""

from __future__ import annotations

import pytest

from devservers import tools


@pytest.fixture
def tools_bin(tmp_path, monkeypatch):
    monkeypatch.setattr(tools, "TOOLS_BIN", tmp_path)
    return tmp_path


def test_the_projects_own_build_comes_first(tools_bin, monkeypatch):
    (tools_bin / "uv").write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert tools.tool("uv") == tools_bin / "uv"


def test_a_tool_the_setup_installs_is_never_taken_from_path(tools_bin, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "uv").write_text("#!/bin/sh\n")
    (elsewhere / "uv").chmod(0o755)
    (tools_bin / "other").mkdir()
    monkeypatch.setattr(tools, "TOOLS_BIN", tools_bin / "other")
    monkeypatch.setenv("PATH", str(elsewhere))
    with pytest.raises(tools.ToolMissing, match="run `make setup`"):
        tools.tool("uv")


def test_an_override_must_exist(tools_bin, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_MINIO_BIN", "/nowhere/minio")
    with pytest.raises(tools.ToolMissing, match="LAKEHOUSE_MINIO_BIN=/nowhere/minio"):
        tools.tool("minio", "LAKEHOUSE_MINIO_BIN")


def test_other_programs_come_from_path(tools_bin):
    assert tools.tool("sh").name == "sh"
