"""Finding, loading and reloading script files (tui_phone.scripts.loader)."""

from __future__ import annotations

import sys
from pathlib import Path

from tui_phone.scripts.loader import ScriptLoader, default_scripts_dir, module_name

ANSWER = """
from tui_phone.scripts import on

@on("incoming_call")
def answer(phone, call):
    call.answer()
"""


def test_default_dir_follows_xdg_config_home(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nowhere"}
    assert default_scripts_dir(env) == tmp_path / "tui-phone" / "scripts"
    assert default_scripts_dir({"HOME": "/home/u"}) == Path("/home/u/.config/tui-phone/scripts")


def test_loads_default_dir_then_each_scripts_dir_sorted_by_name(tmp_path: Path, write_script) -> None:
    write_script("b.py", ANSWER, folder="xdg/tui-phone/scripts")
    write_script("a.py", ANSWER, folder="xdg/tui-phone/scripts")
    write_script("z.py", ANSWER, folder="one")
    write_script("_helper.py", "raise RuntimeError('not a script')", folder="one")
    write_script("notes.txt", "not python", folder="one")
    write_script("m.py", ANSWER, folder="two")
    loader = ScriptLoader([tmp_path / "one", tmp_path / "two"],
                          env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    result = loader.load()
    assert [s.name for s in result.scripts] == ["a.py", "b.py", "z.py", "m.py"]
    assert result.errors == ()


def test_each_script_is_its_own_module_with_its_own_registry(tmp_path: Path, write_script) -> None:
    write_script("a.py", ANSWER + "\nSHARED = 'a'\n", folder="one")
    write_script("a.py", "from tui_phone.scripts import hotkey\nSHARED = 'b'\n"
                         "@hotkey('f5')\ndef k(phone): pass\n", folder="two")
    result = ScriptLoader([tmp_path / "one", tmp_path / "two"], include_default=False).load()
    first, second = result.scripts
    assert first.module is not second.module
    assert first.module.__name__ != second.module.__name__
    assert (first.module.SHARED, second.module.SHARED) == ("a", "b")
    assert [h.func.__name__ for h in first.registry.handlers] == ["answer"]
    assert first.registry.hotkeys == {}
    assert second.registry.handlers == [] and list(second.registry.hotkeys) == ["f5"]
    assert sys.modules[first.module.__name__] is first.module


def test_a_syntax_error_is_reported_and_the_others_still_load(tmp_path: Path, write_script) -> None:
    write_script("bad.py", "def broken(:\n    pass\n")
    write_script("good.py", ANSWER)
    result = ScriptLoader([tmp_path / "scripts"], include_default=False).load()
    assert [s.name for s in result.scripts] == ["good.py"]
    (error,) = result.errors
    assert error.name == "bad.py"
    assert "SyntaxError" in error.traceback and "bad.py" in error.traceback


def test_an_exception_at_top_level_is_reported_from_the_scripts_own_frame(
        tmp_path: Path, write_script) -> None:
    write_script("boom.py", "x = 1\n\ndef f():\n    return 1 / 0\n\nf()\n")
    write_script("api.py", "from tui_phone.scripts import on\n@on('ringing')\ndef f(p, c): pass\n")
    write_script("leave.py", "import sys\nsys.exit(3)\n")
    result = ScriptLoader([tmp_path / "scripts"], include_default=False).load()
    errors = {e.name: e.traceback for e in result.errors}
    assert set(errors) == {"boom.py", "api.py", "leave.py"}
    assert errors["boom.py"].startswith("Traceback (most recent call last):\n  File \"")
    assert "boom.py\", line 6, in <module>" in errors["boom.py"]
    assert "loader.py" not in errors["boom.py"]
    assert errors["boom.py"].rstrip().endswith("ZeroDivisionError: division by zero")
    assert "unknown event 'ringing'" in errors["api.py"]
    assert "SystemExit: 3" in errors["leave.py"]
    assert not any(name.endswith(("_boom", "_api", "_leave")) for name in sys.modules
                   if name.startswith("tui_phone_user_script_"))


def test_a_missing_scripts_dir_is_an_error_but_a_missing_default_dir_is_not(tmp_path: Path) -> None:
    loader = ScriptLoader([tmp_path / "absent"], env={"XDG_CONFIG_HOME": str(tmp_path / "x")})
    result = loader.load()
    assert result.scripts == ()
    assert [e.traceback for e in result.errors] == [f"scripts folder {tmp_path / 'absent'} does not exist\n"]


def test_the_same_folder_twice_loads_once(tmp_path: Path, write_script) -> None:
    write_script("a.py", ANSWER)
    folder = tmp_path / "scripts"
    result = ScriptLoader([folder, folder / ".." / "scripts"], include_default=False).load()
    assert len(result.scripts) == 1


def test_reload_sees_an_edit_made_in_the_same_second(tmp_path: Path, write_script) -> None:
    path = write_script("a.py", "VALUE = 1\n")
    loader = ScriptLoader([tmp_path / "scripts"], include_default=False)
    assert loader.load().scripts[0].module.VALUE == 1
    path.write_text("VALUE = 2\n")  # same size, likely the same mtime second
    assert loader.load().scripts[0].module.VALUE == 2
    assert not (tmp_path / "scripts" / "__pycache__").exists()


def test_reload_forgets_removed_scripts_modules(tmp_path: Path, write_script) -> None:
    path = write_script("gone.py", "VALUE = 1\n")
    loader = ScriptLoader([tmp_path / "scripts"], include_default=False)
    loader.load()
    assert module_name(path) in sys.modules
    path.unlink()
    assert loader.load().scripts == ()
    assert module_name(path) not in sys.modules


def test_scripts_may_define_dataclasses(tmp_path: Path, write_script) -> None:
    write_script("dc.py", "from __future__ import annotations\nfrom dataclasses import dataclass\n"
                          "@dataclass\nclass Row:\n    name: str\nROW = Row('x')\n")
    result = ScriptLoader([tmp_path / "scripts"], include_default=False).load()
    assert result.errors == () and result.scripts[0].module.ROW.name == "x"
