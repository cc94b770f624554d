"""timex: the kernel clock discipline state from adjtimex(2) (node-mixin's clock alerts).

Read-only call (modes = 0) through libc; no daemon or privilege needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from monitoring.exporter.base import Collector

TIME_ERROR = 5  # adjtimex return value: clock not synchronised
STA_NANO = 0x2000  # offset and jitter in nanoseconds instead of microseconds
PPM16 = 1_000_000.0 * 65536.0  # freq/ppsfreq/stabil are scaled ppm with a 16-bit fraction
MICRO = 1_000_000.0


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class Timex(ctypes.Structure):
    """struct timex from <sys/timex.h> (glibc, Linux)."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def read_timex() -> tuple[int, Timex]:
    timex = Timex()
    state = _libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return state, timex


HELP = {
    "offset_seconds": "Time offset in between local system and reference clock.",
    "frequency_adjustment_ratio": "Local clock frequency adjustment.",
    "maxerror_seconds": "Maximum error in seconds.",
    "estimated_error_seconds": "Estimated error in seconds.",
    "status": "Value of the status array bits.",
    "loop_time_constant": "Phase-locked loop time constant.",
    "tick_seconds": "Seconds between clock ticks.",
    "pps_frequency_hertz": "Pulse per second frequency.",
    "pps_jitter_seconds": "Pulse per second jitter.",
    "pps_shift_seconds": "Pulse per second interval duration.",
    "pps_stability_hertz": "Pulse per second stability, average of recent frequency changes.",
    "tai_offset_seconds": "International Atomic Time (TAI) offset.",
    "sync_status": "Is clock synchronized to a reliable server (1 = yes, 0 = no).",
    "pps_jitter_total": "Pulse per second count of jitter limit exceeded events.",
    "pps_calibration_total": "Pulse per second count of calibration intervals.",
    "pps_error_total": "Pulse per second count of calibration errors.",
    "pps_stability_exceeded_total": "Pulse per second count of stability limit exceeded events.",
}


class TimexCollector(Collector):
    name = "timex"
    description = "Clock synchronisation state and offsets (adjtimex)."

    def collect(self) -> Iterable[Metric]:
        state, t = read_timex()
        divisor = 1e9 if t.status & STA_NANO else MICRO
        gauges = {
            "offset_seconds": t.offset / divisor,
            "frequency_adjustment_ratio": 1 + t.freq / PPM16,
            "maxerror_seconds": t.maxerror / MICRO,
            "estimated_error_seconds": t.esterror / MICRO,
            "status": float(t.status),
            "loop_time_constant": float(t.constant),
            "tick_seconds": t.tick / MICRO,
            "pps_frequency_hertz": t.ppsfreq / PPM16,
            "pps_jitter_seconds": t.jitter / divisor,
            "pps_shift_seconds": float(t.shift),
            "pps_stability_hertz": t.stabil / PPM16,
            "tai_offset_seconds": float(t.tai),
            "sync_status": 0.0 if state == TIME_ERROR else 1.0,
        }
        for key, value in gauges.items():
            yield GaugeMetricFamily("node_timex_" + key, HELP[key], value=value)
        counters = {
            "pps_jitter_total": t.jitcnt,
            "pps_calibration_total": t.calcnt,
            "pps_error_total": t.errcnt,
            "pps_stability_exceeded_total": t.stbcnt,
        }
        for key, value in counters.items():
            yield CounterMetricFamily("node_timex_" + key, HELP[key], value=float(value))
