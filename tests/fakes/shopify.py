"""A fake Shopify Admin API on a real HTTP server on 127.0.0.1, strict about what it is sent.

Only Shopify is faked; Lightbox's real client, HTTP stack (catalog.outbound) and
multipart encoder talk to it over TCP. It checks, and refuses like Shopify would:

- the endpoint path (/{shop}/admin/api/{version}/graphql.json) and the access token header;
- every GraphQL document: parsed and validated by graphql-core against SCHEMA, a subset
  of the Admin API schema written from shopify.dev's reference, with the deprecated
  fields marked @deprecated and refused (NoDeprecatedCustomRule), so productCreateMedia,
  productDeleteMedia or productByHandle fail; unknown fields fail; variables are coerced
  against the declared input types (a wrong enum value or a missing required field fails);
- the variables' meaning: staged uploads must be resource IMAGE with POST, media must be
  IMAGE with an alt text and an originalSource that is a resourceUrl it issued;
- the staged upload as a real multipart/form-data POST: every issued parameter echoed
  with its value, the file last, its bytes a real image of the announced type, and no
  Shopify token sent to the storage host.

It answers media status UPLOADED on creation, PROCESSING on the first poll, READY (or
FAILED with mediaErrors, for a file named in `fail_processing`) on the next; and it
throttles exactly once each way: one HTTP 429 with Retry-After and one GraphQL THROTTLED
answer with a realistic cost extension. Everything it is sent is in `requests`; anything
Lightbox should never have sent is also in `violations`, among them attaching bytes a
product already shows (a duplicate image in the live shop, also kept in `duplicates`).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import http.server
import io
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, build_schema, execute_sync, parse, specified_rules, validate
from graphql.language import OperationDefinitionNode
from graphql.validation import NoDeprecatedCustomRule
from PIL import Image

SCHEMA = build_schema("""
    scalar UnsignedInt64

    interface Node { id: ID! }

    type Query {
      shop: Shop!
      productByIdentifier(identifier: ProductIdentifierInput!): Product
      productByHandle(handle: String!): Product @deprecated(reason: "Use productByIdentifier instead.")
      nodes(ids: [ID!]!): [Node]!
    }

    type Mutation {
      stagedUploadsCreate(input: [StagedUploadInput!]!): StagedUploadsCreatePayload
      productUpdate(product: ProductUpdateInput, media: [CreateMediaInput!]): ProductUpdatePayload
      fileDelete(fileIds: [ID!]!): FileDeletePayload
      productCreateMedia(productId: ID!, media: [CreateMediaInput!]!): ProductCreateMediaPayload
        @deprecated(reason: "Use productUpdate or productSet instead.")
      productDeleteMedia(productId: ID!, mediaIds: [ID!]!): ProductDeleteMediaPayload
        @deprecated(reason: "Use fileUpdate instead.")
    }

    type Shop { name: String! myshopifyDomain: String! }

    input ProductIdentifierInput { id: ID handle: String }

    type Product implements Node {
      id: ID!
      handle: String!
      title: String!
      media(first: Int, last: Int, sortKey: ProductMediaSortKeys, query: String): MediaConnection!
    }
    enum ProductMediaSortKeys { ID POSITION RELEVANCE }
    type MediaConnection { nodes: [Media!]! }

    enum MediaStatus { UPLOADED PROCESSING READY FAILED }
    enum MediaContentType { EXTERNAL_VIDEO IMAGE MODEL_3D VIDEO }
    enum MediaErrorCode {
      UNKNOWN INVALID_SIGNED_URL IMAGE_DOWNLOAD_FAILURE IMAGE_PROCESSING_FAILURE
      MEDIA_TIMEOUT_ERROR UNSUPPORTED_IMAGE_FILE_TYPE INVALID_IMAGE_FILE_SIZE
      INVALID_IMAGE_ASPECT_RATIO INVALID_IMAGE_RESOLUTION FILE_STORAGE_LIMIT_EXCEEDED
      DUPLICATE_FILENAME_ERROR
    }
    type MediaError { code: MediaErrorCode! details: String message: String! }
    type Image { url: String! altText: String width: Int height: Int }

    interface Media {
      id: ID!
      alt: String
      mediaContentType: MediaContentType!
      mediaErrors: [MediaError!]!
      status: MediaStatus!
    }
    type MediaImage implements Media & Node {
      id: ID!
      alt: String
      mediaContentType: MediaContentType!
      mediaErrors: [MediaError!]!
      status: MediaStatus!
      image: Image
      mimeType: String
    }

    enum StagedUploadTargetGenerateUploadResource {
      BULK_MUTATION_VARIABLES COLLECTION_IMAGE DISPUTE_FILE_UPLOAD FILE IMAGE MODEL_3D
      PRODUCT_IMAGE RETURN_LABEL SHOP_IMAGE URL_REDIRECT_IMPORT VIDEO
    }
    enum StagedUploadHttpMethodType { POST PUT }
    input StagedUploadInput {
      resource: StagedUploadTargetGenerateUploadResource!
      filename: String!
      mimeType: String!
      httpMethod: StagedUploadHttpMethodType = PUT
      fileSize: UnsignedInt64
    }
    type StagedUploadParameter { name: String! value: String! }
    type StagedMediaUploadTarget { url: String resourceUrl: String parameters: [StagedUploadParameter!]! }
    type UserError { field: [String!] message: String! }
    type StagedUploadsCreatePayload { stagedTargets: [StagedMediaUploadTarget!] userErrors: [UserError!]! }

    input ProductUpdateInput { id: ID title: String handle: String descriptionHtml: String }
    input CreateMediaInput { originalSource: String! alt: String mediaContentType: MediaContentType! }
    type ProductUpdatePayload { product: Product userErrors: [UserError!]! }

    enum FilesErrorCode { FILE_DOES_NOT_EXIST FILE_LOCKED INVALID MISSING_ARGUMENTS TOO_MANY_ARGUMENTS }
    type FilesUserError { code: FilesErrorCode field: [String!] message: String! }
    type FileDeletePayload { deletedFileIds: [ID!] userErrors: [FilesUserError!]! }

    type MediaUserError { field: [String!] message: String! }
    type ProductCreateMediaPayload { media: [Media!] mediaUserErrors: [MediaUserError!]! }
    type ProductDeleteMediaPayload { deletedMediaIds: [ID!] mediaUserErrors: [MediaUserError!]! }
""")


def _resolve_type(value: Any, info: Any, abstract_type: Any) -> str:
    return value["__typename"] if isinstance(value, dict) else "Product"


SCHEMA.get_type("Node").resolve_type = _resolve_type
SCHEMA.get_type("Media").resolve_type = _resolve_type

MIME_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
UPLOAD_PATH = "/staged-uploads/"
_ENDPOINT = re.compile(r"^/(?P<shop>[^/]+)/admin/api/(?P<version>[^/]+)/graphql\.json$")
MAXIMUM_AVAILABLE = 2000.0
RESTORE_RATE = 100.0
# The THROTTLED answer's bucket: the query wants 252 points and 192 are left, so a client
# that reads the cost extension waits (252 − 192) / 100 = 0.6 s.
THROTTLED_COST = {
    "requestedQueryCost": 252,
    "actualQueryCost": None,
    "throttleStatus": {
        "maximumAvailable": MAXIMUM_AVAILABLE,
        "currentlyAvailable": 192,
        "restoreRate": RESTORE_RATE,
    },
}
THROTTLED_WAIT = (252 - 192) / RESTORE_RATE
RETRY_AFTER = "1.0"


@dataclass
class Recorded:
    kind: str  # "graphql" | "upload" | "other"
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = field(repr=False)
    status: int = 0
    operation: str = ""
    root_fields: tuple[str, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    throttled: str = ""  # "HTTP 429" | "THROTTLED" | ""


@dataclass
class StagedUpload:
    filename: str
    mime_type: str
    key: str
    resource_url: str
    parameters: list[tuple[str, str]]
    data: bytes | None = None
    image_format: str = ""
    size: tuple[int, int] = (0, 0)


@dataclass
class FakeMedia:
    id: str
    product_id: str
    alt: str
    source: str
    filename: str
    status: str = "UPLOADED"
    polls: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class FakeProduct:
    id: str
    handle: str
    title: str
    media_ids: list[str] = field(default_factory=list)


class FakeShopify:
    def __init__(
        self,
        shop: str = "kiln-goods.myshopify.com",
        token: str = "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",  # noqa: S107 - a fake shop's token
        version: str = "2026-10",
    ) -> None:
        self.shop = shop
        self.token = token
        self.version = version
        self.shop_name = "Kiln Goods"
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.products: dict[str, FakeProduct] = {}
        self.media: dict[str, FakeMedia] = {}
        self.staged: dict[str, StagedUpload] = {}  # by resourceUrl
        self.deleted: list[str] = []
        # Operations whose next answer is lost after the work is done (each name once).
        self.lose_answer_to: list[str] = []
        # (product handle, sha256) of every attach that put bytes the product already shows.
        self.duplicates: list[tuple[str, str]] = []
        # filename → (MediaErrorCode, message): processing of that upload FAILS.
        self.fail_processing: dict[str, tuple[str, str]] = {}
        # The n-th GraphQL request (1-based) gets HTTP 429, the m-th a THROTTLED error.
        self.throttle_http_on: int | None = 2
        self.throttle_graphql_on: int | None = 4
        self._graphql_count = 0
        self._ids = 1000
        self._lock = threading.RLock()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    # --- life cycle and set-up -------------------------------------------------------

    def __enter__(self) -> FakeShopify:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url_template(self) -> str:
        """For LIGHTBOX_SHOPIFY_API_URL_TEMPLATE."""
        return self.base_url + "/{shop}/admin/api/{version}/graphql.json"

    def add_product(self, handle: str, title: str = "") -> str:
        with self._lock:
            gid = f"gid://shopify/Product/{self._next_id()}"
            self.products[gid] = FakeProduct(gid, handle, title or handle)
            return gid

    def media_of(self, handle: str) -> list[FakeMedia]:
        """The product's media in position order."""
        product = next(p for p in self.products.values() if p.handle == handle)
        return [self.media[m] for m in product.media_ids]

    def content_of(self, media_gid: str) -> str | None:
        """sha256 of the bytes behind a media (None when its upload never arrived)."""
        media = self.media.get(media_gid)
        staged = self.staged.get(media.source) if media else None
        return hashlib.sha256(staged.data).hexdigest() if staged and staged.data is not None else None

    def finish_processing(self) -> None:
        """Time passes: every media still processing becomes READY."""
        with self._lock:
            for media in self.media.values():
                if media.status in ("UPLOADED", "PROCESSING"):
                    media.status = "READY"

    def delete_media(self, gid: str) -> None:
        """A merchant deletes a media in the Shopify admin."""
        with self._lock:
            media = self.media.pop(gid)
            self.products[media.product_id].media_ids.remove(gid)

    def graphql(self, operation: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.kind == "graphql" and (operation is None or r.operation == operation)
        ]

    def uploads(self) -> list[Recorded]:
        return [r for r in self.requests if r.kind == "upload"]

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    # --- HTTP --------------------------------------------------------------------------

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = Recorded("other", self.command, self.path, headers, body)
                with fake._lock:
                    fake.requests.append(record)
                    if self.path == UPLOAD_PATH:
                        record.kind = "upload"
                        status, content_type, answer, extra = fake._upload(record)
                    else:
                        status, content_type, answer, extra = fake._api(record)
                record.status = status
                if record.operation and record.operation in fake.lose_answer_to:
                    # Done, but the answer is lost on the way (a dropped connection).
                    fake.lose_answer_to.remove(record.operation)
                    record.status = 0
                    self.close_connection = True
                    return
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(answer)
                self.close_connection = True

            do_GET = do_POST = do_PUT = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        return Handler

    def _json(self, status: int, document: Any, **headers: str) -> tuple[int, str, bytes, dict[str, str]]:
        return status, "application/json; charset=utf-8", json.dumps(document).encode(), headers

    def _api(self, record: Recorded) -> tuple[int, str, bytes, dict[str, str]]:
        match = _ENDPOINT.match(record.path)
        if record.method != "POST" or not match or match["shop"] != self.shop:
            return self._json(404, {"errors": "Not Found"})
        record.kind = "graphql"
        if not re.fullmatch(r"\d{4}-(01|04|07|10)", match["version"]):
            return self._json(404, {"errors": "Not Found"})
        if record.headers.get("x-shopify-access-token") != self.token:
            return self._json(
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            )
        if not record.headers.get("content-type", "").startswith("application/json"):
            self.violations.append(f"GraphQL request sent as {record.headers.get('content-type')!r}")
            return self._json(400, {"errors": "Content-Type must be application/json"})
        try:
            request = json.loads(record.body)
            query, variables = request["query"], request.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            self.violations.append("GraphQL request body is not {query, variables} JSON")
            return self._json(400, {"errors": "Bad Request"})
        record.variables = variables
        try:
            document = parse(query)
        except GraphQLError as exc:
            self.violations.append(f"unparseable document: {exc.message}")
            return self._json(200, {"errors": [exc.formatted]})
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if len(operations) != 1 or operations[0].name is None:
            self.violations.append("a document must hold exactly one named operation")
            return self._json(200, {"errors": [{"message": "Send exactly one named operation."}]})
        operation = operations[0]
        record.operation = operation.name.value
        record.root_fields = tuple(s.name.value for s in operation.selection_set.selections)
        errors = validate(SCHEMA, document, [*specified_rules, NoDeprecatedCustomRule])
        if errors:
            self.violations.extend(f"{record.operation}: {e.message}" for e in errors)
            return self._json(200, {"errors": [e.formatted for e in errors]})

        self._graphql_count += 1
        if self._graphql_count == self.throttle_http_on:
            record.throttled = "HTTP 429"
            return self._json(
                429,
                {
                    "errors": "Exceeded 2 calls per second for api client. "
                    "Reduce request rates to resume uninterrupted service."
                },
                **{"Retry-After": RETRY_AFTER},
            )
        if self._graphql_count == self.throttle_graphql_on:
            record.throttled = "THROTTLED"
            return self._json(
                200,
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": {"cost": THROTTLED_COST},
                },
            )

        result = execute_sync(SCHEMA, document, root_value=_Root(self), variable_values=variables)
        answer: dict[str, Any] = {}
        if result.errors:
            self.violations.extend(f"{record.operation}: {e.message}" for e in result.errors)
            answer["errors"] = [e.formatted for e in result.errors]
        answer["data"] = result.data
        cost = 10 if operation.operation.value == "mutation" else 4
        answer["extensions"] = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": MAXIMUM_AVAILABLE,
                    "currentlyAvailable": MAXIMUM_AVAILABLE - cost,
                    "restoreRate": RESTORE_RATE,
                },
            }
        }
        record.answer = answer
        return self._json(200, answer)

    # --- the staged upload target ---------------------------------------------------------

    def _upload(self, record: Recorded) -> tuple[int, str, bytes, dict[str, str]]:
        def refuse(message: str) -> tuple[int, str, bytes, dict[str, str]]:
            self.violations.append(f"staged upload: {message}")
            xml = (
                "<?xml version='1.0' encoding='UTF-8'?>"
                f"<Error><Code>InvalidArgument</Code><Message>{message}</Message></Error>"
            )
            return 400, "application/xml", xml.encode(), {}

        if record.method != "POST":
            return refuse(f"{record.method} instead of POST")
        if "x-shopify-access-token" in record.headers or "authorization" in record.headers:
            return refuse("a Shopify credential was sent to the storage host")
        content_type = record.headers.get("content-type", "")
        if not content_type.startswith("multipart/form-data") or "boundary=" not in content_type:
            return refuse(f"not multipart/form-data ({content_type!r})")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + record.body
        )
        if not message.is_multipart() or message.defects:
            return refuse(f"the multipart body does not parse ({message.defects})")
        fields: list[tuple[str, str]] = []
        file_part = None
        for part in message.iter_parts():
            if part.get_content_disposition() != "form-data":
                return refuse("a part without Content-Disposition: form-data")
            name = part.get_param("name", header="content-disposition")
            if file_part is not None:
                return refuse(f"field {name!r} after the file; the file must come last")
            if name == "file":
                file_part = part
            else:
                fields.append((name, part.get_payload(decode=True).decode()))
        if file_part is None:
            return refuse("no file part")
        key = dict(fields).get("key")
        staged = next((s for s in self.staged.values() if s.key == key), None)
        if staged is None:
            return refuse(f"unknown key {key!r}")
        if fields != staged.parameters:
            return refuse(f"the fields {fields} are not the issued parameters {staged.parameters}")
        if not file_part.get_filename():
            return refuse("the file part has no filename")
        if file_part.get_content_type() != staged.mime_type:
            return refuse(f"file sent as {file_part.get_content_type()}, staged as {staged.mime_type}")
        data = file_part.get_payload(decode=True)
        try:
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image_format, size = image.format, image.size
        except Exception as exc:  # noqa: BLE001 - any decoding failure means "not an image"
            return refuse(f"the file is not an image ({exc})")
        if MIME_FORMATS[staged.mime_type] != image_format:
            return refuse(f"the file is {image_format}, staged as {staged.mime_type}")
        staged.data, staged.image_format, staged.size = data, image_format, size
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><PostResponse>"
            f"<Location>{staged.resource_url}</Location><Bucket>shopify-staged-uploads</Bucket>"
            f'<Key>{staged.key}</Key><ETag>"{hashlib.md5(data).hexdigest()}"</ETag></PostResponse>'  # noqa: S324
        )
        return 201, "application/xml", xml.encode(), {}


class _Root:
    """Resolvers for Query and Mutation; user errors come back the way Shopify sends them."""

    def __init__(self, fake: FakeShopify) -> None:
        self.fake = fake

    # --- queries ---------------------------------------------------------------------

    def shop(self, info: Any) -> dict[str, str]:
        return {"name": self.fake.shop_name, "myshopifyDomain": self.fake.shop}

    def productByIdentifier(self, info: Any, identifier: dict[str, Any]) -> _Product | None:  # noqa: N802
        if len([v for v in identifier.values() if v is not None]) != 1:
            raise GraphQLError("Exactly one identifier (id, handle or customId) must be given.")
        for product in self.fake.products.values():
            if product.id == identifier.get("id") or product.handle == identifier.get("handle"):
                return _Product(self.fake, product)
        return None

    def nodes(self, info: Any, ids: list[str]) -> list[Any]:
        found: list[Any] = []
        for gid in ids:
            if gid in self.fake.media:
                found.append(_media_node(self.fake, self.fake.media[gid], poll=True))
            elif gid in self.fake.products:
                found.append(_Product(self.fake, self.fake.products[gid]))
            else:
                found.append(None)
        return found

    # --- mutations -----------------------------------------------------------------

    def stagedUploadsCreate(self, info: Any, input: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N802, A002
        errors, targets = [], []
        for index, item in enumerate(input):
            if item["resource"] != "IMAGE":
                self.fake.violations.append(f"staged upload for resource {item['resource']}, not IMAGE")
            if item.get("httpMethod") != "POST":
                self.fake.violations.append(
                    f"staged upload with httpMethod {item.get('httpMethod')}, not POST"
                )
            if item["mimeType"] not in MIME_FORMATS:
                errors.append({"field": ["input", str(index), "mimeType"], "message": "Invalid mime type"})
                continue
            filename = item["filename"]
            if not filename or filename.startswith(".") or "/" in filename:
                errors.append({"field": ["input", str(index), "filename"], "message": "Invalid filename"})
                continue
            key = f"tmp/{abs(hash(self.fake.shop)) % 10**8}/products/{uuid.uuid4()}/{filename}"
            resource_url = f"{self.fake.base_url}{UPLOAD_PATH}{key}"
            policy = base64.b64encode(
                json.dumps({"conditions": [{"key": key}, ["content-length-range", 1, 20971520]]}).encode()
            ).decode()
            parameters = [
                ("Content-Type", item["mimeType"]),
                ("success_action_status", "201"),
                ("acl", "private"),
                ("key", key),
                ("x-goog-date", "20261125T120000Z"),
                (
                    "x-goog-credential",
                    "merchant-assets@shopify-tiers.iam.gserviceaccount.com/20261125/auto/storage/goog4_request",
                ),
                ("x-goog-algorithm", "GOOG4-RSA-SHA256"),
                ("x-goog-signature", hashlib.sha256(key.encode()).hexdigest() * 2),
                ("policy", policy),
            ]
            self.fake.staged[resource_url] = StagedUpload(
                filename, item["mimeType"], key, resource_url, parameters
            )
            targets.append(
                {
                    "url": f"{self.fake.base_url}{UPLOAD_PATH}",
                    "resourceUrl": resource_url,
                    "parameters": [{"name": n, "value": v} for n, v in parameters],
                }
            )
        return {"stagedTargets": None if errors else targets, "userErrors": errors}

    def productUpdate(
        self, info: Any, product: dict[str, Any] | None = None, media: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:  # noqa: N802
        target = self.fake.products.get((product or {}).get("id") or "")
        if target is None:
            return {"product": None, "userErrors": [{"field": ["id"], "message": "Product does not exist"}]}
        errors = []
        for index, item in enumerate(media or []):
            where = ["media", str(index)]
            if item["mediaContentType"] != "IMAGE":
                self.fake.violations.append(f"media {index} is {item['mediaContentType']}, not IMAGE")
            if not (item.get("alt") or "").strip():
                self.fake.violations.append(f"media {index} has no alt text")
            if len(item.get("alt") or "") > 512:
                errors.append(
                    {
                        "field": [*where, "alt"],
                        "message": "Alt value exceeds the maximum limit of 512 characters",
                    }
                )
            if item["originalSource"] not in self.fake.staged:
                self.fake.violations.append(
                    f"media {index} originalSource {item['originalSource']!r} was never issued"
                )
                errors.append({"field": [*where, "originalSource"], "message": "Image URL is invalid"})
        if len(target.media_ids) + len(media or []) > 250:
            errors.append({"field": ["media"], "message": "Products can have at most 250 media"})
        if errors:
            return {"product": None, "userErrors": errors}
        shown = {self.fake.content_of(m) for m in target.media_ids} - {None}
        for item in media or []:
            content = self.fake.staged[item["originalSource"]].data
            digest = hashlib.sha256(content).hexdigest() if content is not None else None
            if digest is not None and digest in shown:
                # A live shop showing the same picture twice: what an interrupted push must never do.
                self.fake.violations.append(f"duplicate image attached to {target.handle}: {digest[:12]}")
                self.fake.duplicates.append((target.handle, digest))
            shown.add(digest)
        for item in media or []:
            staged = self.fake.staged[item["originalSource"]]
            gid = f"gid://shopify/MediaImage/{self.fake._next_id()}"
            self.fake.media[gid] = FakeMedia(
                gid, target.id, item["alt"], item["originalSource"], staged.filename
            )
            target.media_ids.append(gid)
        return {"product": _Product(self.fake, target), "userErrors": []}

    def fileDelete(self, info: Any, fileIds: list[str]) -> dict[str, Any]:  # noqa: N802, N803
        for gid in fileIds:
            media = self.fake.media.get(gid)
            if media is None:
                return {
                    "deletedFileIds": None,
                    "userErrors": [
                        {
                            "code": "FILE_DOES_NOT_EXIST",
                            "field": ["fileIds"],
                            "message": "File does not exist.",
                        }
                    ],
                }
            if media.status in ("UPLOADED", "PROCESSING"):
                return {
                    "deletedFileIds": None,
                    "userErrors": [
                        {
                            "code": "FILE_LOCKED",
                            "field": ["fileIds"],
                            "message": "File has a pending operation.",
                        }
                    ],
                }
        for gid in fileIds:
            media = self.fake.media.pop(gid)
            self.fake.products[media.product_id].media_ids.remove(gid)
            self.fake.deleted.append(gid)
        return {"deletedFileIds": fileIds, "userErrors": []}

    def productCreateMedia(self, info: Any, **kwargs: Any) -> None:  # noqa: N802 - refused by validation first
        raise GraphQLError("productCreateMedia is deprecated")

    def productDeleteMedia(self, info: Any, **kwargs: Any) -> None:  # noqa: N802
        raise GraphQLError("productDeleteMedia is deprecated")


class _Product:
    def __init__(self, fake: FakeShopify, product: FakeProduct) -> None:
        self._fake = fake
        self.id, self.handle, self.title = product.id, product.handle, product.title
        self._product = product

    def media(
        self,
        info: Any,
        first: int | None = None,
        last: int | None = None,
        sortKey: str | None = None,
        query: str | None = None,
    ) -> dict[str, Any]:  # noqa: N803
        if (first is None) == (last is None):
            raise GraphQLError("you must provide one of first or last")
        nodes = [_media_node(self._fake, self._fake.media[m], poll=False) for m in self._product.media_ids]
        return {"nodes": nodes[:first] if first is not None else nodes[-last:] if last else []}


def _media_node(fake: FakeShopify, media: FakeMedia, *, poll: bool) -> dict[str, Any]:
    """MediaImage as Shopify shows it; a status poll moves it UPLOADED → PROCESSING → READY/FAILED."""
    if poll and media.status in ("UPLOADED", "PROCESSING"):
        media.polls += 1
        if media.polls == 1:
            media.status = "PROCESSING"
        else:
            staged = fake.staged[media.source]
            failure = fake.fail_processing.get(media.filename)
            if staged.data is None:
                failure = (
                    "IMAGE_DOWNLOAD_FAILURE",
                    "Media failed to process because the image could not be downloaded.",
                )
            if failure:
                media.status = "FAILED"
                media.errors = [{"code": failure[0], "details": None, "message": failure[1]}]
            else:
                media.status = "READY"
    staged = fake.staged[media.source]
    return {
        "__typename": "MediaImage",
        "id": media.id,
        "alt": media.alt,
        "mediaContentType": "IMAGE",
        "status": media.status,
        "mediaErrors": media.errors,
        "mimeType": staged.mime_type,
        "image": (
            {
                "url": f"https://cdn.shopify.com/s/files/1/{media.id.rsplit('/', 1)[-1]}/{media.filename}",
                "altText": media.alt,
                "width": staged.size[0],
                "height": staged.size[1],
            }
            if media.status == "READY"
            else None
        ),
    }
