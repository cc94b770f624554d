"""The server layout: paths, users, ports and env files, rendered by roles/platform from the
role defaults into one JSON file on the server (templates/layout.json.j2). The agent and the
host status read that file; the operator renders the same template for the same host, so no
path or port is typed twice."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from provision.errors import OperatorError

# The one path the server must know before it can read anything else (platform_layout_file);
# EYESHOTS_LAYOUT points tests at a scratch tree.
LAYOUT_FILE = Path("/etc/eyeshots/layout.json")


@dataclass(frozen=True)
class Service:
    """A release's long-running service: eyeshots-<name>@<version>.service on one port per slot."""

    name: str
    package: str  # the release provides the service when this package is installed
    ports: tuple[int, int]
    health: str
    upstream: str  # nginx upstream block name

    def unit(self, version: str) -> str:
        return f"eyeshots-{self.name}@{version}.service"


@dataclass(frozen=True)
class Layout:
    root: PurePosixPath
    releases: PurePosixPath
    current: PurePosixPath
    history: PurePosixPath
    wheels: PurePosixPath  # dependency wheels shared by every release
    lock: PurePosixPath
    config_dir: PurePosixPath
    unit_dir: PurePosixPath
    nginx_upstreams: PurePosixPath
    app_user: str
    data_group: str
    app_environment_files: tuple[str, ...]
    services: tuple[Service, ...]
    disks: tuple[str, ...]
    certificate: PurePosixPath
    textfile_directory: PurePosixPath

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data: dict[str, Any] = json.loads(text)
        paths = {
            name: PurePosixPath(data[name])
            for name in (
                "root", "releases", "current", "history", "wheels", "lock", "config_dir",
                "unit_dir", "nginx_upstreams", "certificate", "textfile_directory",
            )
        }  # fmt: skip
        services = tuple(
            Service(s["name"], s["package"], tuple(s["ports"]), s["health"], s["upstream"])
            for s in data["services"]
        )
        return cls(
            **paths,
            app_user=data["app_user"],
            data_group=data["data_group"],
            app_environment_files=tuple(data["app_environment_files"]),
            services=services,
            disks=tuple(data["disks"]),
        )

    def release_dir(self, version: str) -> PurePosixPath:
        return self.releases / version

    def venv_bin(self, version: str, program: str = "eyeshots-server") -> PurePosixPath:
        return self.release_dir(version) / "venv" / "bin" / program

    @property
    def current_agent(self) -> PurePosixPath:
        """The live release's server command: what rollback, releases and status run."""
        return self.current / "venv" / "bin" / "eyeshots-server"

    @property
    def first_admin_password(self) -> PurePosixPath:
        return self.config_dir / "first-admin-password"

    @property
    def first_admin_done(self) -> PurePosixPath:
        return self.config_dir / ".first-admin-created"


def load() -> Layout:
    """This server's layout; a one-line error when the server was never provisioned."""
    path = Path(os.environ.get("EYESHOTS_LAYOUT", LAYOUT_FILE))
    try:
        return Layout.from_json(path.read_text())
    except FileNotFoundError:
        raise OperatorError(
            f"{path} is missing: this server was not provisioned by this version; "
            "run `eyeshots provision` first"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise OperatorError(
            f"{path} is not a valid server layout ({error}); re-provision"
        ) from None
