"""No one gets in where they should not: the role matrix, ids, CSRF, headers, lock-out, limits."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from storage.models import Entry, Job, JobState, Role, User, utcnow
from storage.objects import ObjectStore
from storage.settings import Settings
from tests.factories import ENTRY_FIELDS, PASSWORD, make_entry, make_user
from web import create_app

pytestmark = pytest.mark.integration

ANONYMOUS = None
ROLES: list[Role | None] = [ANONYMOUS, *Role]
PUBLIC = frozenset(ROLES)
SIGNED_IN = frozenset(Role)
# Who may call each endpoint. The test below is generated from the app's URL map, so a new
# route that is missing here fails it until somebody decides who may call it.
ACCESS: dict[str, frozenset[Role | None]] = {
    "static": PUBLIC,
    "pages.index": PUBLIC,
    "errors.favicon": PUBLIC,
    "pages.announcement": PUBLIC,
    "pages.announcement_download": PUBLIC,
    "pages.healthz": PUBLIC,
    "pages.readyz": PUBLIC,
    "metrics.metrics": PUBLIC,  # counts only; METRICS_TOKEN closes it
    "i18n.switch": PUBLIC,
    "auth.login_view": PUBLIC,
    "auth.register": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.password": SIGNED_IN,
    "auth.activate": PUBLIC,  # a judge's one-time link; unknown tokens are 404
    "auth.forgot": PUBLIC,
    "account.view": SIGNED_IN,
    # The signed token in the link is the key (mail clients post without a session);
    # a token that does not verify is 404.
    "unsubscribe.confirm": PUBLIC,
    "unsubscribe.unsubscribe": PUBLIC,
    # The demo's mailbox (only where MAIL_CATCHER_DIR is set; 404 otherwise).
    "mail_box.index": frozenset({Role.ORGANIZER, Role.OPERATOR}),
    "mail_box.message": frozenset({Role.ORGANIZER, Role.OPERATOR}),
    "gallery.index": PUBLIC,
    "gallery.entry": PUBLIC,
    "gallery.storyboard": PUBLIC,
    "gallery.card_image": PUBLIC,  # public entries only (404 otherwise)
    "gallery.share_poster": PUBLIC,
    "gallery.share_poster_image": PUBLIC,
    "gallery.vote": SIGNED_IN,
    "media.storyboard": SIGNED_IN,  # then the entry's own rules
    "gallery.page_image": PUBLIC,  # public entries only (404 otherwise)
    # A photo, comic or story entry's page, images and text: then the entry's own rules.
    "works.entry_page": SIGNED_IN,
    "works.page_image": SIGNED_IN,
    "works.story": SIGNED_IN,
    "api.openapi": PUBLIC,
    "api.list_entries": SIGNED_IN,  # each sees their own; staff see all
    "api.read": SIGNED_IN,
    "api.create": frozenset({Role.CONTESTANT}),
    "api.upload_video": frozenset({Role.CONTESTANT}),
    "uploads.options": PUBLIC,  # tus discovery
    "uploads.create": frozenset({Role.CONTESTANT}),
    "uploads.upload": frozenset({Role.CONTESTANT}),
    "uploads.append": frozenset({Role.CONTESTANT}),
    "uploads.terminate": frozenset({Role.CONTESTANT}),
    # 活动信息报送: reporters (then owner, or a district organizer's own district); the
    # committee office reviews; the public reads adopted reports only (404 otherwise).
    "reports.": frozenset({Role.CONTESTANT, Role.DISTRICT}),
    "report_office.": frozenset({Role.ORGANIZER}),
    "activities.": PUBLIC,
}
for prefix, role in (
    ("submit.", Role.CONTESTANT),
    ("judge.", Role.JUDGE),
    ("admin.", Role.ORGANIZER),
    ("judging.", Role.ORGANIZER),
    ("ops.", Role.OPERATOR),
    ("district.", Role.DISTRICT),
    ("district_admin.", Role.ORGANIZER),
):
    ACCESS[prefix] = frozenset({role})
OWNER_ONLY = {"uploads.create", "uploads.upload", "uploads.append", "uploads.terminate"}


def allowed(endpoint: str) -> frozenset[Role | None] | None:
    if endpoint in ACCESS:
        return ACCESS[endpoint]
    return ACCESS.get(endpoint.split(".")[0] + ".")


@dataclasses.dataclass
class World:
    """One account per role and objects for every kind of path parameter."""

    users: dict[Role, User]
    entry: Entry
    job: Job

    def values(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry.id,
            "user_id": self.users[Role.CONTESTANT].id,
            "job_id": 10**9,  # operators pass the role check and find nothing to change
            "snapshot_id": 10**9,
            "upload_id": "0" * 32,
            "fmt": "csv",
            "code": "en",
            "filename": "app.css",
            "token": "x" * 43,
            "piece_id": 10**9,  # the entry's own rules, then no such piece
            "report_id": 10**9,  # nobody's: allowed callers find nothing, refused ones 403
            "n": 1,
        }


@pytest.fixture()
def world(session: Session) -> World:
    users = {role: make_user(session, role) for role in Role}
    entry = make_entry(session, users[Role.CONTESTANT])
    job = Job(entry=entry, source_key="k", state=JobState.FAILED)
    session.add(job)
    session.commit()
    return World(users, entry, job)


def log_in(client: FlaskClient, user: User | None) -> None:
    client.post("/auth/logout")
    if user is not None:
        response = client.post(
            "/auth/login", data={"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)


def routes(app: Flask) -> Iterator[tuple[str, str, str]]:
    """(endpoint, method, rule) for every route of the app."""
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask adds HEAD to every GET
        for method in sorted(methods or {"OPTIONS"}):
            yield rule.endpoint, method, rule.rule


def test_every_route_is_in_the_role_matrix(app: Flask) -> None:
    missing = sorted({endpoint for endpoint, _, _ in routes(app) if allowed(endpoint) is None})
    assert not missing, f"decide who may call these, in ACCESS: {missing}"


def test_the_role_matrix_holds_for_every_route(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Refused callers get the login page (401 on the API), 403, or 404 where an id is
    somebody else's; allowed ones reach the page. Generated from the URL map."""
    values = world.values()
    failures = []
    for role in ROLES:
        log_in(client, world.users[role] if role else None)
        for endpoint, method, rule in sorted(routes(app)):
            who = allowed(endpoint)
            assert who is not None
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)
            if role in who and method != "GET":
                continue  # changes by allowed roles are the other tests' business
            response = client.open(path, method=method)
            response.close()
            status = response.status_code
            if role in who:
                ok = (
                    status < 500
                    and status not in (401, 403)
                    and "/auth/login" not in (response.location or "")
                )
            elif role is ANONYMOUS and endpoint in OWNER_ONLY:
                ok = status in (401, 404)  # tus answers 404 for an upload that is not yours
            elif role is ANONYMOUS:
                ok = (
                    status == 401
                    if path.startswith("/api/")
                    else (status == 302 and "/auth/login" in (response.location or ""))
                )
            else:
                ok = status == 403 or (status == 404 and endpoint in OWNER_ONLY)
            if not ok:
                failures.append(f"{role and role.value} {method} {path} -> {status}")
    assert not failures, "\n".join(failures)


def test_ids_of_others_lead_nowhere(client: FlaskClient, session: Session, world: World) -> None:
    """Another contestant guessing ids reads and changes nothing of this one's."""
    other = make_user(session)
    entry = world.entry
    log_in(client, other)
    for method, path in (
        ("GET", f"/submit/{entry.id}"),
        ("GET", f"/submit/{entry.id}/edit"),
        ("POST", f"/submit/{entry.id}/edit"),
        ("POST", f"/submit/{entry.id}/withdraw"),
        ("POST", f"/submit/{entry.id}/video"),
        ("GET", f"/api/v1/entries/{entry.id}"),
        ("PUT", f"/api/v1/entries/{entry.id}/video"),
        ("POST", f"/api/v1/entries/{entry.id}/uploads"),
        ("GET", f"/media/{entry.id}/storyboard.vtt"),
    ):
        assert client.open(path, method=method, data=b"x").status_code == 404, path
    listed = client.get("/api/v1/entries").get_json()["entries"]
    assert entry.id not in [e["id"] for e in listed]
    # A judge sees only what is assigned to them (the judging tests cover conflicts and blind
    # forms); through the API and media routes nothing at all, identities included.
    log_in(client, world.users[Role.JUDGE])
    for path in (
        f"/judge/entries/{entry.id}",
        f"/api/v1/entries/{entry.id}",
        f"/media/{entry.id}/storyboard.vtt",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/entries").get_json()["entries"] == []
    # An organizer's password reset and unlock reach contestants and judges, never the
    # organizer's own account or an operator's.
    log_in(client, world.users[Role.ORGANIZER])
    for role in (Role.ORGANIZER, Role.OPERATOR):
        for action in ("password", "unlock"):
            path = f"/admin/users/{world.users[role].id}/{action}"
            assert client.post(path).status_code == 404, path
    session.refresh(entry)
    assert entry.title == ENTRY_FIELDS["title"] and entry.status.value == "draft"


def test_forms_refuse_posts_without_a_csrf_token(
    settings: Settings, session: Session, world: World, object_store: ObjectStore
) -> None:
    """Every form-posting route, each by a user allowed to call it, with no token: 400."""
    app = create_app({"SETTINGS": settings, "TESTING": True})
    try:
        client = app.test_client()
        values = world.values()
        unprotected = []
        for role in Role:
            log_in_with_csrf(client, world.users[role])
            for endpoint, method, rule in routes(app):
                if method == "GET" or role not in (allowed(endpoint) or ()):
                    continue
                if endpoint.startswith(("api.", "uploads.")) or endpoint == "auth.logout":
                    continue  # below
                if endpoint == "unsubscribe.unsubscribe":
                    continue  # RFC 8058: mail clients post it; the signed link is the key
                path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule)
                response = client.open(path, method=method, data={"x": "1"})
                if response.status_code != 400:
                    unprotected.append(f"{role.value} {method} {path} -> {response.status_code}")
        assert not unprotected, "\n".join(unprotected)
        # Logging out needs the token too (a forged logout is a nuisance, not a breach).
        assert client.post("/auth/logout").status_code == 400
        # The API takes JSON or raw bodies, which no cross-site form can send, and answers
        # no CORS preflight: a form post with the session cookie creates nothing.
        log_in_with_csrf(client, world.users[Role.CONTESTANT])
        form = client.post("/api/v1/entries", data=ENTRY_FIELDS)
        assert form.status_code == 400
        tus = client.post(f"/api/v1/entries/{world.entry.id}/uploads", data={"x": "1"})
        assert tus.status_code in (400, 412)
        preflight = client.options("/api/v1/entries", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in preflight.headers
    finally:
        app.extensions["footprints.engine"].dispose()


def log_in_with_csrf(client: FlaskClient, user: User) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert match, "the login form carries a CSRF token"
    data = {"username": user.username, "password": PASSWORD, "csrf_token": match.group(1)}
    assert client.post("/auth/login", data=data).status_code == 302


def test_every_page_sends_security_headers(client: FlaskClient, world: World) -> None:
    for path in ("/", "/gallery/", "/auth/login", "/api/v1/openapi.json", "/healthz"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy and "unsafe-inline" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_media_origin_is_allowed_for_media_only(settings: Settings) -> None:
    from web.security import content_security_policy

    public = dataclasses.replace(settings, s3_public_endpoint="media.example.org:9000")
    policy = content_security_policy(public)
    assert "http://media.example.org:9000" in policy["media-src"]
    assert "http://media.example.org:9000" in policy["img-src"]
    assert "media.example.org" not in policy["script-src"] + policy["connect-src"]


def test_session_cookie_flags(settings: Settings, session: Session, object_store: Any) -> None:
    user = make_user(session)
    for secure in (False, True):
        app = create_app(
            {
                "SETTINGS": dataclasses.replace(settings, cookie_secure=secure),
                "TESTING": True,
                "WTF_CSRF_ENABLED": False,
            }
        )
        try:
            response = app.test_client().post(
                "/auth/login", data={"username": user.username, "password": PASSWORD}
            )
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert ("Secure" in cookie) is secure
        finally:
            app.extensions["footprints.engine"].dispose()


def test_repeated_wrong_passwords_lock_the_account_for_a_while(
    client: FlaskClient, session: Session
) -> None:
    user = make_user(session)
    for _ in range(4):
        page = client.post("/auth/login", data={"username": user.username, "password": "wrong"})
        assert "用户名或密码错误" in page.get_data(as_text=True)
    locked = client.post("/auth/login", data={"username": user.username, "password": "wrong"})
    assert locked.status_code == 429 and "账号已暂时锁定" in locked.get_data(as_text=True)
    # While locked, even the right password is refused, on the form and on the API.
    right = client.post("/auth/login", data={"username": user.username, "password": PASSWORD})
    assert right.status_code == 429
    token = base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
    api = client.get("/api/v1/entries", headers={"Authorization": f"Basic {token}"})
    assert api.status_code == 401
    # The lock ends by itself (here: its end moved into the past) ...
    session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert (
        client.post(
            "/auth/login", data={"username": user.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    # ... and an organizer's password reset lifts it at once.
    client.post("/auth/logout")
    for _ in range(5):
        client.post("/auth/login", data={"username": user.username, "password": "wrong"})
    log_in(client, make_user(session, Role.ORGANIZER))
    page = client.post(f"/admin/users/{user.id}/password")
    new_password = re.search(r'<code class="secret">(\S+)</code>', page.get_data(as_text=True))
    assert new_password
    client.post("/auth/logout")
    assert (
        client.post(
            "/auth/login", data={"username": user.username, "password": new_password.group(1)}
        ).status_code
        == 302
    )


def test_rate_limits_on_login_registration_and_uploads(
    settings: Settings, session: Session, object_store: Any
) -> None:
    tight = dataclasses.replace(settings, login_rate_limit="3/minute", upload_rate_limit="2/hour")
    app = create_app({"SETTINGS": tight, "TESTING": True, "WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        for path in ("/auth/login", "/auth/register"):  # each its own budget per address
            statuses = [client.post(path, data={"username": "x"}).status_code for _ in range(4)]
            assert statuses[-1] == 429 and 429 not in statuses[:3], (path, statuses)
        user = make_user(session)
        entry = make_entry(session, user)
        auth = {
            "Authorization": "Basic "
            + base64.b64encode(f"{user.username}:{PASSWORD}".encode()).decode()
        }
        answers = [
            client.post(
                f"/api/v1/entries/{entry.id}/uploads",
                headers={**auth, "Tus-Resumable": "1.0.0", "Upload-Length": "1000"},
            ).status_code
            for _ in range(2)
        ]
        answers.append(
            client.put(f"/api/v1/entries/{entry.id}/video", data=b"x", headers=auth).status_code
        )
        assert answers[:2] == [201, 201] and answers[2] == 429
    finally:
        app.extensions["footprints.engine"].dispose()


def test_uploaded_names_never_reach_a_key_or_path(
    client: FlaskClient, session: Session, settings: Settings, tmp_path: Any
) -> None:
    from tests.media import make_clip

    user = make_user(session)
    entry = make_entry(session, user)
    log_in(client, user)
    clip = make_clip(tmp_path / "c.mp4", 160, 284, 0.5)
    hostile = "../../../../tmp/evil\x00.mp4"
    client.post(
        f"/submit/{entry.id}/video",
        data={"video": (io.BytesIO(clip.read_bytes()), hostile)},
        content_type="multipart/form-data",
    )
    session.refresh(entry)
    keys = [asset.object_key for asset in entry.assets]
    assert keys and all(
        re.fullmatch(rf"entries/{entry.id}/originals/[0-9a-f]{{32}}", k) for k in keys
    )


def test_buckets_are_private_and_presigned_urls_expire(
    settings: Settings, object_store: ObjectStore, tmp_path: Any
) -> None:
    key = "security/probe.txt"
    source = tmp_path / "probe.txt"
    source.write_text("private")
    object_store.put_file(settings.bucket_assets, key, str(source), "text/plain")
    plain = f"http://{settings.s3_endpoint}/{settings.bucket_assets}/{key}"
    assert http_status(plain) == 403
    short = ObjectStore(dataclasses.replace(settings, presign_seconds=1))
    url = short.presigned_url(settings.bucket_assets, key)
    assert "X-Amz-Expires=1" in url
    assert http_status(url) == 200
    time.sleep(2.5)
    assert http_status(url) == 403
    object_store.delete(settings.bucket_assets, key)


def http_status(url: str) -> int:
    """The status of a plain GET, every connection closed."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - test server
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return error.code


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/gallery/", {"query_string": {"q": "a\x00b"}}),
        ("POST", "/auth/login", {"data": {"username": "a\x00", "password": "x"}}),
        ("POST", "/api/v1/entries", {"json": {"title": "标题\x00"}}),
    ],
)
def test_nul_characters_are_a_bad_request_not_a_database_error(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    # PostgreSQL refuses NUL in text: it used to surface as a 500 from deep in a query.
    answer = client.open(path, method=method, **kwargs)
    assert answer.status_code == 400
    text = answer.get_json()["error"] if answer.is_json else answer.get_data(as_text=True)
    assert "请求有误" in text


def test_errors_outside_views_are_chinese_pages(client: FlaskClient) -> None:
    wrong_method = client.get("/auth/logout")
    assert wrong_method.status_code == 405
    assert "这个页面不能这样打开" in wrong_method.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "页面不存在" in missing.get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.get_json()["error"]


def test_a_crash_is_the_sites_own_page_and_is_logged(
    settings: Any, object_store: Any, caplog: Any
) -> None:
    from web import create_app

    app = create_app({"SETTINGS": settings, "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the handler answers

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    client = app.test_client()
    page = client.get("/boom", headers={"Referer": "http://localhost/gallery/"})
    text = page.get_data(as_text=True)
    assert page.status_code == 500 and "服务器出了问题" in text and "中国梦·青春足迹" in text
    assert 'href="/gallery/"' in text  # back to where the reader came from
    assert "a bug" not in text and "Traceback" not in text
    assert any("a bug" in repr(r.exc_info) for r in caplog.records if r.exc_info)
    client.get("/lang/en")
    english = client.get("/boom").get_data(as_text=True)
    assert "Something went wrong on the server" in english
    api = client.get("/api/v1/boom", headers={"Accept": "application/json"})
    assert api.status_code in (404, 500) and api.is_json
    app.extensions["footprints.engine"].dispose()


def test_a_crash_answers_even_when_the_error_page_cannot_be_drawn(
    settings: Any, object_store: Any, monkeypatch: Any
) -> None:
    import web.errors
    from web import create_app

    app = create_app({"SETTINGS": settings, "TESTING": True, "WTF_CSRF_ENABLED": False})
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    def no_page(*_args: Any) -> Any:
        raise ConnectionError("the database is gone")

    monkeypatch.setattr(web.errors, "page", no_page)
    answer = app.test_client().get("/boom")
    assert answer.status_code == 500 and "服务器出了问题" in answer.get_data(as_text=True)
    app.extensions["footprints.engine"].dispose()


def test_an_error_page_never_links_back_to_another_site(client: FlaskClient) -> None:
    page = client.get("/no-such-page", headers={"Referer": "https://evil.example/x"})
    assert page.status_code == 404 and "evil.example" not in page.get_data(as_text=True)
    assert 'lang="zh-CN"' in page.get_data(as_text=True)


def test_the_favicon_exists(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    icon.close()


def test_the_access_log_never_keeps_an_activation_token() -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    from web.access_log import RedactingLogger

    token = "Zs8-secret-token_value"
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/auth/activate/{token}?x=1",
        "PATH_INFO": f"/auth/activate/{token}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"http://example.org/auth/activate/{token}",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="302 FOUND", sent=0, headers=[])
    atoms = RedactingLogger(Config()).atoms(response, request, environ, timedelta(seconds=1))
    line = repr(atoms)
    assert token not in line and "/auth/activate/[redacted]" in atoms["r"]
    assert atoms["s"] == "302" and atoms["m"] == "POST"
