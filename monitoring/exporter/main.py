"""`eyeshots-exporter`: flags named like node_exporter's, collectors switchable one by one."""

from __future__ import annotations

import logging
import platform
import re
import sys
from collections.abc import Iterable
from importlib.metadata import version

import click
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector as RegistryCollector

from monitoring.exporter import base
from monitoring.exporter.collectors import ALL
from monitoring.exporter.node import NodeCollector
from monitoring.exporter.server import serve
from monitoring.exporter.webconfig import WebConfigError, load_web_config

DEFAULT_LISTEN = "127.0.0.1:9100"
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")


def parse_duration(value: str) -> float:
    """Go-style duration ("5s", "500ms", "1m") or plain seconds."""
    match = _DURATION.match(value.strip())
    if match is None:
        raise click.BadParameter(f"{value!r} is not a duration; use e.g. 5s, 500ms or 1m")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    return float(match.group(1)) * scale


class BuildInfo(RegistryCollector):
    def __init__(self) -> None:
        # importlib.metadata is slow enough (~1 ms) to matter at every scrape
        self.labels = [version("eyeshots"), platform.python_version()]

    def collect(self) -> Iterable[Metric]:
        info = GaugeMetricFamily(
            "eyeshots_exporter_build_info",
            "A metric with a constant '1' value labeled by version and pythonversion.",
            labels=["version", "pythonversion"],
        )
        info.add_metric(self.labels, 1.0)
        yield info


def _epilog() -> str:
    lines = ["Collectors (enable with --collector.NAME, disable with --no-collector.NAME):"]
    for name, cls in sorted(ALL.items()):
        state = "on " if cls.default_enabled else "off"
        lines.append(f"  [{state}] {name:<11} {cls.description}")
    return "\b\n" + "\n".join(lines)


def _collector_flags(command: click.Command) -> click.Command:
    for name in sorted(ALL, reverse=True):
        command = click.option(
            f"--collector.{name}/--no-collector.{name}",
            f"collector_{name}",
            default=None,
            help=f"Enable the {name} collector (default: "
            f"{'enabled' if ALL[name].default_enabled else 'disabled'}).",
        )(command)
    return command


def build_collectors(
    settings: base.Settings, enabled: list[str], exporter_metrics: bool
) -> tuple[NodeCollector, list[RegistryCollector]]:
    """The node collector over the enabled collectors, and the exporter's own metrics."""
    node = NodeCollector(ALL[name](settings) for name in enabled)
    if not exporter_metrics:
        return node, []
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    return node, [PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR, BuildInfo()]


def build_registry(
    settings: base.Settings, enabled: list[str], exporter_metrics: bool
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    node, extras = build_collectors(settings, enabled, exporter_metrics)
    for collector in (node, *extras):
        registry.register(collector)
    return registry


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    epilog=_epilog(),
)
@click.option(
    "--web.listen-address",
    "listen",
    default=DEFAULT_LISTEN,
    show_default=True,
    help="Address to listen on (HOST:PORT). Keep it on loopback unless TLS and auth are set.",
)
@click.option(
    "--web.config.file",
    "web_config",
    default=None,
    help="exporter-toolkit web-config file enabling TLS and/or basic auth.",
)
@click.option("--web.telemetry-path", "telemetry_path", default="/metrics", show_default=True)
@click.option(
    "--web.disable-exporter-metrics",
    "no_exporter_metrics",
    is_flag=True,
    help="Leave out process_*, python_* and eyeshots_exporter_build_info.",
)
@click.option("--path.procfs", "procfs", default="/proc", show_default=True)
@click.option("--path.sysfs", "sysfs", default="/sys", show_default=True)
@click.option("--path.rootfs", "rootfs", default="/", show_default=True)
@click.option(
    "--collector.disable-defaults",
    "disable_defaults",
    is_flag=True,
    help="Start from no collectors; enable each with --collector.NAME.",
)
@click.option(
    "--collector.filesystem.mount-points-exclude",
    "mount_exclude",
    default=base.DEFAULT_MOUNT_POINTS_EXCLUDE,
    show_default=True,
)
@click.option(
    "--collector.filesystem.fs-types-exclude",
    "fs_exclude",
    default=base.DEFAULT_FS_TYPES_EXCLUDE,
    show_default=True,
)
@click.option(
    "--collector.filesystem.mount-timeout",
    "mount_timeout",
    default="5s",
    show_default=True,
    help="How long statvfs may take before the mount is reported as stuck.",
)
@click.option(
    "--collector.diskstats.device-exclude",
    "disk_exclude",
    default=base.DEFAULT_DISKSTATS_DEVICE_EXCLUDE,
    show_default=True,
)
@click.option("--collector.netdev.device-exclude", "netdev_exclude", default="")
@click.option(
    "--collector.textfile.directory",
    "textfile_dirs",
    multiple=True,
    default=["/var/lib/prometheus/node-exporter"],
    show_default=True,
    help="Directory (glob) of *.prom files; repeatable.",
)
@click.option(
    "--collector.tlscert.file",
    "cert_files",
    multiple=True,
    help="PEM certificate file (glob), e.g. /etc/letsencrypt/live/*/cert.pem; repeatable.",
)
@click.option(
    "--collector.systemd.unit",
    "units",
    multiple=True,
    help="systemd unit to report on, e.g. eyeshots-app.service; repeatable.",
)
@_collector_flags
def main(
    listen: str,
    web_config: str | None,
    telemetry_path: str,
    no_exporter_metrics: bool,
    procfs: str,
    sysfs: str,
    rootfs: str,
    disable_defaults: bool,
    mount_exclude: str,
    fs_exclude: str,
    mount_timeout: str,
    disk_exclude: str,
    netdev_exclude: str,
    textfile_dirs: tuple[str, ...],
    cert_files: tuple[str, ...],
    units: tuple[str, ...],
    **collector_flags: bool | None,
) -> None:
    """A node_exporter-compatible exporter (psutil + /proc) for the Eye Shots VPS."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for option, pattern in (
        ("--collector.filesystem.mount-points-exclude", mount_exclude),
        ("--collector.filesystem.fs-types-exclude", fs_exclude),
        ("--collector.diskstats.device-exclude", disk_exclude),
        ("--collector.netdev.device-exclude", netdev_exclude),
    ):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise click.BadParameter(
                f"{pattern!r} is not a valid regular expression: {exc}", param_hint=option
            ) from exc
    settings = base.Settings(
        procfs=procfs,
        sysfs=sysfs,
        rootfs=rootfs,
        mount_points_exclude=mount_exclude,
        fs_types_exclude=fs_exclude,
        mount_timeout=parse_duration(mount_timeout),
        diskstats_device_exclude=disk_exclude,
        netdev_device_exclude=netdev_exclude,
        textfile_directories=list(textfile_dirs),
        tls_cert_files=list(cert_files),
        systemd_units=list(units),
    )
    enabled = []
    for name, cls in sorted(ALL.items()):
        flag = collector_flags[f"collector_{name}"]
        if flag is True or (flag is None and cls.default_enabled and not disable_defaults):
            enabled.append(name)
    try:
        web = load_web_config(web_config)
        node, extras = build_collectors(settings, enabled, not no_exporter_metrics)
        server = serve(listen, node, extras, telemetry_path, web, web_config)
    except (WebConfigError, ValueError) as exc:
        click.echo(f"eyeshots-exporter: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"eyeshots-exporter: cannot listen on {listen}: {exc.strerror}", err=True)
        sys.exit(2)
    logging.info(
        "listening on %s (%s), collectors: %s",
        listen,
        "TLS" if web.ssl_context else "plain HTTP",
        ", ".join(enabled),
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
