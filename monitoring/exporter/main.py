"""`eyeshots-exporter`: flags named like node_exporter's, collectors switchable one by one."""

from __future__ import annotations

import json
import logging
import platform
import re
import sys
import threading
from collections.abc import Callable, Iterable
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


# node_exporter's Linux collectors this exporter does not implement: --no-collector.NAME is
# accepted (there is nothing to turn off), --collector.NAME is refused naming the flag
NOT_IMPLEMENTED = (
    "bcache", "bonding", "btrfs", "buddyinfo", "cgroups", "cpu_vulnerabilities", "cpufreq",
    "dmi", "drbd", "drm", "edac", "ethtool", "fibrechannel", "hwmon", "infiniband",
    "interrupts", "ipvs", "kernel_hung", "ksmd", "lnstat", "logind", "mdadm", "meminfo_numa",
    "mountstats", "netclass_rtnl", "network_route", "nfs", "nfsd", "ntp", "nvme", "perf",
    "powersupplyclass", "processes", "qdisc", "rapl", "runit", "slabinfo", "softirqs",
    "supervisord", "swap", "sysctl", "tapestats", "tcpstat", "thermal_zone", "watchdog",
    "wifi", "xfrm", "xfs", "zfs", "zoneinfo",
)  # fmt: skip
# node_exporter flags that cannot mean the same thing here, with what to do instead
UNSUPPORTED = {
    "--web.systemd-socket": "systemd socket activation is not supported; use --web.listen-address",
    "--collector.netdev.address-info": "node_network_address_info is not implemented",
    "--collector.netdev.enable-detailed-metrics": "only the default netdev metric names exist",
    "--collector.netdev.label-ifalias": "the ifalias label is not implemented",
    "--collector.cpu.info": "node_cpu_info is not implemented",
    "--collector.stat.softirq": "node_softirqs_total is not implemented",
    "--collector.systemd.unit-include": "name the units with --collector.systemd.unit",
    "--collector.systemd.unit-exclude": "name the units with --collector.systemd.unit",
}
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
              "error": logging.ERROR}  # fmt: skip


def _epilog() -> str:
    lines = ["Collectors (enable with --collector.NAME, disable with --no-collector.NAME):"]
    for name, cls in sorted(ALL.items()):
        state = "on " if cls.default_enabled else "off"
        lines.append(f"  [{state}] {name:<11} {cls.description}")
    lines.append("node_exporter collectors not implemented (--no-collector.NAME is accepted):")
    lines.append("  " + ", ".join(NOT_IMPLEMENTED))
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


class NodeExporterCommand(click.Command):
    """node_exporter's command line: its flags, and a one-line refusal naming any it cannot
    honour (an existing unit or role for node_exporter either works or says why not)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        kept = []
        for arg in args:
            flag = arg.split("=", 1)[0]
            if flag.startswith("--no-collector.") and flag[15:] in NOT_IMPLEMENTED:
                continue  # nothing to disable
            if flag.startswith("--collector.") and flag[12:] in NOT_IMPLEMENTED:
                self._refuse(flag, f"the {flag[12:]} collector is not implemented")
            if flag in UNSUPPORTED or (flag.startswith("--no-") and "--" + flag[5:] in UNSUPPORTED):
                self._refuse(flag, UNSUPPORTED.get(flag) or UNSUPPORTED["--" + flag[5:]])
            kept.append(arg)
        try:
            return super().parse_args(ctx, kept)
        except click.UsageError as exc:
            if isinstance(exc, click.NoSuchOption):
                self._refuse(exc.option_name, "unknown flag (see --help)")
            self._refuse("", exc.format_message())
            raise  # unreachable: _refuse exits

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a bad value found while building the settings
            self._refuse("", exc.format_message())
            raise  # unreachable: _refuse exits

    @staticmethod
    def _refuse(flag: str, why: str) -> None:
        click.echo(f"eyeshots-exporter: {flag + ': ' if flag else ''}{why}", err=True)
        sys.exit(2)


class _LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\\", "\\\\").replace('"', '\\"')
        return (
            f"time={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} "
            f'level={record.levelname.lower()} msg="{message}"'
        )


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
                "level": record.levelname.lower(),
                "msg": record.getMessage(),
            }
        )


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JSONFormatter() if fmt == "json" else _LogfmtFormatter())
    logging.basicConfig(level=LOG_LEVELS[level], handlers=[handler], force=True)


def _filter_options(
    prefix: str, dest: str, default: str, exclude_alias: str = "", include_alias: str = ""
) -> Callable[[click.Command], click.Command]:
    """--collector.PREFIX-exclude / -include (and node_exporter's deprecated spellings)."""

    def add(command: click.Command) -> click.Command:
        for kind, alias, shown in (
            ("exclude", exclude_alias, default),
            ("include", include_alias, ""),
        ):
            names = [f"--collector.{prefix}-{kind}"] + ([f"--collector.{alias}"] if alias else [])
            command = click.option(
                *names,
                f"{dest}_{kind}",
                default=None if kind == "exclude" else "",
                help=f"Regexp to {kind}"
                + (f" [default: {shown}]" if shown else "")
                + (" (mutually exclusive with the other)"),
            )(command)
        return command

    return add


def _accepted_switch(
    flag: str, default: bool, why: str
) -> Callable[[click.Command], click.Command]:
    """A node_exporter switch whose either value gives the same series here."""
    return click.option(
        f"--collector.{flag}/--no-collector.{flag}", flag.replace(".", "_"), default=default,
        help=f"Accepted: {why}", expose_value=False,
    )  # fmt: skip


def _filter(prefix: str, include: str, exclude: str | None, default_exclude: str) -> base.Filter:
    """An include/exclude pair; both given is refused as by node_exporter."""
    option_include, option_exclude = (
        f"--collector.{prefix}-include",
        f"--collector.{prefix}-exclude",
    )
    if include and exclude:
        raise click.BadParameter(
            f"{option_include} and {option_exclude} are mutually exclusive; give one of them",
            param_hint=option_include,
        )
    _regex(option_include, include)
    _regex(option_exclude, exclude or "")
    if include:
        return base.Filter(include=include)
    return base.Filter(exclude=default_exclude if exclude is None else exclude)


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


def _regex(option: str, pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise click.BadParameter(
            f"{pattern!r} is not a valid regular expression: {exc}", param_hint=option
        ) from exc
    return pattern


@click.command(
    cls=NodeExporterCommand,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    epilog=_epilog(),
)
@click.option(
    "--web.listen-address",
    "listen",
    multiple=True,
    default=[DEFAULT_LISTEN],
    show_default=True,
    help="Address to listen on (HOST:PORT), repeatable. Unlike node_exporter's :9100 the "
    "default is loopback: keep it there unless TLS and auth are set.",
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
@click.option(
    "--web.max-requests",
    "max_requests",
    type=click.IntRange(min=0),
    default=40,
    show_default=True,
    help="Maximum number of parallel scrape requests (more get 503). 0 disables the limit.",
)
@click.option(
    "--log.level",
    "log_level",
    type=click.Choice(list(LOG_LEVELS)),
    default="info",
    show_default=True,
)
@click.option(
    "--log.format",
    "log_format",
    type=click.Choice(["logfmt", "json"]),
    default="logfmt",
    show_default=True,
)
@click.option(
    "--runtime.gomaxprocs",
    "gomaxprocs",
    type=click.IntRange(min=1),
    expose_value=False,
    default=1,
    help="Accepted for node_exporter units; this exporter always runs on one core at a time.",
)
@click.option("--path.procfs", "procfs", default="/proc", show_default=True)
@click.option("--path.sysfs", "sysfs", default="/sys", show_default=True)
@click.option("--path.rootfs", "rootfs", default="/", show_default=True)
@click.option("--path.udev.data", "udev_data", default="/run/udev/data", show_default=True)
@click.option(
    "--collector.disable-defaults",
    "disable_defaults",
    is_flag=True,
    help="Start from no collectors; enable each with --collector.NAME.",
)
@_filter_options(
    "filesystem.mount-points",
    "mount",
    base.DEFAULT_MOUNT_POINTS_EXCLUDE,
    "filesystem.ignored-mount-points",
)
@_filter_options("filesystem.fs-types", "fs", base.DEFAULT_FS_TYPES_EXCLUDE,
                 "filesystem.ignored-fs-types")  # fmt: skip
@click.option(
    "--collector.filesystem.mount-timeout",
    "mount_timeout",
    default="5s",
    show_default=True,
    help="How long statvfs may take before the mount is reported as stuck.",
)
@click.option(
    "--collector.filesystem.stat-workers",
    "stat_workers",
    type=click.IntRange(min=1),
    expose_value=False,
    default=4,
    help="Accepted for node_exporter units; statvfs calls run in one batch with a deadline.",
)
@_filter_options(
    "diskstats.device", "disk", base.DEFAULT_DISKSTATS_DEVICE_EXCLUDE, "diskstats.ignored-devices"
)
@_filter_options("netdev.device", "netdev", "", "netdev.device-blacklist",
                 "netdev.device-whitelist")  # fmt: skip
@_accepted_switch(
    "netdev.netlink",
    True,
    "the counters come from /proc/net/dev (+ sysfs rx_nohandler) either way.",
)
@click.option(
    "--collector.netstat.fields",
    "netstat_fields",
    default=base.DEFAULT_NETSTAT_FIELDS,
    show_default=True,
)
@click.option(
    "--collector.vmstat.fields",
    "vmstat_fields",
    default=base.DEFAULT_VMSTAT_FIELDS,
    show_default=True,
)
@click.option("--collector.netclass.ignored-devices", "netclass_ignored", default="^$")
@click.option(
    "--collector.netclass.ignore-invalid-speed",
    "netclass_ignore_invalid_speed",
    is_flag=True,
    help="Leave out node_network_speed_bytes for devices reporting an unknown (-1) speed.",
)
@_accepted_switch("netclass.netlink", False, "interface properties are read from sysfs.")
@_filter_options("arp.device", "arp", "")
@_accepted_switch(
    "arp.netlink", True, "entries are counted from /proc/net/arp as netlink would (no NOARP)."
)
@click.option(
    "--collector.cpu.guest/--no-collector.cpu.guest",
    "cpu_guest",
    default=True,
    show_default=True,
    help="Report node_cpu_guest_seconds_total.",
)
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
    listen: tuple[str, ...],
    web_config: str | None,
    telemetry_path: str,
    no_exporter_metrics: bool,
    max_requests: int,
    log_level: str,
    log_format: str,
    procfs: str,
    sysfs: str,
    rootfs: str,
    udev_data: str,
    disable_defaults: bool,
    mount_exclude: str | None,
    mount_include: str,
    fs_exclude: str | None,
    fs_include: str,
    mount_timeout: str,
    disk_exclude: str | None,
    disk_include: str,
    netdev_exclude: str | None,
    netdev_include: str,
    netstat_fields: str,
    vmstat_fields: str,
    netclass_ignored: str,
    netclass_ignore_invalid_speed: bool,
    arp_include: str,
    arp_exclude: str | None,
    cpu_guest: bool,
    textfile_dirs: tuple[str, ...],
    cert_files: tuple[str, ...],
    units: tuple[str, ...],
    **collector_flags: bool | None,
) -> None:
    """A node_exporter-compatible exporter (psutil + /proc) for the Eye Shots VPS.

    node_exporter's flags are accepted with the same meaning; one that cannot apply here is
    refused with a one-line message naming it.
    """
    setup_logging(log_level, log_format)
    settings = base.Settings(
        procfs=procfs,
        sysfs=sysfs,
        rootfs=rootfs,
        udev_data=udev_data,
        mount_points=_filter("filesystem.mount-points", mount_include, mount_exclude, base.DEFAULT_MOUNT_POINTS_EXCLUDE),
        fs_types=_filter("filesystem.fs-types", fs_include, fs_exclude, base.DEFAULT_FS_TYPES_EXCLUDE),
        mount_timeout=parse_duration(mount_timeout),
        diskstats_devices=_filter("diskstats.device", disk_include, disk_exclude, base.DEFAULT_DISKSTATS_DEVICE_EXCLUDE),
        netdev_devices=_filter("netdev.device", netdev_include, netdev_exclude, ""),
        netstat_fields=_regex("--collector.netstat.fields", netstat_fields),
        vmstat_fields=_regex("--collector.vmstat.fields", vmstat_fields),
        netclass_ignored_devices=_regex("--collector.netclass.ignored-devices", netclass_ignored),
        netclass_ignore_invalid_speed=netclass_ignore_invalid_speed,
        arp_devices=_filter("arp.device", arp_include, arp_exclude, ""),
        cpu_guest=cpu_guest,
        textfile_directories=list(textfile_dirs),
        tls_cert_files=list(cert_files),
        systemd_units=list(units),
    )  # fmt: skip
    enabled = []
    for name, cls in sorted(ALL.items()):
        flag = collector_flags[f"collector_{name}"]
        if flag is True or (flag is None and cls.default_enabled and not disable_defaults):
            enabled.append(name)
    servers = []
    try:
        web = load_web_config(web_config)
        node, extras = build_collectors(settings, enabled, not no_exporter_metrics)
        for address in listen:
            try:
                servers.append(
                    serve(address, node, extras, telemetry_path, web, web_config, max_requests)
                )
            except OSError as exc:
                raise OSError(exc.errno, f"cannot listen on {address}: {exc.strerror}") from exc
    except (WebConfigError, ValueError) as exc:
        click.echo(f"eyeshots-exporter: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"eyeshots-exporter: {exc.strerror}", err=True)
        sys.exit(2)
    logging.info(
        "listening on %s (%s), collectors: %s",
        ", ".join(listen),
        "TLS" if web.ssl_context else "plain HTTP",
        ", ".join(enabled),
    )
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
