"""The real app under a real X server, driven by real X key events (xdotool).

Xvfb picks a free display; there is no window manager, so when a window appears the test
gives it the X input focus, as a window manager would.  Keys then go to whatever widget
has focus in that window.  Screenshots are of the whole screen as it is shown."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import PYTHON, REPO

XVFB, XDOTOOL, FFMPEG = shutil.which("Xvfb"), shutil.which("xdotool"), shutil.which("ffmpeg")
HAVE_X = bool(XVFB and XDOTOOL)
SKIP_REASON = "needs Xvfb and xdotool (./dev.sh setup installs them)"
KEY_DELAY_MS = "40"


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Screen:
    """One Xvfb display and the xdotool commands that drive it."""

    def __init__(self, display: str, shots: Path, size: tuple[int, int]) -> None:
        self.display, self.shots, self.size, self.count = display, shots, size, 0
        self.env = dict(os.environ, DISPLAY=display)

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(
            [str(XDOTOOL), *args], env=self.env, capture_output=True, text=True, timeout=30
        )
        return done.stdout.strip()

    def keys(self, *names: str) -> None:
        """Key presses, as X key events (e.g. "2", "plus", "Tab", "ctrl+shift+f")."""
        self.xdotool("key", "--delay", KEY_DELAY_MS, *names)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", KEY_DELAY_MS, text)

    def windows(self, name: str) -> list[str]:
        return self.xdotool("search", "--onlyvisible", "--name", name).split()

    def wait_window(self, name: str, timeout: float = 40) -> str:
        """Wait for a window whose title matches ``name`` and give it the input focus."""
        found = wait_for(lambda: self.windows(name), timeout, f"a window named {name!r}")
        window = found[-1]
        self.xdotool("windowfocus", "--sync", window)
        time.sleep(0.4)  # let it paint and settle its focus widget
        return window

    def wait_gone(self, name: str, timeout: float = 20) -> None:
        wait_for(lambda: not self.windows(name), timeout, f"{name!r} to close")

    def geometry(self, window: str) -> tuple[int, int, int, int]:
        values = dict(
            line.split("=")
            for line in self.xdotool("getwindowgeometry", "--shell", window).splitlines()
        )
        return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])

    def fits(self, window: str) -> bool:
        x, y, width, height = self.geometry(window)
        return x >= 0 and y >= 0 and x + width <= self.size[0] and y + height <= self.size[1]

    def shot(self, name: str) -> Path | None:
        """The whole screen as a PNG (x11grab reads the screen as it is shown)."""
        if FFMPEG is None:
            return None
        self.count += 1
        out = self.shots / f"xvfb-{self.size[0]}x{self.size[1]}-{self.count:02d}-{name}.png"
        grab = [str(FFMPEG), "-loglevel", "error", "-y", "-f", "x11grab"]
        grab += ["-video_size", f"{self.size[0]}x{self.size[1]}", "-i", self.display]
        subprocess.run([*grab, "-frames:v", "1", str(out)], env=self.env, timeout=30, check=True)
        return out


@contextmanager
def xvfb_screen(shots: Path, size: tuple[int, int] = (1366, 768)) -> Iterator[Screen]:
    """A fresh Xvfb of ``size`` on a free display, stopped afterwards."""
    read, write = os.pipe()  # Xvfb picks a free display and writes its number here
    xvfb = subprocess.Popen(
        [str(XVFB), "-displayfd", str(write), "-screen", "0", f"{size[0]}x{size[1]}x24"]
        + ["-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        shots.mkdir(parents=True, exist_ok=True)
        yield Screen(f":{number}", shots, size)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def app_env(screen: Screen) -> dict[str, str]:
    """The environment of the real app on ``screen`` (the xcb platform, this checkout)."""
    env = dict(screen.env, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO))
    env.pop("QT_QPA_PLATFORM_PLUGIN_PATH", None)
    return env


@contextmanager
def running_app(screen: Screen, data_root: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m cxfield`` on ``data_root``; stopped afterwards, its log printed."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PYTHON, "-m", "cxfield", "--data-dir", str(data_root)],
            env=app_env(screen),
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(log.read_text(errors="replace")[-3000:])


#: the two screens every Xvfb test is photographed on (a fixture's params)
SIZES = [(1366, 768), (1920, 1080)]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@contextmanager
def area_screen(area: str, size: tuple[int, int], tmp_path: Path) -> Iterator[Screen]:
    """An Xvfb of ``size`` whose screenshots go to ``$CXFIELD_SHOTS/<area>`` (else the
    test's temporary directory)."""
    shots = os.environ.get("CXFIELD_SHOTS")
    where = Path(shots) / area if shots else tmp_path / "shots"
    with xvfb_screen(where, size) as shown:
        yield shown
