"""The local sandbox VPS: Debian machines booted with systemd-nspawn in their own network namespace."""
