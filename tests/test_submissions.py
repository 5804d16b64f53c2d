"""Entry rules: field validation, deadlines, numbering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from judging.submissions import (
    SubmissionError,
    check_changeable,
    check_open,
    create_entry,
    update_entry,
    validate_fields,
    withdraw_entry,
)
from storage.models import Contest, EntryStatus
from tests.factories import ENTRY_FIELDS, make_entry, make_user, open_contest, unique


@pytest.mark.parametrize(
    "phone", ["13800138000", "0531-88888888", "053188888888", "010-1234567", "138 0013 8000"]
)
def test_good_phone_numbers(phone: str) -> None:
    assert validate_fields({**ENTRY_FIELDS, "contact_phone": phone}).contact_phone


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "请填写作品名称"),
        ("title", "长" * 101, "作品名称不能超过 100 个字"),
        ("collective", "   ", "请填写集体名称"),
        ("district", "", "请填写所属县（市）区或市直单位"),
        ("contact_phone", "12345", "联系电话格式不正确"),
        ("contact_phone", "23800138000", "联系电话格式不正确"),
        ("summary", "字" * 1001, "简介不能超过 1000 个字"),
    ],
)
def test_each_wrong_field_gets_its_own_message(field: str, value: str, message: str) -> None:
    with pytest.raises(SubmissionError) as caught:
        validate_fields({**ENTRY_FIELDS, field: value})
    assert message in caught.value.errors[field]
    assert set(caught.value.errors) == {field}


def test_all_wrong_fields_are_reported_together() -> None:
    with pytest.raises(SubmissionError) as caught:
        validate_fields({})
    assert set(caught.value.errors) == {
        "title",
        "collective",
        "category",
        "district",
        "industry",
        "contact_name",
        "contact_phone",
        "email",
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("district", "火星区", "请从列表中选择所属县（市）区或市直单位"),
        ("industry", "航天", "请从列表中选择行业"),
        ("authorized", "", "请阅读并同意作品授权声明"),
        ("category", "other", "请选择类别"),
        ("email", "not-an-address", "电子邮箱格式不正确"),
    ],
)
def test_contest_choices_and_the_statement(field: str, value: str, message: str) -> None:
    contest = Contest(slug="c", title="t", districts=["市直单位"], industries=["医疗卫生"])
    with pytest.raises(SubmissionError) as caught:
        validate_fields({**ENTRY_FIELDS, field: value}, contest)
    assert set(caught.value.errors) == {field} and message in caught.value.errors[field]


def test_a_contest_without_lists_takes_free_text() -> None:
    contest = Contest(slug="c", title="t", districts=[], industries=[])
    fields = validate_fields({**ENTRY_FIELDS, "district": "新区", "industry": "航天"}, contest)
    assert (fields.district, fields.industry) == ("新区", "航天")


def test_edits_and_withdrawal_before_the_deadline_only(session: Session) -> None:
    contest = open_contest(session)
    entry = create_entry(session, contest, make_user(session), validate_fields(ENTRY_FIELDS))
    assert entry.authorized_at is not None
    update_entry(session, entry, validate_fields({**ENTRY_FIELDS, "title": "新的名字"}))
    assert entry.title == "新的名字"
    withdraw_entry(session, entry)
    assert entry.status is EntryStatus.WITHDRAWN
    with pytest.raises(SubmissionError, match="已撤回"):
        update_entry(session, entry, validate_fields(ENTRY_FIELDS))
    late = Contest(slug=unique("late-"), title="t", closes_at=datetime.now(UTC) - timedelta(1))
    closed = make_entry(session, make_user(session), late)
    with pytest.raises(SubmissionError, match="已截止"):
        withdraw_entry(session, closed)
    with pytest.raises(SubmissionError, match="已截止"):
        check_changeable(closed)


def test_submissions_close_at_the_deadline() -> None:
    now = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    contest = Contest(slug="x", title="t", opens_at=now - timedelta(days=10), closes_at=now)
    check_open(contest, now - timedelta(seconds=1))
    with pytest.raises(SubmissionError, match="已截止"):
        check_open(contest, now)
    with pytest.raises(SubmissionError, match="尚未开始"):
        check_open(contest, now - timedelta(days=11))


def test_entries_get_consecutive_numbers(session: Session) -> None:
    contest = open_contest(session)
    owner = make_user(session)
    fields = validate_fields(ENTRY_FIELDS)
    first = create_entry(session, contest, owner, fields)
    second = create_entry(session, contest, owner, fields)
    assert second.number == first.number + 1


def test_upload_starts_count_in_a_sliding_window(session: Session) -> None:
    from judging.upload_limits import TooManyUploads, count_upload_start

    user = make_user(session)
    start = datetime.now(UTC)
    for minutes in (0, 20, 40):
        count_upload_start(session, user.id, "3/hour", start + timedelta(minutes=minutes))
    with pytest.raises(TooManyUploads, match="分钟后再试") as refused:
        count_upload_start(session, user.id, "3/hour", start + timedelta(minutes=50))
    assert refused.value.retry_after == 10 * 60  # when the first start leaves the window
    count_upload_start(session, user.id, "3/hour", start + timedelta(minutes=61))
    with pytest.raises(TooManyUploads):
        count_upload_start(session, user.id, "3/hour;100/day", start + timedelta(minutes=62))
