"""Progress output appears on a terminal only."""

from __future__ import annotations

import io

from backup.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_terminal():
    out = FakeTTY()
    p = Progress(out, every=0)
    p.total_bytes = 4 * 2**20
    p.update(1, 2**20)
    p.update(1, 2**20)
    p.done()
    text = out.getvalue()
    assert "\r[0:00] 2 files 2.0 MiB of 4.0 MiB (50%)" in text and text.endswith("\n")


def test_progress_silent_when_piped_or_disabled():
    piped = io.StringIO()
    Progress(piped).update(1, 10, force=True)
    tty = FakeTTY()
    Progress(tty, enabled=False).update(1, 10, force=True)
    assert piped.getvalue() == "" and tty.getvalue() == ""
