"""Build the optional C speed-ups of the RTP hot path (metadata lives in pyproject.toml).

Each ``tui_phone/<package>/_c*.c`` file (the RTP hot path in ``rtp/``, G.711
encoding in ``audio/``) is one extension module next to the Python module it
speeds up.  They are optional: without a C compiler (or the
Python headers) the install still succeeds and the phone runs the Python
paths, which stay the reference the C ones are tested against.

Each module is built with ``SOURCE_DIGEST`` defined as the SHA-256 of its
source followed by the shared headers (``_c*.h``, sorted by name) and must
export it under that name: tests/unit/rtp/test_speedups.py
then refuses a module built from an older source (an editable install does
not rebuild on its own: run ``pip install -e .`` again).
"""

import hashlib
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent
SPEEDUPS = sorted((HERE / "tui_phone").glob("*/_c*.c"))
HEADERS = sorted((HERE / "tui_phone" / "rtp").glob("_c*.h"))


def digest(source: Path) -> str:
    """What tests/unit/rtp/test_speedups.py compares: the source and the shared headers."""
    return hashlib.sha256(source.read_bytes() + b"".join(header.read_bytes() for header in HEADERS)).hexdigest()


setup(
    ext_modules=[
        Extension(
            f"tui_phone.{source.parent.name}.{source.stem}",
            [str(source.relative_to(HERE))],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
            define_macros=[("SOURCE_DIGEST", f'"{digest(source)}"')],
            depends=[str(header.relative_to(HERE)) for header in HEADERS],
            optional=True,
        )
        for source in SPEEDUPS
    ],
)
