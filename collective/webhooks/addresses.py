"""No server-side request forgery: a webhook URL is https (http only where the development
setting allows it), and its host resolves only to public addresses. Checked when a treasurer
subscribes and again before every delivery, since DNS may change in between; the delivery
then connects to the very address that was checked (sending.py).

WEBHOOKS_ALLOW_HTTP and WEBHOOKS_ALLOW_PRIVATE_URLS (off in production) let development and
the tests use a receiver on 127.0.0.1."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

from collective.errors import DomainError

#: The longest URL accepted.
MAX_URL_LENGTH = 2000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(DomainError):
    """The URL is not one the app will send requests to."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


def check_url(url: str, *, allow_http: bool = False) -> SplitResult:
    """The URL split into its parts, or UnsafeURL: https (or http when allowed), a host, no
    user name or password in it, a valid port, and no fragment."""
    url = (url or "").strip()
    if not url:
        raise UnsafeURL("give the URL the events are sent to")
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise UnsafeURL(f"the URL must be one line of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"that is not a URL: {exc}") from exc
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeURL("the URL must start with https://")
    if not parts.hostname:
        raise UnsafeURL("the URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("the URL must not hold a user name or password")
    if port == 0:
        raise UnsafeURL("the URL's port must be from 1 to 65535")
    if parts.fragment:
        raise UnsafeURL("the URL must not have a #fragment")
    return parts


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: not loopback, link-local, private,
    unique-local, shared (CGNAT), multicast, unspecified, reserved or documentation."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_loopback or address.is_link_local or address.is_private
        or address.is_multicast or address.is_unspecified or address.is_reserved)


def resolve(parts: SplitResult, *, allow_private: bool = False) -> list[IPAddress]:
    """Every address the URL's host resolves to, each checked to be public (unless
    `allow_private`), or UnsafeURL naming the first refused one."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"the host {host[:100]} cannot be resolved") from exc
        addresses = list(dict.fromkeys(
            ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found))
    if not addresses:
        raise UnsafeURL(f"the host {host[:100]} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise UnsafeURL(f"the host {host[:100]} is at {address}, which is not a public "
                                "address")
    return addresses


def check_subscription_url(url: str, *, allow_http: bool, allow_private: bool) -> str:
    """The URL a treasurer subscribes, trimmed, once it is safe to send to (resolved now
    unless private addresses are allowed anyway); UnsafeURL otherwise."""
    parts = check_url(url, allow_http=allow_http)
    if not allow_private:
        resolve(parts, allow_private=False)
    return parts.geturl()
