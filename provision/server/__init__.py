"""What runs on a server, as root or as a service's user: the release agent, the host status
and the server layout they read, and `eyeshots-server`, the command the systemd units start.
Standard library, click and the server-side packages only: nothing here imports the operator's
tools (pyproject's import-linter contracts enforce it)."""
