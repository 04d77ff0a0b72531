"""What a SKU may be, written once: 1–64 letters, digits, dots, dashes or underscores,
starting with a letter or digit. Imports no Django, so file-name parsing can use it."""

from __future__ import annotations

import re

SKU_CHARS = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
# The model's validator and the database constraint. \Z, not "$": "$" lets a trailing newline in.
SKU_PATTERN = rf"\A{SKU_CHARS}\Z"
# The OpenAPI schema's flavour (ECMA-262 has no \A or \Z).
SKU_JSON_PATTERN = rf"^{SKU_CHARS}$"
# For fullmatch.
SKU_RE = re.compile(SKU_CHARS)
