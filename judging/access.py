"""Who may see what of an entry: one policy for every page, after HotCRP's
`Contact::can_view_review`.

`entry_view` answers how a user (None: someone not signed in) sees an entry, given what the
page knows about the context (the round the user judges it in, whether the gallery is
public); the predicates answer what that view shows. Pages ask once and pass the answers to
their templates as flags: no template decides what a blind judge may read.

| view        | work | identity | contact | judge | submission | original |
|-------------|------|----------|---------|-------|------------|----------|
| NONE        |      |          |         |       |            |          |
| PUBLIC      | yes  | yes      |         |       |            |          |
| BLIND_JUDGE | yes  |          |         | yes   |            |          |
| JUDGE       | yes  | yes      |         | yes   |            |          |
| DISTRICT    | yes  | yes      | yes     |       |            |          |
| OWNER       | yes  | yes      | yes     |       | yes        | yes      |
| STAFF       | yes  | yes      | yes     |       | yes        | yes      |

Identity is what names who made it (its number, collective, district, industry); contact
the contact person and phone; judge scoring it under its code in the round (judges never
read an entry by its id); submission the pages under the entry's id (processing state, QC
report, every upload's file name, the storyboard by id); original the uploaded file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from storage.models import Entry, EntryStatus, Role, Round

STAFF = frozenset({Role.ORGANIZER, Role.OPERATOR})
# Entries nobody but their owner and staff sees: not sent in, or taken back.
HIDDEN = (EntryStatus.DRAFT, EntryStatus.WITHDRAWN)


class EntryView(Enum):
    """How much of an entry a user sees, least first."""

    NONE = "none"
    PUBLIC = "public"  # the gallery's: an approved, ready entry of a published gallery
    BLIND_JUDGE = "blind_judge"  # the work only, under its code
    JUDGE = "judge"  # the work and who made it, under its code
    DISTRICT = "district"  # its own district's organizer
    OWNER = "owner"
    STAFF = "staff"


class Viewer(Protocol):
    """What the policy reads of a user (a storage User or the signed-in LoginUser)."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> Role: ...

    @property
    def district(self) -> str: ...


@dataclass(frozen=True)
class Context:
    """What the asking page knows: `judging` the round in which the user is assigned the
    entry (None when not assigned, conflicted or no round runs), `gallery` whether the
    entry's contest shows its gallery to the public now."""

    judging: Round | None = None
    gallery: bool = False


NO_CONTEXT = Context()


def in_gallery(entry: Entry, gallery: bool) -> bool:
    """Whether the public sees the entry: approved and ready, in a gallery shown now."""
    return gallery and entry.approved_at is not None and entry.status is EntryStatus.READY


def entry_view(user: Viewer | None, entry: Entry, context: Context = NO_CONTEXT) -> EntryView:
    """How `user` sees `entry` in `context`: the most the user's role and relation to it
    allow, else the public's, else nothing."""
    if user is not None:
        if user.role in STAFF:
            return EntryView.STAFF
        if entry.owner_id == user.id:
            return EntryView.OWNER
        district = (user.district or "").strip()
        if (
            user.role is Role.DISTRICT
            and district
            and entry.district == district
            and entry.status not in HIDDEN
        ):
            return EntryView.DISTRICT
        rnd = context.judging
        if user.role is Role.JUDGE and rnd is not None and rnd.contest_id == entry.contest_id:
            return EntryView.BLIND_JUDGE if rnd.contest.blind else EntryView.JUDGE
    return EntryView.PUBLIC if in_gallery(entry, context.gallery) else EntryView.NONE


def can_view_work(view: EntryView) -> bool:
    """The work itself: title, summary, video, images, story."""
    return view is not EntryView.NONE


def can_view_identity(view: EntryView) -> bool:
    """Who made it: number, collective, district, industry."""
    return view not in (EntryView.NONE, EntryView.BLIND_JUDGE)


def can_view_contact(view: EntryView) -> bool:
    """The contact person and phone."""
    return view in (EntryView.DISTRICT, EntryView.OWNER, EntryView.STAFF)


def can_judge(view: EntryView) -> bool:
    """Scoring it, under its code in the round (blind or not)."""
    return view in (EntryView.BLIND_JUDGE, EntryView.JUDGE)


def can_view_submission(view: EntryView) -> bool:
    """The entry under its id as sent in: processing, QC, uploads' file names (the owner's
    and staff's pages, the API)."""
    return view in (EntryView.OWNER, EntryView.STAFF)


def can_download_original(view: EntryView) -> bool:
    """The uploaded original file."""
    return view in (EntryView.OWNER, EntryView.STAFF)


PREDICATES = {
    "work": can_view_work,
    "identity": can_view_identity,
    "contact": can_view_contact,
    "judge": can_judge,
    "submission": can_view_submission,
    "original": can_download_original,
}


def flags(view: EntryView) -> dict[str, bool]:
    """Every predicate's answer for `view`, for a template (`access.identity`, ...)."""
    return {name: allowed(view) for name, allowed in PREDICATES.items()}
