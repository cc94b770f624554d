"""eyeshots-exporter: a node_exporter-compatible host exporter (psutil, /proc, prometheus_client).

Metric names, types, label sets and default exclusions follow node_exporter >= 1.8 so the community
node-mixin rules and dashboards work unchanged. One collector per module under `collectors/`.
"""
