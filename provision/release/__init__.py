"""Releases: built on the operator machine, installed and switched on the server."""
