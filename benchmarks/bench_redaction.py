"""Redaction benchmark: recall, precision and leak rate per kind on synthetic English and
Spanish interview transcripts (Faker details planted at known positions, Whisper-like
spellings, hard negatives), on the tuning templates and on the held-out ones.

    PYTHONPATH=. python benchmarks/bench_redaction.py [--samples N] [--seed S] [--misses]
"""

from __future__ import annotations

import argparse
import time

from cxfield.privacy.detect import Detector
from cxfield.privacy.measure import Scores, score
from cxfield.privacy.synthetic import HELD_OUT, REPORTED_KINDS, TUNING, generate


def report(title: str, scores: Scores, seconds: float, samples: int) -> None:
    each = 1000 * seconds / samples
    print(f"\n{title}: {samples} transcripts, {seconds:.1f} s ({each:.1f} ms each)")
    print(f"{'kind':<14}{'planted':>8}{'recall':>8}{'leak':>8}")
    for kind in REPORTED_KINDS:
        entry = scores.kinds.get(kind)
        if entry is None:
            continue
        print(f"{kind:<14}{entry.planted:>8}{entry.recall:>8.3f}{entry.leak:>8.3f}")
    print(f"{'detected as':<14}{'spans':>8}{'precision':>10}")
    for kind, found in sorted(scores.detected.items()):
        print(f"{kind:<14}{found:>8}{scores.precision(kind):>10.3f}")
    print(
        f"overall precision {scores.overall_precision():.3f}; hard negatives flagged "
        f"{scores.negatives_hit}/{scores.negatives}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--misses", action="store_true", help="print a few missed details (tuning templates only)"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    detector = Detector()
    print(f"detectors ready in {time.perf_counter() - started:.1f} s (no download)")
    for title, templates in (("tuning templates", TUNING), ("held-out templates", HELD_OUT)):
        started = time.perf_counter()
        scores = score(generate(args.samples, seed=args.seed, templates=templates), detector)
        report(title, scores, time.perf_counter() - started, args.samples)
        if args.misses and templates is TUNING:  # never tune on the held-out templates
            for kind, value in scores.misses:
                print(f"  missed {kind}: {value!r}")


if __name__ == "__main__":
    main()
