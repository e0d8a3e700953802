# Sourced by the other scripts: make (or reuse) the project's virtualenv and install into it.
# Usage: ensure_venv EXTRAS   (EXTRAS is "" or "[dev]")
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DLG_VENV:-$ROOT/.venv}"
ensure_venv() {
  local extras="$1"
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "digilocker-gateway needs Python 3.11 or newer ($python is $("$python" --version 2>&1))" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  # A stamp keyed on pyproject.toml keeps repeat runs fast and reinstalls when dependencies change.
  local stamp="$VENV/.installed${extras}-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT$extras"
    touch "$stamp"
  fi
  export PATH="$VENV/bin:$PATH"
}
