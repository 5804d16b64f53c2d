"""judging/access.py: every view × every predicate, and which view each user gets of an
entry (owner, staff, district organizer, judge blind or not, the public, nobody)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from judging.access import (
    PREDICATES,
    STAFF,
    Context,
    EntryView,
    can_download_original,
    can_judge,
    can_view_contact,
    can_view_identity,
    can_view_submission,
    can_view_work,
    entry_view,
    flags,
)
from storage.models import Contest, Entry, EntryStatus, Role, Round

V = EntryView
# What each view may do, in the order of COLUMNS; the table judging/access.py documents.
COLUMNS = ("work", "identity", "contact", "judge", "submission", "original")
TABLE = {
    V.NONE: (0, 0, 0, 0, 0, 0),
    V.PUBLIC: (1, 1, 0, 0, 0, 0),
    V.BLIND_JUDGE: (1, 0, 0, 1, 0, 0),
    V.JUDGE: (1, 1, 0, 1, 0, 0),
    V.DISTRICT: (1, 1, 1, 0, 0, 0),
    V.OWNER: (1, 1, 1, 0, 1, 1),
    V.STAFF: (1, 1, 1, 0, 1, 1),
}
FUNCTIONS = {
    "work": can_view_work,
    "identity": can_view_identity,
    "contact": can_view_contact,
    "judge": can_judge,
    "submission": can_view_submission,
    "original": can_download_original,
}


def test_the_table_covers_every_view_and_every_predicate() -> None:
    assert set(TABLE) == set(EntryView)
    assert set(COLUMNS) == set(PREDICATES) == set(FUNCTIONS)


@pytest.mark.parametrize("view", list(EntryView), ids=lambda v: v.name)
@pytest.mark.parametrize("name", COLUMNS)
def test_every_view_by_every_predicate(view: EntryView, name: str) -> None:
    expected = bool(TABLE[view][COLUMNS.index(name)])
    assert FUNCTIONS[name](view) is expected
    assert PREDICATES[name](view) is expected
    assert flags(view)[name] is expected


@dataclass
class Viewer:
    id: int
    role: Role
    district: str = ""


OWNER_ID, CONTEST_ID = 10, 5


def entry(**fields: object) -> Entry:
    values: dict[str, object] = {
        "owner_id": OWNER_ID,
        "contest_id": CONTEST_ID,
        "district": "海曙区",
        "status": EntryStatus.READY,
        "approved_at": None,
    }
    values.update(fields)
    return Entry(**values)


def judging(blind: bool, contest_id: int = CONTEST_ID) -> Context:
    return Context(judging=Round(contest_id=contest_id, contest=Contest(blind=blind)))


APPROVED = datetime(2026, 5, 1, tzinfo=UTC)
CASES = [
    # (who, entry fields, context, view)
    ("nobody", None, {}, Context(), V.NONE),
    ("public, gallery shown", None, {"approved_at": APPROVED}, Context(gallery=True), V.PUBLIC),
    ("public, gallery hidden", None, {"approved_at": APPROVED}, Context(), V.NONE),
    ("public, not approved", None, {}, Context(gallery=True), V.NONE),
    (
        "public, not ready",
        None,
        {"approved_at": APPROVED, "status": EntryStatus.PROCESSING},
        Context(gallery=True),
        V.NONE,
    ),
    ("owner", Viewer(OWNER_ID, Role.CONTESTANT), {"status": EntryStatus.DRAFT}, Context(), V.OWNER),
    ("other contestant", Viewer(11, Role.CONTESTANT), {}, Context(), V.NONE),
    (
        "other contestant, in gallery",
        Viewer(11, Role.CONTESTANT),
        {"approved_at": APPROVED},
        Context(gallery=True),
        V.PUBLIC,
    ),
    ("organizer", Viewer(1, Role.ORGANIZER), {"status": EntryStatus.DRAFT}, Context(), V.STAFF),
    ("operator", Viewer(2, Role.OPERATOR), {}, Context(), V.STAFF),
    ("district", Viewer(3, Role.DISTRICT, "海曙区"), {}, Context(), V.DISTRICT),
    ("district, padded", Viewer(3, Role.DISTRICT, " 海曙区 "), {}, Context(), V.DISTRICT),
    ("other district", Viewer(3, Role.DISTRICT, "江北区"), {}, Context(), V.NONE),
    ("district unbound", Viewer(3, Role.DISTRICT, ""), {"district": ""}, Context(), V.NONE),
    (
        "district, draft",
        Viewer(3, Role.DISTRICT, "海曙区"),
        {"status": EntryStatus.DRAFT},
        Context(),
        V.NONE,
    ),
    (
        "district, withdrawn",
        Viewer(3, Role.DISTRICT, "海曙区"),
        {"status": EntryStatus.WITHDRAWN},
        Context(),
        V.NONE,
    ),
    # A contestant bound to a district (forged or left over) is no district organizer.
    ("contestant with district", Viewer(11, Role.CONTESTANT, "海曙区"), {}, Context(), V.NONE),
    ("judge, blind", Viewer(4, Role.JUDGE), {}, judging(blind=True), V.BLIND_JUDGE),
    ("judge, open", Viewer(4, Role.JUDGE), {}, judging(blind=False), V.JUDGE),
    ("judge, unassigned", Viewer(4, Role.JUDGE), {}, Context(), V.NONE),
    ("judge, other contest", Viewer(4, Role.JUDGE), {}, judging(True, contest_id=6), V.NONE),
    # Only judges judge: a round handed in for another role gives nothing more.
    ("contestant, round", Viewer(11, Role.CONTESTANT), {}, judging(blind=False), V.NONE),
    ("district, round", Viewer(3, Role.DISTRICT, "江北区"), {}, judging(blind=False), V.NONE),
]


@pytest.mark.parametrize(
    ("who", "user", "fields", "context", "view"), CASES, ids=[c[0] for c in CASES]
)
def test_which_view_a_user_gets(
    who: str, user: Viewer | None, fields: dict[str, object], context: Context, view: EntryView
) -> None:
    assert entry_view(user, entry(**fields), context) is view


def test_staff_roles_are_the_organizer_and_operator() -> None:
    assert frozenset({Role.ORGANIZER, Role.OPERATOR}) == STAFF


def test_a_blind_judge_never_reads_who_made_it_nor_the_submission() -> None:
    view = entry_view(Viewer(4, Role.JUDGE), entry(), judging(blind=True))
    assert flags(view) == {
        "work": True,
        "identity": False,
        "contact": False,
        "judge": True,
        "submission": False,
        "original": False,
    }
