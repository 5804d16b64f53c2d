"""Every entry of a round and its panel: complete, waiting, short or excluded, never missing.

An entry is *in the round* when the round judges it now (`eligible_entries`) or when the
round holds anything of it (an assignment, a score, an anonymous code). Each one has exactly
one state, so the counts add up: assigned (complete + waiting) + short + excluded = entries
in the round.

- complete: a full panel (at least `judges_per_entry` judges) and every one submitted;
- waiting: a full panel, some scores not submitted yet;
- short: fewer judges than `judges_per_entry`, whatever the cause (never assigned, a conflict
  declared after the assignment, a judge taken off the panel or deactivated);
- excluded: no longer judged in this round although the round holds something of it
  (withdrawn, sent back, its video no longer ready, or no longer among those advancing).

A panel is the entry's assigned judges minus the conflicted (recorded or automatic, as
`conflicts_of` says) and the deactivated ones who had not submitted; only their submitted
scores count here (and in `results`, which counts no score of a judge off the panel).
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.codes import codes_of
from judging.messages import N_, Message
from judging.ranking import EXCLUDED, SHORT_PANEL, UNSCORED
from judging.results import ResultRow, Results, result_groups, results
from judging.rounds import conflicts_of, eligible_entries, judges_of
from storage.models import (
    Assignment,
    BlindCode,
    Conflict,
    Entry,
    EntryStatus,
    Round,
    Score,
    User,
)

SUGGESTIONS = 3  # judges offered for each short panel, lightest load first


class PanelState(enum.StrEnum):
    COMPLETE = "complete"
    WAITING = "waiting"
    SHORT = "short"
    EXCLUDED = "excluded"


STATE_LABELS = {
    PanelState.COMPLETE: N_("评完"),
    PanelState.WAITING: N_("待提交"),
    PanelState.SHORT: N_("待补评委"),
    PanelState.EXCLUDED: N_("不再参评"),
}


@dataclass(frozen=True)
class Suggestion:
    """A free judge for a short panel and how many entries they already have in the round."""

    judge: User
    load: int


@dataclass
class EntryPanel:
    entry: Entry
    code: str
    state: PanelState
    panel: list[User]  # judges who score it: assigned, not conflicted, active
    submitted: list[User]  # of those, who submitted
    needed: int
    reasons: list[Message] = field(default_factory=list)  # why short or excluded
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def pending(self) -> list[User]:
        """Judges on the panel who have not submitted."""
        done = {j.id for j in self.submitted}
        return [j for j in self.panel if j.id not in done]

    @property
    def label(self) -> str:
        """`No.0003（A-017）`: the number organizers know, and the code judges knew it by."""
        return f"No.{self.entry.number:04d}" + (f"（{self.code}）" if self.code else "")


@dataclass
class PanelReport:
    round: Round
    entries: list[EntryPanel]
    # Results look every ranked row up here: thousands of entries, one dict.
    _by_entry: dict[int, EntryPanel] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_entry = {row.entry.id: row for row in self.entries}

    def _in(self, *states: PanelState) -> list[EntryPanel]:
        return [e for e in self.entries if e.state in states]

    @property
    def short(self) -> list[EntryPanel]:
        return self._in(PanelState.SHORT)

    @property
    def waiting(self) -> list[EntryPanel]:
        return self._in(PanelState.WAITING)

    @property
    def excluded(self) -> list[EntryPanel]:
        return self._in(PanelState.EXCLUDED)

    @property
    def assigned(self) -> list[EntryPanel]:
        """Entries with a full panel, scored or not."""
        return self._in(PanelState.COMPLETE, PanelState.WAITING)

    @property
    def judged(self) -> list[EntryPanel]:
        """Entries the round judges now (all but the excluded)."""
        return self._in(PanelState.COMPLETE, PanelState.WAITING, PanelState.SHORT)

    def totals(self) -> dict[str, int]:
        return {
            "entries": len(self.entries),
            "assigned": len(self.assigned),
            "complete": len(self._in(PanelState.COMPLETE)),
            "waiting": len(self.waiting),
            "short": len(self.short),
            "excluded": len(self.excluded),
        }

    def of(self, entry_id: int) -> EntryPanel | None:
        return self._by_entry.get(entry_id)


def judge_progress(report: PanelReport, judges: list[User]) -> list[tuple[User, int, int]]:
    """Per judge: the entries they score in the round and how many they submitted, as the
    panels count them (a score left by a judge taken off an entry is not theirs to do)."""
    scoring: Counter[int] = Counter()
    done: Counter[int] = Counter()
    for row in report.judged:
        scoring.update(j.id for j in row.panel)
        done.update(j.id for j in row.submitted)
    return [(j, scoring[j.id], done[j.id]) for j in judges]


def _names(judges: list[User]) -> str:
    return "、".join(f"{j.display_name}（{j.username}）" for j in judges)


def _excluded_reason(entry: Entry) -> Message:
    if entry.status is EntryStatus.WITHDRAWN:
        return Message("作品已撤回")
    if entry.returned_at is not None:
        return Message("作品已退回修改")
    if entry.status is EntryStatus.PROCESSING:
        return Message("视频正在重新处理")
    if entry.status in (EntryStatus.REJECTED, EntryStatus.FAILED):
        return Message("视频未通过或处理失败")
    if entry.status is not EntryStatus.READY:
        return Message("作品尚未就绪")
    return Message("未晋级本轮")


def _entries_in_round(
    session: Session, rnd: Round
) -> tuple[list[Entry], set[int], dict[int, list[int]]]:
    """The round's entries (eligible or traced), the eligible ids and each entry's assigned
    judge ids."""
    eligible = eligible_entries(session, rnd.contest, rnd)
    assigned: dict[int, list[int]] = {}
    for judge_id, entry_id in session.execute(
        select(Assignment.judge_id, Assignment.entry_id)
        .where(Assignment.round_id == rnd.id)
        .order_by(Assignment.judge_id)
    ).tuples():
        assigned.setdefault(entry_id, []).append(judge_id)
    traced = (
        set(assigned)
        | set(session.scalars(select(Score.entry_id).where(Score.round_id == rnd.id)))
        | set(session.scalars(select(BlindCode.entry_id).where(BlindCode.round_id == rnd.id)))
    )
    eligible_ids = {e.id for e in eligible}
    others = traced - eligible_ids
    extra = list(session.scalars(select(Entry).where(Entry.id.in_(others)))) if others else []
    entries = sorted([*eligible, *extra], key=lambda e: e.number)
    return entries, eligible_ids, assigned


def panel_report(session: Session, rnd: Round) -> PanelReport:
    """Every entry of the round with its panel, state and, when short, suggested judges."""
    entries, eligible_ids, assigned = _entries_in_round(session, rnd)
    needed = rnd.contest.judges_per_entry
    judge_ids = {j for ids in assigned.values() for j in ids}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(judge_ids)))}
    free_judges = judges_of(session, rnd)
    everyone = list({u.id: u for u in [*users.values(), *free_judges]}.values())
    conflicts = conflicts_of(session, everyone, entries)
    recorded = {
        (c.judge_id, c.entry_id): c.reason
        for c in session.scalars(
            select(Conflict).where(Conflict.entry_id.in_([e.id for e in entries]))
        )
    }
    submitted = set(
        session.execute(
            select(Score.judge_id, Score.entry_id).where(
                Score.round_id == rnd.id, Score.submitted_at.is_not(None)
            )
        ).tuples()
    )
    load = Counter(j for ids in assigned.values() for j in ids)
    codes = codes_of(session, rnd)
    known = {u.id: u for u in everyone}
    rows = []
    for entry in entries:
        on_list = [users[j] for j in assigned.get(entry.id, [])]
        panel = _panel(on_list, entry, conflicts, submitted)
        done = [j for j in panel if (j.id, entry.id) in submitted]
        row = EntryPanel(entry, codes.get(entry.id, ""), PanelState.COMPLETE, panel, done, needed)
        if entry.id not in eligible_ids:
            row.state = PanelState.EXCLUDED
            row.reasons = [_excluded_reason(entry)]
        elif len(panel) < needed:
            row.state = PanelState.SHORT
            row.reasons = _short_reasons(
                on_list, entry, conflicts, recorded, known, needed, submitted
            )
            row.suggestions = _suggest(free_judges, entry, on_list, conflicts, load)
        elif len(done) < len(panel):
            row.state = PanelState.WAITING
        rows.append(row)
    return PanelReport(rnd, rows)


def _panel(
    on_list: list[User],
    entry: Entry,
    conflicts: set[tuple[int, int]],
    submitted: set[tuple[int, int]],
) -> list[User]:
    """The judges who score an entry: on its list, not conflicted, and active — or, when
    deactivated, already submitted (their score stands: results count it)."""
    return [
        j
        for j in on_list
        if (j.id, entry.id) not in conflicts and (j.active or (j.id, entry.id) in submitted)
    ]


def _short_reasons(
    on_list: list[User],
    entry: Entry,
    conflicts: set[tuple[int, int]],
    recorded: dict[tuple[int, int], str],
    known: dict[int, User],
    needed: int,
    submitted: set[tuple[int, int]],
) -> list[Message]:
    """Why a panel is short, as far as the rows tell (a judge taken off leaves no row)."""
    panel = _panel(on_list, entry, conflicts, submitted)
    reasons = [Message("评委 %(have)d / %(need)d 位", have=len(panel), need=needed)]
    if not on_list and not any(e == entry.id for _j, e in recorded):
        reasons.append(Message("尚未分配评委"))
    declared = [known[j] for (j, e), why in recorded.items() if e == entry.id and j in known]
    if declared:
        reasons.append(Message("回避：%(judges)s", judges=_names(sorted(declared, key=_by_id))))
    automatic = [j for j in on_list if (j.id, entry.id) in conflicts and j not in declared]
    if automatic:
        reasons.append(Message("同单位或同区县回避：%(judges)s", judges=_names(automatic)))
    inactive = [j for j in on_list if j not in panel and not j.active]
    if inactive:
        reasons.append(Message("评委已停用：%(judges)s", judges=_names(inactive)))
    return reasons


def _by_id(user: User) -> int:
    return user.id


def _suggest(
    free_judges: list[User],
    entry: Entry,
    on_list: list[User],
    conflicts: set[tuple[int, int]],
    load: Counter[int],
) -> list[Suggestion]:
    """Judges of the round not on the entry's list and not conflicted, lightest load first;
    equal loads in the order of their accounts (stable from one page to the next)."""
    taken = {j.id for j in on_list}
    free = [j for j in free_judges if j.id not in taken and (j.id, entry.id) not in conflicts]
    free.sort(key=lambda j: (load[j.id], j.id))
    return [Suggestion(j, load[j.id]) for j in free[:SUGGESTIONS]]


def round_results(session: Session, rnd: Round, report: PanelReport | None = None) -> Results:
    """The round's ranked results, then every entry the ranking could not place: nothing
    drops out. Ranked rows of short entries are flagged `short_panel`, of entries no longer
    judged `excluded`; entries of the round without a submitted score follow unranked
    (rank 0, no score) and flagged `unscored`."""
    report = report or panel_report(session, rnd)
    extra = {PanelState.SHORT: SHORT_PANEL, PanelState.EXCLUDED: EXCLUDED}
    rows = []
    for row in results(session, rnd):
        panel = report.of(row.entry)
        flag = extra.get(panel.state) if panel else None
        rows.append(replace(row, flags=[*row.flags, flag]) if flag else row)
    ranked = {r.entry for r in rows}
    for panel in report.judged:
        if panel.entry.id in ranked:
            continue
        rows.append(
            ResultRow.for_entry(
                panel.entry,
                rank=0,
                score=None,
                award="",
                flags=[UNSCORED] + ([SHORT_PANEL] if panel.state is PanelState.SHORT else []),
                code=panel.code,
            )
        )
    # By work type, each type's unscored entries follow its ranked ones.
    groups = result_groups(rnd.contest, rows, lambda row: row.work_type)
    return Results(rnd, [row for group in groups for row in group])
