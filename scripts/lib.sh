# shellcheck shell=bash
# Shared helpers for scripts/setup and scripts/emulator. Source it; don't run it.
#
# Paths are resolved from this file's location, so the scripts work from any cwd.

# The moto version the emulator is pinned to (must match requirements-emulator.txt).
MOTO_VERSION="5.2.5"

CAIRN_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
CAIRN_ROOT="$(cd "${CAIRN_SCRIPTS_DIR}/.." && pwd -P)"
CAIRN_VENV="${CAIRN_ROOT}/.venv"
CAIRN_VENV_PY="${CAIRN_VENV}/bin/python"
CAIRN_REQUIREMENTS="${CAIRN_SCRIPTS_DIR}/requirements-emulator.txt"
# Stamp written into the venv after a successful install: the checksum of the
# requirements file it was installed from.
CAIRN_VENV_STAMP="${CAIRN_VENV}/.cairn-requirements.sha256"
# Where the running emulator keeps its pid, URL and log. Overridable so that
# several checkouts or test runs can keep separate emulators.
CAIRN_EMULATOR_DIR="${CAIRN_EMULATOR_DIR:-${CAIRN_ROOT}/.cairn/emulator}"

# CAIRN_SCRIPT_NAME (set by the sourcing script) prefixes messages.
# Messages go to stderr so that stdout stays machine-readable (the emulator's
# URL is the last line of its stdout).
info() { printf '%s: %s\n' "${CAIRN_SCRIPT_NAME:-cairn}" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "${CAIRN_SCRIPT_NAME:-cairn}" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "${CAIRN_SCRIPT_NAME:-cairn}" "$*" >&2
    exit 1
}

# Prints a script's leading comment block (its usage text), without the #! line
# and shellcheck directives.
print_header_comment() {
    awk 'NR == 1 { next } !/^#/ { exit } /^# shellcheck/ { next } { sub(/^# ?/, ""); print }' "$1"
}

# Checksum of the requirements file (sha256sum is in coreutils).
requirements_checksum() {
    sha256sum "${CAIRN_REQUIREMENTS}" | cut -d' ' -f1
}

# Prints the moto version installed in the venv, or nothing.
venv_moto_version() {
    [[ -x "${CAIRN_VENV_PY}" ]] || return 0
    "${CAIRN_VENV_PY}" - <<'PY' 2>/dev/null || true
import importlib.metadata as m
try:
    print(m.version("moto"))
except m.PackageNotFoundError:
    pass
PY
}

# True when the venv holds exactly what the requirements file pins.
venv_is_current() {
    [[ -x "${CAIRN_VENV_PY}" && -x "${CAIRN_VENV}/bin/moto_server" ]] || return 1
    [[ -f "${CAIRN_VENV_STAMP}" ]] || return 1
    [[ "$(cat "${CAIRN_VENV_STAMP}")" == "$(requirements_checksum)" ]] || return 1
    [[ "$(venv_moto_version)" == "${MOTO_VERSION}" ]]
}
