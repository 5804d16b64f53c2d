"""Judges invited from the site: accounts, one-time activation links, import, conflicts."""

from __future__ import annotations

import dataclasses
import io
import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import generate_password_hash

from judging.accounts import LockoutPolicy, check_login, set_password
from judging.assignment import AssignmentError, Party, assign, automatic_conflicts
from judging.judge_import import JudgeImportError, import_judges
from judging.judge_invitations import (
    ActivationError,
    JudgeError,
    JudgeFields,
    activate,
    create_judges,
    find_token,
    judge_rows,
    resend,
    revoke,
    set_active,
    token_digest,
    validate_judge,
)
from judging.rounds import assign_round, invite, open_round
from storage.models import (
    ActivationToken,
    Assignment,
    Contest,
    Entry,
    EntryStatus,
    Role,
    User,
    utcnow,
)
from storage.settings import Settings
from tests.factories import make_entry, make_user, unique
from web import create_app

pytestmark = pytest.mark.integration

GOOD_PASSWORD = "青春足迹-评委-2026"
POLICY = LockoutPolicy(attempts=0, minutes=0)
DISTRICTS = ["历下区", "市中区", "槐荫区", "市直单位"]


def fresh_phone() -> str:
    return f"139{unique(''):0>8}"[-11:]


def judge(session: Session, **overrides: str) -> tuple[User, str]:
    """A new invited judge and the token of their link."""
    fields = JudgeFields(
        display_name=overrides.get("display_name", "李评委"),
        unit=overrides.get("unit", "市艺术学校"),
        district=overrides.get("district", "历下区"),
        phone=overrides.get("phone", fresh_phone()),
        email=overrides.get("email", ""),
    )
    link = create_judges(session, [fields], None)[0]
    return link.user, link.token


def contest_with_districts(session: Session, **fields: Any) -> Contest:
    """A new current contest (the newest one) listing DISTRICTS."""
    contest = Contest(
        slug=unique("judges-"), title="评委邀请测试活动", districts=DISTRICTS, **fields
    )
    session.add(contest)
    session.commit()
    return contest


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "请填写姓名"),
        ("phone", "", "请填写手机"),
        ("phone", "1380013800", "手机号格式不正确"),
        ("phone", "1٣800138000", "手机号格式不正确"),  # an Arabic-Indic digit
        ("email", "li@", "邮箱格式不正确"),
        ("district", "历下", "所属区县应为本次活动的区县之一"),
        ("username", "李", "用户名为 3 到 32 位"),
        ("unit", "单" * 101, "单位不能超过 100 个字"),
    ],
)
def test_each_wrong_field_is_named(field: str, value: str, message: str) -> None:
    data = {"display_name": "李评委", "phone": "13800138000", "district": "历下区", field: value}
    with pytest.raises(JudgeError) as refused:
        validate_judge(data, DISTRICTS)
    assert set(refused.value.errors) == {field}
    assert message in refused.value.errors[field]


def test_phones_are_written_one_way() -> None:
    fields = validate_judge({"display_name": "李", "phone": "+86 138 0013 8000"})
    assert fields.phone == "13800138000" and fields.district == ""
    # Full-width digits, as Chinese input methods type them, are the same number.
    assert (
        validate_judge({"display_name": "李", "phone": "１３８００１３８０００"}).phone
        == "13800138000"
    )


def test_an_invited_judge_cannot_log_in_until_they_activate(session: Session) -> None:
    user, token = judge(session, email="Li.Ping@example.org")
    assert user.role is Role.JUDGE and user.active and user.username.startswith("li.ping")
    stored = session.scalars(select(ActivationToken).where(ActivationToken.user_id == user.id))
    [row] = list(stored)
    # Only the digest is kept, and the link lives for a week.
    assert row.token_sha256 == token_digest(token) != token and token not in row.token_sha256
    assert timedelta(days=6, hours=23) < row.expires_at - row.created_at <= timedelta(days=7)
    for guess in ("", token, "password123", user.username):
        assert check_login(session, user.username, guess, POLICY) is None
    # A weak password is refused and the link still works.
    with pytest.raises(ActivationError) as weak:
        activate(session, token, "1234567890", generate_password_hash)
    assert weak.value.reason == "password" and "太常见" in weak.value.message
    with pytest.raises(ActivationError) as named:
        activate(session, token, f"{user.username}2026", generate_password_hash)
    assert named.value.reason == "password"
    version = user.session_version
    activate(session, token, GOOD_PASSWORD, generate_password_hash)
    session.refresh(user)
    assert check_login(session, user.username, GOOD_PASSWORD, POLICY) == user
    assert user.session_version == version + 1  # sessions signed in before end
    with pytest.raises(ActivationError) as again:
        activate(session, token, "另一个足够长的密码-2027", generate_password_hash)
    assert again.value.reason == "used" and "已使用过" in again.value.message
    assert check_login(session, user.username, GOOD_PASSWORD, POLICY) == user
    # An activated judge needs no invitation: a password reset is the way back in.
    with pytest.raises(JudgeError):
        resend(session, user, None)
    with pytest.raises(JudgeError):
        revoke(session, user)


def test_unknown_revoked_and_expired_links_each_say_so(session: Session) -> None:
    with pytest.raises(ActivationError) as unknown:
        find_token(session, "x" * 43)
    assert unknown.value.reason == "unknown" and "链接无效" in unknown.value.message
    user, old = judge(session)
    new = resend(session, user, None).token
    with pytest.raises(ActivationError) as revoked:
        activate(session, old, GOOD_PASSWORD, generate_password_hash)
    assert revoked.value.reason == "revoked" and "已作废" in revoked.value.message
    later = utcnow() + timedelta(days=7, minutes=1)
    with pytest.raises(ActivationError) as expired:
        activate(session, new, GOOD_PASSWORD, generate_password_hash, now=later)
    assert expired.value.reason == "expired" and "已过期" in expired.value.message
    assert {r.user.id: r.state for r in judge_rows(session, now=later)}[user.id] == "expired"
    activate(session, new, GOOD_PASSWORD, generate_password_hash)


def test_revoking_takes_the_judge_out_until_a_new_invitation(session: Session) -> None:
    user, token = judge(session)
    assert {r.user.id: r.state for r in judge_rows(session)}[user.id] == "pending"
    revoke(session, user)
    assert not user.active
    assert {r.user.id: r.state for r in judge_rows(session)}[user.id] == "revoked"
    with pytest.raises(ActivationError) as refused:
        find_token(session, token)
    assert refused.value.reason == "revoked"
    again = resend(session, user, None)
    assert user.active and find_token(session, again.token).user_id == user.id
    set_active(session, user, False)
    assert {r.user.id: r.state for r in judge_rows(session)}[user.id] == "inactive"
    with pytest.raises(ActivationError) as stopped:
        find_token(session, again.token)
    assert stopped.value.reason == "inactive"


def test_a_password_reset_ends_the_invitation(session: Session) -> None:
    user, token = judge(session)
    set_password(session, user, generate_password_hash(GOOD_PASSWORD))
    assert {r.user.id: r.state for r in judge_rows(session)}[user.id] == "active"
    with pytest.raises(ActivationError) as used:
        find_token(session, token)
    assert used.value.reason == "used"
    with pytest.raises(JudgeError):
        resend(session, user, None)  # a judge with a password needs no invitation


def test_two_tabs_sending_the_same_link_set_one_password(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    """Both tabs have passed every check when they hash their passwords; the barrier holds
    them there, so both really race to mark the link used."""
    user, token = judge(session)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def hashed_after_both_checked(password: str) -> str:
        barrier.wait()
        return generate_password_hash(password)

    def tab(password: str) -> None:
        with session_factory() as own:
            try:
                activate(own, token, password, hashed_after_both_checked)
                outcomes[password] = "set"
            except ActivationError as exc:
                outcomes[password] = exc.reason

    tabs = [
        threading.Thread(target=tab, args=(p,))
        for p in ("第一个标签页设置的密码", "第二个标签页设置的密码")
    ]
    for t in tabs:
        t.start()
    for t in tabs:
        t.join()
    assert sorted(outcomes.values()) == ["set", "used"]
    winner = next(p for p, outcome in outcomes.items() if outcome == "set")
    session.refresh(user)
    assert check_login(session, user.username, winner, POLICY) == user


def test_a_double_click_adds_one_judge(session_factory: sessionmaker[Session]) -> None:
    """Both requests checked the phone before either added the judge: the second is told."""
    fields = JudgeFields("双击的评委", "", "", fresh_phone(), "")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def click() -> None:
        with session_factory() as own:
            barrier.wait()
            try:
                create_judges(own, [fields], None)
                outcomes.append("added")
            except JudgeError as exc:
                outcomes.append(exc.errors["phone"])

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    assert sorted(outcomes)[0] == "added" and "已是评委 双击的评委" in sorted(outcomes)[1]
    with session_factory() as check:
        assert check.scalar(select(func.count()).where(User.phone == fields.phone)) == 1


def csv_bytes(lines: list[str], encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_a_spreadsheet_imports_in_any_encoding_excel_writes(
    session: Session, encoding: str
) -> None:
    a, b = fresh_phone(), fresh_phone()
    data = csv_bytes(
        [
            "序号,姓名,单位,区县,手机号,电子邮箱",
            f"1,王芳,市一中,历下区,{a},",
            f"2,赵强,,市中区,{b},",
        ],
        encoding,
    )
    result = import_judges(session, data, None, DISTRICTS)
    assert [(link.user.display_name, link.user.district) for link in result.created] == [
        ("王芳", "历下区"),
        ("赵强", "市中区"),
    ]
    assert all(find_token(session, link.token) for link in result.created)
    assert result.created[0].user.unit == "市一中"


def test_an_xlsx_imports_too(session: Session) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["姓名", "所属区县", "手机", "邮箱"])
    phone = fresh_phone()
    sheet.append(["孙丽", "槐荫区", int(phone), f"sun{phone}@example.org"])  # typed as a number
    out = io.BytesIO()
    book.save(out)
    [link] = import_judges(session, out.getvalue(), None, DISTRICTS).created
    assert link.user.phone == phone and link.user.username == f"sun{phone}"


def test_a_file_with_any_problem_imports_nobody_and_names_each_line(session: Session) -> None:
    taken, ok = fresh_phone(), fresh_phone()
    judge(session, display_name="周老师", phone=taken)
    before = session.scalar(select(func.count()).select_from(User))
    data = csv_bytes(
        [
            "姓名,单位,所属区县,手机,邮箱",
            f"钱一,单位甲,历下区,{ok},qian@example.org",  # line 2: fine
            f"钱二,单位乙,历下,{fresh_phone()},",  # 3: not one of the contest's districts
            "钱三,单位丙,,12345,",  # 4: a wrong phone
            f"钱四,单位丁,,{ok},",  # 5: line 2's phone again
            f"钱五,单位戊,,{fresh_phone()},qian@",  # 6: a wrong e-mail
            f"吴某,单位己,,{taken},",  # 7: another judge's phone
            f",单位庚,,{fresh_phone()},",  # 8: no name
        ]
    )
    with pytest.raises(JudgeImportError) as refused:
        import_judges(session, data, None, DISTRICTS)
    lines = {p.line: p.message for p in refused.value.problems}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8]
    assert "所属区县应为" in lines[3] and "手机号格式不正确" in lines[4]
    assert "与第 2 行相同" in lines[5] and "邮箱格式不正确" in lines[6]
    assert "周老师" in lines[7] and "请填写姓名" in lines[8]
    assert session.scalar(select(func.count()).select_from(User)) == before


def test_headings_that_are_missing_or_unknown_are_named(session: Session) -> None:
    with pytest.raises(JudgeImportError) as missing:
        import_judges(session, csv_bytes(["姓名,单位", "王,某"]), None)
    assert [p.message for p in missing.value.problems] == ["缺少“手机”一列"]
    with pytest.raises(JudgeImportError) as unknown:
        import_judges(session, csv_bytes(["姓名,手机,邮 件地址", f"王,{fresh_phone()},"]), None)
    assert "不认识的列：邮 件地址" in unknown.value.problems[0].message
    with pytest.raises(JudgeImportError) as garbage:
        import_judges(session, b"PK\x03\x04 not a workbook", None)
    assert "XLSX" in garbage.value.problems[0].message


def test_judges_already_on_the_list_are_left_alone(session: Session) -> None:
    phone = fresh_phone()
    existing, _token = judge(session, display_name="郑老师", phone=phone, unit="旧单位")
    new_phone = fresh_phone()
    data = csv_bytes(["姓名,单位,手机", f"郑老师,新单位,{phone}", f"冯老师,某单位,{new_phone}"])
    result = import_judges(session, data, None)
    assert [(line, u.id) for line, u in result.existing] == [(2, existing.id)]
    assert [link.user.phone for link in result.created] == [new_phone]
    session.refresh(existing)
    assert existing.unit == "旧单位"  # never updated: a round may be assigned by it
    # Importing the same file again adds nobody.
    again = import_judges(session, data, None)
    assert again.created == [] and len(again.existing) == 2


def test_an_imported_judge_is_never_given_an_entry_of_their_own_district(
    session: Session,
) -> None:
    contest = contest_with_districts(session, auto_conflicts=["district"], judges_per_entry=2)
    owner = make_user(session)
    entries: list[Entry] = []
    for district in ["历下区", "历下区", "市中区", "市中区", "槐荫区", "槐荫区"]:
        entry = make_entry(session, owner, contest)
        entry.district, entry.status = district, EntryStatus.READY
        entries.append(entry)
    session.commit()
    rows = ["姓名,单位,所属区县,手机"] + [
        f"评委{i},单位{i},{d},{fresh_phone()}"
        for i, d in enumerate(["历下区", "历下区", "市中区", "槐荫区", ""])
    ]
    created = import_judges(session, csv_bytes(rows), None, DISTRICTS).created
    rnd = open_round(session, contest, "初评")
    invite(session, rnd, {link.user.id for link in created})
    for seed in range(5):
        assert assign_round(session, rnd, entries, seed=seed) == 2 * len(entries)
        pairs = session.execute(
            select(User.district, Entry.district)
            .join(Assignment, Assignment.judge_id == User.id)
            .join(Entry, Entry.id == Assignment.entry_id)
            .where(Assignment.round_id == rnd.id)
        ).all()
        assert len(pairs) == 12 and all(judge_d != entry_d for judge_d, entry_d in pairs)
    # A deactivated judge drops out of the next assignment; what was assigned stays.
    leaving = created[0].user
    set_active(session, leaving, False)
    assign_round(session, rnd, entries, seed=9)
    assert leaving.id not in set(
        session.scalars(select(Assignment.judge_id).where(Assignment.round_id == rnd.id))
    )


def test_with_every_judge_deactivated_an_empty_round_assigns_nothing() -> None:
    """The organizer may deactivate every judge; assigning then is no server error."""
    assert assign([], [], 3) == {}
    with pytest.raises(AssignmentError):
        assign([1], [], 3)


# --- the organizer's pages and the activation page ---------------------------------------


def organizer_client(client: FlaskClient, auth: Any, session: Session) -> User:
    organizer = make_user(session, Role.ORGANIZER)
    assert auth.login(organizer.username).status_code == 302
    return organizer


def link_tokens(page: str) -> list[str]:
    return re.findall(r"/auth/activate/([A-Za-z0-9_-]{40,})", page)


def test_the_organizer_adds_a_judge_and_sees_the_link_once(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    contest_with_districts(session)
    organizer_client(client, auth, session)
    form = {"display_name": "陈老师", "unit": "市图书馆", "district": "市中区",
            "phone": "138-0013", "email": "chen@example.org"}  # fmt: skip
    wrong = client.post("/admin/judges", data=form)
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "手机号格式不正确" in page
    assert 'data-error-for="phone">手机号格式不正确' in page.replace("\n", "")
    for kept in ("陈老师", "市图书馆", "chen@example.org", "138-0013"):
        assert f'value="{kept}"' in page
    assert re.search(r'<option selected value="市中区">|<option value="市中区" selected', page)
    assert not session.scalar(select(User).where(User.email == "chen@example.org"))
    phone = fresh_phone()
    added = client.post("/admin/judges", data={**form, "phone": phone})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and added.headers["Cache-Control"] == "no-store"
    [token] = set(link_tokens(page))
    user = find_token(session, token).user
    assert (user.display_name, user.unit, user.district, user.phone) == (
        "陈老师", "市图书馆", "市中区", phone)  # fmt: skip
    assert token not in (added.headers.get("Set-Cookie") or "")
    listing = client.get("/admin/judges").get_data(as_text=True)
    assert token not in listing and "陈老师" in listing and "未激活" in listing
    # Sending the same form again (a reload) adds nobody: the phone is on the list.
    again = client.post("/admin/judges", data={**form, "phone": phone})
    assert again.status_code == 400 and "该手机号已是评委 陈老师" in again.get_data(as_text=True)
    assert session.scalar(select(func.count()).where(User.phone == phone)) == 1


def test_resend_revoke_and_deactivate_from_the_list(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    organizer_client(client, auth, session)
    user, old = judge(session, display_name="林老师")
    resent = client.post(f"/admin/judges/{user.id}/resend")
    assert resent.headers["Cache-Control"] == "no-store"
    [new] = set(link_tokens(resent.get_data(as_text=True)))
    with pytest.raises(ActivationError):
        find_token(session, old)
    page = client.post(f"/admin/judges/{user.id}/revoke", follow_redirects=True)
    assert "已撤销 林老师 的邀请" in page.get_data(as_text=True)
    session.refresh(user)
    assert not user.active
    with pytest.raises(ActivationError):
        find_token(session, new)
    listing = client.get("/admin/judges").get_data(as_text=True)
    assert "邀请已撤销" in listing and new not in listing
    # Other roles' accounts and unknown ids are not judges to invite.
    contestant = make_user(session)
    for path in (f"/admin/judges/{contestant.id}/resend", "/admin/judges/2147483647/revoke"):
        assert client.post(path).status_code == 404
    stopped = client.post(f"/admin/judges/{user.id}/active", data={"active": "0"})
    assert stopped.status_code == 302


def test_the_import_page_shows_every_problem_or_every_link(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    organizer_client(client, auth, session)
    bad = csv_bytes(["姓名,手机", "许老师,123"], "gbk")
    page = client.post(
        "/admin/judges/import", data={"file": (io.BytesIO(bad), "评委.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert page.status_code == 400 and "第 2 行：手机号格式不正确" in page.get_data(as_text=True)
    a, b = fresh_phone(), fresh_phone()
    good = csv_bytes(["姓名,手机", f"许老师,{a}", f"何老师,{b}"], "gbk")
    page = client.post(
        "/admin/judges/import", data={"file": (io.BytesIO(good), "评委.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "已导入 2 位评委" in text and len(set(link_tokens(text))) == 2
    empty = client.post("/admin/judges/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "请选择要导入的评委名单文件" in empty.get_data(as_text=True)


def test_the_judge_activates_and_lands_logged_in(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    user, token = judge(session, display_name="黄老师")
    page = client.get(f"/auth/activate/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "黄老师" in text and user.username in text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"  # the link never leaves the site
    weak = client.post(f"/auth/activate/{token}", data={"password": "abc", "confirm": "abc"})
    assert "密码至少 10 位" in weak.get_data(as_text=True)
    differ = client.post(
        f"/auth/activate/{token}", data={"password": GOOD_PASSWORD, "confirm": "x"}
    )
    assert "两次输入的密码不一致" in differ.get_data(as_text=True)
    done = client.post(
        f"/auth/activate/{token}", data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    )
    assert done.status_code == 302 and done.location.endswith("/judge/")
    assert client.get("/judge/").status_code == 200  # logged in as the judge
    # The same link again: it is used, the page says so and points to the login page.
    auth.logout()
    used = client.get(f"/auth/activate/{token}")
    assert used.status_code == 410 and "已使用过" in used.get_data(as_text=True)
    assert "/auth/login" in used.get_data(as_text=True)
    assert client.get("/auth/activate/nonsense").status_code == 404
    assert auth.login(user.username, GOOD_PASSWORD).status_code == 302


def test_someone_else_logged_in_is_told_and_then_signed_out(
    client: FlaskClient, auth: Any, session: Session
) -> None:
    organizer = organizer_client(client, auth, session)
    user, token = judge(session, display_name="罗老师")
    page = client.get(f"/auth/activate/{token}").get_data(as_text=True)
    assert f"当前以 {organizer.display_name} 的身份登录" in page
    done = client.post(
        f"/auth/activate/{token}", data={"password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD}
    )
    assert done.location.endswith("/judge/")
    assert client.get("/admin/judges").status_code == 403  # the judge now, not the organizer
    # The judge opening their own used link while logged in is simply told it is used.
    assert client.get(f"/auth/activate/{token}").status_code == 410


def test_activation_posts_are_rate_limited(settings: Settings, session: Session) -> None:
    tight = dataclasses.replace(settings, login_rate_limit="3/minute")
    app = create_app({"SETTINGS": tight, "TESTING": True, "WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        statuses = [
            client.post(f"/auth/activate/guess{n}", data={"password": "x"}).status_code
            for n in range(4)
        ]
        assert statuses[:3] == [404, 404, 404] and statuses[3] == 429
    finally:
        app.extensions["footprints.engine"].dispose()


def test_the_demo_seeds_six_judges_of_different_districts(session: Session) -> None:
    from web.demo import DEMO_DISTRICTS, seed_demo

    accounts = seed_demo(session)
    judges = [a for a in accounts if a.role is Role.JUDGE]
    assert len(judges) == 6
    users = list(
        session.scalars(select(User).where(User.username.in_([a.username for a in judges])))
    )
    assert len({u.district for u in users}) == 6 and len({u.unit for u in users}) == 6
    # Every demo account has an address: the demo's mail lands in its mailbox.
    everyone = session.scalars(
        select(User).where(User.username.in_([a.username for a in accounts]))
    )
    assert all(u.email == f"{u.username}@example.org" for u in everyone)
    # An entry from every district of the demo, each gets a panel of 3 under both rules.
    entries = [Party(-n, "某青年文明号", d) for n, d in enumerate(DEMO_DISTRICTS, start=1)]
    judges_ = [Party(u.id, u.unit, u.district) for u in users]
    conflicts = automatic_conflicts(judges_, entries)
    panels = assign([e.id for e in entries], [j.id for j in judges_], 3, conflicts)
    assert all(len(p) == 3 for p in panels.values()) and conflicts


def test_the_command_line_invites_imports_and_resends(
    runner: Any, session: Session, tmp_path: Any
) -> None:
    phone = fresh_phone()
    out = runner.invoke(args=["judges", "invite", "邓老师", "--phone", phone, "--unit", "市一中"])
    assert out.exit_code == 0, out.output
    [token] = re.findall(r"http://127\.0\.0\.1:5000/auth/activate/(\S+)", out.output)
    user = find_token(session, token).user
    assert (user.display_name, user.unit, user.phone) == ("邓老师", "市一中", phone)
    again = runner.invoke(args=["judges", "invite", "邓老师", "--phone", phone])
    assert again.exit_code == 1 and "已是评委 邓老师" in again.output
    sheet = tmp_path / "judges.csv"
    sheet.write_bytes(csv_bytes(["姓名,手机", "甲,123", f"乙,{fresh_phone()}"], "gbk"))
    bad = runner.invoke(args=["judges", "import", str(sheet)])
    assert bad.exit_code == 1 and "第 2 行：手机号格式不正确" in bad.output
    sheet.write_bytes(csv_bytes(["姓名,手机", f"邓老师,{phone}", f"乙,{fresh_phone()}"], "gbk"))
    good = runner.invoke(args=["judges", "import", str(sheet), "--base-url", "https://x.example"])
    assert good.exit_code == 0 and "已导入 1 位评委" in good.output and "已在名单中" in good.output
    assert good.output.count("https://x.example/auth/activate/") == 1
    resent = runner.invoke(args=["judges", "resend", user.username])
    assert resent.exit_code == 0 and "/auth/activate/" in resent.output
    with pytest.raises(ActivationError):
        find_token(session, token)
