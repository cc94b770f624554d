"""netclass: interface properties from /sys/class/net (link state, speed, MTU, carrier...)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector, NoDataError, Settings, read_text

# sysfs attribute -> (metric suffix, counter?), in node_exporter's order; speed is handled apart
NUMERIC = (
    ("addr_assign_type", "address_assign_type", False),
    ("carrier", "carrier", False),
    ("carrier_changes", "carrier_changes_total", True),
    ("carrier_up_count", "carrier_up_changes_total", True),
    ("carrier_down_count", "carrier_down_changes_total", True),
    ("dev_id", "device_id", False),
    ("dormant", "dormant", False),
    ("flags", "flags", False),
    ("ifindex", "iface_id", False),
    ("iflink", "iface_link", False),
    ("link_mode", "iface_link_mode", False),
    ("mtu", "mtu_bytes", False),
    ("name_assign_type", "name_assign_type", False),
    ("netdev_group", "net_dev_group", False),
    ("speed", "speed_bytes", False),
    ("tx_queue_len", "transmit_queue_length", False),
    ("type", "protocol_type", False),
)
INFO_LABELS = ["device", "address", "broadcast", "duplex", "operstate", "adminstate", "ifalias"]
IFF_UP = 0x1


def _attribute(directory: str, name: str) -> str | None:
    """One sysfs attribute; None when the driver refuses it (EINVAL for a down link, ...)."""
    try:
        return read_text(os.path.join(directory, name)).strip()
    except OSError:
        return None


def _number(text: str) -> int:
    return int(text, 16) if text.startswith("0x") else int(text)


class NetclassCollector(Collector):
    name = "netclass"
    description = "Network interface properties (/sys/class/net)."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._ignored = re.compile(settings.netclass_ignored_devices)

    def collect(self) -> Iterable[Metric]:
        root = self.settings.sys("class", "net")
        try:
            entries = [e for e in os.scandir(root) if not e.is_file(follow_symlinks=False)]
        except FileNotFoundError as exc:
            raise NoDataError(f"{root} does not exist") from exc
        up = GaugeMetricFamily(
            "node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", labels=["device"]
        )
        info = GaugeMetricFamily(
            "node_network_info",
            "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
            labels=INFO_LABELS,
        )
        numeric = {
            attribute: (CounterMetricFamily if counter else GaugeMetricFamily)(
                f"node_network_{suffix}",
                f"Network device property: {suffix}",
                labels=["device"],
            )
            for attribute, suffix, counter in NUMERIC
        }
        for entry in sorted(entries, key=lambda e: e.name):
            device = entry.name
            if self._ignored.search(device):
                continue
            values = {a: _attribute(entry.path, a) for a, _, _ in NUMERIC}
            text = {
                a: _attribute(entry.path, a) or ""
                for a in ("address", "broadcast", "duplex", "operstate", "ifalias")
            }
            up.add_metric([device], 1.0 if text["operstate"] == "up" else 0.0)
            flags = values["flags"]
            adminstate = "up" if flags and _number(flags) & IFF_UP else "down"
            info.add_metric(
                [device, text["address"], text["broadcast"], text["duplex"], text["operstate"],
                 adminstate, text["ifalias"]],
                1.0,
            )  # fmt: skip
            for attribute, value in values.items():
                if value is None or value == "":
                    continue
                try:
                    number = _number(value)
                except ValueError:
                    continue
                if attribute == "speed":
                    # some drivers say -1 for an unknown speed; node_exporter keeps it by default
                    if number < 0 and self.settings.netclass_ignore_invalid_speed:
                        continue
                    number = number * 1000 * 1000 // 8  # Mbit/s -> bytes/s
                numeric[attribute].add_metric([device], float(number))
        yield up
        yield info
        for family in numeric.values():
            if family.samples:
                yield family
