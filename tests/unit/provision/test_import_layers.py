"""The import contracts (pyproject's [tool.importlinter]) hold, and they see every module: a new
module of provision/ is either on the server side, a shared leaf, or in the operator's list
that the server side may not import."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

from eyeshots_cli import PROJECT_ROOT

SHARED = {"provision.errors", "provision.shell", "provision.console"}


def _config() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_every_module_of_provision_has_a_side():
    (server_contract,) = [
        c for c in _config()["contracts"] if "provision.server" in c.get("source_modules", [])
    ]
    operator = set(server_contract["forbidden_modules"])
    top = {
        f"provision.{p.stem if p.suffix == '.py' else p.name}"
        for p in (PROJECT_ROOT / "provision").iterdir()
        if (p.suffix == ".py" and not p.name.startswith("__")) or (p / "__init__.py").exists()
    }
    assert top - operator - SHARED == {"provision.server"}


def test_the_contracts_hold_and_a_violation_breaks_them(tmp_path):
    ok = subprocess.run(
        ["lint-imports", "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout[-3000:]
    # the same contracts over a copy of the tree in which the agent imports the operator's code
    for package in ("provision", "app", "backup", "monitoring"):
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    agent = tmp_path / "provision" / "server" / "agent.py"
    agent.write_text(agent.read_text() + "\nfrom provision import runner  # noqa\n")
    broken = subprocess.run(
        ["lint-imports", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert broken.returncode != 0
    assert "provision.server.agent -> provision.runner" in broken.stdout, broken.stdout[-2000:]
