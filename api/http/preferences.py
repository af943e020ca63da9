"""The `Prefer` header (RFC 7240): its grammar, published as the parameter's pattern, and
the preferences it holds, read by that same grammar.

A preference list is `name [= value] *(; parameter)`, comma-separated; a value may be a
quoted string, which may hold commas. A header that is no preference list is ignored
whole, as RFC 7240 has a server do with what it does not understand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

TCHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
WORD = rf'(?:{TCHARS}|"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*")'
PREFERENCE = rf"{TCHARS}(?: *= *{WORD})?(?: *;(?: *{TCHARS}(?: *= *{WORD})?)?)*"
PREFERENCES = rf"^{PREFERENCE}(?: *, *{PREFERENCE})*$"

_LIST = re.compile(PREFERENCES)
_NEXT = re.compile(rf" *,? *(?P<name>{TCHARS})(?: *= *(?P<value>{WORD}))?(?: *;(?: *{TCHARS}(?: *= *{WORD})?)?)*")
_ESCAPED = re.compile(r"\\(.)")


def preferences(headers: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Each preference the headers hold, as (its name in lower case, its value unquoted, or "")."""
    for header in headers:
        if not _LIST.fullmatch(header):
            continue
        position = 0
        while position < len(header):
            found = _NEXT.match(header, position)
            assert found is not None  # the whole header is a preference list
            value = found["value"] or ""
            if value.startswith('"'):
                value = _ESCAPED.sub(r"\1", value[1:-1])
            yield found["name"].lower(), value
            position = found.end()


def prefers(headers: Iterable[str], name: str, value: str) -> bool:
    """Whether the headers hold the preference `name=value`."""
    return (name, value) in preferences(headers)
