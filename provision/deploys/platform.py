"""roles/platform and the service roles with pyinfra: what releases need on the server before
`eyeshots deploy` — users, directories, settings, secrets made once, and the systemd units."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.files import File
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, server

from provision.deploys import variables
from provision.operations import config, service
from provision.paths import ROLES_DIR
from provision.templating import render

ROLE = "platform"
# roles whose templates/*.service.j2 and *.timer.j2 are systemd units of the platform
SERVICE_ROLES = ("app", "files", "exporter", "backup")


@deploy("platform")
def apply() -> None:
    v = variables()
    apt.packages(name="Python for releases", packages=v["platform_packages"], no_recommends=True)
    group = v["platform_data_group"]
    server.group(name=f"Group {group}", group=group, system=True)
    for user, groups in v["platform_service_users"].items():
        server.user(
            name=f"Service user {user}",
            user=user,
            system=True,
            shell="/usr/sbin/nologin",
            home="/nonexistent",
            create_home=False,
            ensure_home=False,
            groups=groups,
        )
    root = v["platform_root"]
    for path in (root, f"{root}/releases", f"{root}/wheels"):
        files.directory(name=f"Directory {path}", path=path, mode="0755")
    config_dir = v["platform_config_dir"]
    files.directory(name=f"Directory {config_dir}", path=config_dir, mode="0700")
    # setgid: files made by any service stay in the data group
    for path in (v["platform_data_dir"], v["platform_files_dir"]):
        files.directory(
            name=f"Data directory {path}",
            path=path,
            user="eyeshots-app",
            group=group,
            mode="2770",
        )
    # SQLite makes a new database 0644 whatever the umask (and its -wal/-shm copy that): created
    # here group-writable, the file service and the backup can use it too.
    for created in v["app_created_files"]:
        files.file(
            name=f"File {created['path']}",
            path=created["path"],
            user=created["owner"],
            group=created["group"],
            mode=created["mode"],
        )
    # nginx sends downloads itself (X-Accel-Redirect): its user may read the stored files, and
    # nothing else of the data group's (a default ACL, inherited by every new file).
    files_dir = v["platform_files_dir"]
    acl = host.get_fact(Command, command=f"getfacl -cp {files_dir} 2>/dev/null || true")
    if "default:user:www-data:r-x" not in (acl or ""):
        server.shell(
            name="nginx may read the stored files",
            commands=[f"setfacl -R -m u:www-data:rX,d:u:www-data:rX {files_dir}"],
        )
    config.file(
        name="App settings",
        content=render(ROLE, "app.env.j2", v),
        dest=f"{config_dir}/app.env",
        mode="0600",
    )
    # paths, users and ports of the releases, read by the deploy's agent (provision/server)
    config.file(
        name="Server layout",
        content=render(ROLE, "layout.json.j2", v),
        dest=v["platform_layout_file"],
        mode="0644",
    )
    if host.get_fact(File, path=f"{config_dir}/secrets.env") is None:
        server.shell(
            name="Generate the secrets (first deploy only)",
            commands=[render(ROLE, "make-secrets.sh.j2", v)],
        )
    directories = list(v["backup_directories"])
    if v["backup_local_repository"]:
        directories.append(
            {"path": v["backup_local_repository"], "owner": v["backup_user"], "group": "root",
             "mode": "0700"}
        )  # fmt: skip
    for directory in directories:
        files.directory(
            name=f"Directory {directory['path']}",
            path=directory["path"],
            user=directory["owner"],
            group=directory["group"],
            mode=directory["mode"],
        )
    roles = [r for r in SERVICE_ROLES if r != "backup" or v["backup_repository"]]
    if v["backup_repository"]:
        config.file(
            name="Backup repository settings",
            content=render("backup", "backup.env.j2", v),
            dest=v["backup_environment_file"],
            mode="0600",
            secret=True,
        )
    for role in roles:
        for template in sorted((ROLES_DIR / role / "templates").glob("*.j2")):
            unit = template.name.removesuffix(".j2")
            if unit.endswith((".service", ".timer")):
                config.file(
                    name=f"Unit {unit}",
                    content=render(role, template.name, v),
                    dest=f"/etc/systemd/system/{unit}",
                    notify="systemd",
                    notify_action="daemon-reload",
                )
    # Units start from a release: `eyeshots deploy` enables and starts them after its switch.
    service.pending(name="Reload systemd units", service="systemd", action="daemon-reload")
