"""Tree blobs and their nodes, encoded the way restic reads (and mostly writes) them."""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import re
import stat
from functools import lru_cache

from backup.gotime import format_ns, parse_ns

# Go fs.FileMode bits
MODE_DIR = 1 << 31
MODE_SYMLINK = 1 << 27
MODE_DEVICE = 1 << 26
MODE_NAMEDPIPE = 1 << 25
MODE_SOCKET = 1 << 24
MODE_SETUID = 1 << 23
MODE_SETGID = 1 << 22
MODE_CHARDEV = 1 << 21
MODE_STICKY = 1 << 20
MODE_IRREGULAR = 1 << 19
MODE_PERM = 0o777

_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
_UNESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}


_NEEDS_QUOTING = re.compile(rb'[^\x20-\x7e]|["\\]')


def go_quote(raw: bytes) -> str:
    """strconv.Quote without the outer quotes: how restic stores node names."""
    if _NEEDS_QUOTING.search(raw) is None:
        return raw.decode("ascii")
    out: list[str] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80:
            ch = chr(b)
            if ch in '"\\':
                out.append("\\" + ch)
            elif b in _ESCAPES:
                out.append(_ESCAPES[b])
            elif b < 0x20 or b == 0x7F:
                out.append(f"\\x{b:02x}")
            else:
                out.append(ch)
            i += 1
            continue
        n = 2 if b >> 5 == 0b110 else 3 if b >> 4 == 0b1110 else 4 if b >> 3 == 0b11110 else 0
        try:
            ch = raw[i : i + n].decode("utf-8") if n else ""
        except UnicodeDecodeError:
            ch = ""
        if len(ch) != 1:
            out.append(f"\\x{b:02x}")
            i += 1
            continue
        cp = ord(ch)
        if ch.isprintable():
            out.append(ch)
        elif cp < 0x10000:
            out.append(f"\\u{cp:04x}")
        else:
            out.append(f"\\U{cp:08x}")
        i += n
    return "".join(out)


def go_unquote(text: str) -> bytes:
    """Inverse of go_quote; tolerates plain (unescaped) names written by other tools."""
    if "\\" not in text:
        return text.encode("utf-8", "surrogateescape")
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 == len(text):
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        e = text[i + 1]
        if e == "x":
            out.append(int(text[i + 2 : i + 4], 16))
            i += 4
        elif e == "u":
            out += chr(int(text[i + 2 : i + 6], 16)).encode("utf-8", "surrogatepass")
            i += 6
        elif e == "U":
            out += chr(int(text[i + 2 : i + 10], 16)).encode("utf-8")
            i += 10
        elif e in _UNESCAPES:
            out.append(_UNESCAPES[e])
            i += 2
        elif e in "01234567":
            out.append(int(text[i + 1 : i + 4], 8))
            i += 4
        else:
            out += e.encode()
            i += 2
    return bytes(out)


def go_mode(st_mode: int) -> int:
    mode = st_mode & MODE_PERM
    kind = stat.S_IFMT(st_mode)
    if kind == stat.S_IFDIR:
        mode |= MODE_DIR
    elif kind == stat.S_IFLNK:
        mode |= MODE_SYMLINK
    elif kind == stat.S_IFBLK:
        mode |= MODE_DEVICE
    elif kind == stat.S_IFCHR:
        mode |= MODE_DEVICE | MODE_CHARDEV
    elif kind == stat.S_IFIFO:
        mode |= MODE_NAMEDPIPE
    elif kind == stat.S_IFSOCK:
        mode |= MODE_SOCKET
    if st_mode & stat.S_ISUID:
        mode |= MODE_SETUID
    if st_mode & stat.S_ISGID:
        mode |= MODE_SETGID
    if st_mode & stat.S_ISVTX:
        mode |= MODE_STICKY
    return mode


def posix_mode(go: int) -> int:
    """Permission bits (incl. setuid/setgid/sticky) for chmod from a Go FileMode."""
    mode = go & MODE_PERM
    if go & MODE_SETUID:
        mode |= stat.S_ISUID
    if go & MODE_SETGID:
        mode |= stat.S_ISGID
    if go & MODE_STICKY:
        mode |= stat.S_ISVTX
    return mode


def node_type(st_mode: int) -> str | None:
    kind = stat.S_IFMT(st_mode)
    return {
        stat.S_IFREG: "file",
        stat.S_IFDIR: "dir",
        stat.S_IFLNK: "symlink",
        stat.S_IFBLK: "dev",
        stat.S_IFCHR: "chardev",
        stat.S_IFIFO: "fifo",
        stat.S_IFSOCK: "socket",
    }.get(kind)


@lru_cache(maxsize=256)
def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


@lru_cache(maxsize=256)
def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""


def node_from_stat(name: bytes, st: os.stat_result, path: bytes | None = None) -> dict | None:
    """A node (in restic's field order) for a file system entry; None for unknown types."""
    ntype = node_type(st.st_mode)
    if ntype is None:
        return None
    node: dict = {
        "name": go_quote(name),
        "type": ntype,
        "mode": go_mode(st.st_mode),
        "mtime": format_ns(st.st_mtime_ns),
        "atime": format_ns(st.st_atime_ns),
        "ctime": format_ns(st.st_ctime_ns),
        "uid": st.st_uid,
        "gid": st.st_gid,
    }
    if user := _user(st.st_uid):
        node["user"] = user
    if group := _group(st.st_gid):
        node["group"] = group
    node["inode"] = st.st_ino
    node["device_id"] = st.st_dev
    if ntype == "file" and st.st_size:
        node["size"] = st.st_size
    node["links"] = st.st_nlink
    if ntype == "symlink" and path is not None:
        target = os.readlink(path)
        node["linktarget"] = go_json_string(target)
        if not _valid_utf8(target):
            # restic (>= 0.17) keeps the exact bytes beside the lossy text; older readers
            # ignore the field and still get a readable (replaced) target
            node["linktarget_raw"] = base64.b64encode(target).decode()
    if path is not None and ntype in ("file", "dir", "symlink"):
        if xattrs := _xattrs(path):
            node["extended_attributes"] = xattrs
    if ntype in ("dev", "chardev"):
        node["device"] = st.st_rdev
    node["content"] = [] if ntype == "file" else None
    return node


def _xattrs(path: bytes) -> list[dict]:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return []  # file system without xattrs, or the entry vanished: nothing to record
    out = []
    for name in sorted(names):
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError:
            continue
        # restic stores xattr names as Go strings: invalid bytes become U+FFFD
        out.append(
            {"name": go_json_string(os.fsencode(name)), "value": base64.b64encode(value).decode()}
        )
    return out


def _valid_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


_SURROGATES = re.compile("[\udc80-\udcff]")


def go_json_string(raw: bytes) -> str:
    """The text Go's json.Marshal writes for a string holding these bytes: each byte that is
    not part of valid UTF-8 becomes U+FFFD (so the JSON stays valid UTF-8)."""
    return _SURROGATES.sub("\ufffd", raw.decode("utf-8", "surrogateescape"))


def link_target(node: dict) -> bytes:
    """A symlink node's target bytes: restic's `linktarget_raw` wins over the text."""
    if raw := node.get("linktarget_raw"):
        return base64.b64decode(raw)
    return os.fsencode(node.get("linktarget", ""))


def decode_tree(blob: bytes) -> dict:
    """A tree blob as JSON; trees an older engine wrote with raw non-UTF-8 bytes still read
    (the bytes come back as surrogates, which os.fsencode turns into the original bytes)."""
    return json.loads(blob.decode("utf-8", "surrogateescape"))


def node_name(node: dict) -> bytes:
    return go_unquote(node["name"])


def node_mtime_ns(node: dict, field: str = "mtime") -> int:
    return parse_ns(node[field])


def encode_tree(nodes: list[dict]) -> bytes:
    nodes = sorted(nodes, key=node_name)
    doc = json.dumps({"nodes": nodes}, separators=(",", ":"), ensure_ascii=False)
    # restic's tree encoder ends with a newline; tree IDs are hashes of exactly these bytes
    try:
        return (doc + "\n").encode("utf-8")
    except UnicodeEncodeError:
        # a node reused from a tree an older engine wrote with raw bytes: store what restic
        # would, U+FFFD for each byte that is not UTF-8
        return (_SURROGATES.sub("\ufffd", doc) + "\n").encode("utf-8")
