"""Push an export's images to Shopify through the Admin GraphQL API.

Per product, in the order Shopify documents (shopify.dev/docs/apps/build/online-store/product-media):

1. find the product by its handle (catalog.shopify.handles; productByIdentifier);
   a product Shopify does not have is skipped with the handle in the reason: Lightbox
   manages images, and creating half-empty products (no price, no variants) in a live
   shop is not something a merchandiser expects an image push to do;
2. stagedUploadsCreate, one target per image (resource IMAGE, POST);
3. the bytes to each target as a multipart POST (catalog.shopify.staged);
4. productUpdate(product: {id}, media: [...]) with the alt text, in position order;
5. the new media polled until READY or FAILED, with backoff, for at most
   LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS;
6. once a new media is READY, the copy Lightbox made by an earlier push is deleted
   with fileDelete (productDeleteMedia is deprecated; fileDelete is the current way and
   also clears the old copy from the Files library, where fileUpdate's
   referencesToRemove would leave one orphan per push). A FAILED new media is deleted
   instead and the old copy stays: a push never swaps a working image for a broken one.

ShopifyMedia remembers the media id per (store, product, photo), so pushing twice
replaces instead of adding copies. Rate limits slow the push down (catalog.shopify.client).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.exports.selection import image_label
from catalog.shopify import queries, staged
from catalog.shopify.client import ShopifyAuthError, ShopifyClient, ShopifyError, ShopifyOutcomeUnknown
from catalog.shopify.connection import client_for, connected_store
from catalog.shopify.handles import handle_for
from catalog.shopify.models import MediaStatus, PushItemStatus, ShopifyMedia, ShopifyPushItem, ShopifyStore
from lightbox import outbound

log = logging.getLogger(__name__)

# What Shopify takes as product media (marketplaces.md §2.1); AVIF is not in the list.
MIME_TYPES = {
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}
MISSING_FILE = "the rendition's file is missing from storage (render it again)"
_POLL_DELAYS = (0.5, 1.0, 2.0, 4.0)  # then every 5 s
_POLL_MAX_DELAY = 5.0


@dataclass
class _Item:
    """One image on its way to Shopify."""

    image: Any  # catalog.exports.selection.ExportImage
    filename: str
    content_type: str
    alt: str
    record: ShopifyMedia | None
    row: ShopifyPushItem | None = None  # the push item's own state, in a durable push
    target: dict[str, Any] | None = None
    media_gid: str = ""
    status: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def source(self) -> Any:
        return self.image.rendition.version.source


@dataclass
class PushResult:
    products: int = 0
    images: int = 0
    replaced: int = 0
    failed: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "products": self.products,
            "images": self.images,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "skipped": len(self.skipped),
        }


class AttachUnconfirmed(Exception):
    """Shopify did not answer an attach and could not be asked what it did: the images stay
    pending with their staged-upload record, for a later run to match."""


class LostClaim(Exception):
    """The sweeper gave this product's images to another run (this one was too slow): stop
    before touching the shop again."""


def run_push(
    export: Any,
    selection: Any,
    advance: Callable[[int], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[dict[str, int], list[dict[str, str]]]:
    """Push every image of `selection` to the connected store.

    Returns (summary counts, skipped): the skipped list holds only what the push itself
    left out ({sku, image, reason}); the selection's own skipped entries are the caller's.
    `advance(n)` is called once per image, n=1, when its outcome is known, so the export's
    progress total is `selection.image_count`. Raises ShopifyError when nothing can be
    pushed at all: no store connected, or the token refused.
    """
    store = connected_store()
    pusher = Pusher(store, client_for(store, sleep=sleep), sleep=sleep)
    for exported in selection.products:
        pusher.push_product(exported, advance)
    result = pusher.result
    log.info(
        "Shopify push %s to %s: %s",
        getattr(export, "pk", export),
        store.shop_domain,
        " ".join(f"{k}={v}" for k, v in result.summary().items()),
    )
    return result.summary(), result.skipped


class Pusher:
    def __init__(
        self,
        store: ShopifyStore,
        client: ShopifyClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        http: Any = outbound.request,
    ) -> None:
        self.store = store
        self.client = client
        self.sleep = sleep
        self.clock = clock
        self.http = http
        self.wait_seconds = settings.LIGHTBOX_SHOPIFY_MEDIA_WAIT_SECONDS
        self.result = PushResult()
        self.rows: dict[Any, ShopifyPushItem] = {}
        self.token: Any = None

    # --- one product -------------------------------------------------------------

    def push_product(
        self,
        exported: Any,
        advance: Callable[[int], None],
        rows: dict[Any, ShopifyPushItem] | None = None,
        token: Any = None,
    ) -> None:
        """Push one product's images. `rows` (by source image id) are the durable push's
        items claimed with `token`: each outcome is recorded on its row as it is known, and
        the staged-upload record before the attach. Raises LostClaim when the claim is gone."""
        product = exported.product
        images = sorted(exported.images, key=lambda image: image.position)
        undecided = list(images)
        self.rows, self.token = rows or {}, token

        def decide(image: Any, reason: str = "", outcome: str = "") -> None:
            if reason:
                self.result.skipped.append(
                    {"sku": product.sku, "image": _label(image), "reason": reason[:1000]}
                )
            row = self.rows.get(_source(image).pk)
            if row is not None:
                status = PushItemStatus.DONE if not reason else PushItemStatus.SKIPPED
                if reason and outcome == "failed":
                    status = PushItemStatus.FAILED
                self._record(row, status=status, reason=reason[:2000], outcome="" if reason else outcome)
            undecided.remove(image)
            advance(1)

        try:
            self._push_product(product, images, decide)
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            log.warning("Shopify push of %s stopped: %s", product.sku, exc)
            if any(
                row.attach_started_at and not row.media_gid
                for image in undecided
                if (row := self.rows.get(_source(image).pk)) is not None
            ):
                # An attach may have happened and could not be checked: a later run checks.
                raise AttachUnconfirmed(str(exc)) from exc
            for image in list(undecided):
                decide(image, str(exc), "failed")

    def _push_product(self, product: Any, images: list[Any], decide: Callable[..., None]) -> None:
        handle = handle_for(product)
        found = self.client.execute(queries.PRODUCT_BY_HANDLE, {"identifier": {"handle": handle}})
        shopify_product = found.get("productByIdentifier")
        if not shopify_product:
            for image in images:
                decide(image, f"no Shopify product with handle {handle}")
            return
        product_gid = shopify_product["id"]
        in_order = [node["id"] for node in (shopify_product.get("media") or {}).get("nodes") or []]
        existing = set(in_order)

        items = self._prepare(product, images, decide)
        items = self._skip_unchanged(items, existing, decide)
        self._recover_interrupted(product, items, in_order)
        if not items:
            return
        to_upload = [item for item in items if not item.media_gid and item.status != MediaStatus.FAILED]
        if to_upload:
            self._stage(to_upload)
        uploaded = []
        for item in to_upload:
            try:
                # Read one file at a time: a product's images together can be large.
                with item.image.rendition.file.open("rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                item.status = MediaStatus.FAILED
                item.errors.append(MISSING_FILE)
                continue
            try:
                staged.upload(
                    item.target or {},
                    filename=item.filename,
                    content_type=item.content_type,
                    data=data,
                    http=self.http,
                    sleep=self.sleep,
                )
            except ShopifyError as exc:
                item.status = MediaStatus.FAILED
                item.errors.append(str(exc))
                continue
            uploaded.append(item)
        if uploaded:
            self._record_staged(uploaded, in_order)
            self._attach(product, product_gid, uploaded, in_order)
            for item in uploaded:
                if item.row is not None and item.media_gid:
                    self._record(item.row, media_gid=item.media_gid)
        self._wait_until_processed([item for item in items if item.media_gid])
        for item in items:
            replaced_before = self.result.replaced
            self._settle(product, product_gid, item)
            outcome = "replaced" if self.result.replaced > replaced_before else "uploaded"
            decide(item.image, self._reason(item), outcome if item.status == MediaStatus.READY else "failed")
        if any(item.status == MediaStatus.READY for item in items):
            self.result.products += 1

    # --- durable push: what is already there, and the record around the attach ---------

    def _skip_unchanged(
        self, items: list[_Item], existing: set[str], decide: Callable[..., None]
    ) -> list[_Item]:
        """Images whose bytes the shop already shows for this photo (same content hash, the
        media still on the product, READY) are not uploaded again."""
        keep = []
        for item in items:
            record = item.record
            sha = item.image.rendition.sha256
            if (
                record is not None
                and record.status == MediaStatus.READY
                and record.media_gid in existing
                and sha
                and record.content_sha256 == sha
            ):
                self.result.unchanged += 1
                decide(item.image, "", "unchanged")
            else:
                keep.append(item)
        return keep

    def _recover_interrupted(self, product: Any, items: list[_Item], in_order: list[str]) -> None:
        """Items an earlier run staged and may have attached before it was killed: see
        `_adopt_new_media`. Items whose media id was recorded are only waited for again."""
        for item in items:
            if item.row is not None and item.row.media_gid:
                item.media_gid = item.row.media_gid
                item.status = MediaStatus.UPLOADED
        interrupted = [
            item
            for item in items
            if item.row is not None and item.row.attach_started_at and not item.media_gid
        ]
        if interrupted and interrupted[0].row is not None:
            # Nothing new: the attach never happened, and these are staged and attached again.
            self._adopt_new_media(product, interrupted, interrupted[0].row.media_before, in_order)

    def _adopt_new_media(self, product: Any, items: list[_Item], before: list[str], now: list[str]) -> bool:
        """After an attach whose answer never came: the media on the product now that were
        not there before it (`before`, the snapshot taken just ahead of the attach) and that
        Lightbox knows nothing else about are these images, in order (productUpdate appends
        them so). None new: the attach never happened, and the images are uploaded again.
        Any other count cannot be matched safely, so they fail with the reason rather than
        risk a second copy in the shop. True when nothing new is there."""
        known: set[str] = set()
        for gid, stale in ShopifyMedia.objects.filter(store=self.store, product=product).values_list(
            "media_gid", "stale_media_gids"
        ):
            known.update([gid, *(stale or [])])
        known.update(
            ShopifyPushItem.objects.filter(product=product)
            .exclude(media_gid="")
            .values_list("media_gid", flat=True)
        )
        new = [gid for gid in now if gid not in set(before) and gid not in known]
        if len(new) == len(items):
            for item, gid in zip(items, new, strict=True):
                item.media_gid, item.status = gid, MediaStatus.UPLOADED
                if item.row is not None:
                    self._record(item.row, media_gid=gid)
        elif new:
            for item in items:
                item.status = MediaStatus.FAILED
                item.errors.append(
                    f"an attach to Shopify went unanswered; Shopify shows {len(new)} new media for "
                    f"{len(items)} images, so none was attached again: check the product in Shopify"
                )
        return not new

    def _record_staged(self, items: list[_Item], in_order: list[str]) -> None:
        now = timezone.now()
        for item in items:
            if item.row is not None:
                self._record(
                    item.row,
                    staged_url=(item.target or {}).get("resourceUrl", ""),
                    media_before=in_order,
                    attach_started_at=now,
                )

    def _record(self, row: ShopifyPushItem, **fields: Any) -> None:
        """One step on a push item, guarded on the run's claim (committed at once)."""
        moved = ShopifyPushItem.objects.filter(
            pk=row.pk, claim_token=self.token, status=PushItemStatus.PENDING
        ).update(heartbeat_at=timezone.now(), **fields)
        if not moved:
            raise LostClaim(f"push item {row.pk} was taken over")
        for name, value in fields.items():
            setattr(row, name, value)

    def _prepare(self, product: Any, images: list[Any], decide: Callable[..., None]) -> list[_Item]:
        records = {
            r.source_image_id: r
            for r in ShopifyMedia.objects.filter(
                store=self.store, product=product, source_image_id__in=[_source(i).pk for i in images]
            )
        }
        items = []
        for image in images:
            rendition = image.rendition
            fmt = str(rendition.format).lower()
            content_type = MIME_TYPES.get(fmt)
            if content_type is None:
                decide(
                    image,
                    f"Shopify does not take {fmt.upper()} images; give the Shopify profile "
                    "JPEG, PNG or WebP output and render again",
                )
                continue
            if not rendition.file or not rendition.file.storage.exists(rendition.file.name):
                decide(image, MISSING_FILE)
                continue
            items.append(
                _Item(
                    image=image,
                    filename=rendition.file.name.rsplit("/", 1)[-1],
                    content_type=content_type,
                    alt=(image.alt_text or product.title)[:512],
                    record=records.get(_source(image).pk),
                    row=self.rows.get(_source(image).pk),
                )
            )
        return items

    def _stage(self, items: list[_Item]) -> None:
        data = self.client.execute(
            queries.STAGE_UPLOADS,
            {
                "input": [
                    {
                        "resource": "IMAGE",
                        "filename": item.filename,
                        "mimeType": item.content_type,
                        "httpMethod": "POST",
                    }
                    for item in items
                ]
            },
        )
        payload = data.get("stagedUploadsCreate") or {}
        errors = _user_errors(payload)
        targets = payload.get("stagedTargets") or []
        if errors or len(targets) != len(items):
            raise ShopifyError(f"Shopify would not prepare the uploads: {errors or 'no upload targets'}")
        for item, target in zip(items, targets, strict=True):
            item.target = target

    def _attach(self, product: Any, product_gid: str, items: list[_Item], in_order: list[str]) -> None:
        try:
            self._attach_once(product_gid, items, set(in_order))
        except ShopifyOutcomeUnknown as exc:
            log.warning(
                "Shopify attach for %s unanswered (%s); reading the product's media", product.sku, exc
            )
            found = self.client.execute(
                queries.PRODUCT_BY_HANDLE, {"identifier": {"handle": handle_for(product)}}
            )
            nodes = ((found.get("productByIdentifier") or {}).get("media") or {}).get("nodes") or []
            if self._adopt_new_media(product, items, in_order, [node["id"] for node in nodes]):
                self._attach_once(product_gid, items, set(in_order))  # it never happened

    def _attach_once(self, product_gid: str, items: list[_Item], existing: set[str]) -> None:
        data = self.client.execute(
            queries.ATTACH_MEDIA,
            {
                "product": {"id": product_gid},
                "media": [
                    {
                        "originalSource": (item.target or {})["resourceUrl"],
                        "mediaContentType": "IMAGE",
                        "alt": item.alt,
                    }
                    for item in items
                ],
                "count": len(items),
            },
            repeatable=False,
        )
        payload = data.get("productUpdate") or {}
        errors = _user_errors(payload)
        if errors:
            for item in items:
                item.status = MediaStatus.FAILED
                item.errors.append(f"Shopify refused the media: {errors}")
            return
        nodes = ((payload.get("product") or {}).get("media") or {}).get("nodes") or []
        new = [node for node in nodes if node.get("id") not in existing]
        if len(new) != len(items):
            raise ShopifyError(
                f"Shopify added {len(new)} media for {len(items)} images; the push of this product stopped."
            )
        for item, node in zip(items, new, strict=True):
            item.media_gid = node["id"]
            item.status = node.get("status") or MediaStatus.UPLOADED

    def _wait_until_processed(self, items: list[_Item]) -> None:
        deadline = self.clock() + self.wait_seconds
        attempt = 0
        pending = [item for item in items if item.status in ShopifyMedia.PENDING_STATES]
        while pending:
            delay = _POLL_DELAYS[attempt] if attempt < len(_POLL_DELAYS) else _POLL_MAX_DELAY
            if self.clock() + delay > deadline:
                return
            self.sleep(delay)
            attempt += 1
            data = self.client.execute(queries.MEDIA_STATUS, {"ids": [item.media_gid for item in pending]})
            by_id = {node["id"]: node for node in data.get("nodes") or [] if node}
            for item in pending:
                node = by_id.get(item.media_gid)
                if node is None:
                    item.status = MediaStatus.FAILED
                    item.errors.append("the new media disappeared from Shopify while it was being processed")
                    continue
                item.status = node.get("status") or item.status
                if item.status == MediaStatus.FAILED:
                    item.errors.extend(_media_errors(node) or ["Shopify gave no reason"])
            pending = [item for item in pending if item.status in ShopifyMedia.PENDING_STATES]

    # --- one image's outcome ----------------------------------------------------

    def _settle(self, product: Any, product_gid: str, item: _Item) -> None:
        record = item.record
        old = [
            gid
            for gid in ([record.media_gid] if record and record.media_gid else [])
            if gid != item.media_gid
        ]
        stale = list(record.stale_media_gids) if record else []
        fields: dict[str, Any] = {
            "product_gid": product_gid,
            "position": item.image.position,
            "pushed_at": timezone.now(),
        }
        if item.status == MediaStatus.READY:
            still_there = [gid for gid in dict.fromkeys(old + stale) if not self._delete(gid)]
            self.result.images += 1
            self.result.replaced += len([gid for gid in old if gid not in still_there])
            fields |= {
                "media_gid": item.media_gid,
                "status": MediaStatus.READY,
                "rendition": item.image.rendition,
                "alt_text": item.alt,
                "stale_media_gids": still_there,
                "last_error": "",
                "content_sha256": item.image.rendition.sha256,
            }
        elif item.status in ShopifyMedia.PENDING_STATES:
            # Too slow to confirm: keep both; the next push removes whichever is older.
            self.result.failed += 1
            fields |= {
                "media_gid": item.media_gid,
                "status": item.status,
                "rendition": item.image.rendition,
                "alt_text": item.alt,
                "stale_media_gids": list(dict.fromkeys(stale + old)),
                "last_error": self._reason(item),
            }
        else:
            self.result.failed += 1
            if item.media_gid and not self._delete(item.media_gid):
                stale.append(item.media_gid)
            fields |= {"last_error": self._reason(item), "stale_media_gids": stale}
            if record is None or not record.media_gid:
                fields["status"] = MediaStatus.FAILED
        with transaction.atomic():
            ShopifyMedia.objects.update_or_create(
                store=self.store,
                product=product,
                source_image=item.source,
                defaults=fields,
                create_defaults={"status": MediaStatus.FAILED, **fields},
            )

    def _reason(self, item: _Item) -> str:
        if item.status == MediaStatus.READY:
            return ""
        if item.status in ShopifyMedia.PENDING_STATES:
            return (
                f"Shopify was still processing the image after {self.wait_seconds} s; "
                "it may still appear, and the next push replaces it"
            )
        return "; ".join(item.errors) or "Shopify could not process the image"

    def _delete(self, media_gid: str) -> bool:
        """Delete one media Lightbox made; True when it is gone (also when it already was)."""
        try:
            data = self.client.execute(queries.DELETE_FILES, {"fileIds": [media_gid]})
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            log.warning("Shopify media %s not deleted: %s", media_gid, exc)
            return False
        payload = data.get("fileDelete") or {}
        if media_gid in (payload.get("deletedFileIds") or []):
            return True
        errors = payload.get("userErrors") or []
        if errors and all(e.get("code") == "FILE_DOES_NOT_EXIST" for e in errors):
            return True  # someone removed it in Shopify already
        log.warning("Shopify media %s not deleted: %s", media_gid, _user_errors(payload))
        return False


def _source(image: Any) -> Any:
    return image.rendition.version.source


def _label(image: Any) -> str:
    return image_label(_source(image))


def _user_errors(payload: dict[str, Any]) -> str:
    errors = payload.get("userErrors") or []
    return "; ".join(
        f"{'.'.join(str(f) for f in e.get('field') or [])}: {e.get('message')}".lstrip(": ") for e in errors
    )


def _media_errors(node: dict[str, Any]) -> list[str]:
    """Shopify's reasons for a FAILED media: message, details and code of each mediaErrors entry."""
    reasons = []
    for error in node.get("mediaErrors") or []:
        text = str(error.get("message") or "").strip()
        if error.get("details"):
            text = f"{text}: {error['details']}" if text else str(error["details"])
        if error.get("code"):
            text = f"{text} ({error['code']})"
        reasons.append(f"Shopify could not process the image: {text}")
    return reasons
