"""Assigning judges to entries: N judges each, no conflicts, balanced loads, reproducible."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from judging.messages import Message

Pair = tuple[int, int]  # (judge, entry)


class AssignmentError(ValueError):
    """No assignment satisfies the constraints; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Party:
    """What conflicts are judged by: a judge's or an entry's unit and district."""

    id: int
    unit: str = ""
    district: str = ""


def automatic_conflicts(
    judges: Iterable[Party],
    entries: Iterable[Party],
    by_unit: bool = True,
    by_district: bool = True,
) -> set[Pair]:
    """A judge conflicts with entries from their own unit and, if set, their own district.

    An entry is of the judge's unit when its collective is the unit or names it whole: a
    judge of 市第一医院 conflicts with 市第一医院急诊科 (collectives are teams inside units).
    Units shorter than 3 characters only match exactly: 医院 would match every hospital.
    """
    entries = list(entries)
    found: set[Pair] = set()
    for judge in judges:
        for entry in entries:
            same_unit = by_unit and same_unit_of(judge.unit, entry.unit)
            same_district = by_district and judge.district and judge.district == entry.district
            if same_unit or same_district:
                found.add((judge.id, entry.id))
    return found


def same_unit_of(judge_unit: str, collective: str) -> bool:
    """Whether a collective belongs to the judge's unit (see automatic_conflicts)."""
    unit = judge_unit.strip()
    if not unit:
        return False
    return unit == collective.strip() or (len(unit) >= 3 and unit in collective)


def assign(
    entries: Sequence[int],
    judges: Sequence[int],
    per_entry: int,
    conflicts: set[Pair] | frozenset[Pair] = frozenset(),
    seed: int = 0,
) -> dict[int, list[int]]:
    """Give every entry `per_entry` distinct judges, none conflicted, loads within one.

    Greedy by least load in a seeded order, then repaired by moving single assignments
    from the busiest to the idlest judges. The same inputs and seed give the same result.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible from a seed by design, not secret
    order = list(entries)
    rng.shuffle(order)
    tiebreak = {judge: rng.random() for judge in judges}
    load = dict.fromkeys(judges, 0)
    panels: dict[int, list[int]] = {}
    # Entries with the fewest possible judges first: they have the least room to move.
    order.sort(key=lambda e: sum((j, e) not in conflicts for j in judges))
    for entry in order:
        free = [j for j in judges if (j, entry) not in conflicts]
        if len(free) < per_entry:
            raise AssignmentError(
                Message(
                    "作品 %(entry)s 只有 %(free)d 位无回避关系的评委，少于每件作品 %(n)d 位",
                    entry=entry,
                    free=len(free),
                    n=per_entry,
                )
            )
        chosen = sorted(free, key=lambda j: (load[j], tiebreak[j]))[:per_entry]
        for judge in chosen:
            load[judge] += 1
        panels[entry] = chosen
    _balance(panels, load, conflicts)
    return {entry: sorted(panels[entry]) for entry in entries}


def _balance(
    panels: dict[int, list[int]], load: dict[int, int], conflicts: set[Pair] | frozenset[Pair]
) -> None:
    """Move assignments from the busiest judge to the idlest until loads differ by one."""
    while load:  # no judges (every one deactivated) and nothing to assign: nothing to move
        busiest = max(load, key=lambda j: load[j])
        idlest = min(load, key=lambda j: load[j])
        if load[busiest] - load[idlest] <= 1:
            return
        moved = False
        for entry, panel in panels.items():
            if busiest in panel and idlest not in panel and (idlest, entry) not in conflicts:
                panel[panel.index(busiest)] = idlest
                load[busiest] -= 1
                load[idlest] += 1
                moved = True
                break
        if not moved:
            # The idlest judge is conflicted with every entry the busiest one has: try the
            # next busiest judges before giving up.
            if not _move_any(panels, load, idlest, conflicts):
                return


def _move_any(
    panels: dict[int, list[int]],
    load: dict[int, int],
    idlest: int,
    conflicts: set[Pair] | frozenset[Pair],
) -> bool:
    for judge in sorted(load, key=lambda j: -load[j]):
        if load[judge] - load[idlest] <= 1:
            return False
        for entry, panel in panels.items():
            if judge in panel and idlest not in panel and (idlest, entry) not in conflicts:
                panel[panel.index(judge)] = idlest
                load[judge] -= 1
                load[idlest] += 1
                return True
    return False


def loads(panels: dict[int, list[int]]) -> dict[int, int]:
    """How many entries each judge has."""
    counted: dict[int, int] = {}
    for panel in panels.values():
        for judge in panel:
            counted[judge] = counted.get(judge, 0) + 1
    return counted
