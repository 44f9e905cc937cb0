#!/usr/bin/env bash
# cxfield developer entry point.  On a fresh Debian 12 machine (as root, registries
# reachable) each command installs what it needs first:
#   ./dev.sh run     set up, then open the app on the default data directory
#   ./dev.sh test    set up, then run ruff, mypy, the layering contracts and pytest
#                    (inside a throw-away PostgreSQL cluster for the hub tests)
#   ./dev.sh setup   only the set-up (idempotent)
#   ./dev.sh build   set up, then build the one-folder app dist/cxfield/ (build.spec) and
#                    smoke-test it: --version, --self-test, Qt plugins' libraries
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
  desktop-file-utils
  appstream
  chromium
  chromium-driver
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
  "$VENV/bin/python" -m pip install -q -e ".[gui,audio,transcribe,fast,export,hub,sync,privacy,dev,build]"
  # speaker suggestions: its encoder weights ship in the package; --no-deps keeps its pins
  # (webrtcvad from source, the `typing` backport) out; the 'fast' extra has what it needs
  "$VENV/bin/python" -m pip install -q --no-deps "resemblyzer==0.1.4"
  touch "$stamp"
}

setup() { setup_system; setup_python; }

# Build dist/cxfield/ and check it works: the self-test (window offscreen, migrations,
# whisper + ffmpeg + numba in the spawned worker, PortAudio, PDF fonts, hub), --version, and
# no bundled Qt plugin missing a library.  Prints the build time and the folder's size.
build() {
  local start=$SECONDS
  "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN build.spec
  echo "cxfield build: built in $((SECONDS - start)) s" >&2
  local app=dist/cxfield/cxfield
  "$app" --version
  QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1 "$app" --self-test
  local missing
  # the bootloader puts _internal/ on the library path; ldd sees what the app will load
  missing=$(find dist/cxfield/_internal/PySide6/Qt/plugins -name '*.so' -print0 \
            | LD_LIBRARY_PATH="$PWD/dist/cxfield/_internal" xargs -0 ldd \
            | grep 'not found' | sort -u || true)
  if [ -n "$missing" ]; then
    echo "cxfield build: bundled Qt plugins miss libraries:" >&2
    echo "$missing" >&2
    return 1
  fi
  echo "cxfield build: dist/cxfield is $(du -sh dist/cxfield | cut -f1) ($((SECONDS - start)) s in all)" >&2
}

cmd="${1:-run}"; shift || true
case "$cmd" in
  setup) setup ;;
  run)
    setup
    exec "$VENV/bin/cxfield" "$@"
    ;;
  build)
    setup
    build
    ;;
  test)
    setup
    "$VENV/bin/ruff" check cxfield tests benchmarks
    "$VENV/bin/mypy" cxfield
    "$VENV/bin/lint-imports"
    export QT_QPA_PLATFORM=offscreen OMP_NUM_THREADS=1
    # Byte code compiled once, before the workers start: the suite starts the CLI, the hub
    # and the app in hundreds of subprocesses, and where PYTHONDONTWRITEBYTECODE is set
    # (CI images often set it) each of them would compile cxfield's modules again.
    unset PYTHONDONTWRITEBYTECODE
    "$VENV/bin/python" -m compileall -q -j 0 cxfield tests benchmarks >/dev/null
    # The hub tests need a real PostgreSQL: pg_virtualenv (postgresql-common) starts a
    # throw-away cluster in a temporary directory (-t: also as root, where the server runs
    # as the postgres user), sets PGHOST/PGPORT/PGUSER/PGPASSWORD for pytest and drops the
    # cluster afterwards.  CXFIELD_REQUIRE_PG=1: a missing server fails instead of skipping;
    # CXFIELD_REQUIRE_EXTRAS=1: so does a missing optional package or program (tests/requires.py)
    # pytest-xdist: one worker per core (at most 4), each taking whole test files, so a
    # file's tests run in order in one process; every test makes its own data directory,
    # PostgreSQL database, hub port, Xvfb display and PulseAudio daemon.  `-n 0`: one process.
    # --max-worker-restart=0: a worker that crashes fails the run at once, naming the test it
    # ran; pytest-xdist 3.8 replaces a crashed loadfile worker and then waits forever
    # (pytest-xdist issues 784, 1327).
    exec pg_virtualenv -t env CXFIELD_REQUIRE_PG=1 CXFIELD_REQUIRE_EXTRAS=1 \
      "$VENV/bin/pytest" -n auto --maxprocesses=4 --dist loadfile --max-worker-restart=0 "$@"
    ;;
  *) echo "usage: ./dev.sh [setup|run|test|build] [args...]" >&2; exit 2 ;;
esac
