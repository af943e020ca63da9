"""One normalisation for the names an account is known by, on every path: sign-up, sign-in
and change alike.

- **Usernames** are taken in Unicode NFKC (fullwidth `ｌｉｌｙ` is `lily`), must then be
  3 to 32 ASCII letters, digits, `_`, `.` or `-`, and are unique by their *skeleton*: case
  folded, with the characters that look alike in common fonts made one (`0`/`o`; `1`, `i`,
  `l` and capital `I`; `rn`/`m`; `vv`/`w`). So `lily`, `LILY`, `Iily` and `1ily` are one
  name: whoever holds it first has it, and the others are a 409. The database decides, with
  a unique index on the same skeleton (the SQL function `username_skeleton`, migration 0009).
- **Emails** are a bare address (no `Name <addr>`, no surrounding spaces), normalized as
  email-validator does (Unicode NFC, the domain lowercased and in Unicode rather than
  punycode), and unique regardless of case. An address whose local part or a domain label
  mixes scripts (a Cyrillic `а` among Latin letters) is refused: a mixed-script name is how
  a look-alike of someone else's address is made. Scripts that are written together (Latin
  with Han and Japanese kana, with Han and Hangul, with Han and Bopomofo) are allowed, as
  Unicode's "highly restrictive" profile (UTS #39) has it.
"""

import re
import unicodedata

import email_validator

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
MAX_EMAIL_LENGTH = 254

# Keep in step with the SQL function username_skeleton (migration 0009).
LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l"})
LOOKALIKE_PAIRS = (("rn", "m"), ("vv", "w"))

# Scripts written together (UTS #39, highly restrictive); anything else is one script per part.
TOGETHER = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}),
    frozenset({"LATIN", "CJK", "HANGUL"}),
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),
)


def normalized_username(value: str) -> str:
    """The username as stored: NFKC. (The pattern is checked on this form.)"""
    return unicodedata.normalize("NFKC", value)


def username_skeleton(username: str) -> str:
    """What a username looks like: names with the same skeleton are the same name."""
    skeleton = normalized_username(username).casefold().translate(LOOKALIKES)
    for pair, one in LOOKALIKE_PAIRS:
        skeleton = skeleton.replace(pair, one)
    return skeleton


def _scripts(text: str) -> set[str]:
    """The scripts of the letters in `text`, by the first word of their Unicode names."""
    return {unicodedata.name(c, "UNKNOWN").split(" ", 1)[0] for c in text if unicodedata.category(c).startswith("L")}


def _one_script(text: str) -> bool:
    scripts = _scripts(text)
    return len(scripts) <= 1 or any(scripts <= together for together in TOGETHER)


def normalized_email(value: str) -> str:
    """The address as stored, or ValueError saying why it is refused."""
    if value != value.strip() or "<" in value:
        raise ValueError("an email is a bare address, without spaces around it or a name")
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"an email has at most {MAX_EMAIL_LENGTH} characters")
    try:
        parts = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    normalized: str = parts.normalized
    local, _, domain = normalized.rpartition("@")
    if not all(_one_script(part) for part in (local, *domain.split("."))):
        raise ValueError("an email may not mix scripts (such as Latin and Cyrillic) within a part")
    return normalized


def normalized_login(value: str) -> str | None:
    """A sign-in's login (a username or an email) in the form it is stored and looked up by,
    or None when it can name no account."""
    if "@" in value:
        try:
            return normalized_email(value)
        except ValueError:
            return None
    username = normalized_username(value)
    return username if USERNAME.match(username) else None
