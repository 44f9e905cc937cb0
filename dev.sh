#!/usr/bin/env bash
# cxfield developer entry point.  On a fresh Debian 12 machine (as root, registries
# reachable) each command installs what it needs first:
#   ./dev.sh run     set up, then open the app on the default data directory
#   ./dev.sh test    set up, then run ruff, mypy, the layering contracts and pytest
#                    (inside a throw-away PostgreSQL cluster for the hub tests)
#   ./dev.sh setup   only the set-up (idempotent)
set -euo pipefail
cd "$(dirname "$0")"
VENV="${CXFIELD_VENV:-.venv}"

APT_PACKAGES=(
  python3-venv python3-dev build-essential
  libportaudio2 libsndfile1 ffmpeg sox espeak-ng
  pulseaudio pulseaudio-utils libasound2-plugins
  poppler-utils xvfb x11-apps fonts-dejavu-core
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-xinerama0 libxcb-xfixes0
  xdotool
  libreoffice-writer-nogui
  libreoffice-calc-nogui
  fonts-droid-fallback
  postgresql
  openssl
)

setup_system() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "cxfield setup: missing Debian packages (run as root to install): ${missing[*]}" >&2
    return 1
  fi
  echo "cxfield setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

setup_python() {
  local stamp="$VENV/.cxfield-setup"
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] && [ "$stamp" -nt dev.sh ]; then
    return 0
  fi
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first and pinned: an unpinned torch pulls several GB of CUDA packages.
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
  "$VENV/bin/python" -m pip install -q -e ".[gui,audio,transcribe,export,hub,sync,privacy,dev]"
  touch "$stamp"
}

setup() { setup_system; setup_python; }

cmd="${1:-run}"; shift || true
case "$cmd" in
  setup) setup ;;
  run)
    setup
    exec "$VENV/bin/cxfield" "$@"
    ;;
  test)
    setup
    "$VENV/bin/ruff" check cxfield tests benchmarks
    "$VENV/bin/mypy" cxfield
    "$VENV/bin/lint-imports"
    export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1
    # The hub tests need a real PostgreSQL: pg_virtualenv (postgresql-common) starts a
    # throw-away cluster in a temporary directory (-t: also as root, where the server runs
    # as the postgres user), sets PGHOST/PGPORT/PGUSER/PGPASSWORD for pytest and drops the
    # cluster afterwards.  CXFIELD_REQUIRE_PG=1: a missing server fails instead of skipping.
    exec pg_virtualenv -t env CXFIELD_REQUIRE_PG=1 "$VENV/bin/pytest" "$@"
    ;;
  *) echo "usage: ./dev.sh [setup|run|test] [args...]" >&2; exit 2 ;;
esac
