"""The Dockerfile, without a Docker engine: its stages parsed, and its build steps run for real in a
fresh venv to prove they give a working `smoke`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser

from smoke import __version__

ROOT = Path(__file__).resolve().parents[2]


def stages() -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []
    for instruction in DockerfileParser(path=str(ROOT / "Dockerfile")).structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def values(stage: list[dict[str, Any]], instruction: str) -> list[str]:
    return [i["value"] for i in stage if i["instruction"] == instruction]


def test_two_stages_on_a_slim_python_pinned_by_version() -> None:
    built = stages()
    assert len(built) == 2
    for stage in built:
        [base] = values(stage, "FROM")
        assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+( AS \w+)?", base), base


def test_final_stage_runs_the_console_script_as_a_numeric_non_root_user() -> None:
    final = stages()[-1]
    [user] = values(final, "USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or gid.isdigit())
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    [entrypoint] = values(final, "ENTRYPOINT")
    assert json.loads(entrypoint) == ["smoke"] and "smoke" in scripts
    [cmd] = values(final, "CMD")
    assert json.loads(cmd) == ["run", "--suite", "/etc/smoke/suite.yaml"]


def test_final_stage_builds_nothing() -> None:
    final = " ".join(values(stages()[-1], "RUN"))
    assert not re.search(r"apt-get|apk |gcc|build-essential|pip install|pip wheel", final)
    copies = values(stages()[-1], "COPY")
    assert copies and all(c.startswith("--from=build ") for c in copies)


@pytest.mark.slow
def test_build_steps_in_a_fresh_venv_give_a_working_smoke(tmp_path: Path) -> None:
    build = stages()[0]
    source = tmp_path / "src"
    source.mkdir()
    for copy in values(build, "COPY"):
        *sources, _ = copy.split()
        for name in sources:
            origin = ROOT / name
            if origin.is_dir():
                shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(origin, source / name)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VENV": str(tmp_path / "venv"),
        "WHEELS": str(tmp_path / "wheels"),
    }
    env.pop("VIRTUAL_ENV", None)
    for step in values(build, "RUN"):
        subprocess.run(["sh", "-ec", step], cwd=source, env=env, check=True, capture_output=True)
    smoke = tmp_path / "venv" / "bin" / "smoke"
    out = subprocess.run([str(smoke), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"smoke, version {__version__}"
    assert not (tmp_path / "venv" / "bin" / "pip").exists()
