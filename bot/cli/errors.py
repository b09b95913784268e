"""What the command line says when something fails: one line that names the fix; the traceback only with --debug."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

MSG_PREFIX = "cicd-bot: {line}"
MSG_CONFIG = "cicd-bot: configuration error: {error}"
MSG_UNEXPECTED = "unexpected error: {kind}: {detail} (run it again with --debug for the traceback)"
MSG_ENV_FILE_MISSING = (
    "--env-file {path}: no such file; give an existing file, or leave --env-file out to read ./.env when there is one"
)
MSG_ENV_FILE_DIR = "--env-file {path}: is a directory, not a file of KEY=value lines"
MSG_PORT_IN_USE = (
    "cannot listen on {host}:{port}: the address is already in use (another cicd-bot?); stop that process "
    "or choose another port with PORT or --port"
)
MSG_PORT_DENIED = "cannot listen on {host}:{port}: permission denied; ports below 1024 need privileges, use PORT=8080"
MSG_HOST_UNKNOWN = "cannot listen on {host}:{port}: {host} is not an address of this machine; use HOST=0.0.0.0"
MSG_LISTEN_OTHER = "cannot listen on {host}:{port}: {detail}"
MSG_DOWNGRADE_CONFIRM = (
    "db downgrade undoes migrations and drops their tables with the history in them; name the revision "
    "(`cicd-bot db downgrade -1`, or `base` for all) or add --yes to undo the last one"
)


def env_file_problem(path: str | None) -> str | None:
    """An --env-file given on purpose must exist; the default ./.env may be absent."""
    if path is None:
        return None
    candidate = Path(path)
    if candidate.is_dir():
        return MSG_ENV_FILE_DIR.format(path=path)
    if not candidate.exists():
        return MSG_ENV_FILE_MISSING.format(path=path)
    return None


def port_problem(host: str, port: int) -> str | None:
    """Try the address before anything else starts, so a port in use is said before migrations or workers run."""
    if not port:
        return None
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return MSG_HOST_UNKNOWN.format(host=host, port=port)
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is fine
            try:
                probe.bind(address)
            except OSError as exc:
                return listen_problem(exc, host, port)
    return None


def listen_problem(exc: OSError, host: str, port: int) -> str:
    """Why the HTTP server could not bind, in words."""
    if exc.errno == errno.EADDRINUSE:
        return MSG_PORT_IN_USE.format(host=host, port=port)
    if exc.errno == errno.EACCES:
        return MSG_PORT_DENIED.format(host=host, port=port)
    if exc.errno == errno.EADDRNOTAVAIL:
        return MSG_HOST_UNKNOWN.format(host=host, port=port)
    return MSG_LISTEN_OTHER.format(host=host, port=port, detail=exc.strerror or exc)


def database_line(exc: BaseException, database_url: str) -> str | None:
    """The one line for a database problem behind this error (no database, role, rights...), if it is one."""
    from storage.errors import describe

    try:
        return describe(exc, database_url)
    except Exception:  # a URL that cannot even be parsed tells nothing more than the error itself
        return None


def unexpected_line(exc: BaseException) -> str:
    """The one line for an error nobody foresaw: its kind and message, and how to see more."""
    detail = " ".join(str(exc).split())[:300] or "(no message)"
    return MSG_UNEXPECTED.format(kind=type(exc).__name__, detail=detail)
