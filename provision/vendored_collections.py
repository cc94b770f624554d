"""The collections the roles use (community.general, ansible.posix), vendored as tarballs built
from PyPI's `ansible` bundle (no Galaxy server is reachable) and installed offline on first use
into the collections path ansible.cfg names."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import PROJECT_ROOT

# beside the Ansible engine, where ansible.cfg's collections_path points
HERE = PROJECT_ROOT / "provision" / "engines" / "ansible"
COLLECTIONS = HERE / "collections"


def install_collections() -> None:
    """The vendored collections (community.general, ansible.posix), installed once offline.
    Installed into a scratch folder and moved into place under a lock, so two commands starting
    at once (or one interrupted) never leave a half-installed collections path."""
    if (COLLECTIONS / "ansible_collections").is_dir():
        return
    with open(HERE / ".collections.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (COLLECTIONS / "ansible_collections").is_dir():
            return
        scratch = Path(tempfile.mkdtemp(dir=HERE, prefix=".collections-"))
        try:
            result = subprocess.run(
                [sys.executable, "-m", "ansible", "galaxy", "collection", "install", "--offline",
                 "-r", str(HERE / "requirements.yml"), "-p", str(scratch)],
                cwd=PROJECT_ROOT, capture_output=True, text=True,
            )  # fmt: skip
            if result.returncode != 0:
                raise OperatorError(
                    f"installing the vendored collections failed: {result.stderr.strip()}"
                )
            shutil.rmtree(COLLECTIONS, ignore_errors=True)
            scratch.rename(COLLECTIONS)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
