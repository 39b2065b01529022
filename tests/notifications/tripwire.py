"""A TCP listener on loopback that records every connection made to it, whatever is sent.

It proves that nothing reached an address: a webhook peer sees only the requests it understands, this
sees every connection. It answers each HTTP request it reads with `status` (and `location`, for a
redirect), so it can also stand for a webhook that redirects elsewhere.
"""
from __future__ import annotations

import socket
import threading


class Tripwire:
    def __init__(self, host: str = "127.0.0.1", status: int = 200, location: str | None = None):
        self.host = host
        self.status, self.location = status, location
        self.lock = threading.Lock()
        self.connections: list[bytes] = []  # the request head of each connection (b"" if none was sent)
        self.server = socket.create_server((host, 0))
        self.port = self.server.getsockname()[1]
        self.server.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Tripwire:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.server.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                except OSError:
                    pass
                with self.lock:
                    self.connections.append(head.split(b"\r\n\r\n", 1)[0])
                extra = f"Location: {self.location}\r\n" if self.location else ""
                try:
                    conn.sendall(f"HTTP/1.1 {self.status} X\r\n{extra}Content-Type: application/json\r\n"
                                 f"Content-Length: 2\r\nConnection: close\r\n\r\n{{}}".encode())
                except OSError:
                    pass

    def address(self, path: str = "/") -> str:
        return f"{self.host}:{self.port}{path}"

    def seen(self) -> list[bytes]:
        with self.lock:
            return list(self.connections)
