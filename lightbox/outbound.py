"""Outbound HTTP that cannot be pointed at Lightbox's own network (SSRF, reliability.md §3.7).

Every request Lightbox makes on a customer's say-so (URL import, webhooks, a shop's
API) goes through here. The rules, after the OWASP SSRF cheat sheet:

- only http and https; the host is parsed as an IP address with `ipaddress`, or as a
  DNS name that is then resolved, and EVERY address it resolves to must be public
  (`is_global`, not multicast, not site-local: Python still calls fec0::/10 global),
  unless it falls in `allowed_networks`;
- the connection goes to the address that was checked, never to a second lookup of the
  name (a DNS-rebinding server cannot answer "public" to the check and "private" to
  the connect); TLS still verifies the certificate against the name in the URL;
- redirects are off by default, and each hop followed is checked like the first URL;
- one deadline covers connecting, sending and reading, and response bodies are capped.

The networks a caller may reach besides public ones, and the import limits, come from
settings unless passed (tests pass their own); nothing else here touches Django.
"""

from __future__ import annotations

import email.utils
import http.client
import io
import ipaddress
import math
import mimetypes
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]

DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "Lightbox/1.0 (outbound fetcher)"
# Headers kept when a redirect leaves the origin; everything else (Authorization,
# cookies, API tokens, signatures) was meant for the first host only.
CROSS_ORIGIN_SAFE_HEADERS = frozenset({"accept", "accept-language", "user-agent"})
# 64:ff9b::/96 (RFC 6052): on a NAT64 network these reach the IPv4 address in the last
# 32 bits, and Python counts them as global, so the embedded address is what is checked.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
_CHUNK = 64 * 1024
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class UnsafeURL(ValueError):
    """The URL was refused before any connection was opened; the message says why in words
    a merchandiser can act on."""


class FetchFailed(Exception):
    """The fetch itself failed: no answer in time, too big, a bad status, not an image.

    `status` is the HTTP status when the server answered with one that was refused.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    """A checked URL: connect to one of `addresses` (all of them public or allowed) on `port`;
    `host` is the name for the Host header, TLS SNI and certificate check (IDNA-encoded,
    no brackets)."""

    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    url: str


@dataclass(frozen=True)
class FetchedImage:
    url: str
    final_url: str
    content_type: str
    data: bytes = field(repr=False)
    filename: str = ""


# --- Checking ------------------------------------------------------------------------


def configured_networks() -> Sequence[str]:
    """LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS: the non-public networks Lightbox may reach (none in
    production; a test double on loopback is let through by listing 127.0.0.1/32)."""
    from django.conf import settings

    return tuple(settings.LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS)


def check_url(
    url: str, *, allowed_networks: Sequence[str] | None = None, resolver: Resolver = socket.getaddrinfo
) -> Target:
    """Refuse `url` unless it is http(s) and every address its host stands for is public.

    Raises UnsafeURL (never connects). A name that does not resolve raises FetchFailed:
    nothing unsafe about it, it just cannot be fetched.

    The host may be an IP address in any spelling the C library would accept and connect
    to (``[::1]``, ``[::ffff:127.0.0.1]``, ``2130706433``, ``0x7f000001``, ``017700000001``,
    ``127.1``): each is read the way ``inet_aton`` reads it and checked as that address.
    A name is resolved with `resolver` (called like ``socket.getaddrinfo(host, port,
    type=SOCK_STREAM)``; tests pass a fake one, see `static_resolver`) and every A/AAAA
    record must pass, so one private record among public ones refuses the URL.

    Any port is allowed (1–65535): shops and webhook receivers do run on odd ports, and
    the address check, not the port, is what keeps internal services out. User names and
    passwords in the URL (``user:pass@host``) are refused: they would be sent to whoever
    the host is, and hide the real host from a reader (``https://shop.com@10.0.0.1/``).
    """
    scheme, host, port, literal = _parse(url)
    networks = _networks(configured_networks() if allowed_networks is None else allowed_networks)
    if literal is not None:
        address = _connectable(literal)
        reason = _refusal(literal, networks)
        if reason:
            shown = host if _spelled_plainly(host, literal) else f"{host} ({literal})"
            raise UnsafeURL(f"The address {shown} {reason}; only public internet addresses can be fetched.")
        return Target(scheme, str(literal), port, (str(address),))
    addresses = _resolve(host, port, resolver)
    checked: list[str] = []
    for address in addresses:
        reason = _refusal(address, networks)
        if reason:
            raise UnsafeURL(
                f"{host} points to {address}, which {reason}; only public internet addresses can be fetched."
            )
        text = str(_connectable(address))
        if text not in checked:
            checked.append(text)
    return Target(scheme, host, port, tuple(checked))


def _spelled_plainly(host: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == ip
    except ValueError:
        return False


def static_resolver(table: Mapping[str, Sequence[str]]) -> Resolver:
    """A getaddrinfo stand-in answering from `table` ({name: [addresses]}); unknown names
    fail like a DNS miss. For tests (DNS is the outside service being faked)."""

    def resolve(host: str, port: int | str | None, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        port_number = int(port or 0)
        answers: list[tuple[Any, ...]] = []
        for text in table[host]:
            ip = ipaddress.ip_address(text)
            if ip.version == 6:
                answers.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (text, port_number, 0, 0)))
            else:
                answers.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (text, port_number)))
        return answers

    return resolve


def _parse(url: str) -> tuple[str, str, int, IPAddress | None]:
    """(scheme, host, port, the host as an IP address or None for a name)."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("No address was given.")
    if _UNSAFE_CHARS.search(url):
        # urlsplit silently drops tabs and newlines; a URL that needs them is not one we fetch.
        raise UnsafeURL("The address contains spaces, backslashes or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"This is not a valid web address ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        if not scheme:
            raise UnsafeURL("The address must start with http:// or https://.")
        raise UnsafeURL(f"Only http:// and https:// addresses can be fetched, not {scheme}://.")
    if "@" in parts.netloc:
        raise UnsafeURL("Addresses with a user name or password (user:pass@…) are not accepted.")
    host = parts.hostname or ""
    if not host:
        raise UnsafeURL("The address has no host name.")
    if port == 0:
        raise UnsafeURL("Port 0 is not a port that can be connected to.")
    port = port or DEFAULT_PORTS[scheme]
    if parts.netloc.startswith("["):
        try:
            literal = ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL(f"[{host}] is not a valid IPv6 address.") from None
        if literal.scope_id:
            raise UnsafeURL("IPv6 addresses with a zone (%…) are local to one machine and cannot be fetched.")
        return scheme, host, port, literal
    if host.endswith("."):
        host = host[:-1]  # the root label: "localhost." is localhost
    try:
        # IDNA first: its NFKC mapping turns fullwidth "１２７.０.０.１" into 127.0.0.1.
        ascii_host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host
    except UnicodeError:
        raise UnsafeURL(f"{host!r} is not a valid host name.") from None
    try:
        return scheme, host, port, ipaddress.IPv4Address(ascii_host)
    except ValueError:
        pass
    try:
        # What the C library would connect to for "2130706433", "0x7f000001", "127.1"…
        # (glibc's getaddrinfo parses numeric hosts with inet_aton before any DNS).
        return scheme, host, port, ipaddress.IPv4Address(socket.inet_aton(ascii_host))
    except OSError:
        pass
    if not _HOST_NAME.match(ascii_host):
        raise UnsafeURL(f"{host!r} is not a valid host name.")
    return scheme, ascii_host, port, None


def _networks(allowed: Sequence[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if isinstance(allowed, str):
        raise TypeError("allowed_networks is a list of CIDR strings, not one string")
    # strict=False: "127.0.0.1/8" is a common way to write 127.0.0.0/8.
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in allowed)


def _resolve(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        answers = resolver(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchFailed(f"The host name {host} could not be found ({exc}).") from None
    addresses: list[IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in answers:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        try:
            addresses.append(ipaddress.ip_address(str(sockaddr[0])))
        except ValueError:
            raise UnsafeURL(f"{host} resolved to something that is not an IP address.") from None
    if not addresses:
        raise FetchFailed(f"The host name {host} has no IPv4 or IPv6 address.")
    return addresses


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address really reaches: IPv4-mapped (::ffff:a.b.c.d) and
    NAT64 (64:ff9b::a.b.c.d) ones are that IPv4 address on the wire."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _connectable(ip: IPAddress) -> IPAddress:
    """The address to connect to: an IPv4-mapped address becomes plain IPv4 (same host,
    and it needs no dual-stack socket)."""
    if ip.version == 6 and ip.ipv4_mapped:
        return ip.ipv4_mapped
    return ip


def _refusal(ip: IPAddress, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str | None:
    """Why `ip` may not be fetched (a phrase completing "the address X …"), or None."""
    if ip.version == 6 and ip.scope_id:
        return "is a link-local address with a zone"
    embedded = _embedded_ipv4(ip)
    if _allowed(ip, networks) or (embedded is not None and _allowed(embedded, networks)):
        return None
    if embedded is not None:
        inner = _refusal(embedded, ())
        return f"(IPv4 {embedded} written as IPv6) {inner}" if inner else None
    if ip.version == 6 and ip.sixtofour is not None:
        inner = _refusal(ip.sixtofour, ())
        if inner:
            return f"(a 6to4 address for {ip.sixtofour}) {inner}"
    if ip.is_unspecified:
        return "means 'this machine' (unspecified address)"
    if ip.is_loopback:
        return "is this server itself (loopback)"
    if ip.is_link_local:
        return "is a link-local address, where cloud metadata services such as 169.254.169.254 live"
    if ip.is_multicast:
        return "is a multicast address"
    if ip.version == 6 and ip.is_site_local:
        # Deprecated (RFC 3879) yet still routed inside some networks; Python's is_global
        # calls fec0::/10 global, so it is named here.
        return "is a site-local address (fec0::/10)"
    if ip.is_private and not ip.is_reserved:
        return "is a private network address"
    if ip.is_reserved or not ip.is_global:
        return "is a reserved or non-public address"
    return None


def _allowed(ip: IPAddress, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in networks)


# --- Connecting and reading under one deadline ---------------------------------------------


class _DeadlineReader(io.RawIOBase):
    """The socket as http.client reads it, where every read waits only as long as is left
    of the whole request's deadline: a server dripping one byte a second cannot stretch a
    15 s timeout into an hour, as a per-read socket timeout would let it."""

    def __init__(self, owner: _DeadlineSocket) -> None:
        super().__init__()
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        sock = self._owner.sock
        sock.settimeout(_remaining(self._owner.deadline))
        return sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.release()
        super().close()


class _DeadlineSocket:
    """Just the socket methods http.client uses, each bounded by the deadline.

    Like socket.makefile, the real socket closes only once the connection AND every
    reader are closed: http.client closes the connection as soon as it has the headers
    of a `Connection: close` response, and the body is read after that."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self._readers = 0
        self._closed = False

    def sendall(self, data: bytes) -> None:
        self.sock.settimeout(_remaining(self.deadline))
        self.sock.sendall(data)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def release(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self.sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self.sock.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to the checked addresses of `target`, never to a fresh lookup
    of its name; TLS verifies the certificate for `target.host`."""

    def __init__(self, target: Target, deadline: float, context: ssl.SSLContext | None) -> None:
        super().__init__(target.host, target.port)
        self.default_port = DEFAULT_PORTS[target.scheme]  # Host header omits it, as browsers do
        self._target = target
        self._deadline = deadline
        self._context = context

    def connect(self) -> None:
        errors: list[str] = []
        sock = None
        for address in self._target.addresses:
            try:
                sock = socket.create_connection(
                    (address, self._target.port), timeout=_remaining(self._deadline)
                )
                break
            except TimeoutError:
                raise
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc}")
        if sock is None:
            raise ConnectionError("; ".join(errors))
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._target.scheme == "https":
                context = self._context or ssl.create_default_context()
                sock.settimeout(_remaining(self._deadline))
                sock = context.wrap_socket(sock, server_hostname=self._target.host)
        except BaseException:
            sock.close()
            raise
        self.sock = _DeadlineSocket(sock, self._deadline)


@dataclass
class _Open:
    """A response whose status and headers are read and whose body is not."""

    connection: _PinnedConnection
    response: http.client.HTTPResponse
    url: str

    @property
    def headers(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for name, value in self.response.getheaders():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def close(self) -> None:
        self.response.close()
        self.connection.close()


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    # Non-ASCII in the path is percent-encoded (the request line is ASCII); existing
    # escapes and reserved characters are left exactly as the URL has them.
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    return f"{path}?{query}" if parts.query else path


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port or DEFAULT_PORTS.get(pa.scheme)) == (
        pb.scheme,
        pb.hostname,
        pb.port or DEFAULT_PORTS.get(pb.scheme),
    )


def _open(
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: Mapping[str, str] | None,
    deadline: float,
    timeout: float,
    allowed_networks: Sequence[str],
    follow_redirects: int,
    resolver: Resolver,
    ssl_context: ssl.SSLContext | None,
) -> _Open:
    """Send the request, following up to `follow_redirects` redirects (each hop checked),
    and return the last response with its body unread. The caller closes it."""
    current_url = url
    current_method = method.upper()
    current_body = body
    sent_headers = dict(headers or {})
    if not any(name.lower() == "user-agent" for name in sent_headers):
        sent_headers["User-Agent"] = USER_AGENT
    hops = 0
    while True:
        try:
            target = check_url(current_url, allowed_networks=allowed_networks, resolver=resolver)
        except (UnsafeURL, FetchFailed) as exc:
            if not hops:
                raise
            # Say where the redirect came from: the merchandiser only typed the first URL.
            raise type(exc)(f"{url} redirects to {current_url}. {exc}") from None
        connection = _PinnedConnection(target, deadline, ssl_context)
        try:
            connection.request(
                current_method, _request_target(current_url), body=current_body, headers=sent_headers
            )
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise _failure(exc, target.host, timeout) from None
        except BaseException:
            connection.close()
            raise
        opened = _Open(connection, response, current_url)
        location = response.getheader("Location")
        if follow_redirects <= 0 or response.status not in REDIRECT_STATUSES or not location:
            return opened
        opened.close()
        hops += 1
        if hops > follow_redirects:
            raise FetchFailed(
                f"{url} redirected more than {follow_redirects} time(s); giving up.", status=response.status
            )
        next_url = urljoin(current_url, location)
        if response.status == 303 or (response.status in (301, 302) and current_method == "POST"):
            current_method = "HEAD" if current_method == "HEAD" else "GET"
            current_body = None
            sent_headers = {k: v for k, v in sent_headers.items() if k.lower() != "content-type"}
        if not _same_origin(current_url, next_url):
            sent_headers = {k: v for k, v in sent_headers.items() if k.lower() in CROSS_ORIGIN_SAFE_HEADERS}
        current_url = next_url


def _failure(exc: OSError | http.client.HTTPException, host: str, timeout: float) -> FetchFailed:
    """A readable FetchFailed for what went wrong on the wire."""
    if isinstance(exc, TimeoutError):
        return FetchFailed(f"{host} did not answer within {timeout:g} seconds.")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FetchFailed(f"The secure connection to {host} failed: {exc.verify_message or exc}.")
    if isinstance(exc, ssl.SSLError):
        return FetchFailed(f"The secure connection to {host} failed ({exc.reason or exc}).")
    if isinstance(exc, http.client.HTTPException):
        return FetchFailed(f"{host} sent a response that is not valid HTTP ({type(exc).__name__}).")
    return FetchFailed(f"Could not connect to {host} ({exc.strerror or exc}).")


def _read_capped(opened: _Open, cap: int, host: str, timeout: float, what: str) -> bytes:
    """The body, refused with FetchFailed once it passes `cap` bytes: at most cap+1 bytes
    are ever read, whatever the server claims or sends."""
    length = opened.response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > cap:
        raise FetchFailed(f"The {what} is {_size(int(length))}, over the {_size(cap)} limit.")
    chunks: list[bytes] = []
    total = 0
    try:
        while True:
            chunk = opened.response.read(min(_CHUNK, cap + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > cap:
                raise FetchFailed(f"The {what} is larger than the {_size(cap)} limit.")
    except (OSError, http.client.HTTPException) as exc:
        raise _failure(exc, host, timeout) from None
    return b"".join(chunks)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 15.0,
    max_response_bytes: int = 1_000_000,
    allowed_networks: Sequence[str] | None = None,
    follow_redirects: int = 0,
    resolver: Resolver = socket.getaddrinfo,
    ssl_context: ssl.SSLContext | None = None,
) -> Response:
    """One HTTP request to a checked URL; raises UnsafeURL or FetchFailed, else the Response
    (any status: a 500 is returned, not raised).

    `timeout` is a total deadline for connecting, TLS, sending and reading the whole
    response, over all redirect hops. Name resolution runs before it starts and is bounded
    by the system resolver's own timeouts. A body over `max_response_bytes` is refused with
    FetchFailed, not cut: a truncated JSON document or page is worse than a clear error.
    `follow_redirects=0` returns a 3xx as it is; N follows up to N hops, re-checking each
    target (UnsafeURL for a private one) and dropping all but harmless headers when a hop
    leaves the origin. Response header names are lower-case; repeated ones are joined
    with ", ". `ssl_context` replaces the default verifying context (tests with their own CA).
    `allowed_networks` None: LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS.
    """
    deadline = time.monotonic() + timeout
    opened = _open(
        method,
        url,
        body=body,
        headers=headers,
        deadline=deadline,
        timeout=timeout,
        allowed_networks=configured_networks() if allowed_networks is None else allowed_networks,
        follow_redirects=follow_redirects,
        resolver=resolver,
        ssl_context=ssl_context,
    )
    try:
        host = urlsplit(opened.url).hostname or ""
        data = _read_capped(opened, max_response_bytes, host, timeout, "response")
        return Response(status=opened.response.status, headers=opened.headers, body=data, url=opened.url)
    finally:
        opened.close()


# --- Images ------------------------------------------------------------------------------


def fetch_image(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    allowed_networks: Sequence[str] | None = None,
    resolver: Resolver = socket.getaddrinfo,
    max_redirects: int = 3,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchedImage:
    """GET an image for import. Raises UnsafeURL, or FetchFailed when the answer is not a
    2xx, not image/* (SVG included: it is a document, not a photo), declares more than
    `max_bytes`, or sends more (reading stops at max_bytes+1, so a 5 GB body is never read
    whole). The bytes are still untrusted: the intake checks them like any upload. The
    limits default to LIGHTBOX_URL_IMPORT_MAX_BYTES and LIGHTBOX_URL_IMPORT_TIMEOUT, the
    networks to LIGHTBOX_OUTBOUND_ALLOWED_NETWORKS."""
    from django.conf import settings

    max_bytes = settings.LIGHTBOX_URL_IMPORT_MAX_BYTES if max_bytes is None else max_bytes
    timeout = settings.LIGHTBOX_URL_IMPORT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    opened = _open(
        "GET",
        url,
        body=None,
        headers={"Accept": "image/*"},
        deadline=deadline,
        timeout=timeout,
        allowed_networks=configured_networks() if allowed_networks is None else allowed_networks,
        follow_redirects=max_redirects,
        resolver=resolver,
        ssl_context=ssl_context,
    )
    try:
        host = urlsplit(opened.url).hostname or ""
        status = opened.response.status
        if not 200 <= status < 300:
            reason = opened.response.reason or http.client.responses.get(status, "")
            raise FetchFailed(f"The server answered {status} {reason}".rstrip() + ".", status=status)
        content_type = (opened.response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if not content_type.startswith("image/"):
            shown = content_type or "no content type"
            raise FetchFailed(f"This address is not an image (the server says {shown}).", status=status)
        if content_type == "image/svg+xml":
            raise FetchFailed("SVG drawings are not accepted; link to a photo (JPEG, PNG, WebP…).")
        data = _read_capped(opened, max_bytes, host, timeout, "image")
        if not data:
            raise FetchFailed("The server sent an empty image.", status=status)
        filename = _filename(opened, content_type)
        return FetchedImage(
            url=url, final_url=opened.url, content_type=content_type, data=data, filename=filename
        )
    finally:
        opened.close()


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _filename(opened: _Open, content_type: str) -> str:
    """A plain file name: Content-Disposition's, else the last segment of the URL path,
    reduced to letters, digits, dot, dash and underscore, with an extension."""
    given = opened.response.msg.get_filename() or ""
    if not given:
        given = unquote(urlsplit(opened.url).path.rsplit("/", 1)[-1])
    name = given.replace("\\", "/").rsplit("/", 1)[-1]
    name = _SAFE_NAME.sub("_", name).strip("._-")[:100]
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:
        guessed = mimetypes.guess_extension(content_type) or ""
        name = f"{name or 'image'}{guessed}"
    return name


def redacted(url: str) -> str:
    """`url` as it may be shown or logged: without a user name or password, query string or
    fragment (signed CDN and bucket links carry their credentials there), at most 300
    characters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0][:300]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:300]


def retry_after(value: str | None, *, now: datetime | None = None) -> timedelta | None:
    """A Retry-After header's wait: seconds ("120", or "2.0" as Shopify writes it) or an
    HTTP date (taken as UTC when it names no zone); never negative. None when the header is
    absent or unreadable, so the caller falls back to its own schedule."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(when - (now or datetime.now(UTC)), timedelta(0))
    if not math.isfinite(seconds):
        return None
    return timedelta(seconds=max(seconds, 0.0))
