"""Channel addresses may not reach our own or other internal hosts, nor choose methods or headers.

The rules (`channels.check`) on many address forms, the operator's allow-list, and the send path against
real listeners on loopback: a refused address is never contacted, redirects are not followed, and the
check in front of every connection holds inside Apprise's own worker threads.
"""
from __future__ import annotations

import ipaddress
import smtplib

import apprise
import pytest
import requests

from services.notifications import channels
from shared import config
from tests.notifications.tripwire import Tripwire

NOTHING = ()  # no network allowed beyond the public ones
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize("url, reason", [
    ("json://127.0.0.1:18999/internal/api", "127.0.0.1, a loopback address"),
    ("json://127.8.9.10/x", "127.8.9.10, a loopback address"),
    ("json://localhost:18999/x", "localhost resolves to 127.0.0.1, a loopback address"),
    ("json://[::1]:18999/x", "::1, a loopback address"),
    ("json://0.0.0.0:18999/x", "0.0.0.0, an unspecified address"),
    ("json://[::]:18999/x", "::, an unspecified address"),
    ("json://10.0.0.8/x", "10.0.0.8, a private address"),
    ("json://172.16.5.4/x", "172.16.5.4, a private address"),
    ("json://172.31.255.255/x", "172.31.255.255, a private address"),
    ("json://192.168.1.1/x", "192.168.1.1, a private address"),
    ("json://[fc00::1]/x", "fc00::1, a private address"),
    ("json://[fe80::1]/x", "fe80::1, a link-local address"),
    ("json://169.254.169.254/latest/meta-data", "169.254.169.254, a cloud metadata address"),
    ("json://[fd00:ec2::254]/latest", "fd00:ec2::254, a cloud metadata address"),
    ("json://100.100.100.200/latest", "100.100.100.200, a cloud metadata address"),
    ("json://169.254.1.1/x", "169.254.1.1, a link-local address"),
    ("json://100.64.0.1/x", "100.64.0.1, a carrier-grade NAT address"),
    ("json://224.0.0.1/x", "224.0.0.1, a multicast address"),
    ("json://[ff02::1]/x", "ff02::1, a multicast address"),
    ("json://240.0.0.1/x", "240.0.0.1, a"),
    ("json://[::ffff:127.0.0.1]/x", "127.0.0.1, a loopback address"),
    ("json://[::ffff:10.1.1.1]/x", "10.1.1.1, a private address"),
    ("json://[2002:7f00:1::]/x", "which carries 127.0.0.1, a loopback address"),
    ("jsons://127.0.0.1/x", "loopback"),
    ("mailto://user:pw@example.org?smtp=127.0.0.1&from=a@example.org", "127.0.0.1, a loopback address"),
    ("mailtos://user:pw@localhost?from=a@example.org", "localhost resolves to 127.0.0.1"),
    ("mailto://user:pw@10.2.3.4:2525?from=a@example.org", "10.2.3.4, a private address"),
    ("ntfys://127.0.0.1/topic", "127.0.0.1, a loopback address"),
    ("ntfy://192.168.0.9/topic", "192.168.0.9, a private address"),
])
def test_internal_hosts_are_refused_with_the_address_and_its_kind(url, reason):
    problem = channels.check(url, NOTHING)
    assert problem is not None and reason in problem, problem
    assert problem.endswith("channels reach public addresses only")


@pytest.mark.parametrize("url, meaning", [
    ("json://2130706433:18999/x", "127.0.0.1"),  # decimal
    ("json://3232235777/x", "192.168.1.1"),
    ("json://0177.0.0.1/x", None),  # octal
    ("json://0x7f000001/x", None),  # hexadecimal
    ("json://0x7f.0.0.1/x", None),
    ("json://127.1/x", None),  # short form
    ("json://017700000001/x", None),
    ("json://134744072/x", "8.8.8.8"),  # even a public one: one spelling per address
])
def test_other_spellings_of_an_ip_address_are_refused(url, meaning):
    # Whether Apprise or the address check stops it, it is not a usable channel.
    problem = channels.check(url, LOOPBACK)
    assert problem is not None
    if meaning:
        assert f"stands for {meaning}: write an IP address in its usual form" in problem, problem


@pytest.mark.parametrize("url", [
    "json://8.8.8.8/hook",
    "jsons://1.1.1.1:8443/in?format=text",
    "json://[2606:4700:4700::1111]/hook",
    "json://user:secret@8.8.8.8/hook",
    "mailtos://chenli:APP-PASSWORD@smtp.exmail.qq.com:465?from=chenli@example.cn&to=chenli@example.cn",
    "mailto://user:pw@example.org?smtp=8.8.4.4&from=a@example.org&mode=starttls",
    "wecombot://693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
    "dingtalk://abcdef0123456789",
    "ntfy://alerts-nuanxin",
    "ntfys://9.9.9.9/alerts?priority=high&tags=warning",
    "jsons://hooks.example.cn/nuanxin",  # does not resolve here: accepted, checked again before each send
])
def test_public_and_unresolved_addresses_are_accepted(url):
    assert channels.check(url, NOTHING) is None


@pytest.mark.parametrize("url, reason", [
    ("json://127.0.0.1:18999/internal/api?method=DELETE&+X-Injected=1", "starting with +, - or :"),
    ("json://8.8.8.8/hook?method=DELETE", "method: not allowed for json://; allowed query parameters: format, verify"),
    ("json://8.8.8.8/hook?METHOD=get", "method: not allowed"),
    ("json://8.8.8.8/hook?+X-Injected=1", "starting with +, - or :"),
    ("json://8.8.8.8/hook?+Authorization=Bearer%20x", "starting with +, - or :"),
    ("json://8.8.8.8/hook?-token=1", "starting with +, - or :"),
    ("json://8.8.8.8/hook?:title=x", "starting with +, - or :"),
    ("json://8.8.8.8/hook?redirect=yes", "redirect: not allowed"),
    ("json://8.8.8.8/hook?rto=600&cto=600", "cto, rto: not allowed"),
    ("mailtos://u:p@example.org?from=a@example.org&+X-Mailer=evil", "starting with +, - or :"),
    ("mailtos://u:p@example.org?from=a@example.org&wkd=yes", "wkd: not allowed for mailtos://"),
    ("mailtos://u:p@example.org?from=a@example.org&pgp=yes", "pgp: not allowed"),
    ("ntfy://topic?attach=http://169.254.169.254/", "attach: not allowed for ntfy://"),
    ("json://8.8.8.8/hook\r\nX-Injected: 1", "spaces or control characters"),
    ("json://8.8.8.8/ho ok", "spaces or control characters"),
])
def test_methods_headers_and_other_query_parameters_are_refused(url, reason):
    problem = channels.check(url, NOTHING)
    assert problem is not None and reason in problem, problem


def test_user_info_cannot_hide_the_host():
    # The host is what follows the last @ for Apprise, and that is what is checked.
    problem = channels.check("json://8.8.8.8@127.0.0.1:18999/x", NOTHING)
    assert problem is not None and "127.0.0.1, a loopback address" in problem
    problem = channels.check("json://8.8.8.8:80@127.0.0.1/x", NOTHING)
    assert problem is not None and "loopback" in problem
    problem = channels.check("json://a@8.8.8.8@127.0.0.1/x", NOTHING)
    assert problem is not None and "ambiguous" in problem
    assert channels.check("json://a\\@127.0.0.1/x", NOTHING) is not None


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "xml://8.8.8.8/x", "form://8.8.8.8/x", "xmls://8.8.8.8/x", "syslog://127.0.0.1",
    "windows://", "script:///bin/true", "gopher://8.8.8.8/", "no-scheme", "nosuchplugin://x",
])
def test_only_supported_schemes_are_accepted(url):
    problem = channels.check(url, NOTHING)
    assert problem is not None
    if "://" in url:
        assert "not supported" in problem and "mailtos://" in problem


def test_the_operator_allows_networks_by_configuration(monkeypatch):
    monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", " 127.0.0.0/8, ::1/128 ,10.20.0.0/16")
    allowed = config.channel_allowed_networks()
    assert allowed == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"),
                       ipaddress.ip_network("10.20.0.0/16"))
    for url in ("json://127.0.0.1:18999/x", "json://localhost/x", "json://[::1]/x", "json://[::ffff:127.0.0.1]/x",
                "json://10.20.3.4/x", "mailto://u:p@example.org?smtp=127.0.0.1&from=a@example.org"):
        assert channels.check(url) is None, url  # the setting is read when no list is given
    assert "10.21.0.1, a private address" in channels.check("json://10.21.0.1/x")
    assert "169.254.169.254" in channels.check("json://169.254.169.254/x")
    # Allowing an address does not allow what the URL may not say.
    assert "method" in channels.check("json://127.0.0.1/x?method=DELETE")

    monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "")
    assert config.channel_allowed_networks() == ()
    assert "loopback" in channels.check("json://127.0.0.1:18999/x")
    monkeypatch.delenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS")
    assert config.channel_allowed_networks() == ()  # public addresses only by default

    monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "127.0.0.0/8,localhost")
    with pytest.raises(ValueError, match="NUANXIN_CHANNEL_ALLOWED_NETWORKS: 'localhost' is not a network"):
        config.channel_allowed_networks()


def test_a_refused_address_is_never_contacted_and_an_allowed_one_is(monkeypatch):
    with Tripwire() as wire:
        url = f"json://{wire.address('/hook')}"
        monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "")
        result = channels.send(url, "Booking confirmed", "烘焙教室")
        assert not result.ok and result.refused
        assert result.error.startswith("address refused: the host is 127.0.0.1, a loopback address")

        monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "127.0.0.1/32")
        sent = channels.send(url, "Booking confirmed", "烘焙教室")
        seen = wire.seen()
    assert sent.ok and not sent.refused, sent
    assert len(seen) == 1 and seen[0].startswith(b"POST /hook HTTP/1.1")  # only the allowed send arrived


def test_the_exact_injection_request_sends_nothing_even_when_loopback_is_allowed(monkeypatch):
    monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "127.0.0.0/8")
    with Tripwire() as wire:
        result = channels.send(f"json://{wire.address('/internal/api')}?method=DELETE&+X-Injected=1", "t", "b")
        seen = wire.seen()
    assert result.refused and "starting with +, - or :" in result.error
    assert seen == []


def test_redirects_to_an_internal_host_are_not_followed(monkeypatch):
    with Tripwire() as inner:
        with Tripwire("127.0.0.2", status=307, location=f"http://{inner.address('/inner')}") as outer:
            monkeypatch.setenv("NUANXIN_CHANNEL_ALLOWED_NETWORKS", "127.0.0.2/32")  # the outer host only
            result = channels.send(f"json://{outer.address('/outer')}", "t", "b")
            assert len(outer.seen()) == 1
            assert not result.ok and "307" in result.error
            assert inner.seen() == []
            # A plain client follows it: the redirect really leads to a listening internal host.
            requests.post(f"http://{outer.address('/outer')}", timeout=5)
            assert len(inner.seen()) == 1


def test_every_connection_made_while_sending_is_checked_even_in_apprises_threads():
    with Tripwire() as wire:
        # As if the name had resolved elsewhere when it was checked: the connection itself is refused.
        with channels.connections_checked(NOTHING):
            app = apprise.Apprise(asset=apprise.AppriseAsset(http_redirects=False))
            assert app.add(f"json://{wire.address('/late')}")
            result = app.notify(body="b", title="t", timeout=5)  # with a timeout Apprise sends in a thread
            with pytest.raises(requests.ConnectionError, match="loopback address"):
                requests.post(f"http://{wire.address('/direct')}", timeout=5)
            with pytest.raises(channels.RefusedAddress, match="loopback address"):
                smtplib.SMTP("localhost", wire.port, timeout=5)
        assert not result and wire.seen() == []
        # Outside a send nothing is checked: the same request reaches the listener.
        requests.post(f"http://{wire.address('/after')}", timeout=5)
        assert [head.split(b" ")[:2] for head in wire.seen()] == [[b"POST", b"/after"]]


def test_allowed_networks_pass_the_connection_check():
    with Tripwire() as wire:
        with channels.connections_checked(LOOPBACK):
            assert requests.post(f"http://{wire.address('/ok')}", timeout=5).status_code == 200
        assert len(wire.seen()) == 1
