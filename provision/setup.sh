#!/usr/bin/env bash
# One-time setup of the operator's machine (Debian/Ubuntu, as root): the host packages the
# sandbox needs, uv, and the project's locked Python environment. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "provision/setup.sh: run as root (it installs packages): sudo bash provision/setup.sh" >&2
  exit 2
fi

packages=$(sed 's/#.*//' provision/host-packages.txt "$@" | tr -s ' \n' ' ')
missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
  echo "==> installing:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

if ! command -v uv >/dev/null; then
  echo "==> installing uv" >&2
  python3 -m venv /opt/eyeshots-uv
  /opt/eyeshots-uv/bin/pip install -q uv
  ln -sf /opt/eyeshots-uv/bin/uv /usr/local/bin/uv
fi

# the operator extra: pyinfra and the other tools only this machine needs (a server has none)
uv sync --frozen --extra operator --quiet
