"""A stand-in PostgreSQL on loopback that asks for a password and refuses it (SQLSTATE 28P01), for the CLI tests."""

from __future__ import annotations

import socket
import struct
import threading

SSL_REQUEST = 80877103
AUTH_CLEARTEXT = 3


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _error(user: str) -> bytes:
    fields = b"".join(
        code + text.encode() + b"\0"
        for code, text in (
            (b"S", "FATAL"),
            (b"V", "FATAL"),
            (b"C", "28P01"),
            (b"M", f'password authentication failed for user "{user}"'),
        )
    )
    body = fields + b"\0"
    return b"E" + struct.pack("!I", len(body) + 4) + body


class PasswordRefusingPostgres:
    """`with PasswordRefusingPostgres() as pg:` listens on pg.port until the block ends; every login fails."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> PasswordRefusingPostgres:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                try:
                    self._refuse(conn)
                except (ConnectionError, OSError, struct.error):
                    continue

    def _refuse(self, conn: socket.socket) -> None:
        length, code = struct.unpack("!II", _read_exactly(conn, 8))
        if code == SSL_REQUEST:
            conn.sendall(b"N")  # no TLS here; the client goes on in clear text
            length, code = struct.unpack("!II", _read_exactly(conn, 8))
        params = _read_exactly(conn, length - 8).split(b"\0")
        pairs = dict(zip(params[::2], params[1::2], strict=False))
        user = pairs.get(b"user", b"?").decode(errors="replace")
        conn.sendall(b"R" + struct.pack("!II", 8, AUTH_CLEARTEXT))
        kind = _read_exactly(conn, 1)
        size = struct.unpack("!I", _read_exactly(conn, 4))[0]
        _read_exactly(conn, size - 4)
        if kind == b"p":
            conn.sendall(_error(user))
