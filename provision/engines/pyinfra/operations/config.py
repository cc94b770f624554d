"""`config.file`: put a rendered config file in place only after it validates.

pyinfra's files.put has no `validate=` (Ansible's template module does): a broken sshd_config
or sudoers that lands first and is checked later can lock the operator out. Here the new
content goes to a temporary file beside the target, the validator runs on it, and only then
is it moved over the old file in one rename.
"""

from __future__ import annotations

import hashlib
import posixpath
import shlex
from collections.abc import Iterator
from io import StringIO
from typing import Any

from pyinfra import host, logger, state
from pyinfra.api import FileUploadCommand, StringCommand, operation
from pyinfra.api.util import format_text
from pyinfra.facts.files import File, FileContents, Sha1File
from pyinfra.operations.util.files import generate_color_diff

from provision.engines.pyinfra.operations import service


@operation()
def file(
    content: str,
    dest: str,
    mode: str = "0644",
    user: str = "root",
    group: str = "root",
    validate: str | None = None,
    secret: bool = False,
    notify: str | None = None,
    notify_action: str = "reload",
) -> Iterator[Any]:
    """
    Install ``content`` at ``dest``.

    + validate: command run on the new file before it replaces ``dest``; ``%s`` is its path
    + secret: never print the content in ``--diff`` output
    + notify: a service that must ``notify_action`` (reload) when the file changes; carry it out
      with ``service.pending`` (the debt survives a failed run)
    """
    wanted_mode = int(mode, 8)
    remote = host.get_fact(File, path=dest)
    same_content = bool(remote) and (
        host.get_fact(Sha1File, path=dest) == hashlib.sha1(content.encode()).hexdigest()
    )
    if same_content:
        fixes = []
        if int(str(remote["mode"]), 8) != wanted_mode:
            fixes.append(StringCommand("chmod", f"{wanted_mode:o}", shlex.quote(dest)))
        if remote["user"] != user or remote["group"] != group:
            fixes.append(StringCommand("chown", f"{user}:{group}", shlex.quote(dest)))
        if not fixes:
            host.noop(f"{dest} is up to date")
        yield from fixes
        return

    if state.config.DIFF:
        _log_diff(dest, content, exists=bool(remote), secret=secret)
    temporary = posixpath.join(posixpath.dirname(dest), f".{posixpath.basename(dest)}.eyeshots-new")
    yield StringCommand("mkdir", "-p", shlex.quote(posixpath.dirname(dest)))
    yield FileUploadCommand(
        StringIO(content),
        temporary,
        remote_temp_filename=host.get_temp_filename(dest),
    )
    yield StringCommand(
        f"chown {user}:{group} {shlex.quote(temporary)} && chmod {wanted_mode:o} {shlex.quote(temporary)}"
    )
    if validate:
        check = validate.replace("%s", shlex.quote(temporary))
        yield StringCommand(
            f"{check} || {{ rm -f {shlex.quote(temporary)}; "
            f"echo 'validation failed, {dest} left unchanged' >&2; exit 1; }}"
        )
    yield StringCommand("mv", "-f", shlex.quote(temporary), shlex.quote(dest))
    if notify:
        yield StringCommand(service.mark(notify, notify_action))


def _log_diff(dest: str, content: str, exists: bool, secret: bool) -> None:
    verb = "modify" if exists else "create"
    host.log(f"Will {verb} {format_text(dest, bold=True)}", logger.info)
    if secret:
        logger.info("  (secret content not shown)")
        return
    current = (
        [line + "\n" for line in host.get_fact(FileContents, path=dest) or []] if exists else []
    )
    for line in generate_color_diff(current, content.splitlines(keepends=True)):
        logger.info("  %s", line)
    logger.info("")
