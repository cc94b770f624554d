from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, generate_latest

from monitoring.exporter.collectors.textfile import TextfileCollector
from monitoring.exporter.node import NodeCollector


def scrape(settings) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector([TextfileCollector(settings)]))
    return generate_latest(registry).decode()


def test_names_are_kept_as_written_and_labels_filled(settings, fake_root):
    directory = fake_root / "textfile"
    directory.mkdir()
    (directory / "a.prom").write_text(
        "# TYPE jobs_count counter\njobs_count 3\n"
        '# TYPE backups_total counter\nbackups_total{result="ok"} 2\n'
        'temp{sensor="a b\\"c"} 21.5\n'
    )
    (directory / "b.prom").write_text('temp{zone="x"} 20\n')
    (directory / "ignored.txt").write_text("not read\n")
    os.utime(directory / "a.prom", (1700000000, 1700000000))
    text = scrape(settings)
    # prometheus_client would rename this to jobs_count_total; node_exporter keeps the name
    assert "\njobs_count 3.0\n" in text
    assert '# TYPE backups_total counter\nbackups_total{result="ok"} 2.0' in text
    assert 'temp{sensor="a b\\"c",zone=""} 21.5' in text
    assert 'temp{sensor="",zone="x"} 20.0' in text
    assert f"# HELP temp Metric read from {directory}/a.prom, {directory}/b.prom" in text
    assert f'node_textfile_mtime_seconds{{file="{directory}/a.prom"}} 1.7e+09' in text
    assert "node_textfile_scrape_error 0.0" in text
    assert "not read" not in text


def test_a_bad_file_is_skipped_and_flagged_the_rest_is_served(settings, fake_root):
    directory = fake_root / "textfile"
    directory.mkdir()
    (directory / "good.prom").write_text("good_metric 1\n")
    (directory / "garbage.prom").write_text("this is { not valid\n")
    (directory / "stamped.prom").write_text("stamped_metric 1 1700000000000\n")
    text = scrape(settings)
    assert "good_metric 1.0" in text
    assert "stamped_metric" not in text
    assert "node_textfile_scrape_error 1.0" in text
    assert 'node_scrape_collector_success{collector="textfile"} 1.0' in text


def test_missing_directory_is_a_scrape_error(settings):
    assert "node_textfile_scrape_error 1.0" in scrape(settings)


def test_duplicate_series_never_reach_the_scrape(settings, fake_root):
    directory = fake_root / "textfile"
    directory.mkdir()
    (directory / "a.prom").write_text('jobs{queue="x"} 1\n')
    (directory / "b.prom").write_text('jobs{queue="x"} 2\n')  # same series as a.prom
    (directory / "c.prom").write_text("twice 1\ntwice 2\n")  # same series twice in one file
    (directory / "d.prom").write_text('jobs{queue="y"} 3\n')  # merges fine
    text = scrape(settings)
    assert 'jobs{queue="x"} 1' in text and 'jobs{queue="x"} 2' not in text
    assert 'jobs{queue="y"} 3' in text
    assert "twice" not in text
    assert "node_textfile_scrape_error 1" in text


def test_a_textfile_cannot_shadow_another_collectors_metric(settings, fake_root):
    from monitoring.exporter.collectors.stat import StatCollector

    directory = fake_root / "textfile"
    directory.mkdir()
    (directory / "evil.prom").write_text("node_forks_total 1\n")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector([StatCollector(settings), TextfileCollector(settings)]))
    text = generate_latest(registry).decode()
    assert text.count("\nnode_forks_total ") == 1
    assert "node_forks_total 4242.0" in text
    assert 'node_scrape_collector_success{collector="textfile"} 0.0' in text


def test_bad_files_are_logged_naming_the_file(settings, fake_root, caplog):
    directory = fake_root / "textfile"
    directory.mkdir()
    (directory / "garbage.prom").write_text("this is { not valid\n")
    (directory / "stamped.prom").write_text("stamped_metric 1 1700000000000\n")
    (directory / "a.prom").write_text("jobs 1\n")
    (directory / "b.prom").write_text("jobs 2\n")
    (directory / "twice.prom").write_text("twice 1\ntwice 2\n")
    with caplog.at_level("ERROR", logger="eyeshots_exporter"):
        scrape(settings)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"{directory}/garbage.prom: line 1: not a sample" in logged
    assert f"{directory}/stamped.prom: line 1: client-side timestamps" in logged
    assert f"{directory}/b.prom: jobs was already read from an earlier file" in logged
    assert f"{directory}/twice.prom: twice: the same series appears twice" in logged
    assert "a.prom" not in logged


def test_a_torn_read_is_never_served_as_a_value(settings, fake_root, caplog):
    """A file rewritten in place (no tmp+rename) is read half-written: the cut line has no
    newline, so the file is refused like node_exporter does instead of serving `1` for `12`."""
    directory = fake_root / "textfile"
    directory.mkdir()
    path = directory / "backup.prom"
    path.write_text("# TYPE backup_size_bytes gauge\nbackup_size_bytes 12")
    with caplog.at_level("ERROR", logger="eyeshots_exporter"):
        text = scrape(settings)
    assert "backup_size_bytes" not in text
    assert "node_textfile_scrape_error 1.0" in text
    assert f"{path}: line 2: unexpected end of input stream" in caplog.text
