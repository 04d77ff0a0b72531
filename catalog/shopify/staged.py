"""Step two of Shopify's upload flow: send the bytes to the staged target.

stagedUploadsCreate (httpMethod POST) answers with a `url` on Shopify's storage and a list
of `parameters` (a signed policy). The file goes there as a multipart/form-data POST:
every parameter as a form field, in the order given, then the file last as `file`
(shopify.dev/docs/apps/build/online-store/product-media). The storage host is not
Shopify's API, so the access token is never sent to it.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from catalog.shopify.client import HttpFunction, ShopifyError
from lightbox.outbound import FetchFailed, UnsafeURL

_XML_MESSAGE = re.compile(rb"<Message>(.*?)</Message>", re.S)


def _quoted(value: str) -> str:
    # The form-data rules (HTML's multipart encoding): quote, CR and LF percent-encoded.
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def multipart_form(
    fields: Iterable[tuple[str, str]], *, filename: str, content_type: str, data: bytes
) -> tuple[bytes, str]:
    """(body, Content-Type header) for the fields then one file part named "file"."""
    boundary = f"lightbox-{secrets.token_hex(16)}"
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    parts.append(
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{_quoted(filename)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(
    target: Mapping[str, Any],
    *,
    filename: str,
    content_type: str,
    data: bytes,
    http: HttpFunction,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = 3,
    timeout: float = 120.0,
) -> None:
    """POST `data` to a staged target; raises ShopifyError when the storage refuses it.

    A 5xx or a network failure is tried again (the same signed key: a repeat overwrites
    the same object), up to `attempts` times.
    """
    fields = [(str(p["name"]), str(p["value"])) for p in target.get("parameters") or []]
    body, form_type = multipart_form(fields, filename=filename, content_type=content_type, data=data)
    url = str(target.get("url") or "")
    backoff = 1.0
    for attempt in range(1, attempts + 1):
        try:
            response = http(
                "POST",
                url,
                body=body,
                headers={"Content-Type": form_type},
                timeout=timeout,
                max_response_bytes=256 * 1024,
            )
        except UnsafeURL as exc:
            raise ShopifyError(f"Lightbox will not send {filename} to {url}: {exc}") from None
        except (FetchFailed, OSError) as exc:
            if attempt == attempts:
                raise ShopifyError(f"The upload of {filename} to Shopify's storage failed: {exc}") from None
            sleep(backoff)
            backoff *= 2
            continue
        if 200 <= response.status < 300:
            return
        if response.status >= 500 and attempt < attempts:
            sleep(backoff)
            backoff *= 2
            continue
        match = _XML_MESSAGE.search(response.body or b"")
        detail = f": {match.group(1).decode(errors='replace').strip()[:300]}" if match else ""
        raise ShopifyError(
            f"Shopify's storage refused the upload of {filename} (HTTP {response.status}){detail}."
        )
