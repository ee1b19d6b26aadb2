#!/usr/bin/env bash
# Run by scripts/demo and scripts/test (and safe to run by hand): makes .venv (Python 3.13, the
# Lambda runtime's version) and installs into it what was asked for:
#   bootstrap.sh demo   the project and pyproject.toml's demo extra: what `thumbnail-local demo`
#                       imports (moto's S3 server, pillow-heif, PyAV, pillow-jxl-plugin), nothing else
#   bootstrap.sh test   (the default) the project and its dev extra (the demo's set, pytest,
#                       cfn-lint, the SAM CLI...), .venv-checkov with checkov alone,
#                       .venv-localstack with LocalStack alone, and Debian's chromium and ICC
#                       profile packages
# Each set has its own stamp in .venv; the test set holds the demo's, so the tests after the demo
# install only the difference and the demo after the tests installs nothing. A set is installed
# again when pyproject.toml or src/requirements.txt (for .venv), scripts/checkov-requirements.txt
# (for .venv-checkov) or scripts/localstack-requirements.txt (for .venv-localstack) changed
# since its last install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python313() {
    local candidate
    for candidate in "${PYTHON313:-}" "$(command -v python3.13 || true)" \
        "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.13*/bin/python3.13 \
        /usr/local/bin/python3.13 /usr/bin/python3.13; do
        # A pyenv shim exists even when 3.13 is not the active version: ask it to run.
        if [ -n "$candidate" ] && [ -x "$candidate" ] &&
            "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

SET="${1:-test}"
case "$SET" in
demo) EXTRA=demo ;;
test) EXTRA=dev ;;
*)
    echo "usage: scripts/bootstrap.sh [demo|test]   (default: test)" >&2
    exit 2
    ;;
esac

stamp() { cat "$ROOT/pyproject.toml" "$ROOT/src/requirements.txt" | sha256sum | cut -d' ' -f1; }
installed() { [ "$(cat "$VENV/.installed-$1" 2>/dev/null)" = "$(stamp)" ]; }

if [ ! -x "$VENV/bin/python3.13" ]; then
    if ! PYTHON=$(find_python313); then
        echo "bootstrap: no Python 3.13 found (tried \$PYTHON313, python3.13 on PATH, pyenv's" \
            "versions). Install it (e.g. 'pyenv install 3.13') or set PYTHON313=/path/to/python3.13." >&2
        exit 1
    fi
    echo "bootstrap: creating .venv with $PYTHON" >&2
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 |
        { grep -v "^WARNING: Location" >&2 || true; }
fi

# The test set holds the demo's: after the tests' install, the demo's is there too.
if ! installed "$SET" && ! { [ "$SET" = demo ] && installed test; }; then
    if [ "$SET" = demo ]; then
        echo "bootstrap: installing the project and the demo's tools (moto's S3, pillow-heif, PyAV, pillow-jxl-plugin) into .venv" >&2
    else
        echo "bootstrap: installing the project and its dev tools (moto, pytest, cfn-lint, the SAM CLI) into .venv" >&2
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT[$EXTRA]" 2>&1 |
        { grep -v "^WARNING: Location" >&2 || true; }
    # fail loudly: what the demo imports, and for the tests the SAM CLI too
    "$VENV/bin/python" -c "import create_thumbnail, local_run, moto.server, flask_cors, PIL, pillow_heif, av, pillow_jxl"
    [ "$SET" = demo ] || "$VENV/bin/python" -c "import samcli, cfnlint, pytest"
    stamp >"$VENV/.installed-$SET"
fi

# The demo needs nothing more: no checkov, no LocalStack, and no Chromium (without it the demo
# writes its gallery but takes no screenshot of it, and says so).
[ "$SET" = test ] || exit 0

# checkov (tests/template/test_checkov.py) in a venv of its own: its pins (boto3, botocore,
# networkx, packaging) clash with moto's and the SAM CLI's. Pinned whole in checkov-requirements.
CHECKOV_VENV="$ROOT/.venv-checkov"
CHECKOV_REQUIREMENTS="$ROOT/scripts/checkov-requirements.txt"
checkov_stamp() { sha256sum "$CHECKOV_REQUIREMENTS" | cut -d' ' -f1; }
if [ "$(cat "$CHECKOV_VENV/.installed" 2>/dev/null)" != "$(checkov_stamp)" ]; then
    echo "bootstrap: installing checkov into .venv-checkov (about 30 s)" >&2
    rm -rf "$CHECKOV_VENV"
    "$VENV/bin/python" -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$CHECKOV_REQUIREMENTS" 2>&1 |
        { grep -v "^WARNING: Location" >&2 || true; }
    "$CHECKOV_VENV/bin/checkov" --version >/dev/null # fail loudly
    checkov_stamp >"$CHECKOV_VENV/.installed"
fi

# LocalStack (tests/rehearsal: the deploy rehearsal) in a venv of its own, for the same reason:
# its boto3, botocore, moto-ext and cfn-lint pins clash with ours. Pinned whole in
# localstack-requirements; it runs on the host (no Docker), started by tools/rehearsal.
LOCALSTACK_VENV="$ROOT/.venv-localstack"
LOCALSTACK_REQUIREMENTS="$ROOT/scripts/localstack-requirements.txt"
localstack_stamp() { sha256sum "$LOCALSTACK_REQUIREMENTS" | cut -d' ' -f1; }
if [ "$(cat "$LOCALSTACK_VENV/.installed" 2>/dev/null)" != "$(localstack_stamp)" ]; then
    echo "bootstrap: installing LocalStack into .venv-localstack (about a minute)" >&2
    rm -rf "$LOCALSTACK_VENV"
    "$VENV/bin/python" -m venv "$LOCALSTACK_VENV"
    # pip's own failure stops the script (pipefail); grep finding nothing to print does not.
    "$LOCALSTACK_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$LOCALSTACK_REQUIREMENTS" 2>&1 |
        { grep -v "^WARNING: Location" >&2 || true; }
    # fail loudly: the runtime's entry point and the providers the rehearsal starts must import
    "$LOCALSTACK_VENV/bin/python" -m pip check --disable-pip-version-check >&2
    "$LOCALSTACK_VENV/bin/python" -c "import localstack.runtime.main, localstack.services.s3.provider, localstack.services.cloudformation.provider, hypercorn"
    localstack_stamp >"$LOCALSTACK_VENV/.installed"
fi

# Debian's Chromium, and two packages of real ICC profiles (icc-profiles-free's Adobe RGB,
# Ghostscript's CMYK): the gallery's browser test and colour check (tests/local_run/
# test_gallery.py), and the demo's screenshot of its gallery when it is here (bootstrap.sh demo
# does not install it). System packages: installed once per machine, as root (or through sudo).
PACKAGES="chromium icc-profiles-free libgs-common"
if ! command -v chromium >/dev/null 2>&1 || [ ! -f /usr/share/color/icc/ghostscript/default_cmyk.icc ] ||
    [ ! -f /usr/share/color/icc/compatibleWithAdobeRGB1998.icc ]; then
    echo "bootstrap: installing Debian's $PACKAGES (the gallery's browser test)" >&2
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    # shellcheck disable=SC2086 # the package list splits on purpose
    if ! { $SUDO apt-get install -y -q $PACKAGES >/dev/null 2>&1 ||
        { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $PACKAGES >/dev/null 2>&1; }; }; then
        echo "bootstrap: could not install $PACKAGES (apt-get as root): the browser tests will say so" >&2
    fi
fi
