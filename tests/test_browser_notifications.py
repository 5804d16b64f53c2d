"""Notifications in the browser: a contestant's 通知设置, the links of a real caught mail,
and the demo mailbox, at a phone's and a laptop's size (Debian's chromium).

Mail is sent through the real SMTP catcher (`mail_catcher`) by `deliver()`, with links to
the live server, so following a link in the browser is following the mail's own link.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from storage.entry_notices import tell_received
from storage.models import Entry, Job, JobState, Role, User
from storage.objects import ObjectStore
from storage.outbox import NotificationOptOut
from storage.settings import Settings
from tests.browser import SIZES, fits_width, log_in, open_page, screenshot
from tests.factories import PASSWORD, make_entry, make_user, queued_invitation, unique
from tests.fleet import wait_for
from web import create_app
from web.mail_catcher import Catcher
from web.mail_catcher import start as start_catcher
from web.outbox_task import deliver
from worker.contestant_notices import tell_outcome

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
# What a hostile message's scripts would do: the word itself appears only if one ran.
PWN = "document.title = ['p', 'w', 'n'].join('')"
PWN_HERE = "document.body.append(['p', 'w', 'n'].join(''))"


def _job(session: Session, entry: Entry, state: JobState, reason: str = "") -> Job:
    job = Job(entry=entry, source_key=f"originals/{unique('k')}", state=state, reason=reason)
    session.add(job)
    session.flush()
    return job


def _send(session: Session, ids: list[int], settings: Settings, base: str) -> None:
    """Send the rows just queued ourselves (not the worker), with links to the live server."""
    session.info.clear()
    session.commit()
    app = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        for message_id in ids:
            deliver(app, session, message_id, dataclasses.replace(settings, public_base_url=base))
    finally:
        app.extensions["footprints.engine"].dispose()


def _box(page: Any, label: str) -> Any:
    """The account page's checkbox of the kind labelled `label`."""
    return page.locator("label.field.checkbox", has_text=label).locator("input")


def _link(mail: EmailMessage, path: str) -> str:
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [url] = {u for u in re.findall(r"https?://\S+", text) if path in u}
    return url


@pytest.mark.parametrize("size", SIZES)
def test_a_contestant_turns_a_notice_off_and_an_unsubscribe_link_works(
    live_server: str,
    browser: Any,
    session: Session,
    settings: Settings,
    mail_catcher: Catcher,
    size: str,
) -> None:
    contestant = make_user(session, Role.CONTESTANT)
    entry = make_entry(session, contestant)
    entry.email = ""  # the account's address, then: the one this walk sets
    session.commit()
    address = f"{unique('walk')}@example.org"
    page = open_page(browser, SIZES[size])
    log_in(page, live_server, contestant.username, PASSWORD)

    # The header's name leads to the account page, which leads on to the password.
    page.click("header a.who")
    page.wait_for_url(f"{live_server}/account/")
    assert page.locator("h1").inner_text() == "通知设置"
    assert page.locator("main a", has_text="修改密码").count() == 1

    page.fill("input[name=email]", "not-an-address")
    page.click("main form button.button")
    error = page.locator("[data-error-for=email]")
    assert error.inner_text() == "电子邮箱格式不正确，例如 name@example.com"
    assert page.input_value("input[name=email]") == "not-an-address"  # kept to fix
    screenshot(page, f"notifications-{size}-wrong-email")

    page.fill("input[name=email]", address)
    ready_box = _box(page, "视频处理完成")
    assert ready_box.is_checked()
    ready_box.uncheck()
    page.click("main form button.button")
    page.wait_for_url(f"{live_server}/account/")
    assert "通知设置已保存" in page.locator(".flash").inner_text()
    page.reload()
    assert page.input_value("input[name=email]") == address
    assert (
        not page.locator("label.field.checkbox", has_text="视频处理完成")
        .locator("input")
        .is_checked()
    )
    assert _box(page, "作品已收到").is_checked()
    assert fits_width(page)
    screenshot(page, f"notifications-{size}-saved")
    # Away and back: the page shows what was saved, not the form as it was before.
    page.click("header a.home")
    page.go_back()
    page.wait_for_url(f"{live_server}/account/")
    assert (
        not page.locator("label.field.checkbox", has_text="视频处理完成")
        .locator("input")
        .is_checked()
    )
    assert page.input_value("input[name=email]") == address

    # A video ready tells nothing now; a refused one (it cannot be turned off) still does.
    session.expire_all()
    entry = session.get_one(Entry, entry.id)
    assert tell_outcome(session, _job(session, entry, JobState.READY)) == []
    refused = tell_outcome(session, _job(session, entry, JobState.REJECTED, "视频时长超过 5 分钟"))
    received = tell_received(session, entry, entry.jobs[-1])
    _send(session, [*refused, *received], settings, live_server)
    mails = wait_for(lambda: len(m := mail_catcher.to(address)) == 2 and m, 30, "two mails")
    subjects = sorted(str(m["Subject"]) for m in mails)
    assert [s.split("》")[1][:3] for s in subjects] == ["已收到", "的视频"], subjects
    refusal = next(m for m in mails if "未通过检查" in str(m["Subject"]))
    assert "List-Unsubscribe" not in refusal  # it cannot be turned off

    # The refusal's link opens the entry, at its video form.
    page.goto(_link(refusal, "/submit/"))
    assert entry.title in page.locator("main").inner_text()

    # The receipt's unsubscribe link: a page with one button; the button turns the kind off.
    receipt = next(m for m in mails if "已收到" in str(m["Subject"]))
    link = _link(receipt, "/unsubscribe/")
    assert str(receipt["List-Unsubscribe"]).strip() == f"<{link}>"
    page.goto(link)
    assert "作品已收到" in page.locator("main").inner_text()
    screenshot(page, f"notifications-{size}-unsubscribe")
    page.click("main form button.button")
    page.wait_for_load_state()
    assert "已退订" in page.locator("[role=status]").inner_text()
    session.expire_all()
    off = session.scalars(
        select(NotificationOptOut.kind).where(NotificationOptOut.user_id == contestant.id)
    ).all()
    assert sorted(off) == ["entry_received", "video_ready"]
    page.goto(f"{live_server}/account/")
    assert (
        not page.locator("label.field.checkbox", has_text="作品已收到")
        .locator("input")
        .is_checked()
    )
    page.context.close()


@pytest.fixture()
def demo_server(
    settings: Settings, object_store: ObjectStore, tmp_path: Path
) -> Iterator[tuple[str, Settings]]:
    """The site as `make run` serves it: with a mail catcher's folder, so /admin/mail exists."""
    demo = dataclasses.replace(settings, mail_catcher_dir=str(tmp_path / "mail"))
    app = create_app({"SETTINGS": demo})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", demo
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["footprints.engine"].dispose()


def _invitation(session: Session, settings: Settings, base: str, folder: Path) -> User:
    """A judge's invitation mail, kept in `folder` as the demo's catcher keeps it."""
    invitation = queued_invitation(session, email=f"{unique('demo')}@example.org")
    judge, ids = invitation.judge, [invitation.message_id]
    catcher = Catcher(folder)
    controller = start_catcher("127.0.0.1", 0, catcher)
    try:
        _send(session, ids, dataclasses.replace(settings, mail_port=catcher.port), base)
        wait_for(lambda: catcher.to(judge.email), 10, "the invitation")
    finally:
        controller.stop()
    return judge


@pytest.mark.parametrize("size", SIZES)
def test_organizers_follow_a_link_of_a_caught_mail_and_nothing_in_it_runs(
    demo_server: tuple[str, Settings], browser: Any, session: Session, size: str
) -> None:
    base, demo = demo_server
    folder = Path(demo.mail_catcher_dir)
    judge = _invitation(session, demo, base, folder)
    # A hostile message beside it: its script must not run, here or in the frame.
    hostile = EmailMessage()
    hostile["To"], hostile["Subject"] = "x@example.org", f"<script>{PWN}</script>"
    hostile.set_content("text")
    hostile.add_alternative(
        f'<p>hi</p><script>parent.{PWN}</script><img src=x onerror="parent.{PWN}">',
        subtype="html",
    )
    (folder / "00000000-000000-00000.eml").write_bytes(bytes(hostile))

    organizer = make_user(session, Role.ORGANIZER)
    page = open_page(browser, SIZES[size])
    log_in(page, base, organizer.username, PASSWORD)
    page.goto(f"{base}/admin/")
    page.locator("main a", has_text="演示邮箱").click()
    page.wait_for_url(f"{base}/admin/mail/")
    assert fits_width(page)
    screenshot(page, f"mail-box-{size}")

    page.locator("main a", has_text="评委邀请").click()
    frame = page.frame_locator("iframe.mail-html")
    button = frame.locator("a", has_text="激活评委账号")
    assert button.is_visible()
    assert fits_width(page)
    screenshot(page, f"mail-box-{size}-message")
    with page.context.expect_page() as opened:
        button.click()
    activation = opened.value
    activation.wait_for_load_state()
    assert "/auth/activate/" in activation.url
    assert judge.username in activation.locator("main").inner_text()
    activation.close()

    page.goto(f"{base}/admin/mail/00000000-000000-00000.eml")
    body = page.frame_locator("iframe.mail-html").locator("body")
    body.locator("p", has_text="hi").wait_for()
    page.wait_for_load_state("load")  # the broken image has failed by now
    assert "pwn" not in page.title() and "pwn" not in body.inner_text()
    page.context.close()
