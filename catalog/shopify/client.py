"""A small client for Shopify's Admin GraphQL API that slows down instead of failing.

Shopify limits each app and store by calculated query cost, a leaky bucket
(shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits), and says "slow down" in two
ways; both are waited out and retried, never turned into a failed push:

- HTTP 429 with a Retry-After header: wait that long;
- HTTP 200 with an error whose ``extensions.code`` is THROTTLED, and the bucket in the
  top-level ``extensions.cost``: ``{requestedQueryCost, throttleStatus: {maximumAvailable,
  currentlyAvailable, restoreRate}}``: wait until the bucket has refilled enough for the
  query, (requestedQueryCost − currentlyAvailable) / restoreRate seconds.

5xx answers and network failures are retried a few times with backoff. Anything else
raises ShopifyError with a message a merchandiser can act on; ShopifyAuthError when the
token itself is refused (every later call would fail the same way).

The access token is sent in one header and is nowhere else: not in log lines, exception
text or repr(). No Django here: the HTTP function (catalog.outbound.request, whose
errors are lightbox.outbound's) and the sleep are passed in.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lightbox.outbound import FetchFailed, UnsafeURL, retry_after

log = logging.getLogger(__name__)

DEFAULT_URL_TEMPLATE = "https://{shop}/admin/api/{version}/graphql.json"
_OPERATION = re.compile(r"^\s*(?:#[^\n]*\n\s*)*(query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")
_RETRYABLE_STATUSES = frozenset({500, 502, 503, 504})


class HttpResponse(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...  # lower-case names
    @property
    def body(self) -> bytes: ...


HttpFunction = Callable[..., HttpResponse]


class ShopifyError(Exception):
    """Shopify refused a request or could not be reached; the message says so in words."""


class ShopifyAuthError(ShopifyError):
    """The token was refused or lacks a permission: nothing else will work until an admin fixes it."""


class ShopifyOutcomeUnknown(ShopifyError):
    """A mutation that must not run twice was sent and no answer came back: Shopify may or
    may not have done it, so it is not sent again; the caller finds out what happened."""


def operation_name(query: str) -> str:
    match = _OPERATION.match(query)
    return match.group(2) if match else "anonymous operation"


def throttle_wait(cost: Any, *, default: float = 1.0, floor: float = 0.1, ceiling: float = 60.0) -> float:
    """Seconds until the cost bucket holds what the throttled query asked for."""
    if isinstance(cost, Mapping):
        status = cost.get("throttleStatus") or {}
        needed = cost.get("requestedQueryCost")
        available = status.get("currentlyAvailable") if isinstance(status, Mapping) else None
        rate = status.get("restoreRate") if isinstance(status, Mapping) else None
        if (
            isinstance(needed, int | float)
            and isinstance(available, int | float)
            and isinstance(rate, int | float)
            and rate > 0
        ):
            return min(max((needed - available) / rate, floor), ceiling)
    return min(max(default, floor), ceiling)


def retry_after_seconds(value: str | None, *, default: float = 2.0, ceiling: float = 60.0) -> float:
    """Retry-After as seconds: a number ("2.0"), or an HTTP date; bounded to [0, ceiling]."""
    wait = retry_after(value)
    return default if wait is None else min(wait.total_seconds(), ceiling)


class ShopifyClient:
    """`execute(query, variables)` against one shop's Admin GraphQL endpoint; returns `data`."""

    def __init__(
        self,
        shop: str,
        token: str,
        version: str,
        *,
        http: HttpFunction,
        url_template: str = DEFAULT_URL_TEMPLATE,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_attempts: int = 8,
        max_wait: float = 60.0,
    ) -> None:
        self.shop = shop
        self.version = version
        self.endpoint = url_template.format(shop=shop, version=version)
        self._token = token
        self._http = http
        self._sleep = sleep
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_wait = max_wait
        self.waited: list[tuple[str, float]] = []  # (why, seconds): what this client slowed down for
        self.last_cost: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"ShopifyClient(shop={self.shop!r}, version={self.version!r})"

    def execute(
        self, query: str, variables: Mapping[str, Any] | None = None, *, repeatable: bool = True
    ) -> dict[str, Any]:
        """Run one operation and return its `data`. Raises ShopifyError (ShopifyAuthError for a
        refused token); rate limits and transient failures are waited out first.

        `repeatable=False` is for a mutation that would act twice if sent twice (attaching
        media): a request that may have reached Shopify (no answer) is not sent again and
        raises ShopifyOutcomeUnknown. 429 and THROTTLED answers are still retried: Shopify
        did not run the request."""
        name = operation_name(query)
        payload = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Shopify-Access-Token": self._token,
        }
        backoff = 1.0
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                response = self._http(
                    "POST",
                    self.endpoint,
                    body=payload,
                    headers=headers,
                    timeout=self._timeout,
                    max_response_bytes=16 * 1024 * 1024,
                )
            except UnsafeURL as exc:  # a refusal, not a hiccup: retrying cannot help
                raise ShopifyError(f"Lightbox will not connect to {self.shop}: {exc}") from None
            except (FetchFailed, OSError) as exc:
                if not repeatable:
                    raise ShopifyOutcomeUnknown(
                        f"Shopify ({self.shop}) did not answer {name}, which may have been done: {exc}"
                    ) from None
                if last:
                    raise ShopifyError(f"Shopify ({self.shop}) could not be reached: {exc}") from None
                self._wait("network", backoff, f"{name}: {exc}")
                backoff = min(backoff * 2, self._max_wait)
                continue

            status = response.status
            if status == 429:
                if last:
                    break
                self._wait(
                    "HTTP 429",
                    retry_after_seconds(response.headers.get("retry-after"), ceiling=self._max_wait),
                    name,
                )
                continue
            if status in _RETRYABLE_STATUSES:
                if not repeatable:
                    raise ShopifyOutcomeUnknown(
                        f"Shopify ({self.shop}) answered {name} with HTTP {status}; it may have been done."
                    )
                if last:
                    raise ShopifyError(
                        f"Shopify ({self.shop}) kept failing with HTTP {status}; try again later."
                    )
                self._wait(f"HTTP {status}", backoff, name)
                backoff = min(backoff * 2, self._max_wait)
                continue
            if status != 200:
                raise _status_error(status, response.body, self.shop, self.version, name)

            document = _json(response.body, name)
            extensions = document.get("extensions")
            cost = extensions.get("cost") if isinstance(extensions, Mapping) else None
            self.last_cost = cost if isinstance(cost, dict) else None
            errors = document.get("errors")
            if errors:
                if _throttled(errors):
                    if last:
                        break
                    self._wait("THROTTLED", throttle_wait(cost, ceiling=self._max_wait), name)
                    continue
                raise _graphql_error(errors, name)
            data = document.get("data")
            if not isinstance(data, dict):
                raise ShopifyError(f"Shopify answered {name} without data.")
            return data
        raise ShopifyError(
            f"Shopify kept asking Lightbox to slow down ({name}, {self._max_attempts} tries); try later."
        )

    def _wait(self, why: str, seconds: float, detail: str) -> None:
        log.warning("Shopify %s: %s (%s); waiting %.2f s", self.shop, why, detail, seconds)
        self.waited.append((why, seconds))
        self._sleep(seconds)


def _json(body: bytes, name: str) -> dict[str, Any]:
    try:
        document = json.loads(body or b"null")
    except ValueError:
        raise ShopifyError(f"Shopify answered {name} with something that is not JSON.") from None
    if not isinstance(document, dict):
        raise ShopifyError(f"Shopify answered {name} with something that is not a GraphQL response.")
    return document


def _throttled(errors: Any) -> bool:
    if not isinstance(errors, list):
        return False
    for error in errors:
        if not isinstance(error, Mapping):
            continue
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, Mapping) else None
        if code == "THROTTLED" or (code is None and str(error.get("message", "")).lower() == "throttled"):
            return True
    return False


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, Mapping):
        return [f"{key}: {value}" for key, value in errors.items()]
    if isinstance(errors, list):
        return [str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
    return [str(errors)]


def _codes(errors: Any) -> set[str]:
    codes: set[str] = set()
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, Mapping) else None
        if isinstance(extensions, Mapping) and extensions.get("code"):
            codes.add(str(extensions["code"]))
    return codes


def _graphql_error(errors: Any, name: str) -> ShopifyError:
    text = "; ".join(_messages(errors))[:1000]
    if "ACCESS_DENIED" in _codes(errors):
        return ShopifyAuthError(
            f"The Shopify token lacks a permission {name} needs ({text}). Give the app read_products, "
            "write_products and write_files, then enter its token again."
        )
    return ShopifyError(f"Shopify refused {name}: {text}")


def _status_error(status: int, body: bytes, shop: str, version: str, name: str) -> ShopifyError:
    detail = ""
    try:
        document = json.loads(body)
        if isinstance(document, dict) and document.get("errors"):
            detail = "; ".join(_messages(document["errors"]))[:300]
    except ValueError:
        pass
    suffix = f" ({detail})" if detail else ""
    if status == 401:
        return ShopifyAuthError(
            f"Shopify refused the access token for {shop} (HTTP 401){suffix}. "
            "An admin can enter a new one on the Shopify connection page."
        )
    if status == 403:
        return ShopifyAuthError(
            f"The Shopify token for {shop} is not allowed to run {name} (HTTP 403){suffix}. "
            "Give the app read_products, write_products and write_files."
        )
    if status == 402:
        return ShopifyError(f"{shop} is frozen until its Shopify bill is paid (HTTP 402).")
    if status == 404:
        return ShopifyError(
            f"{shop} has no Admin API at version {version} (HTTP 404): check the shop address and version."
        )
    if status == 423:
        return ShopifyError(f"{shop} is locked by Shopify (HTTP 423).")
    return ShopifyError(f"Shopify answered {name} with HTTP {status}{suffix}.")
