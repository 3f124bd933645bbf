"""Who may reach `careqa serve`: its accounts, and where it may listen without them.

Passwords come from CAREQA_AUTH or a file, never necessarily from the command line, where `ps`
shows them to every user of the machine. Listening beyond this machine without a login would
let anyone who reaches the port read the documents and change the corpus, so it is refused
unless the user says so explicitly (--insecure-public).
"""
from __future__ import annotations

import ipaddress
import socket
import stat
from pathlib import Path

from .errors import CareqaError

Account = tuple[str, str]


def parse_account(text: str, where: str) -> Account:
    """('user', 'password') from 'user:password'; CareqaError naming `where` otherwise."""
    user, sep, password = text.strip().partition(":")
    if not (sep and user and password):
        raise CareqaError(f"{where} must look like user:password")
    return user, password


def read_accounts(path: Path) -> tuple[list[Account], str]:
    """The accounts of a file of user:password lines (blank lines and # comments skipped), and a
    warning when other users of the machine can read it ('' otherwise)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        mode = path.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise CareqaError(f"{path}: cannot read the accounts file ({getattr(exc, 'strerror', None) or exc})") from None
    found = [parse_account(line, f"{path} line {no}") for no, line in enumerate(lines, 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not found:
        raise CareqaError(f"{path}: no user:password line in the accounts file")
    shared = mode & (stat.S_IRGRP | stat.S_IROTH)
    return found, f"{path} can be read by other users of this machine; chmod 600 it" if shared else ""


def accounts(option: str | None, path: str | None, env: str | None) -> tuple[list[Account], list[str]]:
    """The accounts `serve` asks for (from --auth-file, else --auth, else CAREQA_AUTH; none: no
    login), and warnings to print."""
    if path:
        found, warning = read_accounts(Path(path).expanduser())
        return found, [warning] if warning else []
    if option:
        return [parse_account(option, "--auth")], ["a password given with --auth shows in `ps` to every user of "
                                                    "this machine; use CAREQA_AUTH or --auth-file instead"]
    return ([parse_account(env, "CAREQA_AUTH")] if env else []), []


def is_loopback(host: str) -> bool:
    """Whether every address `host` names is on this machine only (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not host:
        return False
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def check_exposure(host: str, has_login: bool, insecure_public: bool) -> str:
    """'' when serving on `host` is safe as asked; a warning when the user insisted on serving
    beyond this machine without a login; CareqaError when they did not."""
    if has_login or is_loopback(host):
        return ""
    if insecure_public:
        return (f"serving on {host} without a login (--insecure-public): anyone who can reach this port can "
                "read the documents and change the corpus")
    raise CareqaError(f"refusing to serve on {host} without a login: anyone who can reach it could read the "
                      "documents and change the corpus. Set CAREQA_AUTH=user:password or --auth-file FILE, "
                      "or pass --insecure-public to serve it open anyway")
