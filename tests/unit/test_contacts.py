"""Contacts TOML: both shapes, errors, resolving a name."""

from __future__ import annotations

import pytest

from tui_phone.contacts import Contact, ContactsError, parse_contacts, resolve


def test_both_shapes() -> None:
    text = 'alice = "sip:alice@example.com"\n[[contact]]\nname = "Bob"\nuri = "sip:bob@h"\n'
    assert parse_contacts(text) == [Contact("alice", "sip:alice@example.com"),
                                    Contact("Bob", "sip:bob@h")]


def test_bad_entry_is_reported() -> None:
    with pytest.raises(ContactsError, match="x.toml: contact\\[0\\] needs a name and a uri"):
        parse_contacts('[[contact]]\nname = "Bob"\n', "x.toml")


def test_resolve_by_name_case_insensitive() -> None:
    contacts = [Contact("Bob", "sip:bob@h")]
    assert resolve("bob", contacts) == "sip:bob@h"
    assert resolve("1234", contacts) == "1234"
