"""The nginx role renders the file-service locations into the HTTPS server only when an
upstream is set, with the directives streaming and X-Accel-Redirect depend on."""

from __future__ import annotations

import re

from app.core.settings import Settings
from provision.hostvars import defaults
from provision.templates import render


def variables(**overrides: object) -> dict[str, object]:
    """Every role's defaults, resolved as for a host, plus `overrides`."""
    return defaults({"tls_ocsp_stapling": False, **overrides}, name="vps1").variables


def test_locations_are_in_the_https_server_only_with_an_upstream():
    site = render("nginx", "site.conf.j2", variables())
    https = site[site.index("listen 443") :]
    upload = re.search(r"location \^~ /transfer/ \{(.*?)\n        \}", https, re.S).group(1)
    for directive in ("proxy_pass http://eyeshots_files;", "proxy_request_buffering off;",
                      "proxy_http_version 1.1;", "client_max_body_size 20g;"):  # fmt: skip
        assert directive in upload
    internal = re.search(r"location \^~ /_protected/ \{(.*?)\n        \}", https, re.S).group(1)
    assert "internal;" in internal and "alias /srv/eyeshots/files/;" in internal
    assert 'X-Content-Type-Options "nosniff" always' in internal
    assert "/transfer/" not in render("nginx", "site.conf.j2", variables(nginx_files_upstream=""))


def test_role_and_service_defaults_agree():
    defaults, settings = variables(), Settings()
    assert defaults["nginx_files_prefix"] == settings.files_prefix
    assert defaults["nginx_files_internal_prefix"] == settings.files_internal_prefix
