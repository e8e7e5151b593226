"""The C speed-ups of the RTP hot path are built, and built from the sources in the tree.

``setup.py`` builds every ``tui_phone/*/_c*.c`` (optional, so that an
install without a compiler still works) with its source's SHA-256 as
``SOURCE_DIGEST`` (followed by the shared ``_c*.h`` headers).  The test machine has a compiler (``install.sh --test``
installs one), so here a missing module is a failure, and so is one built from
an older source: an editable install does not rebuild by itself.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import pytest

import tui_phone.rtp

RTP = Path(tui_phone.rtp.__file__).parent
SOURCES = sorted(RTP.parent.glob("*/_c*.c"))
HEADERS = sorted(RTP.glob("_c*.h"))
REBUILD = 'rebuild with: .venv/bin/pip install -e ".[test,fast]"'


def test_there_are_speedups() -> None:
    assert {source.parent.name for source in SOURCES} == {"rtp", "audio"}, SOURCES


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_speedup_is_built_from_this_source(source: Path) -> None:
    try:
        module = importlib.import_module(f"tui_phone.{source.parent.name}.{source.stem}")
    except ImportError as error:
        pytest.fail(f"{source.name} is not built ({error}); {REBUILD}")
    digest = hashlib.sha256(source.read_bytes() + b"".join(header.read_bytes() for header in HEADERS)).hexdigest()
    assert module.SOURCE_DIGEST == digest, f"{source.name} changed since it was built; {REBUILD}"
