"""Tests of tui_phone.tomlcheck: key lines found in TOML source, messages, typed table reads."""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui_phone.tomlcheck import (
    MISSING,
    KeyPath,
    Report,
    Table,
    dotted_key,
    key_lines,
    suggestion,
    syntax_message,
    type_name,
)

TORTURE = '''\
# a comment with [brackets] and key = "value"
title = "has # and = and \\" inside"   # comment
'lit key' = 'C:\\path'
"quoted \\u00e9 key" = 1
a.b.c = true
a . "d e" . f = 1979-05-27 07:32:00Z

[server]
ports = [ 8000,
  # a comment inside an array
  8001, "x]", { inner = [1,
  2] },
]
multi = """
not_a_key = 1
[not.a.table]
ends with quotes"""""
literal = \'\'\'
[still.not]
x = 1\'\'\'\'\'
after = 2

[ server . "sub table" ]
key = { a = 1, b.c = { d = 2 } }

[[fruit]]
name = "apple"
[fruit.physical]
color = "red"
[[fruit]]
name = "banana"
[[fruit.variety]]
name = "plantain"
'''

TORTURE_LINES: dict[KeyPath, int] = {
    ("title",): 2,
    ("lit key",): 3,
    ("quoted \u00e9 key",): 4,
    ("a",): 5,
    ("a", "b"): 5,
    ("a", "b", "c"): 5,
    ("a", "d e"): 6,
    ("a", "d e", "f"): 6,
    ("server",): 8,
    ("server", "ports"): 9,
    ("server", "ports", 0): 9,
    ("server", "ports", 1): 11,
    ("server", "ports", 2): 11,
    ("server", "ports", 3): 11,
    ("server", "ports", 3, "inner"): 11,
    ("server", "ports", 3, "inner", 0): 11,
    ("server", "ports", 3, "inner", 1): 12,
    ("server", "multi"): 14,
    ("server", "literal"): 18,
    ("server", "after"): 21,
    ("server", "sub table"): 23,
    ("server", "sub table", "key"): 24,
    ("server", "sub table", "key", "a"): 24,
    ("server", "sub table", "key", "b"): 24,
    ("server", "sub table", "key", "b", "c"): 24,
    ("server", "sub table", "key", "b", "c", "d"): 24,
    ("fruit",): 26,
    ("fruit", 0): 26,
    ("fruit", 0, "name"): 27,
    ("fruit", 0, "physical"): 28,
    ("fruit", 0, "physical", "color"): 29,
    ("fruit", 1): 30,
    ("fruit", 1, "name"): 31,
    ("fruit", 1, "variety"): 32,
    ("fruit", 1, "variety", 0): 32,
    ("fruit", 1, "variety", 0, "name"): 33,
}


def test_the_torture_document_is_valid_toml() -> None:
    data = tomllib.loads(TORTURE)
    assert data["server"]["multi"].endswith('quotes""')
    assert data["server"]["literal"].endswith("x = 1''")
    assert data["fruit"][1]["variety"][0]["name"] == "plantain"


def test_key_lines_of_the_torture_document() -> None:
    assert key_lines(TORTURE) == TORTURE_LINES


def test_key_lines_with_crlf_line_endings() -> None:
    assert key_lines(TORTURE.replace("\n", "\r\n")) == TORTURE_LINES


def test_key_lines_stop_quietly_at_what_they_cannot_follow() -> None:
    assert key_lines('a = 1\nb = [1,\n') == {("a",): 1, ("b",): 2, ("b", 0): 2}
    assert key_lines('a = 1\n= 2\n') == {("a",): 1}
    assert key_lines('x = """never closed\n') == {("x",): 1}


# A generated document: tables of entries whose lines are known as they are written.
_BARE = st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True)
_ANY_KEY = st.text(alphabet="ab .#=[]{}\"'\\\u00e9\t", max_size=5)
_KEY_PART = st.one_of(_BARE, _ANY_KEY).filter(lambda k: not re.fullmatch(r"t\d+", k))
_STRING = st.text(alphabet="ab #=[]{},'\"\\\n\u00e9", max_size=12)


def _render_key(part: str, literal: bool) -> str:
    if re.fullmatch(r"[A-Za-z0-9_-]+", part):
        return part
    if literal and "'" not in part and "\n" not in part and "\t" not in part:
        return f"'{part}'"
    return json.dumps(part)


@st.composite
def _value(draw: st.DrawFn, depth: int = 0) -> str:
    kinds = ["int", "basic", "literal", "multi", "multi_literal", "date"]
    if depth < 2:
        kinds += ["array", "inline"]
    kind = draw(st.sampled_from(kinds))
    text = draw(_STRING)
    if kind == "int":
        return str(draw(st.integers()))
    if kind == "basic":
        return json.dumps(text.replace("\n", " "))
    if kind == "literal":
        return "'" + re.sub(r"['\n\\]", "x", text) + "'"
    if kind == "multi":
        return '"""' + text.replace("\\", "\\\\").replace('"', '\\"') + '"""'
    if kind == "multi_literal":
        return "'''\n" + text.replace("'", "x") + "''" + "'''"
    if kind == "date":
        return draw(st.sampled_from(["1979-05-27", "07:32:00", "1979-05-27 07:32:00Z"]))
    items = draw(st.lists(_value(depth + 1), max_size=3))
    if kind == "array":
        separator = draw(st.sampled_from([", ", ",\n  ", ", # note ]\n"]))
        return "[" + separator.join(items) + ("\n]" if "#" in separator else "]")
    pairs = [f"k{i} = {item}" for i, item in enumerate(items) if "\n" not in item]
    return "{ " + ", ".join(pairs) + " }"


@st.composite
def _document(draw: st.DrawFn) -> tuple[str, dict[KeyPath, int]]:
    lines: list[str] = []
    expected: dict[KeyPath, int] = {}
    for index in range(draw(st.integers(0, 3))):
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# [x] y = 1", "  "])))
        names = [f"t{index}"] + ([draw(_KEY_PART)] if draw(st.booleans()) else [])
        header: KeyPath = tuple(names)
        lines.append("[" + " . ".join(_render_key(name, True) for name in names) + "]")
        expected[header] = len(lines)
        keys = draw(st.lists(st.lists(_KEY_PART, min_size=1, max_size=2), max_size=4,
                             unique_by=lambda key: key[0]))
        for key in keys:
            literal = draw(st.booleans())
            rendered = ".".join(_render_key(part, literal) for part in key)
            expected[header + tuple(key)] = len(lines) + 1
            lines.extend(f"{rendered} = {draw(_value())}".split("\n"))
    return "\n".join(lines) + "\n", expected


@settings(max_examples=300, deadline=None)
@given(_document(), st.booleans())
def test_key_lines_of_generated_documents(
    document: tuple[str, dict[KeyPath, int]], crlf: bool
) -> None:
    text, expected = document
    if crlf:
        text = text.replace("\n", "\r\n")
    tomllib.loads(text)  # the generator writes valid TOML
    found = key_lines(text)
    assert {path: found.get(path) for path in expected} == expected


# --- messages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("a = ", "f:1: invalid TOML: invalid value (at end of file)"),
    ("a = 1\nb = [\n", "f:2: invalid TOML: invalid value (at end of file)"),
    ("x = 1 2\n", ("f:1: invalid TOML: expected newline or end of document after a statement "
                  "(column 7)")),
    ('[a."b c"]\n[a."b c"]\n', 'f:2: invalid TOML: cannot declare a."b c" twice (column 9)'),
])
def test_syntax_messages(text: str, message: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as info:
        tomllib.loads(text)
    assert syntax_message("f", text, str(info.value)) == message


def test_a_syntax_message_without_a_position_is_kept() -> None:
    assert syntax_message("f", "", "Odd") == "f: invalid TOML: Odd"


def test_dotted_key() -> None:
    assert dotted_key(("accounts", "alice", "codecs", 2)) == "accounts.alice.codecs[2]"
    assert dotted_key(("accounts", "my.work", "x y")) == 'accounts."my.work"."x y"'
    assert dotted_key(("é",)) == '"é"'
    assert dotted_key(()) == ""


@pytest.mark.parametrize(("value", "name"), [
    (True, "a boolean"), (1, "an integer"), (1.5, "a float"), ("", "a string"),
    ([], "an array"), ({}, "a table"), (datetime(2000, 1, 1), "a date-time"),
    (date(2000, 1, 1), "a date"), (time(1, 2), "a time"), (None, "NoneType"),
])
def test_type_name(value: object, name: str) -> None:
    assert type_name(value) == name


def test_suggestion() -> None:
    assert suggestion("pasword", ["username", "password"]) == " (did you mean 'password'?)"
    assert suggestion("zzz", ["username", "password"]) == ""


# --- Report and Table --------------------------------------------------------------------------


def _table(text: str, path: tuple[str, ...] = ()) -> tuple[Report, Table]:
    data = tomllib.loads(text)
    for part in path:
        data = data[part]
    report = Report("f.toml", key_lines(text), Path("/base"), Path("/home/u"))
    return report, Table(report, path, data)


def test_report_sorts_by_line_and_falls_back_to_the_parent_line() -> None:
    report, _ = _table("[t]\na = 1\n\n[u]\nb = 2\n")
    report.error(("u", "b"), "second")
    report.error(("t", "missing"), "first")
    report.error(("nowhere",), "no line")
    report.warn(("t", "a"), "careful")
    assert report.error_messages() == [
        "f.toml: nowhere: no line", "f.toml:1: t.missing: first", "f.toml:5: u.b: second"]
    assert report.warning_messages() == ["f.toml:2: t.a: careful"]
    assert report.where(("u",)) == "f.toml:4"


def test_table_reads_and_reports_unknown_keys() -> None:
    text = ('[t]\ns = "x"\nn = 5\nb = true\nc = "TCP"\np = "~/a"\nq = "rel/b"\n'
            'abs = "/c"\nextra = 1\ncolour = 2\n')
    report, table = _table(text, ("t",))
    assert table.string("s") == "x"
    assert table.string("absent") is None
    assert table.integer("n", 0, 1, 10) == 5
    assert table.flag("b", False) is True
    assert table.choice("c", ("udp", "tcp"), "udp") == "tcp"
    assert table.file_path("p") == Path("/home/u/a")
    assert table.file_path("q") == Path("/base/rel/b")
    assert table.file_path("abs") == Path("/c")
    assert table.value("color", int, "an integer") is MISSING
    assert table.table("sub") == {}
    table.finish()
    assert report.error_messages() == [
        "f.toml:9: t.extra: unknown key",
        "f.toml:10: t.colour: unknown key (did you mean 'color'?)",
    ]


def test_table_reports_bad_values_and_returns_defaults() -> None:
    text = '[t]\ns = "  "\nn = 50\nb = "yes"\nc = "x"\nl = "a\\tb"\nf = "/no/such/file"\n'
    report, table = _table(text, ("t",))
    assert table.string("s") is None
    assert table.integer("n", 7, 1, 10) == 7
    assert table.flag("b", False) is False
    assert table.choice("c", ("udp", "tcp"), "udp") == "udp"
    assert table.line_text("l") is None
    assert table.file_path("f", must_exist=True) is None
    table.finish()
    assert report.error_messages() == [
        "f.toml:2: t.s: must not be empty",
        "f.toml:3: t.n: must be between 1 and 10, not 50",
        "f.toml:4: t.b: must be a boolean, not a string",
        "f.toml:5: t.c: must be one of udp, tcp, not 'x'",
        "f.toml:6: t.l: must not contain control characters",
        "f.toml:7: t.f: no such file: /no/such/file",
    ]
