"""Outbound HTTP behind the SSRF rules (reliability.md §3.7).

Refused URLs are refused before any connection is opened: `guard_sockets` records every
connect in the process and blocks any off loopback, so "no packet left" is checked, not
assumed. Servers are real, on 127.0.0.1 (let through with allowed_networks in those tests
only); DNS, the outside service, is faked with a static resolver where a test needs a
public-looking name.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest

from lightbox import outbound
from lightbox.outbound import FetchFailed, UnsafeURL, check_url, fetch_image, request, static_resolver
from tests.catalog.http_server import LocalServer, drip, endless, redirect, send
from tests.conftest import photo_bytes

LOOPBACK = ["127.0.0.1/32"]

# (id, url, resolver table or None for the system resolver, words the message must contain)
REFUSED = [
    ("loopback", "http://127.0.0.1/", None, "loopback"),
    ("localhost-name", "http://localhost/", None, "loopback"),
    ("ipv6-loopback", "http://[::1]/", None, "loopback"),
    ("cloud-metadata", "http://169.254.169.254/latest/meta-data/", None, "link-local"),
    ("rfc1918-10", "http://10.0.0.1/", None, "private network"),
    ("rfc1918-172", "http://172.16.0.1/", None, "private network"),
    ("rfc1918-192", "http://192.168.0.1/", None, "private network"),
    ("ipv6-unique-local", "http://[fd00::1]/", None, "private network"),
    ("ipv6-site-local", "http://[fec0::1]/", None, "site-local"),
    ("ipv6-site-local-top", "http://[feff:ffff::1]/", None, "site-local"),
    (
        "name-resolving-site-local",
        "http://cdn.shop.example/a.png",
        {"cdn.shop.example": ["fec0:1::5"]},
        "site-local",
    ),
    ("unspecified", "http://0.0.0.0/", None, "this machine"),
    ("decimal-ipv4", "http://2130706433/", None, "127.0.0.1"),
    ("hex-ipv4", "http://0x7f000001/", None, "127.0.0.1"),
    ("octal-ipv4", "http://017700000001/", None, "127.0.0.1"),
    ("short-ipv4", "http://127.1/", None, "127.0.0.1"),
    ("hex-dotted-ipv4", "http://0x7f.1/", None, "127.0.0.1"),
    ("fullwidth-digits", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", None, "127.0.0.1"),
    (
        "circled-letters-localhost",
        "http://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/",
        None,
        "loopback",
    ),
    ("root-dot-localhost", "http://localhost./", None, "loopback"),
    ("ipv4-mapped-ipv6", "http://[::ffff:127.0.0.1]/", None, "IPv4 127.0.0.1 written as IPv6"),
    ("nat64-private", "http://[64:ff9b::a00:1]/", None, "IPv4 10.0.0.1"),
    ("multicast", "http://224.0.0.1/", None, "multicast"),
    ("carrier-grade-nat", "http://100.64.0.1/", None, "non-public"),
    (
        "name-resolving-private",
        "http://images.shop.example/a.png",
        {"images.shop.example": ["10.1.2.3"]},
        "10.1.2.3",
    ),
    (
        "name-one-public-one-private",
        "http://cdn.shop.example/a.png",
        {"cdn.shop.example": ["93.184.215.14", "192.168.1.20"]},
        "192.168.1.20",
    ),
    ("name-resolving-mapped", "http://x.shop.example/", {"x.shop.example": ["::ffff:10.0.0.9"]}, "10.0.0.9"),
    ("file-scheme", "file:///etc/passwd", None, "not file://"),
    ("gopher-scheme", "gopher://127.0.0.1:6379/_FLUSHALL", None, "not gopher://"),
    ("ftp-scheme", "ftp://files.example.com/a.png", None, "not ftp://"),
    ("no-scheme", "//images.example.com/a.png", None, "must start with http"),
    ("userinfo", "http://shop.example.com@10.0.0.1/", None, "user name or password"),
    ("newline-smuggling", "http://example.com/\r\nHost: 10.0.0.1", None, "control characters"),
    ("ipv6-zone", "http://[fe80::1%25eth0]/", None, "zone"),
]


def resolver_for(table):
    return static_resolver(table) if table is not None else outbound.socket.getaddrinfo


def call_check(url, resolver):
    return check_url(url, resolver=resolver)


def call_request(url, resolver):
    return request("GET", url, resolver=resolver, follow_redirects=3, timeout=5)


def call_fetch_image(url, resolver):
    return fetch_image(url, max_bytes=10_000, timeout=5, resolver=resolver)


@pytest.mark.parametrize("entry", [call_check, call_request, call_fetch_image], ids=lambda f: f.__name__[5:])
@pytest.mark.parametrize(
    ("url", "table", "words"), [row[1:] for row in REFUSED], ids=[row[0] for row in REFUSED]
)
def test_an_internal_or_odd_url_is_refused_before_any_connection(entry, url, table, words, guard_sockets):
    with pytest.raises(UnsafeURL) as refused:
        entry(url, resolver_for(table))

    assert words in str(refused.value)
    assert guard_sockets.attempts == []


def test_the_refusal_message_reads_as_a_sentence_for_the_merchandiser():
    with pytest.raises(UnsafeURL) as refused:
        check_url("http://10.0.0.1/")

    assert str(refused.value) == (
        "The address 10.0.0.1 is a private network address; only public internet addresses can be fetched."
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://images.shop.example/a.png", ("https", "images.shop.example", 443, ("93.184.215.14",))),
        ("http://images.shop.example:8080/a.png", ("http", "images.shop.example", 8080, ("93.184.215.14",))),
        ("https://93.184.215.14/a.png", ("https", "93.184.215.14", 443, ("93.184.215.14",))),
        (
            "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/",
            (
                "https",
                "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
                443,
                ("2606:2800:21f:cb07:6820:80da:af6b:8b2c",),
            ),
        ),
        ("HTTPS://Images.Shop.Example./a.png", ("https", "images.shop.example", 443, ("93.184.215.14",))),
    ],
    ids=["https-name", "odd-port-allowed", "public-ipv4", "public-ipv6", "case-and-root-dot"],
)
def test_a_public_url_passes_with_the_addresses_to_connect_to(url, expected, guard_sockets):
    target = check_url(url, resolver=static_resolver({"images.shop.example": ["93.184.215.14"]}))

    assert (target.scheme, target.host, target.port, target.addresses) == expected
    assert guard_sockets.attempts == []


def test_an_unknown_name_is_a_failed_fetch_not_an_unsafe_one():
    with pytest.raises(FetchFailed, match="could not be found"):
        check_url("https://nowhere.shop.example/", resolver=static_resolver({}))


def test_an_allowed_network_lets_a_private_address_through_and_nothing_else():
    assert check_url("http://10.1.2.3/", allowed_networks=["10.1.0.0/16"]).addresses == ("10.1.2.3",)
    with pytest.raises(UnsafeURL):
        check_url("http://10.2.0.1/", allowed_networks=["10.1.0.0/16"])
    with pytest.raises(TypeError):
        check_url("http://10.1.2.3/", allowed_networks="10.1.0.0/16")  # a string, not a list


# --- A real server on loopback -------------------------------------------------------------


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


@pytest.fixture
def read_bytes(monkeypatch):
    """Counts the bytes the client really takes off its sockets (a spy, not a fake)."""

    class Count:
        total = 0

    original = outbound._DeadlineReader.readinto

    def counting(self, buffer):
        n = original(self, buffer)
        Count.total += n or 0
        return n

    monkeypatch.setattr(outbound._DeadlineReader, "readinto", counting)
    return Count


def test_a_request_reaches_the_server_with_its_body_and_headers(server, guard_sockets):
    server.routes["/hook"] = lambda h: send(h, 200, b'{"ok": true}', "application/json", X_Trace="abc")

    response = request(
        "POST",
        server.url("/hook?x=1"),
        body=b'{"event": "published"}',
        headers={"Content-Type": "application/json"},
        allowed_networks=LOOPBACK,
    )

    assert (response.status, response.body) == (200, b'{"ok": true}')
    assert response.headers["x-trace"] == "abc"
    assert response.url == server.url("/hook?x=1")
    (received,) = server.received
    assert (received.method, received.path, received.body) == ("POST", "/hook?x=1", b'{"event": "published"}')
    assert received.headers["host"] == f"127.0.0.1:{server.port}"
    assert received.headers["user-agent"].startswith("Lightbox/")
    assert guard_sockets.attempts == [("127.0.0.1", server.port)]


def test_the_connection_goes_to_the_checked_address_even_if_dns_changes_its_answer(server, guard_sockets):
    """DNS rebinding: the name is looked up once; the second answer (private) is never asked for."""
    answers = [["127.0.0.1"], ["10.0.0.1"]]
    lookups = []

    def rebinding(host, port, *args, **kwargs):
        lookups.append(host)
        return static_resolver({host: answers[min(len(lookups), 2) - 1]})(host, port)

    server.routes["/a.png"] = lambda h: send(h, 200, b"png", "image/png")

    response = request(
        "GET", server.url("/a.png", host="shop.example"), allowed_networks=LOOPBACK, resolver=rebinding
    )

    assert response.status == 200
    assert lookups == ["shop.example"]
    assert server.received[0].headers["host"] == f"shop.example:{server.port}"
    assert guard_sockets.blocked == []


def test_a_redirect_is_returned_as_is_unless_following_is_asked_for(server):
    server.routes["/old"] = redirect("/new", status=301)
    server.routes["/new"] = lambda h: send(h, 200, b"moved here", "text/plain")

    as_is = request("GET", server.url("/old"), allowed_networks=LOOPBACK)
    followed = request("GET", server.url("/old"), allowed_networks=LOOPBACK, follow_redirects=1)

    assert (as_is.status, as_is.headers["location"]) == (301, "/new")
    assert (followed.status, followed.body, followed.url) == (200, b"moved here", server.url("/new"))


def test_a_303_after_a_post_is_followed_with_a_get_and_no_body(server):
    server.routes["/orders"] = redirect("/orders/7", status=303)
    server.routes["/orders/7"] = lambda h: send(h, 200, b"order 7", "text/plain")

    response = request(
        "POST",
        server.url("/orders"),
        body=b"qty=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allowed_networks=LOOPBACK,
        follow_redirects=1,
    )

    assert response.body == b"order 7"
    second = server.received[1]
    assert (second.method, second.body, "content-type" in second.headers) == ("GET", b"", False)


def follow_with_request(url):
    return request("GET", url, allowed_networks=LOOPBACK, follow_redirects=3)


def follow_with_fetch_image(url):
    return fetch_image(url, max_bytes=10_000, timeout=5, allowed_networks=LOOPBACK)


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "file:///etc/passwd",
    ],
    ids=["to-rfc1918", "to-cloud-metadata", "to-ipv6-loopback-redis", "to-file-scheme"],
)
@pytest.mark.parametrize(
    "entry", [follow_with_request, follow_with_fetch_image], ids=["request", "fetch_image"]
)
def test_a_redirect_to_an_internal_address_is_refused_and_never_connected_to(
    entry, location, server, guard_sockets
):
    server.routes["/photo.png"] = redirect(location)

    with pytest.raises(UnsafeURL, match="redirects to") as refused:
        entry(server.url("/photo.png"))

    assert "only public internet addresses" in str(refused.value) or "not file://" in str(refused.value)
    assert guard_sockets.attempts == [("127.0.0.1", server.port)]  # the first hop, nothing else
    assert guard_sockets.blocked == []


def test_a_redirect_chain_longer_than_the_limit_is_refused(server, guard_sockets):
    for hop in range(10):
        server.routes[f"/hop{hop}"] = redirect(f"/hop{hop + 1}")

    with pytest.raises(FetchFailed, match="redirected more than 3 time"):
        fetch_image(
            server.url("/hop0"), max_bytes=10_000, timeout=5, allowed_networks=LOOPBACK, max_redirects=3
        )

    assert [r.path for r in server.received] == ["/hop0", "/hop1", "/hop2", "/hop3"]


def test_a_redirect_to_another_origin_does_not_carry_the_credentials(server):
    with LocalServer() as other:
        server.routes["/api"] = redirect(other.url("/elsewhere"), status=307)
        other.routes["/elsewhere"] = lambda h: send(h, 200, b"ok", "text/plain")

        request(
            "POST",
            server.url("/api"),
            body=b"payload",
            headers={"Authorization": "Bearer secret", "X-Shopify-Access-Token": "shpat_x", "Accept": "*/*"},
            allowed_networks=LOOPBACK,
            follow_redirects=1,
        )

    (first,) = server.received
    (second,) = other.received
    assert first.headers["authorization"] == "Bearer secret"
    assert "authorization" not in second.headers
    assert "x-shopify-access-token" not in second.headers
    assert second.headers["accept"] == "*/*"
    assert (second.method, second.body) == ("POST", b"payload")  # 307 keeps method and body


@pytest.mark.parametrize(
    ("content_length", "chunked"),
    [("5368709120", False), (None, True), (None, False)],
    ids=["content-length-5GB", "chunked-without-length", "no-length-until-close"],
)
def test_an_endless_image_is_stopped_at_the_cap_without_reading_it_all(
    content_length, chunked, server, read_bytes
):
    server.routes["/huge.png"] = lambda h: endless(h, server, content_length=content_length, chunked=chunked)
    cap = 200_000

    with pytest.raises(FetchFailed, match="limit") as refused:
        fetch_image(server.url("/huge.png"), max_bytes=cap, timeout=10, allowed_networks=LOOPBACK)

    if content_length:
        assert "5120.0 MB" in str(refused.value)  # refused from the header, before the body
    # cap+1 bytes at most, plus headers, chunk framing and one buffered read.
    assert read_bytes.total < cap + 2 * 64 * 1024


def test_a_large_response_to_a_plain_request_is_refused_not_cut(server):
    server.routes["/feed"] = lambda h: endless(h, server, content_length=None, chunked=True)

    with pytest.raises(FetchFailed, match="larger than the 1000 bytes limit"):
        request("GET", server.url("/feed"), max_response_bytes=1000, allowed_networks=LOOPBACK)


@pytest.mark.parametrize("in_headers", [False, True], ids=["drip-in-body", "drip-in-headers"])
def test_a_drip_fed_response_fails_at_the_total_deadline(in_headers, server):
    """A byte every 50 ms never trips a per-read timeout; only a total deadline stops it."""
    server.routes["/slow.png"] = lambda h: drip(h, server, in_headers=in_headers)

    with pytest.raises(FetchFailed, match="did not answer within 1 seconds"):
        fetch_image(server.url("/slow.png"), max_bytes=1_000_000, timeout=1, allowed_networks=LOOPBACK)

    assert 0 < server.bytes_sent < 100_000


@pytest.mark.parametrize(
    ("content_type", "words"),
    [
        ("text/html; charset=utf-8", "not an image (the server says text/html)"),
        ("application/octet-stream", "not an image"),
        ("image/svg+xml", "SVG drawings are not accepted"),
    ],
    ids=["html-page", "octet-stream", "svg"],
)
def test_a_response_that_is_not_a_photo_is_refused(content_type, words, server):
    server.routes["/p"] = lambda h: send(h, 200, b"<html><body>hi</body></html>", content_type)

    with pytest.raises(FetchFailed, match=words.replace("(", r"\(").replace(")", r"\)")):
        fetch_image(server.url("/p"), max_bytes=10_000, timeout=5, allowed_networks=LOOPBACK)


def test_an_error_status_is_refused_with_the_status_in_the_message(server):
    with pytest.raises(FetchFailed, match="404 Not Found") as failed:
        fetch_image(server.url("/missing.png"), max_bytes=10_000, timeout=5, allowed_networks=LOOPBACK)

    assert failed.value.status == 404


def test_a_server_that_is_not_listening_is_a_failed_fetch(server):
    url = server.url("/a.png")
    server.httpd.server_close()

    with pytest.raises(FetchFailed, match="Could not connect to 127.0.0.1"):
        fetch_image(url, max_bytes=10_000, timeout=5, allowed_networks=LOOPBACK)


@pytest.mark.parametrize(
    ("path", "headers", "filename"),
    [
        ("/media/red%20mug.png", {}, "red_mug.png"),
        ("/media/..%2F..%2Fetc%2Fpasswd", {}, "passwd.png"),
        ("/img?id=7", {"Content-Disposition": 'inline; filename="MUG-001_2.png"'}, "MUG-001_2.png"),
        ("/img", {"Content-Disposition": 'attachment; filename="../../x\\\\evil.png"'}, "evil.png"),
        ("/", {}, "image.png"),
    ],
    ids=["from-path", "path-traversal", "content-disposition", "disposition-traversal", "no-name"],
)
def test_a_png_is_fetched_with_a_safe_file_name(path, headers, filename, server, guard_sockets):
    png = photo_bytes(fmt="PNG")
    server.routes[path.split("?")[0]] = lambda h: send(h, 200, png, "image/png", **headers)

    image = fetch_image(server.url(path), max_bytes=len(png), timeout=5, allowed_networks=LOOPBACK)

    assert (image.data, image.content_type, image.filename) == (png, "image/png", filename)
    assert image.final_url == server.url(path)
    assert guard_sockets.blocked == []


# --- TLS: the checked address, the URL's name ------------------------------------------------


def _certificate_authority():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lightbox test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        # Key identifiers and usages: Python 3.13's default context verifies strictly (RFC 5280).
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(tmp_path, name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        return context

    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return leaf, client


@pytest.fixture
def tls(tmp_path):
    leaf, client = _certificate_authority()
    return lambda name: leaf(tmp_path, name), client


def test_https_connects_to_the_checked_address_and_verifies_the_name_in_the_url(tls, guard_sockets):
    leaf, client = tls
    server_context = leaf("images.shop.example")
    names_asked = []
    server_context.sni_callback = lambda sock, name, ctx: names_asked.append(name)
    with LocalServer(tls=server_context) as server:
        server.routes["/a.png"] = lambda h: send(h, 200, b"png bytes", "image/png")

        response = request(
            "GET",
            server.url("/a.png", host="images.shop.example"),
            allowed_networks=LOOPBACK,
            resolver=static_resolver({"images.shop.example": ["127.0.0.1"]}),
            ssl_context=client,
        )

    assert (response.status, response.body) == (200, b"png bytes")
    assert names_asked == ["images.shop.example"]  # SNI carries the URL's name, not the IP
    assert guard_sockets.attempts == [("127.0.0.1", server.port)]


def test_https_refuses_a_certificate_for_another_name(tls):
    leaf, client = tls
    with LocalServer(tls=leaf("attacker.example")) as server:
        with pytest.raises(FetchFailed, match="secure connection to images.shop.example failed"):
            request(
                "GET",
                server.url("/a.png", host="images.shop.example"),
                allowed_networks=LOOPBACK,
                resolver=static_resolver({"images.shop.example": ["127.0.0.1"]}),
                ssl_context=client,
            )
        assert server.received == []


def test_static_resolver_answers_like_getaddrinfo():
    answers = static_resolver({"a.example": ["93.184.215.14", "2606:2800::1"]})("a.example", 443)

    assert [ipaddress.ip_address(a[4][0]) for a in answers] == [
        ipaddress.ip_address("93.184.215.14"),
        ipaddress.ip_address("2606:2800::1"),
    ]


def test_retry_after_is_read_as_seconds_or_an_http_date_and_never_negative():
    from datetime import UTC, datetime, timedelta

    from lightbox.outbound import retry_after

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after("120") == timedelta(seconds=120)
    assert retry_after("2.0") == timedelta(seconds=2)  # Shopify's spelling
    assert retry_after("Sun, 01 Mar 2026 12:05:00 GMT", now=now) == timedelta(minutes=5)
    assert retry_after("Sun, 01 Mar 2026 11:00:00 GMT", now=now) == timedelta(0)
    assert retry_after("-5") == timedelta(0)
    for unreadable in (None, "", "soon", "nan", "inf"):
        assert retry_after(unreadable) is None
