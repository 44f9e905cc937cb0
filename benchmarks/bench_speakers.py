"""Speaker suggestions measured (not timed tests): conversations of espeak-ng voices with the
truth known, the share of speech time labelled right (1 − diarization error rate, speech
without a label counted wrong) and the time taken.  Usage::

    .venv/bin/python benchmarks/bench_speakers.py [--case N ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxfield.transcribe.speakers import SpeakerSettings, diarize  # noqa: E402
from tests.speech_support import conversation, share_right  # noqa: E402

CASES = [
    ("two voices, male and female (en-US+m3 / en-US+f3)", ["en-US+m3", "en-US+f3"]),
    ("two accents (en-US / en-GB-x-rp)", ["en-US", "en-GB-x-rp"]),
    ("one voice at two pitches (en-US+m3 at 30 / 70)", ["en-US+m3/30", "en-US+m3/70"]),
    ("three voices (en-US+m3 / en-US+f3 / en-GB-x-rp)", ["en-US+m3", "en-US+f3", "en-GB-x-rp"]),
]


def main() -> None:
    import argparse

    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--case", type=int, action="append", metavar="N",
        help="measure only case N (1-based; repeatable): 1 two voices, 2 two accents, "
        "3 one voice at two pitches, 4 three voices",
    )  # fmt: skip
    args = parser.parse_args()
    cases = [CASES[n - 1] for n in args.case] if args.case else CASES

    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'case':52s} {'audio':>6s} {'right':>6s} {'DER':>6s} {'time':>6s}")
    for label, voices in cases:
        talk = conversation(voices)
        started = time.perf_counter()
        found = diarize(talk.samples, SpeakerSettings(speakers=len(voices)))
        seconds = time.perf_counter() - started
        right = share_right(talk.truth, [(t.start, t.end, t.cluster) for t in found.turns])
        print(f"{label:52s} {len(talk.samples) / 16000:5.0f}s {right * 100:5.1f}% "
              f"{(1 - right) * 100:5.1f}% {seconds:5.1f}s")  # fmt: skip
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
