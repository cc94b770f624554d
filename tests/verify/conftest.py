"""The verification suite: every check of a provisioned host, run against the hosts of an
inventory through pytest-testinfra's ssh backend.

    uv run pytest tests/verify --inventory inventories/production [--limit vps1]

Without --inventory the suite has no host to check and collects nothing (the repository's CI
runs it through tests/hosts/test_hardening.py against a provisioned sandbox)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import testinfra

from provision.errors import OperatorError
from tests.verify import targets


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("verify", "verification suite (tests/verify)")
    group.addoption("--inventory", help="inventory directory whose hosts the suite checks")
    group.addoption("--limit", help="check only this inventory host")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("inventory", default=None) is None and collection_path.name.startswith(
        "test_"
    ):
        return True
    return None


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("inventory", default=None) is None:
        return "tests/verify: no --inventory given, the host verification suite is not collected"
    return f"tests/verify: checking the hosts of {config.getoption('inventory', default=None)}"


TARGETS = pytest.StashKey[list[targets.Target]]()


def pytest_configure(config: pytest.Config) -> None:
    """Resolve the hosts once, before collection: a bad inventory, an unreachable host or an
    unknown host key stops the run with one line."""
    inventory = config.getoption("inventory", default=None)
    if inventory is None:
        return
    try:
        config.stash[TARGETS] = targets.resolve(inventory, config.getoption("limit", default=None))
    except OperatorError as error:
        raise pytest.UsageError(f"tests/verify: {error}") from None


def _targets(config: pytest.Config) -> list[targets.Target]:
    return config.stash[TARGETS]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target" in metafunc.fixturenames:
        found = _targets(metafunc.config)
        metafunc.parametrize("target", found, ids=[t.name for t in found], scope="session")


@pytest.fixture(scope="session")
def ssh_config(request: pytest.FixtureRequest):
    """One client config for every host; their shared connections end with the session."""
    found = _targets(request.config)
    with tempfile.TemporaryDirectory(prefix="eyeshots-verify-") as directory:
        config = targets.ssh_config(found, Path(directory))
        yield config
        targets.close(found, config)


@pytest.fixture(scope="session")
def host(target: targets.Target, ssh_config: Path):
    """The testinfra host; commands run as root through the login user's sudo."""
    return testinfra.get_host(
        targets.hostspec(target), ssh_config=str(ssh_config), sudo=target.user != "root"
    )


@pytest.fixture(scope="session")
def v(target: targets.Target) -> dict:
    """The host's resolved variables: the expected values."""
    return target.variables
