"""Checking a parsed TOML document against its source text, with line-precise messages.

``tomllib`` returns values but no positions.  :func:`key_lines` finds the line
where each key is assigned by walking the source; :class:`Report` collects
problems as ``NAME:LINE: KEY: REASON``; :class:`Table` reads one table with
typed accessors that report wrong types and values, and :meth:`Table.finish`
reports the keys nobody asked for, with a difflib suggestion.  The config
schema itself lives in :mod:`tui_phone.config`.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

KeyPath = tuple[str | int, ...]
MISSING: Any = object()  # Table.value's "absent or of the wrong type"

_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_KEY_TUPLE_RE = re.compile(r"""\((?:(?:'[^']*'|"[^"]*")(?:, |,\)|\)))+""")
_TOML_POSITION_RE = re.compile(r" \((?:at line (\d+), column (\d+)|at end of document)\)\Z")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path of the valid TOML ``text`` to the 1-based line assigning it.

    A table's line is its header's (or, for an implicit table, the first line
    that names it); array elements are ``path + (index,)``.
    """
    return _KeyLines(text).scan()


def syntax_message(name: str, text: str, message: str) -> str:
    """``NAME:LINE: invalid TOML: REASON (column N)`` from a TOMLDecodeError message."""
    match = _TOML_POSITION_RE.search(message)
    if match is None:
        return f"{name}: invalid TOML: {message}"
    reason = _KEY_TUPLE_RE.sub(_key_tuple_as_dotted, message[:match.start()])
    reason = reason[:1].lower() + reason[1:]
    if match.group(1) is None:
        return f"{name}:{max(len(text.splitlines()), 1)}: invalid TOML: {reason} (at end of file)"
    return f"{name}:{match.group(1)}: invalid TOML: {reason} (column {match.group(2)})"


def _key_tuple_as_dotted(match: re.Match[str]) -> str:
    """tomllib writes keys as tuple reprs (``('a', 'b')``): show them as TOML (``a.b``)."""
    try:
        return dotted_key(ast.literal_eval(match.group()))
    except (ValueError, SyntaxError):
        return match.group()


def dotted_key(path: KeyPath) -> str:
    """``accounts."my work".codecs[1]``: a key path as TOML would write it."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if _BARE_KEY_RE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{key}" if text else key
    return text


def type_name(value: object) -> str:
    """``a string``, ``an integer``...: the TOML type of a value, for messages."""
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
             (list, "an array"), (dict, "a table"), (datetime, "a date-time"),
             (date, "a date"), (time, "a time"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def suggestion(word: str, known: Sequence[str]) -> str:
    """`` (did you mean 'KEY'?)`` for the closest of ``known``, or an empty string."""
    close = difflib.get_close_matches(word, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _KeyLines:
    """The line where each key of a valid TOML document is assigned (tomllib gives none).

    Walks the source with just enough TOML 1.0 grammar: table and array-of-tables
    headers, dotted and quoted keys, every string form (so a multi-line string
    cannot fake a key), arrays (elements get ``path + (index,)``) and inline tables.
    Best effort: anything it cannot follow ends the scan with what it found.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.lines: dict[KeyPath, int] = {}
        self.array_tables: dict[KeyPath, int] = {}

    def scan(self) -> dict[KeyPath, int]:
        """Map every key path to its 1-based line."""
        prefix: KeyPath = ()
        try:
            while True:
                self._skip_blank(newlines=True)
                if self.pos >= len(self.text):
                    break
                if self.text[self.pos] == "[":
                    prefix = self._header()
                else:
                    self._key_value(prefix)
        except (IndexError, ValueError):  # not followed: keep the lines found so far
            pass
        return self.lines

    def _skip_blank(self, newlines: bool = False) -> None:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char in " \t":
                self.pos += 1
            elif char == "#":
                while self.pos < len(text) and text[self.pos] not in "\r\n":
                    self.pos += 1
            elif newlines and char in "\r\n":
                self.line += char == "\n"
                self.pos += 1
            else:
                break

    def _expect(self, char: str) -> None:
        if self.text[self.pos] != char:
            raise ValueError(f"expected {char!r}")
        self.pos += 1

    def _mark(self, prefix: KeyPath, key: KeyPath, line: int) -> None:
        for end in range(1, len(key)):
            self.lines.setdefault(prefix + key[:end], line)  # implicit parent tables
        self.lines[prefix + key] = line

    def _header(self) -> KeyPath:
        line = self.line
        is_array = self.text.startswith("[[", self.pos)
        self.pos += 2 if is_array else 1
        key = self._key()
        self._expect("]")
        if is_array:
            self._expect("]")
        # A header's parents may be arrays of tables: they mean the latest element.
        path: KeyPath = ()
        for part in key[:-1]:
            path += (part,)
            if path in self.array_tables:
                path += (self.array_tables[path],)
        path += key[-1:]
        if is_array:  # the array's own line stays its first element's (setdefault)
            index = self.array_tables.get(path, -1) + 1
            self.array_tables[path] = index
            path += (index,)
        self._mark((), path, line)
        return path

    def _key_value(self, prefix: KeyPath) -> None:
        line = self.line
        key = self._key()
        self._expect("=")
        self._skip_blank()
        self._mark(prefix, key, line)
        self._value(prefix + key)

    def _key(self) -> KeyPath:
        parts: list[str] = []
        while True:
            self._skip_blank()
            start = self.pos
            if self.text[start] == '"':
                self.pos = self._basic_string_end(start)
                parts.append(tomllib.loads("k = " + self.text[start:self.pos])["k"])
            elif self.text[start] == "'":
                self.pos = self.text.index("'", start + 1) + 1
                parts.append(self.text[start + 1:self.pos - 1])
            else:
                match = _BARE_KEY_RE.match(self.text, start)
                if match is None:
                    raise ValueError("expected a key")
                parts.append(match.group())
                self.pos = match.end()
            self._skip_blank()
            if self.pos < len(self.text) and self.text[self.pos] == ".":
                self.pos += 1
            else:
                return tuple(parts)

    def _basic_string_end(self, start: int) -> int:
        pos = start + 1
        while self.text[pos] != '"':
            pos += 2 if self.text[pos] == "\\" else 1
        return pos + 1

    def _value(self, path: KeyPath) -> None:
        text = self.text
        char = text[self.pos]
        if text.startswith(char * 3, self.pos) and char in "\"'":
            self._multiline_string(char)
        elif char == '"':
            self.pos = self._basic_string_end(self.pos)
        elif char == "'":
            self.pos = text.index("'", self.pos + 1) + 1
        elif char == "[":
            self._array(path)
        elif char == "{":
            self._inline_table(path)
        else:  # number, boolean, date-time (which may hold a space)
            start = self.pos
            while self.pos < len(text) and text[self.pos] not in ",]}#\r\n":
                self.pos += 1
            if self.pos == start:
                raise ValueError("expected a value")

    def _multiline_string(self, quote: str) -> None:
        text = self.text
        end = self.pos + 3
        while not text.startswith(quote * 3, end):
            end += 2 if quote == '"' and text[end] == "\\" else 1
            if end > len(text):
                raise ValueError("unterminated string")
        end += 3
        for _ in range(2):  # up to two quotes next to the closing delimiter are content
            if end < len(text) and text[end] == quote:
                end += 1
        self.line += text.count("\n", self.pos, end)
        self.pos = end

    def _array(self, path: KeyPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self._skip_blank(newlines=True)
            if self.text[self.pos] == "]":
                self.pos += 1
                return
            self.lines[path + (index,)] = self.line
            self._value(path + (index,))
            index += 1
            self._skip_blank(newlines=True)
            if self.text[self.pos] != "]":
                self._expect(",")

    def _inline_table(self, path: KeyPath) -> None:
        self.pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self.text[self.pos] == "}":
                self.pos += 1
                return
            self._key_value(path)
            self._skip_blank(newlines=True)
            if self.text[self.pos] != "}":
                self._expect(",")


class Report:
    """The problems and warnings found in one document, each tied to a key and its line.

    ``name`` names the document in messages, ``lines`` comes from :func:`key_lines`;
    :meth:`Table.file_path` resolves relative paths against ``base`` (None: leave
    them relative) and ``~`` against ``home``.
    """

    def __init__(self, name: str, lines: Mapping[KeyPath, int], base: Path | None,
                 home: Path) -> None:
        self.name = name
        self.lines = lines
        self.base = base
        self.home = home
        self.problems: list[tuple[int, str]] = []
        self.warnings: list[tuple[int, str]] = []

    def line_of(self, path: KeyPath) -> int | None:
        """The key's line, else its nearest parent's (a missing key: its table's)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def where(self, path: KeyPath) -> str:
        """``FILE:LINE`` (or just ``FILE``) of a key."""
        line = self.line_of(path)
        return self.name if line is None else f"{self.name}:{line}"

    def _entry(self, path: KeyPath, reason: str) -> tuple[int, str]:
        return self.line_of(path) or 0, f"{self.where(path)}: {dotted_key(path)}: {reason}"

    def error(self, path: KeyPath, reason: str) -> None:
        """Record a problem with the key at ``path``."""
        self.problems.append(self._entry(path, reason))

    def warn(self, path: KeyPath, reason: str) -> None:
        """Record a warning about the key at ``path``."""
        self.warnings.append(self._entry(path, reason))

    def error_messages(self) -> list[str]:
        """The problems, in line order (sorted stably: same line, order found)."""
        return [message for _, message in sorted(self.problems, key=lambda item: item[0])]

    def warning_messages(self) -> list[str]:
        """The warnings, in line order."""
        return [message for _, message in sorted(self.warnings, key=lambda item: item[0])]


class Table:
    """Typed reads from one TOML table; :meth:`finish` reports the keys never read."""

    def __init__(self, report: Report, path: KeyPath, data: dict[str, Any]) -> None:
        self.report = report
        self.prefix = path
        self.data = data
        self.known: list[str] = []

    def value(self, key: str, kind: type, what: str) -> Any:
        """The value, or MISSING when absent or of the wrong type (reported)."""
        self.known.append(key)
        value = self.data.get(key, MISSING)
        if value is MISSING:
            return value
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.report.error(self.prefix + (key,), f"must be {what}, not {type_name(value)}")
            return MISSING
        return value

    def table(self, key: str) -> dict[str, Any]:
        value = self.value(key, dict, "a table")
        return {} if value is MISSING else value

    def string(self, key: str, *, empty_ok: bool = False) -> str | None:
        value = self.value(key, str, "a string")
        if value is MISSING:
            return None
        if not value.strip() and not empty_ok:
            self.report.error(self.prefix + (key,), "must not be empty")
            return None
        return value

    def line_text(self, key: str) -> str | None:
        """A string that goes into a SIP header: no control characters (no CR LF injection)."""
        value = self.string(key)
        if value is not None and _CONTROL_RE.search(value):
            self.report.error(self.prefix + (key,), "must not contain control characters")
            return None
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.value(key, bool, "a boolean")
        return default if value is MISSING else value

    def integer(self, key: str, default: int, low: int, high: int | None = None) -> int:
        value = self.value(key, int, "an integer")
        if value is MISSING:
            return default
        if value < low or (high is not None and value > high):
            bounds = f"at least {low}" if high is None else f"between {low} and {high}"
            self.report.error(self.prefix + (key,), f"must be {bounds}, not {value}")
            return default
        return value

    def choice(self, key: str, options: Sequence[str], default: str) -> str:
        value = self.value(key, str, "a string")
        if value is MISSING:
            return default
        if value.lower() not in options:
            self.report.error(self.prefix + (key,),
                              f"must be one of {', '.join(options)}, not {value!r}")
            return default
        return value.lower()

    def file_path(self, key: str, *, must_exist: bool = False) -> Path | None:
        text = self.string(key)
        if text is None:
            return None
        path = Path(text)
        if text == "~" or text.startswith("~/"):
            path = self.report.home / text[2:]
        elif not path.is_absolute() and self.report.base is not None:
            path = self.report.base / path
        if must_exist and not path.is_file():
            self.report.error(self.prefix + (key,), f"no such file: {path}")
            return None
        return path

    def finish(self) -> None:
        """Report every key of the table that no accessor asked for."""
        for key in self.data:
            if key not in self.known:
                reason = "unknown key" + suggestion(key, self.known)
                self.report.error(self.prefix + (key,), reason)
