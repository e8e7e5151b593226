#!/usr/bin/env bash
# Sets up tui-phone on a Debian or Ubuntu machine: system packages, a virtual
# environment in .venv and the package itself (editable).
#
#   bash install.sh          what the phone needs
#   bash install.sh --test   also the test tools and the real SIP peers the
#                            interop tests talk to (sipp, baresip, kamailio, tshark)
#
# Runs apt-get through sudo unless it already runs as root. Idempotent.
set -euo pipefail
cd "$(dirname "$0")"

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# gcc, libc6-dev and python3-dev build the C speed-ups of the RTP hot path (setup.py;
# optional: without them the phone runs its Python paths).
packages=(python3 python3-venv python3-pip python3-dev gcc libc6-dev libportaudio2 libopus0)
if [ "$with_tests" = 1 ]; then
    packages+=(sip-tester baresip baresip-core kamailio tshark sox sipsak tmux iproute2 procps)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"

python=python3
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "tui-phone needs Python 3.11 or newer; $("$python" --version) found" >&2
    exit 1
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$with_tests" = 1 ]; then
    .venv/bin/python -m pip install -q -e ".[test,fast]"
else
    .venv/bin/python -m pip install -q -e ".[fast]"
fi
echo "tui-phone installed in $(pwd)/.venv"
