"""External channels: Apprise URLs kept encrypted, shown masked, and sent to with a bounded time.

The key is `NUANXIN_CHANNEL_KEY(_FILE)` (a Fernet key), else one derived from the suite's secret key so a
fresh install works; rotate by setting the variable (old rows then need re-entering).

An address is someone else's input that our servers act on, so it is held to a few rules (`check`), when it
is registered and again before every send (names can resolve elsewhere by then):

- only the schemes the project supports (`SCHEMES`), each with its own short list of query parameters, so
  a URL cannot choose the HTTP method, add headers or request parameters, or ask for redirects;
- the host it makes us connect to (the SMTP server of an e-mail address, the webhook's host, …) must
  resolve only to public addresses: loopback, private, link-local, carrier-grade NAT, metadata, multicast
  and reserved addresses are refused unless the operator lists their network in
  `NUANXIN_CHANNEL_ALLOWED_NETWORKS`. A name that does not resolve (yet) is accepted when registered.

While a message is sent, every name resolved on the way is checked the same way (`connections_checked`),
so a name that changes between the check and the connection cannot reach an internal host either; and
redirects are not followed.
"""
from __future__ import annotations

import base64
import contextlib
import contextvars
import functools
import hashlib
import ipaddress
import socket
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import apprise
from apprise.utils.parse import parse_url
from cryptography.fernet import Fernet, InvalidToken

from shared import config

_EMAIL = frozenset({"from", "to", "cc", "bcc", "name", "reply", "smtp", "port", "mode", "user", "pass",
                    "format", "verify"})
_WEBHOOK = frozenset({"format", "verify"})
_NTFY = frozenset({"to", "priority", "tags", "click", "delay", "auth", "token", "mode", "format", "verify"})
# The schemes a person or coordinator may register, with the query parameters each may carry.
SCHEMES: dict[str, frozenset[str]] = {
    "mailto": _EMAIL, "mailtos": _EMAIL,
    "json": _WEBHOOK, "jsons": _WEBHOOK,
    "ntfy": _NTFY, "ntfys": _NTFY,
    "wecombot": frozenset({"key", "format"}),
    "dingtalk": frozenset({"token", "secret", "to", "format"}),
}
# Well-known metadata services of cloud hosts (also inside the ranges refused below; named for clarity).
METADATA = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"))
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


# A malformed NUANXIN_CHANNEL_ALLOWED_NETWORKS stops the service when it starts, not at a send.
config.channel_allowed_networks()


class RefusedAddress(OSError):
    """A connection a channel message would make to an address that is not allowed."""


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


def _kind(ip) -> str | None:
    """What makes `ip` unfit for an outgoing channel message, or None for a public address."""
    if ip in METADATA:
        return "a cloud metadata address"
    for test, kind in (("is_unspecified", "an unspecified address"), ("is_loopback", "a loopback address"),
                       ("is_link_local", "a link-local address"), ("is_multicast", "a multicast address")):
        if getattr(ip, test):
            return kind
    if ip.version == 4 and ip in SHARED_ADDRESS_SPACE:
        return "a carrier-grade NAT address"
    if ip.is_private or getattr(ip, "is_site_local", False):
        return "a private address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None


def _embedded(ip) -> list:
    """IPv4 addresses an IPv6 address carries (6to4, Teredo, NAT64); the IPv4-mapped form is unwrapped."""
    if ip.version != 6:
        return []
    found = [ip.sixtofour] if ip.sixtofour else []
    if ip.teredo:
        found.extend(ip.teredo)
    if ip in NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_refusal(address: str, allowed: tuple | None = None) -> str | None:
    """Why a channel may not connect to `address` (an IP address), e.g. "127.0.0.1, a loopback address"."""
    allowed = config.channel_allowed_networks() if allowed is None else allowed
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # without an IPv6 zone
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return None
    kind = _kind(ip)
    if kind is not None:
        return f"{ip}, {kind}"
    return next((f"{ip}, which carries {inner}, {k}" for inner in _embedded(ip) if (k := _kind(inner))), None)


def _other_ip_form(host: str) -> str | None:
    """The IPv4 address a host written as a number in another form stands for (`2130706433`, `0177.1`).

    Resolvers disagree on these (the C library reads them as addresses, eventlet's looks them up as
    names), so they are refused rather than resolved.
    """
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        return str(ipaddress.IPv4Address(socket.inet_aton(host)))
    except (OSError, ValueError):
        return None


def _resolve(host: str, port: int | None) -> list[str]:
    """Every address `host` resolves to ([] when it does not resolve)."""
    try:
        answers = socket.getaddrinfo(host, port or 0, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({answer[4][0] for answer in answers})


def _destination(plugin, scheme: str) -> tuple[str, int | None]:
    """The host (and port) sending through `plugin` connects to."""
    if scheme in ("mailto", "mailtos"):
        return plugin.smtp_host, plugin.port
    if scheme in ("wecombot", "dingtalk"):
        return urlsplit(plugin.notify_url).hostname, 443
    if scheme in ("ntfy", "ntfys") and plugin.mode == "cloud":
        return urlsplit(plugin.cloud_notify_url).hostname, 443
    return plugin.host, plugin.port


def _form(url: str, scheme: str) -> str | None:
    """Why the URL's form is refused (characters, user info, query parameters), or None."""
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return "must not contain spaces or control characters"
    authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0]
    if "\\" in authority or authority.count("@") > 1:
        return "the part before the host is ambiguous (write @ in a user or password as %40)"
    parts = parse_url(url, verify_host=False) or {}
    if parts.get("qsd+") or parts.get("qsd-") or parts.get("qsd:"):
        return ("query parameters starting with +, - or : (headers, request parameters, payload fields) "
                "are not allowed")
    unknown = sorted(set(parts.get("qsd") or {}) - SCHEMES[scheme])
    if unknown:
        return (f"{', '.join(unknown)}: not allowed for {scheme}://; allowed query parameters: "
                f"{', '.join(sorted(SCHEMES[scheme])) or 'none'}")
    return None


def check(url: str, allowed: tuple | None = None) -> str | None:
    """Why `url` cannot be a channel, or None when it may be used now.

    Used when a channel is registered and again before each send. The host is resolved and every address
    it resolves to must be public or within `allowed` (default: `NUANXIN_CHANNEL_ALLOWED_NETWORKS`).
    """
    scheme = scheme_of(url)
    if not scheme:
        return "not an Apprise URL (scheme://…)"
    if scheme not in SCHEMES:
        return f"{scheme}:// is not supported; use one of {', '.join(f'{s}://' for s in SCHEMES)}"
    problem = _form(url, scheme)
    if problem:
        return problem
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return f"Apprise cannot use this {scheme}:// address"
    host, port = _destination(plugin, scheme)
    if not host:
        return "the address names no host"
    host = host.strip("[]")
    other_form = _other_ip_form(host)
    if other_form:
        return f"{host} stands for {other_form}: write an IP address in its usual form"
    allowed = config.channel_allowed_networks() if allowed is None else allowed
    for address in _resolve(host, port):
        refusal = address_refusal(address, allowed)
        if refusal:
            where = "the host is" if address == host else f"{host} resolves to"
            return f"{where} {refusal}: channels reach public addresses only"
    return None


# -- the send-time guard -------------------------------------------------------------------------------
_sending: contextvars.ContextVar[tuple | None] = contextvars.ContextVar("channel_allowed", default=None)


def _checked_resolver(resolve):
    """`resolve` (a getaddrinfo) refusing answers outside the allowed ranges while a message is sent."""
    @functools.wraps(resolve)
    def getaddrinfo(host, port, *args, **kwargs):
        answers = resolve(host, port, *args, **kwargs)
        allowed = _sending.get()
        if allowed is not None:
            for answer in answers:
                refusal = address_refusal(answer[4][0], allowed)
                if refusal:
                    raise RefusedAddress(f"{host}: {refusal}")
        return answers

    getaddrinfo.checks_channel_addresses = True
    return getaddrinfo


@contextlib.contextmanager
def connections_checked(allowed: tuple):
    """Within this block (and threads Apprise starts from it) every name resolved to connect is checked:
    an answer outside the public addresses and `allowed` raises `RefusedAddress` instead of connecting.

    The check sits in front of getaddrinfo (the standard one, and eventlet's green one when the process
    runs under eventlet), which every HTTP and SMTP connection uses; outside such a block it only passes on.
    """
    for name in ("socket", "eventlet.green.socket"):
        module = sys.modules.get(name)
        if module is not None and not getattr(module.getaddrinfo, "checks_channel_addresses", False):
            module.getaddrinfo = _checked_resolver(module.getaddrinfo)
    token = _sending.set(tuple(allowed))
    try:
        yield
    finally:
        _sending.reset(token)


@dataclass
class SendResult:
    ok: bool
    error: str | None
    duration_ms: int
    refused: bool = False  # the address is not allowed: nothing was sent, and retrying will not help


def send(url: str, title: str, body: str, severity: str = "info") -> SendResult:
    """One attempt through Apprise (its own retries off: ours are in the delivery log).

    The address is checked first (`refused` results are never sent); while sending, every connection's
    address is checked again and redirects are not followed.
    """
    allowed = config.channel_allowed_networks()
    refusal = check(url, allowed)
    if refusal:
        return SendResult(False, f"address refused: {refusal}", 0, refused=True)
    started = time.monotonic()
    app = apprise.Apprise(asset=apprise.AppriseAsset(http_redirects=False))
    if not app.add(url):
        return SendResult(False, "Apprise rejected the address", 0)
    kind = {"critical": apprise.NotifyType.FAILURE, "warning": apprise.NotifyType.WARNING}.get(
        severity, apprise.NotifyType.INFO)
    try:
        with connections_checked(allowed):
            result = app.notify(body=body or title, title=title, notify_type=kind,
                                timeout=config.env_float("NUANXIN_DELIVERY_TIMEOUT_SECONDS", 15.0))
    except Exception as exc:  # a plugin bug must become a logged failure, not a dead worker
        return SendResult(False, f"{type(exc).__name__}: {exc}", int((time.monotonic() - started) * 1000))
    duration = int((time.monotonic() - started) * 1000)
    if result:
        return SendResult(True, None, duration)
    messages = [entry.message for entry in result.logs() if str(entry.level) in ("WARNING", "ERROR", "CRITICAL")] or [f"status {result.status!r}"]
    return SendResult(False, "; ".join(messages)[:2000], duration)
