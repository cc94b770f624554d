from __future__ import annotations

import stat

from monitoring.backup_metrics import METRICS, BackupRun, write_backup_metrics
from monitoring.exporter.base import Settings
from monitoring.exporter.collectors.textfile import TextfileCollector


def test_written_file_is_served_and_a_failure_keeps_the_last_success(tmp_path, samples):
    ok = BackupRun("s3:contabo", started=1000.0, duration=60.0, success=True,
                   added_bytes=2048, processed_bytes=10**9)  # fmt: skip
    path = write_backup_metrics(ok, str(tmp_path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_backup_metrics(BackupRun("s3:contabo", started=90000.0, duration=5.0, success=False),
                         str(tmp_path))  # fmt: skip
    got = samples(TextfileCollector(Settings(textfile_directories=[str(tmp_path)])).collect())
    label = (("repository", "s3:contabo"),)
    assert got[("eyeshots_backup_last_success_timestamp_seconds", label)] == 1060.0
    assert got[("eyeshots_backup_last_run_success", label)] == 0.0
    assert got[("eyeshots_backup_last_run_timestamp_seconds", label)] == 90000.0
    assert got[("eyeshots_backup_last_added_bytes", label)] == 2048
    assert got[("node_textfile_scrape_error", ())] == 0
    assert {name for name, _ in got if name.startswith("eyeshots_")} == set(METRICS)
    assert [p.name for p in tmp_path.iterdir()] == ["eyeshots_backup_s3_contabo.prom"]
