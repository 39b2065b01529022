"""External channels: Apprise URLs kept encrypted, shown masked, and sent to with a bounded time.

The key is `NUANXIN_CHANNEL_KEY(_FILE)` (a Fernet key), else one derived from the suite's secret key so a
fresh install works; rotate by setting the variable (old rows then need re-entering).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import time
from dataclasses import dataclass

import apprise
from cryptography.fernet import Fernet, InvalidToken

from shared import config

# Schemes a user or coordinator may register. Anything Apprise knows is allowed except local effects
# (files, desktop pop-ups, scripts) that would run on our servers.
FORBIDDEN_SCHEMES = {"file", "windows", "macosx", "dbus", "kde", "glib", "gnome", "qt", "script", "cmd"}


@functools.cache
def _fernet() -> Fernet:
    key = config.env("NUANXIN_CHANNEL_KEY")
    if not key:
        digest = hashlib.sha256(b"nuanxin/channels/" + config.secret_key().encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(url: str) -> str:
    return _fernet().encrypt(url.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("the channel key changed; this channel must be entered again") from None


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def mask(url: str) -> str:
    """Enough to recognise an address, never enough to use it: scheme and the last four characters."""
    return f"{scheme_of(url)}://…{url[-4:]}" if len(url) > 12 else f"{scheme_of(url)}://…"


def check(url: str) -> str | None:
    """Why `url` cannot be a channel, or None when Apprise accepts it."""
    scheme = scheme_of(url)
    if not scheme:
        return "not an Apprise URL (scheme://…)"
    if scheme in FORBIDDEN_SCHEMES:
        return f"{scheme}:// is not allowed"
    if apprise.Apprise.instantiate(url) is None:
        return f"Apprise cannot use this {scheme}:// address"
    return None


@dataclass
class SendResult:
    ok: bool
    error: str | None
    duration_ms: int


def send(url: str, title: str, body: str, severity: str = "info") -> SendResult:
    """One attempt through Apprise (its own retries off: ours are in the delivery log)."""
    started = time.monotonic()
    app = apprise.Apprise()
    if not app.add(url):
        return SendResult(False, "Apprise rejected the address", 0)
    kind = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING}.get(
        severity, apprise.NotifyType.INFO)
    try:
        result = app.notify(body=body or title, title=title, notify_type=kind,
                            timeout=config.env_float("NUANXIN_DELIVERY_TIMEOUT_SECONDS", 15.0))
    except Exception as exc:  # a plugin bug must become a logged failure, not a dead worker
        return SendResult(False, f"{type(exc).__name__}: {exc}", int((time.monotonic() - started) * 1000))
    duration = int((time.monotonic() - started) * 1000)
    if result:
        return SendResult(True, None, duration)
    messages = [entry.message for entry in result.logs() if str(entry.level) in ("WARNING", "ERROR", "CRITICAL")] or [f"status {result.status!r}"]
    return SendResult(False, "; ".join(messages)[:2000], duration)
