"""A SQL script cut into its statements, for servers that need them one at a time.

Citus ships some DDL to its workers as the text of the client's query: a CREATE INDEX on a
distributed table sent in one query string with other statements reaches the workers as
several commands in one prepared statement, which PostgreSQL refuses ("cannot insert
multiple commands into a prepared statement"). ``ledger migrate`` on a Citus coordinator
therefore sends a migration statement by statement (README "Scaling out on Citus").

The cut follows PostgreSQL's lexical rules for what can hide a semicolon: ``--`` and
``/* */`` comments (nested), single-quoted strings (``''`` inside; backslash escapes in
``E'...'``), double-quoted identifiers, and dollar-quoted bodies (``$$`` or ``$tag$``).
"""

from __future__ import annotations

import re

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_\x80-\uffff][A-Za-z0-9_\x80-\uffff]*)?\$")
_WORD_CHAR = re.compile(r"[A-Za-z0-9_$\x80-\uffff]")


def _skip_block_comment(script: str, i: int) -> int:
    """Index just after the (possibly nested) comment that opens at ``i``."""
    depth, i = 1, i + 2
    while i < len(script) and depth:
        if script.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif script.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _skip_quoted(script: str, i: int, quote: str, backslash: bool) -> int:
    """Index just after the quoted string or identifier that opens at ``i``."""
    i += 1
    while i < len(script):
        if backslash and script[i] == "\\":
            i += 2
        elif script[i] == quote:
            if script.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return i


def split_statements(script: str) -> list[str]:
    """The statements of ``script``, each with its terminating semicolon and the comments
    before it; a piece with nothing but comments and blanks is left out."""
    pieces: list[str] = []
    start = i = 0
    n = len(script)
    while i < n:
        c = script[i]
        if script.startswith("--", i):
            end = script.find("\n", i)
            i = n if end < 0 else end + 1
        elif script.startswith("/*", i):
            i = _skip_block_comment(script, i)
        elif c == "'":
            e_string = (
                i > 0 and script[i - 1] in "eE" and (i < 2 or not _WORD_CHAR.match(script[i - 2]))
            )
            i = _skip_quoted(script, i, "'", e_string)
        elif c == '"':
            i = _skip_quoted(script, i, '"', False)
        elif c == "$" and not (i > 0 and _WORD_CHAR.match(script[i - 1])):
            tag = _DOLLAR_TAG.match(script, i)
            if tag:
                end = script.find(tag.group(0), tag.end())
                i = n if end < 0 else end + len(tag.group(0))
            else:
                i += 1
        elif c == ";":
            pieces.append(script[start : i + 1])
            start = i = i + 1
        else:
            i += 1
    pieces.append(script[start:])
    return [p.strip() for p in pieces if _has_code(p)]


def _has_code(piece: str) -> bool:
    """Whether anything but comments, blanks and a lone semicolon is in ``piece``."""
    code = re.sub(r"--[^\n]*|/\*.*?\*/", "", piece, flags=re.DOTALL).strip()
    return code not in ("", ";")
