"""逐级推荐: a district organizer screens their own collectives' entries and recommends some of
them to the city, within the quota the city organizer set for their district.

Who: a `Role.DISTRICT` account sees one district (`district_scope`), the entries whose
`Entry.district` is that name, and nothing else. When: until the city's judging starts (the
contest's first round is opened); after that the recommendations are what the city judges,
and only the city organizer can change the quotas. How many: a district recommends at most
its quota; the count is taken under a lock on the contest's row, so two organizers
recommending at once never exceed it. Every change is recorded on the entry and as a
`Decision` row (recommend, decline, withdraw_recommend, set_quotas).
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judging.access import HIDDEN, EntryView, entry_view
from judging.messages import N_, Message
from judging.numbers import ascii_int
from storage.entry_notices import tell_owner
from storage.models import (
    Contest,
    Decision,
    Entry,
    EntryStatus,
    Role,
    Round,
    User,
    WorkType,
    utcnow,
)

log = logging.getLogger(__name__)

RECOMMENDED, DECLINED = "recommended", "declined"
DECISION_LABELS = {"": N_("待推荐"), RECOMMENDED: N_("已推荐"), DECLINED: N_("未推荐")}
# The filter's names for the three states ("" is "any" there, so "pending" names "").
DECISION_FILTERS = {"pending": "", RECOMMENDED: RECOMMENDED, DECLINED: DECLINED}
REASON_LIMIT = 500
QUOTA_LIMIT = 10000


class DistrictError(ValueError):
    """A recommendation the rules refuse; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def district_scope(user: User) -> str | None:
    """The one district a district organizer may see; None for every other account (and
    for a district account not yet bound to a district)."""
    if user.role is not Role.DISTRICT:
        return None
    return user.district.strip() or None


def quota_of(contest: Contest, district: str) -> int | None:
    """The district's quota, or None when the city organizer has set none."""
    value = (contest.district_quotas or {}).get(district)
    return int(value) if value is not None else None


def recommended_count(session: Session, contest_id: int, district: str) -> int:
    """How many of the district's entries are recommended now (one its contestant has since
    withdrawn no longer takes a place)."""
    return (
        session.scalar(
            select(func.count()).where(
                Entry.contest_id == contest_id,
                Entry.district == district,
                Entry.district_decision == RECOMMENDED,
                Entry.status.not_in(HIDDEN),
            )
        )
        or 0
    )


def recommendation_open(session: Session, contest: Contest) -> bool:
    """Districts decide until the city's judging starts (the contest's first round)."""
    return session.scalar(select(Round.id).where(Round.contest_id == contest.id).limit(1)) is None


def district_entry(session: Session, contest: Contest, user: User, entry_id: int) -> Entry | None:
    """The contest's entry with this id if `user` sees it as its district's organizer, or
    None (another district's, another contest's, a draft or a withdrawn one: to the district
    organizer, these do not exist). Who sees it is judging/access.py's to say."""
    entry = session.get(Entry, entry_id)
    if entry is None or entry.contest_id != contest.id:
        return None
    return entry if entry_view(user, entry) is EntryView.DISTRICT else None


def district_entries(
    session: Session,
    contest: Contest,
    district: str,
    work_type: WorkType | None = None,
    status: EntryStatus | None = None,
    decision: str | None = None,
) -> list[Entry]:
    """The district's entries (no drafts, none withdrawn), by number, filtered."""
    stmt = select(Entry).where(
        Entry.contest_id == contest.id, Entry.district == district, Entry.status.not_in(HIDDEN)
    )
    if work_type is not None:
        stmt = stmt.where(Entry.work_type == work_type)
    if status is not None:
        stmt = stmt.where(Entry.status == status)
    if decision is not None:
        stmt = stmt.where(Entry.district_decision == decision)
    return list(session.scalars(stmt.order_by(Entry.number)))


@dataclass
class Progress:
    """A district's progress: collectives entered and entries by work type and status."""

    district: str
    collectives: int = 0
    entries: int = 0
    by_type: dict[WorkType, int] = field(default_factory=dict)
    by_status: dict[EntryStatus, int] = field(default_factory=dict)
    by_type_status: dict[tuple[WorkType, EntryStatus], int] = field(default_factory=dict)
    by_decision: dict[str, int] = field(default_factory=dict)
    quota: int | None = None

    @property
    def recommended(self) -> int:
        return self.by_decision.get(RECOMMENDED, 0)


def district_progress(session: Session, contest: Contest, district: str) -> Progress:
    """How far the district is: distinct collectives with an entry sent, entries by type,
    status and decision (drafts and withdrawn entries are not counted)."""
    rows = session.execute(
        select(Entry.collective, Entry.work_type, Entry.status, Entry.district_decision).where(
            Entry.contest_id == contest.id,
            Entry.district == district,
            Entry.status.not_in(HIDDEN),
        )
    ).all()
    progress = Progress(district, quota=quota_of(contest, district))
    progress.collectives = len({row[0].strip() for row in rows})
    progress.entries = len(rows)
    progress.by_type = dict(Counter(row[1] for row in rows))
    progress.by_status = dict(Counter(row[2] for row in rows))
    progress.by_type_status = dict(Counter((row[1], row[2]) for row in rows))
    progress.by_decision = dict(Counter(row[3] for row in rows))
    return progress


def _lock(session: Session, contest: Contest) -> None:
    """Take the contest's row lock until commit: quota counts and changes wait for each
    other (on PostgreSQL; SQLite runs one writer at a time anyway)."""
    session.execute(select(Contest.id).where(Contest.id == contest.id).with_for_update())


def _check(session: Session, contest: Contest, entry: Entry, user: User) -> str:
    district = district_scope(user)
    if district is None or district_entry(session, contest, user, entry.id) is None:
        raise DistrictError(Message("这件作品不属于本县区，不能处理"))
    if not recommendation_open(session, contest):
        raise DistrictError(Message("市级评审已经开始，推荐结果已锁定；如需调整，请联系组委会"))
    return district


def _record(session: Session, contest: Contest, entry: Entry, user: User, kind: str) -> None:
    now = utcnow()
    entry.district_decided_by_id = user.id
    entry.district_decided_at = now
    session.add(
        Decision(
            contest_id=contest.id,
            kind=kind,
            subject=f"No.{entry.number:04d}",
            note=entry.district_reason,
            user_id=user.id,
            at=now,
        )
    )


def check_reason(text: str, required: bool) -> str:
    """A reason or note, trimmed; DistrictError when required and empty, or too long."""
    reason = text.strip()
    if required and not reason:
        raise DistrictError(Message("请写明不推荐的原因（告知参赛者时，对方会看到它）"))
    if len(reason) > REASON_LIMIT:
        raise DistrictError(
            Message(
                "原因不能超过 %(limit)d 个字（现在 %(n)d 个）", limit=REASON_LIMIT, n=len(reason)
            )
        )
    return reason


def recommend(
    session: Session, contest: Contest, entry: Entry, user: User, note: str = ""
) -> Entry:
    """Recommend the entry to the city, within the district's quota; commits. Recommending
    an entry already recommended changes nothing (a form sent twice)."""
    text = check_reason(note, required=False)
    try:
        return _recommend(session, contest, entry, user, text)
    except DistrictError:
        session.rollback()  # lets the contest's lock go
        raise


def _recommend(session: Session, contest: Contest, entry: Entry, user: User, text: str) -> Entry:
    _lock(session, contest)
    session.refresh(contest)
    session.refresh(entry)
    district = _check(session, contest, entry, user)
    if entry.district_decision == RECOMMENDED:
        session.rollback()
        return entry
    if entry.status is not EntryStatus.READY:
        raise DistrictError(Message("作品还没有处理完成（或未通过检查），暂不能推荐"))
    quota = quota_of(contest, district)
    if quota is None:
        raise DistrictError(Message("组委会还没有为本县区设置推荐名额，暂不能推荐"))
    used = recommended_count(session, contest.id, district)
    if used >= quota:
        raise DistrictError(
            Message(
                "推荐名额已用完：本县区名额 %(quota)d 件，已推荐 %(used)d 件。"
                "如要推荐这件，请先撤回另一件的推荐。",
                quota=quota,
                used=used,
            )
        )
    entry.district_decision, entry.district_reason = RECOMMENDED, text
    _record(session, contest, entry, user, "recommend")
    number, user_id = entry.number, user.id
    session.commit()
    log.info("entry %s recommended by district user %s", number, user_id)
    return entry


def decline(
    session: Session, contest: Contest, entry: Entry, user: User, reason: str, tell: bool = False
) -> Entry:
    """Decide not to recommend the entry, with a reason; with `tell`, its contestant is told
    why (`entry_not_recommended`). A recommended entry declined frees its place. The same
    reason sent again changes nothing. Commits."""
    text = check_reason(reason, required=True)
    _lock(session, contest)
    session.refresh(entry)
    try:
        _check(session, contest, entry, user)
    except DistrictError:
        session.rollback()
        raise
    if entry.district_decision == DECLINED and entry.district_reason == text:
        session.rollback()
        return entry
    entry.district_decision, entry.district_reason = DECLINED, text
    _record(session, contest, entry, user, "decline")
    if tell:
        tell_declined(session, entry)
    number, user_id = entry.number, user.id
    session.commit()
    log.info("entry %s not recommended by district user %s", number, user_id)
    return entry


def withdraw_recommendation(session: Session, contest: Contest, entry: Entry, user: User) -> Entry:
    """Take back a recommendation (or a decline): the entry waits for a decision again and
    its place is free. Nothing to take back changes nothing. Commits."""
    _lock(session, contest)
    session.refresh(entry)
    try:
        _check(session, contest, entry, user)
    except DistrictError:
        session.rollback()
        raise
    if entry.district_decision == "":
        session.rollback()
        return entry
    entry.district_decision, entry.district_reason = "", ""
    _record(session, contest, entry, user, "withdraw_recommend")
    session.commit()
    return entry


def tell_declined(session: Session, entry: Entry) -> list[int]:
    """Queue `entry_not_recommended` for the entry just declined (not committed)."""
    at = entry.district_decided_at.isoformat() if entry.district_decided_at else ""
    return tell_owner(
        session,
        "entry_not_recommended",
        entry,
        f"entry-{entry.id}-declined-{at}",
        {"entry_id": entry.id, "decided_at": at},
    )


def parse_quotas(contest: Contest, fields: dict[str, str]) -> dict[str, int]:
    """Quotas typed for the contest's districts ({district: text}; empty: no quota); other
    names are left out. DistrictError naming the first one that is not a whole number."""
    quotas: dict[str, int] = {}
    for district in contest.districts or []:
        # Full-width digits (a Chinese input method's "３") are the same number.
        text = unicodedata.normalize("NFKC", fields.get(district, "")).strip()
        if not text:
            continue
        value = ascii_int(text)
        if value is None or value > QUOTA_LIMIT:
            raise DistrictError(
                Message(
                    "“%(district)s”的名额应为 0 到 %(limit)d 的整数",
                    district=district,
                    limit=QUOTA_LIMIT,
                )
            )
        quotas[district] = value
    return quotas


def set_quotas(
    session: Session, contest: Contest, quotas: dict[str, int], required: bool, user: User
) -> None:
    """The city organizer's quotas and the recommended-only switch; commits. A quota below
    what the district has already recommended is refused, naming the district: the
    district organizer withdraws first, so no recommendation is dropped silently."""
    _lock(session, contest)
    session.refresh(contest)
    for district in sorted(set(contest.district_quotas or {}) | set(quotas)):
        used = recommended_count(session, contest.id, district)
        new = quotas.get(district)
        if used and (new is None or new < used):
            session.rollback()
            raise DistrictError(
                Message(
                    "“%(district)s”已推荐 %(used)d 件，名额不能少于 %(used)d；"
                    "如要减少，请先请该县区撤回部分推荐",
                    district=district,
                    used=used,
                )
            )
    changed = (
        quotas != (contest.district_quotas or {}) or required != contest.recommendation_required
    )
    contest.district_quotas = quotas
    contest.recommendation_required = required
    if changed:
        shown = "，".join(f"{d} {n}" for d, n in quotas.items())
        session.add(
            Decision(
                contest_id=contest.id,
                kind="set_quotas",
                subject="recommended_only" if required else "all_entries",
                note=shown,
                user_id=user.id,
            )
        )
    session.commit()


def left_out(session: Session, contest: Contest) -> dict[str, int]:
    """What the city's review and judging leave out while only recommended entries count:
    sent entries waiting for their district's decision, and those not recommended."""
    rows = session.execute(
        select(Entry.district_decision, func.count())
        .where(
            Entry.contest_id == contest.id,
            Entry.status.not_in(HIDDEN),
            Entry.district_decision != RECOMMENDED,
        )
        .group_by(Entry.district_decision)
    )
    counts = dict(rows.tuples().all())
    return {"pending": counts.get("", 0), DECLINED: counts.get(DECLINED, 0)}
