"""Contacts from a TOML file (``[contacts] path`` in the config).

Two shapes are accepted, and may be mixed::

    alice = "sip:alice@example.com"     # NAME = URI

    [[contact]]                         # or a table per contact
    name = "Bob"
    uri = "sip:bob@example.com"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


class ContactsError(ValueError):
    """The contacts file cannot be read (the message names the file and the problem)."""


@dataclass(frozen=True, slots=True)
class Contact:
    """A name and the URI that dialing the name calls."""

    name: str
    uri: str


def parse_contacts(text: str, source: str = "<contacts>") -> list[Contact]:
    """The contacts in TOML ``text``; raises :class:`ContactsError` on bad input."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ContactsError(f"{source}: {error}") from None
    contacts: list[Contact] = []
    for key, value in data.items():
        if key == "contact" and isinstance(value, list):
            for index, table in enumerate(value):
                name, uri = (table.get("name"), table.get("uri")) if isinstance(table, dict) else (None, None)
                if not isinstance(name, str) or not isinstance(uri, str) or not name or not uri:
                    raise ContactsError(f"{source}: contact[{index}] needs a name and a uri (strings)")
                contacts.append(Contact(name, uri))
        elif isinstance(value, str) and value:
            contacts.append(Contact(key, value))
        else:
            raise ContactsError(f"{source}: {key}: must be a URI string or a [[contact]] table")
    return contacts


def load_contacts(path: Path | None) -> list[Contact]:
    """The contacts in ``path`` (None or a missing file: none)."""
    if path is None or not path.exists():
        return []
    return parse_contacts(path.read_text(encoding="utf-8"), str(path))


def resolve(text: str, contacts: list[Contact]) -> str:
    """The URI to dial for ``text``: a contact's URI when it names one, else ``text``."""
    wanted = text.strip()
    for contact in contacts:
        if contact.name.casefold() == wanted.casefold():
            return contact.uri
    return wanted


__all__ = ["Contact", "ContactsError", "load_contacts", "parse_contacts", "resolve"]
