"""Benchmark the judging rules at contest scale: 5,000 entries, 50 judges, 3 per entry,
5 criteria. Prints the time to assign, and to aggregate, rank and award (run by hand)."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    # Run as `python bench/judging.py`, this file would shadow the `judging` package.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from judging.aggregation import aggregate  # noqa: E402
from judging.assignment import assign, loads  # noqa: E402
from judging.ranking import Tier, award, rank  # noqa: E402
from judging.rubric import Criterion, Rubric  # noqa: E402

ENTRIES, JUDGES, PER_ENTRY = 5000, 50, 3


def main() -> None:
    rng = random.Random(1)  # noqa: S311 - benchmark data, not secrets
    entries, judges = list(range(ENTRIES)), list(range(JUDGES))
    conflicts = {(rng.choice(judges), rng.choice(entries)) for _ in range(500)}
    started = time.perf_counter()
    panels = assign(entries, judges, PER_ENTRY, conflicts, seed=7)
    assigned = time.perf_counter() - started
    counts = loads(panels).values()

    rubric = Rubric(tuple(Criterion(f"c{i}", f"C{i}", 20, step=0.5) for i in range(5)))
    sheet = {
        entry: {
            judge: rubric.total({c.key: rng.randrange(0, 41) / 2 for c in rubric.criteria})
            for judge in panel
        }
        for entry, panel in panels.items()
    }
    started = time.perf_counter()
    for method in ("trimmed_mean", "zscore"):
        scores = aggregate(method, sheet, min_panel=5)
        rows = award(
            rank(scores, sheet=sheet, disagreement=30),
            [Tier("一等奖", 50), Tier("二等奖", 150), Tier("三等奖", 300)],
        )
    ranked = (time.perf_counter() - started) / 2
    print(f"{ENTRIES} entries, {JUDGES} judges, {PER_ENTRY} per entry, 5 criteria")
    print(
        f"assignment:                {assigned:6.2f} s (target < 2 s); loads "
        f"{min(counts)}–{max(counts)}"
    )
    print(
        f"aggregate + rank + award:  {ranked:6.2f} s per method (target < 2 s); "
        f"{sum(1 for r in rows if r.flags)} flagged"
    )


if __name__ == "__main__":
    main()
