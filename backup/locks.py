"""Repository locks with restic's semantics.

A non-exclusive lock (backup, restore, check without --read-data...) conflicts only with an
exclusive one; an exclusive lock (prune, forget) conflicts with any other lock, stale or not.
Locks are refreshed every 5 minutes by writing a new file and removing the old one; a lock is
stale when older than 30 minutes, or when it names this host and a process that is gone.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

from backup.backends.base import BackendError, FileType, NotFoundError
from backup.gotime import format_ns, parse_ns
from backup.identity import username
from backup.repository import Repository, RepositoryError

REFRESH_INTERVAL = 5 * 60
STALE_AFTER = 30 * 60
WAIT_BEFORE_CHECK = 0.2


class LockConflict(RepositoryError):
    pass


class LockLost(RepositoryError):
    """The lock could not be refreshed in time; others may already consider it stale."""


@dataclass
class LockInfo:
    id: str
    time_ns: int
    exclusive: bool
    hostname: str
    username: str
    pid: int

    def stale(self, now_ns: int | None = None) -> bool:
        now_ns = now_ns or time.time_ns()
        if now_ns - self.time_ns > STALE_AFTER * 1_000_000_000:
            return True
        if self.hostname != socket.gethostname():
            return False
        return not _pid_alive(self.pid)

    def describe(self) -> str:
        kind = "exclusive" if self.exclusive else "non-exclusive"
        return (
            f"{kind} lock {self.id[:8]} by {self.username}@{self.hostname} PID {self.pid} "
            f"since {format_ns(self.time_ns)}"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def list_locks(repo: Repository) -> list[LockInfo]:
    out = []
    for name in repo.list_ids(FileType.LOCK):
        try:
            doc = repo.load_unpacked(FileType.LOCK, name)
        except NotFoundError:
            continue  # removed while we listed: its owner finished
        out.append(
            LockInfo(
                name,
                parse_ns(doc["time"]),
                bool(doc.get("exclusive")),
                doc.get("hostname", ""),
                doc.get("username", ""),
                int(doc.get("pid", 0)),
            )
        )
    return out


def remove_locks(repo: Repository, all_locks: bool = False) -> list[str]:
    """`unlock`: remove stale locks (or every lock with all_locks)."""
    removed = []
    for lock in list_locks(repo):
        if all_locks or lock.stale():
            try:
                repo.backend.remove(FileType.LOCK, lock.id)
            except NotFoundError:
                pass
            removed.append(lock.id)
    return removed


class Lock:
    def __init__(
        self,
        repo: Repository,
        exclusive: bool = False,
        refresh: float = REFRESH_INTERVAL,
        defer_check: bool = False,
    ):
        """`defer_check`: return right after writing the lock file; the wait and the look at
        other locks happen on the first guarded write (or `confirm()`), so reading and
        processing overlap restic's 200 ms wait while nothing reaches the repository unchecked.
        """
        self.repo = repo
        self.exclusive = exclusive
        self.refresh_interval = refresh
        self.defer_check = defer_check
        self.id: str | None = None
        self._written_at = 0.0
        self._confirmed = False
        self._conflict: BaseException | None = None
        self._confirm_mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()
        self.last_refresh = 0.0

    def _doc(self) -> dict:
        doc = {
            "time": format_ns(time.time_ns()),
            "exclusive": self.exclusive,
            "hostname": socket.gethostname(),
            "username": username(),
            "pid": os.getpid(),
        }
        if os.getuid():
            doc["uid"] = os.getuid()
        if os.getgid():
            doc["gid"] = os.getgid()
        return doc

    def acquire(self) -> Lock:
        self.id = self.repo.save_unpacked(FileType.LOCK, self._doc())
        self.last_refresh = self._written_at = time.monotonic()
        self.repo.guards.append(self.ensure_valid)
        if not self.defer_check:
            self.confirm()
        self._thread = threading.Thread(target=self._refresher, name="lock-refresh", daemon=True)
        self._thread.start()
        return self

    def confirm(self) -> None:
        """Wait out the time concurrent lockers get to write theirs, then look (once)."""
        with self._confirm_mutex:
            if self._conflict is not None:
                raise self._conflict
            if self._confirmed:
                return
            try:
                # give concurrent lockers time to write theirs before looking
                time.sleep(max(0.0, self._written_at + WAIT_BEFORE_CHECK - time.monotonic()))
                for other in list_locks(self.repo):
                    if other.id == self.id:
                        continue
                    if not (self.exclusive or other.exclusive):
                        continue
                    if other.stale():
                        # a killed run's lock (dead PID here, or not refreshed for 30 min):
                        # every command clears it itself, as restic >= 0.16 does
                        try:
                            self.repo.backend.remove(FileType.LOCK, other.id)
                        except NotFoundError:
                            pass
                        continue
                    raise LockConflict(f"repository is already locked: {other.describe()}")
            except BaseException as e:
                self._conflict = e
                self.release()
                raise
            self._confirmed = True

    def _refresher(self) -> None:
        while not self._stop.wait(self.refresh_interval):
            try:
                self.refresh()
            except (BackendError, OSError):
                continue  # try again next interval; the old lock file is still there

    def refresh(self) -> None:
        with self._mutex:
            if self.id is None:
                return
            new_id = self.repo.save_unpacked(FileType.LOCK, self._doc())
            self.last_refresh = time.monotonic()
            old, self.id = self.id, new_id
            try:
                self.repo.backend.remove(FileType.LOCK, old)
            except NotFoundError:
                pass

    def ensure_valid(self) -> None:
        """Refuse further writes once the lock may look stale to others (restic >= 0.16)."""
        if not self._confirmed:
            self.confirm()
        if time.monotonic() - self.last_refresh > STALE_AFTER - REFRESH_INTERVAL:
            raise LockLost(
                "the repository lock could not be refreshed for too long; stopping before "
                "a concurrent prune could remove what this run writes"
            )

    def release(self) -> None:
        if self.ensure_valid in self.repo.guards:
            self.repo.guards.remove(self.ensure_valid)
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        with self._mutex:
            if self.id is not None:
                try:
                    self.repo.backend.remove(FileType.LOCK, self.id)
                except NotFoundError:
                    pass
                self.id = None

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
