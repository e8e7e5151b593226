"""Finding and loading user scripts.

Scripts are the ``*.py`` files of ``$XDG_CONFIG_HOME/tui-phone/scripts`` and of
every ``--scripts DIR``, in that order, sorted by name inside a folder (files
starting with ``_`` or ``.`` are skipped). Each runs as its own module with a
unique name derived from its path, with a fresh :class:`~.api.Registry`
installed, so two scripts never share handlers.

Every load reads every file again. A script that fails (syntax error,
exception at its top level, wrong use of the API) is dropped and its error
returned with a traceback; the others load normally. Files are compiled from
source each time, never from ``__pycache__``, so an edit made within the same
second as the previous load is still seen.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import traceback
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.machinery import ModuleSpec
from pathlib import Path

from ..config import default_config_path
from .api import Registry, collecting

log = logging.getLogger(__name__)

MODULE_PREFIX = "tui_phone_user_script_"


@dataclass(frozen=True, slots=True)
class LoadedScript:
    """A script that loaded: its display name, file, module and what it declared."""

    name: str
    path: Path
    module: types.ModuleType = field(repr=False)
    registry: Registry = field(repr=False)


@dataclass(frozen=True, slots=True)
class ScriptLoadError:
    """A script (or a scripts folder) that could not be loaded, with the traceback text."""

    name: str
    path: Path
    traceback: str


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The outcome of one load: the scripts in load order and the failures."""

    scripts: tuple[LoadedScript, ...] = ()
    errors: tuple[ScriptLoadError, ...] = ()


def default_scripts_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tui-phone/scripts`` (``~/.config/tui-phone/scripts`` without it)."""
    return default_config_path(env).parent / "scripts"


def module_name(path: Path) -> str:
    """A module name unique to ``path``: the same on every reload of that file."""
    digest = hashlib.sha1(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    return f"{MODULE_PREFIX}{digest}_{stem}"


def script_files(folder: Path) -> list[Path]:
    """The scripts of one folder, sorted by name."""
    return sorted(p for p in folder.glob("*.py")
                  if p.is_file() and not p.name.startswith(("_", ".")))


def _script_traceback(error: BaseException, path: Path) -> str:
    """The traceback from the script's own first frame on (the loader's frames are noise)."""
    if isinstance(error, SyntaxError):
        return "".join(traceback.format_exception_only(type(error), error))
    tb = error.__traceback__
    wanted = str(path)
    while tb is not None and tb.tb_frame.f_code.co_filename != wanted:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb or error.__traceback__))


def load_script(path: Path) -> LoadedScript:
    """Run one script file as a fresh module; raises whatever the script raised."""
    name = module_name(path)
    code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__spec__ = ModuleSpec(name, None, origin=str(path))
    registry = Registry()
    # In sys.modules while it runs: dataclasses and typing look their module up there.
    sys.modules[name] = module
    try:
        with collecting(registry):
            exec(code, module.__dict__)  # noqa: S102 - running the user's own script is the point
    except BaseException:
        if sys.modules.get(name) is module:
            del sys.modules[name]
        raise
    return LoadedScript(path.name, path, module, registry)


class ScriptLoader:
    """Loads the scripts of the default folder and of ``dirs``.

    A missing default folder is normal (no scripts); a missing ``--scripts``
    folder is reported as an error. ``include_default=False`` leaves the XDG
    folder out (tests, ``--no-user-scripts``).
    """

    def __init__(self, dirs: Iterable[Path | str] = (), *, include_default: bool = True,
                 env: Mapping[str, str] | None = None) -> None:
        self.dirs: tuple[Path, ...] = tuple(Path(d) for d in dirs)
        self.default_dir: Path | None = default_scripts_dir(env) if include_default else None
        self._loaded_modules: set[str] = set()

    def folders(self) -> list[tuple[Path, bool]]:
        """Each folder to read, with whether it must exist; duplicates removed."""
        seen: set[Path] = set()
        result: list[tuple[Path, bool]] = []
        candidates: list[tuple[Path, bool]] = []
        if self.default_dir is not None:
            candidates.append((self.default_dir, False))
        candidates.extend((folder, True) for folder in self.dirs)
        for folder, required in candidates:
            key = folder.resolve()
            if key not in seen:
                seen.add(key)
                result.append((folder, required))
        return result

    def load(self) -> LoadResult:
        """Read every script again; failures are dropped and returned as errors."""
        scripts: list[LoadedScript] = []
        errors: list[ScriptLoadError] = []
        for folder, required in self.folders():
            if not folder.is_dir():
                if required:
                    errors.append(ScriptLoadError(str(folder), folder,
                                                  f"scripts folder {folder} does not exist\n"))
                continue
            for path in script_files(folder):
                try:
                    scripts.append(load_script(path))
                except (Exception, SystemExit) as error:  # noqa: BLE001 - a script must not stop us
                    text = _script_traceback(error, path)
                    log.warning("script %s failed to load:\n%s", path, text)
                    errors.append(ScriptLoadError(path.name, path, text))
        current = {script.module.__name__ for script in scripts}
        for stale in self._loaded_modules - current:
            sys.modules.pop(stale, None)
        self._loaded_modules = current
        return LoadResult(tuple(scripts), tuple(errors))

    def unload(self) -> None:
        """Forget the modules of the last load (the host is going away)."""
        for name in self._loaded_modules:
            sys.modules.pop(name, None)
        self._loaded_modules = set()


__all__ = [
    "LoadResult",
    "LoadedScript",
    "ScriptLoadError",
    "ScriptLoader",
    "default_scripts_dir",
    "load_script",
    "module_name",
    "script_files",
]
