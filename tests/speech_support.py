"""Generated speech for tests and benchmarks: espeak-ng voices (Debian packages espeak-ng and
sox), and conversations between several voices with the truth known (who spoke when)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SR = 16_000

INTERVIEW = [
    "Good morning, thank you for coming in today.",
    "Hello. Thanks for having me, I hope this will not take too long.",
    "Could you tell me how your visit to the benefits office went?",
    "I came in at eight and the queue was already out of the door.",
    "What happened when you reached the front desk?",
    "Nobody told me which form I needed, so I filled in two of them.",
    "How long did you wait before someone called your number?",
    "Almost two hours, and then the computer kept logging the lady out.",
    "Did anyone explain what would happen next with your claim?",
    "Not really. I was worried that I would lose my benefits.",
    "Is there anything that would have made the visit easier for you?",
    "A clear letter telling me which documents to bring would help a lot.",
]


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def espeak(text: str, voice: str = "en-US+m3", speed: int = 160) -> np.ndarray:
    """``text`` spoken by an espeak-ng voice as 16 kHz mono float32; ``voice/NN`` speaks
    at pitch NN (0-99, espeak's default 50)."""
    import soundfile

    voice, _, pitch = voice.partition("/")
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-p", pitch or "50", "-w", str(raw),
             text],
            check=True,
        )  # fmt: skip
        subprocess.run(
            ["sox", str(raw), "-r", str(SR), "-c", "1", "-b", "16", str(out)], check=True
        )
        samples, _ = soundfile.read(str(out), dtype="float32")
    return np.asarray(samples, dtype=np.float32)


@dataclass
class Conversation:
    samples: np.ndarray
    #: (start, end, speaker index) of every line, in seconds
    truth: list[tuple[float, float, int]]


def conversation(
    voices: list[str], lines: list[str] | None = None, pause_s: float = 0.6, lead_s: float = 0.5
) -> Conversation:
    """The lines spoken in turn by ``voices`` (line i by voice i mod len(voices))."""
    lines = lines or INTERVIEW
    pause = np.zeros(int(pause_s * SR), dtype=np.float32)
    parts = [np.zeros(int(lead_s * SR), dtype=np.float32)]
    truth = []
    t = lead_s
    for i, line in enumerate(lines):
        speech = espeak(line, voices[i % len(voices)])
        truth.append((t, t + len(speech) / SR, i % len(voices)))
        parts += [speech, pause]
        t += (len(speech) + len(pause)) / SR
    return Conversation(np.concatenate(parts), truth)


def share_right(
    truth: list[tuple[float, float, int]], turns: list[tuple[float, float, int]]
) -> float:
    """Share of the true speech time labelled with the right speaker, under the best
    one-to-one mapping of found clusters to true speakers (1 − diarization error rate,
    counting speech that got no label as an error, silence not at all)."""
    import itertools

    speakers = sorted({s for _, _, s in truth})
    clusters = sorted({c for _, _, c in turns})
    total = sum(b - a for a, b, _ in truth)
    if not total:
        return 0.0

    def overlap(s: int, c: int) -> float:
        return sum(
            max(0.0, min(b, d) - max(a, e))
            for a, b, ts in truth if ts == s
            for e, d, tc in turns if tc == c
        )  # fmt: skip

    table = {(s, c): overlap(s, c) for s in speakers for c in clusters}
    best = 0.0
    size = max(len(speakers), len(clusters))
    padded = clusters + [-1] * (size - len(clusters))
    for perm in itertools.permutations(padded, len(speakers)):
        best = max(best, sum(table.get((s, c), 0.0) for s, c in zip(speakers, perm, strict=True)))
    return best / total
