"""mdadm: software RAID state and disks per md device (/proc/mdstat), for the RAID alerts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, read_lines

_DEVICE = re.compile(r"^(md\w*) : (\w+)")
_STATUS = re.compile(r"\[(\d+)/(\d+)\]")
_BLOCKS = re.compile(r"^\s*(\d+) blocks")
_SYNCED = re.compile(r"\((\d+)/\d+\)")
STATES = ("active", "inactive", "recovering", "resyncing", "checking")


def parse_mdstat(lines: list[str]) -> list[dict]:
    devices: list[dict] = []
    for number, line in enumerate(lines):
        match = _DEVICE.match(line)
        if not match:
            continue
        # the device line, then its status line, then (while syncing) a progress line
        following = lines[number + 1 : number + 3]
        status = _STATUS.search(following[0]) if following else None
        blocks = _BLOCKS.match(following[0]) if following else None
        progress = following[1] if len(following) > 1 else ""
        state = "inactive" if match.group(2) == "inactive" else "active"
        for word, activity in (("recovery", "recovering"), ("resync", "resyncing"),
                               ("check", "checking")):  # fmt: skip
            if state == "active" and word in progress:
                state = activity
        synced = _SYNCED.search(progress) if state != "active" else None
        total = int(blocks.group(1)) if blocks else 0
        devices.append(
            {
                "device": match.group(1),
                "state": state,
                "required": int(status.group(1)) if status else 0,
                "active": int(status.group(2)) if status else 0,
                "failed": line.count("(F)"),
                "spare": line.count("(S)"),
                "blocks": total,
                "synced": int(synced.group(1)) if synced else total,
            }
        )
    return devices


class MdadmCollector(Collector):
    name = "mdadm"
    description = "Software RAID (md) state and disks (/proc/mdstat)."

    def collect(self) -> Iterable[Metric]:
        try:
            devices = parse_mdstat(read_lines(self.settings.proc("mdstat")))
        except FileNotFoundError as exc:
            raise NoDataError("no /proc/mdstat (md driver not loaded)") from exc
        state = GaugeMetricFamily(
            "node_md_state", "Indicates the state of md-device.", labels=["device", "state"]
        )
        disks = GaugeMetricFamily(
            "node_md_disks", "Number of active/failed/spare disks of device.",
            labels=["device", "state"],
        )  # fmt: skip
        required = GaugeMetricFamily(
            "node_md_disks_required", "Total number of disks of device.", labels=["device"]
        )
        blocks = GaugeMetricFamily(
            "node_md_blocks", "Total number of blocks on device.", labels=["device"]
        )
        synced = GaugeMetricFamily(
            "node_md_blocks_synced", "Number of blocks synced on device.", labels=["device"]
        )
        for md in devices:
            name = md["device"]
            for kind in ("active", "failed", "spare"):
                disks.add_metric([name, kind], float(md[kind]))
            required.add_metric([name], float(md["required"]))
            for candidate in STATES:
                state.add_metric([name, candidate], 1.0 if md["state"] == candidate else 0.0)
            blocks.add_metric([name], float(md["blocks"]))
            synced.add_metric([name], float(md["synced"]))
        yield from (disks, required, state, blocks, synced)
