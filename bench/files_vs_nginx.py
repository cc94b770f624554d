"""Benchmark: the file service behind nginx against its peers, measured in one run.

- download: a stored version fetched through nginx + the service's X-Accel-Redirect answer,
  versus nginx serving the same file from a plain static location (goal >= 0.9x);
- upload: PUT through nginx to the service (hash + fsync + rename + version row), versus
  `cat file | tee copy | sha256sum` on the same disk (goal >= 0.5x);
- the service's peak RSS during the upload, and during an upload of --rss-mib (2 GiB by
  default; goal < 100 MB).

Starts `eyeshots files serve` and nginx (the nginx role's template) on 127.0.0.1, a fresh SQLite
database, everything under a temp directory on the disk of --work.

    uv run python bench/files_vs_nginx.py [--size-mib 1024] [--rss-mib 2048] [--work DIR]
    uv run python bench/files_vs_nginx.py --size-mib 64 --rss-mib 128      # a quick run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from app_support.client import make_app, signed_in  # noqa: E402
from app_support.files_stack import KEYS, file_service, nginx  # noqa: E402
from app_support.world import build_world  # noqa: E402

from app.core.db import make_engine  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402

PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56
BLOCK = 1 << 20


def make_source(path: Path, mib: int) -> None:
    block = os.urandom(BLOCK)
    with open(path, "wb") as out:
        out.write(PNG_HEAD + block[len(PNG_HEAD) :])
        for _ in range(mib - 1):
            out.write(block)


class PeakRss:
    def __init__(self, pid: int) -> None:
        self.process, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()
        self.start = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.stop.wait(0.02)

    def __enter__(self) -> PeakRss:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def upload(url: str, token: str, source: Path) -> float:
    def chunks():  # noqa: ANN202
        with open(source, "rb") as handle:
            while block := handle.read(BLOCK):
                yield block

    start = time.perf_counter()
    response = httpx.put(url, content=chunks(), timeout=600, headers={
        "Authorization": f"Bearer {token}", "Content-Length": str(source.stat().st_size)})  # fmt: skip
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise SystemExit(f"upload failed: {response.status_code} {response.text}")
    return elapsed


def curl_seconds(url: str) -> float:
    start = time.perf_counter()
    subprocess.run(["curl", "-sSf", "-o", "/dev/null", url], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="upload/download size")
    parser.add_argument("--rss-mib", type=int, default=2048, help="size of the RSS upload")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--rounds", type=int, default=3, help="best of N for each timing")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.work, prefix="files-bench-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'data' / 'eyeshots.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        app = make_app(url, root / "data", files_dir=root / "files")
        world = build_world(app)
        env = {"DATABASE_URL": url, "EYESHOTS_DATA_DIR": str(root / "data"),
               "EYESHOTS_FILES_DIR": str(root / "files"), "EYESHOTS_FILE_TOKEN_KEYS": KEYS,
               "EYESHOTS_FILES_MAX_UPLOAD_BYTES": str(64 * 1024**3)}  # fmt: skip
        source = root / "source.bin"
        make_source(source, args.size_mib)
        api = signed_in(app, world.emails["creative"])

        with file_service(env, root / "service.log") as service, nginx(
            service.url.removeprefix("http://"), root / "files", root / "nginx",
            static_root=root / "files",
        ) as proxy:  # fmt: skip
            # upload: the service through nginx vs cat | tee | sha256sum on the same disk
            link = api.post(f"/api/files/{world.file}/upload-link").json()
            ours, peer = [], []
            with PeakRss(service.process.pid) as rss:
                for _ in range(args.rounds):
                    ours.append(upload(proxy.url + link["upload_url"], link["token"], source))
            for _ in range(args.rounds):
                start = time.perf_counter()
                subprocess.run(f"cat {source} | tee {root / 'copy.bin'} | sha256sum > /dev/null",
                               shell=True, check=True)  # fmt: skip
                subprocess.run(["sync", str(root / "copy.bin")], check=True)
                peer.append(time.perf_counter() - start)
                (root / "copy.bin").unlink()
            # download: X-Accel through the service vs nginx static, same stored file
            versions = api.get(f"/api/files/{world.file}").json()["versions"]
            latest = versions[-1]["id"]
            download = proxy.url + api.get(f"/api/versions/{latest}/links").json()["download_url"]
            key_path = app.state.storage.internal_path(_key_of(app, latest))
            static = f"{proxy.url}/static/{key_path}"
            curl_seconds(static)  # warm the page cache for both
            accel = [curl_seconds(download) for _ in range(args.rounds)]
            plain = [curl_seconds(static) for _ in range(args.rounds)]
            # RSS during a bigger upload (2 GiB by default)
            big_rss = None
            if args.rss_mib:
                source.unlink()
                make_source(source, args.rss_mib)
                link = api.post(f"/api/files/{world.file}/upload-link").json()
                with PeakRss(service.process.pid) as big:
                    upload(proxy.url + link["upload_url"], link["token"], source)
                big_rss = big
        app.state.engine.dispose()

    mib = args.size_mib
    best = min
    print(f"size {mib} MiB, best of {args.rounds}")
    print(f"upload   service via nginx {mib / best(ours):8.1f} MiB/s   "
          f"cat|tee|sha256sum {mib / best(peer):8.1f} MiB/s   ratio {best(peer) / best(ours):.2f}x "
          "(goal >= 0.5)")  # fmt: skip
    print(f"download nginx X-Accel    {mib / best(accel):8.1f} MiB/s   "
          f"nginx static      {mib / best(plain):8.1f} MiB/s   ratio {best(plain) / best(accel):.2f}x "
          "(goal >= 0.9)")  # fmt: skip
    print(
        f"service RSS during {mib} MiB uploads: start {rss.start / 1e6:.1f} MB, "
        f"peak {rss.peak / 1e6:.1f} MB"
    )
    if big_rss is not None:
        print(
            f"service RSS during a {args.rss_mib} MiB upload: start {big_rss.start / 1e6:.1f} MB, "
            f"peak {big_rss.peak / 1e6:.1f} MB (goal < 100 MB)"
        )


def _key_of(app, version_id: int) -> str:  # noqa: ANN001
    from app.models import FileVersion

    with app.state.sessionmaker() as db:
        return db.get(FileVersion, version_id).storage_key


if __name__ == "__main__":
    main()
