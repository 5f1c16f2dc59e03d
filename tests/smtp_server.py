"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, keeping what it receives.

    server = SMTPServer()          # a port of its own, not listening yet
    server.start()                 # accepts mail; stop() and start() again keep the port and the mail
    server.wait_for(1)             # the received messages (email.message.EmailMessage), once there are 1
"""
from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Collector:
    def __init__(self, server: "SMTPServer"):
        self.server = server

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 — aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.server._lock:
            self.server.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SMTPServer:
    host = "127.0.0.1"

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> "SMTPServer":
        if self._controller is None:
            controller = Controller(_Collector(self), hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, seconds: float = 20) -> list[Received]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(got := self.messages()) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(self.messages())} e-postmeddelanden kom fram, väntade {count}")

    def __enter__(self) -> "SMTPServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()
