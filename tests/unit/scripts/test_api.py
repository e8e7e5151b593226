"""The decorators and the registry (tui_phone.scripts.api)."""

from __future__ import annotations

import pytest

from tui_phone.scripts import hotkey, on
from tui_phone.scripts.api import (
    Registry,
    ScriptApiError,
    canonical_event,
    collecting,
    normalize_key,
)


def test_decorators_record_into_the_installed_registry_only() -> None:
    first, second = Registry(), Registry()
    with collecting(first):
        @on("incoming_call")
        def a(phone, call): ...

        @hotkey("F5", description="Five")
        def b(phone): ...
    with collecting(second):
        @on("dtmf")
        def c(phone, call, digit): ...
    assert [(h.event, h.func) for h in first.handlers] == [("incoming_call", a)]
    assert list(first.hotkeys) == ["f5"] and first.hotkeys["f5"].description == "Five"
    assert [(h.event, h.func) for h in second.handlers] == [("dtmf_received", c)]
    assert second.hotkeys == {}


def test_outside_a_load_the_decorators_return_the_function_unchanged() -> None:
    def handler(phone, call): ...

    assert on("incoming_call")(handler) is handler
    assert hotkey("f2")(lambda phone: None) is not None


@pytest.mark.parametrize(("name", "canonical"), [
    ("incoming_call", "incoming_call"), ("call_answered", "call_answered"),
    ("call_ended", "call_ended"), ("dtmf", "dtmf_received"), ("dtmf_received", "dtmf_received"),
    ("registration_changed", "registration_changed"),
])
def test_event_names_short_and_full(name: str, canonical: str) -> None:
    assert canonical_event(name) == canonical


def test_unknown_event_is_refused_with_the_known_names() -> None:
    with pytest.raises(ScriptApiError, match=r"unknown event 'incoming' \(known: call_answered, "):
        on("incoming")


def test_handler_arity_is_checked_when_decorated() -> None:
    with pytest.raises(ScriptApiError, match=r"must take \(phone, call, digit\)"):
        @on("dtmf")
        def menu(phone, call): ...
    with pytest.raises(ScriptApiError, match=r"must take \(phone\)"):
        @hotkey("f3")
        def nothing(): ...

    @on("dtmf")
    def flexible(phone, *rest): ...  # varargs fit anything


def test_key_normalisation_and_bad_keys() -> None:
    assert normalize_key(" Ctrl+T ") == "ctrl+t"
    for bad in ("", "ctrl+", "+x"):
        with pytest.raises(ScriptApiError, match="bad hotkey"):
            normalize_key(bad)


def test_a_key_bound_twice_in_one_script_is_an_error() -> None:
    with collecting(Registry()), pytest.raises(ScriptApiError, match="bound twice"):
        hotkey("f5")(lambda phone: None)
        hotkey("F5")(lambda phone: None)


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ScriptApiError, match="positive number"):
        on("call_ended", timeout=0)


def test_hotkey_description_defaults_to_the_function_name() -> None:
    registry = Registry()
    with collecting(registry):
        @hotkey("f6")
        def call_the_office(phone): ...
    assert registry.hotkeys["f6"].description == "call the office"
