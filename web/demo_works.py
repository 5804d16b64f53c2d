"""The demo's photo, comic and story entries, for `footprints demo` (after `seed_demo`).

Their files are drawn here with Pillow (photos as JPEG, the comic as a 3-page PDF) and go
through the same path as an upload (`judging.accept.accept_original`): stored, recorded as
pieces, and processed by the worker fleet as any entry is. Entries already there (by title)
are left alone, so running the demo again adds nothing.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from judging.accept import Original, accept_original
from judging.stories import save_story
from judging.submissions import EntryFields, SubmissionError, create_entry
from storage.models import Contest, Entry, EntryCategory, Job, Role, User, WorkType
from storage.objects import ObjectStore, original_key
from web.demo import DEMO_SLUG, DEMO_USERS
from worker.dispatch import publish_job

log = logging.getLogger(__name__)
ALL_TYPES = [t.value for t in WorkType]
Colour = tuple[int, int, int]

STORY = (
    "凌晨四点半，城市还没有醒来，公交枢纽站的调度室已经亮起了灯。我们班组的十二名青年"
    "驾驶员陆续到岗，检查车辆、核对线路、测量血压，一天的工作就这样开始了。\n\n"
    "十年前，我们班组只有三名青年；如今，这支青年文明号集体已经有了二十七名队员。"
    "我们开通了全市第一条“学生专线”，每天接送一千多名中小学生安全上下学。\n\n"
    "有人问我们，每天重复同一条线路，不觉得单调吗？我们说，车窗外的城市每天都在变，"
    "车厢里的笑脸每天都不同。把每一趟车开好，就是我们青春的足迹。"
)


@dataclass(frozen=True)
class DemoWork:
    title: str
    work_type: WorkType
    summary: str
    captions: tuple[str, ...]
    story: str = ""


DEMO_WORKS = (
    DemoWork(
        "晨光里的站台",
        WorkType.PHOTO,
        "一组记录公交枢纽站青年驾驶员清晨出车的照片。",
        ("清晨五点，第一班车出站", "出车前的安全检查", "全体队员合影"),
    ),
    DemoWork(
        "小小调度员",
        WorkType.COMIC,
        "三页漫画：一个孩子跟着妈妈在调度室度过的一天。",
        ("第一话：早高峰",),
    ),
    DemoWork(
        "一条学生专线的十年",
        WorkType.STORY,
        "青年文明号集体开通学生专线的成长故事。",
        ("学生专线的首发仪式",),
        STORY,
    ),
)
PALETTES: list[tuple[Colour, Colour]] = [
    ((255, 183, 94), (200, 16, 46)),
    ((120, 180, 230), (30, 60, 120)),
    ((170, 220, 160), (40, 110, 70)),
    ((250, 220, 140), (210, 120, 40)),
]


def scene(index: int, size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A simple drawn picture: a sky, a sun, a row of buildings and a bus."""
    top, bottom = PALETTES[index % len(PALETTES)]
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    draw.ellipse([width * 0.7, height * 0.12, width * 0.85, height * 0.32], fill=(255, 240, 200))
    for i in range(9):
        left = i * width // 9
        tall = height * (0.35 + 0.25 * ((i * 37 + index * 11) % 7) / 7)
        draw.rectangle([left + 8, height - tall, left + width // 9 - 8, height], fill=(40, 40, 60))
    draw.rounded_rectangle(
        [width * 0.15, height * 0.72, width * 0.6, height * 0.9], 30, fill=(230, 230, 235)
    )
    for i in range(5):
        x = width * (0.18 + i * 0.08)
        draw.rectangle([x, height * 0.75, x + width * 0.06, height * 0.81], fill=(90, 150, 210))
    return image


def jpeg(image: Image.Image) -> bytes:
    data = io.BytesIO()
    image.save(data, "JPEG", quality=85)
    return data.getvalue()


def comic_pdf(pages: int = 3) -> bytes:
    """A comic of `pages` portrait pages as one PDF, drawn as panels."""
    drawn = []
    for number in range(pages):
        page = Image.new("RGB", (1240, 1754), "white")
        draw = ImageDraw.Draw(page)
        for row in range(3):
            box = (60, 60 + row * 560, 1180, 560 + row * 560)
            draw.rectangle(box, outline="black", width=8)
            panel = scene(number * 3 + row, (1100, 480))
            page.paste(panel, (box[0] + 10, box[1] + 10))
        drawn.append(page)
    data = io.BytesIO()
    drawn[0].save(data, "PDF", save_all=True, append_images=drawn[1:], resolution=150)
    return data.getvalue()


def files_of(work: DemoWork) -> list[tuple[str, bytes, str]]:
    """The work's files: (name, bytes, caption)."""
    if work.work_type is WorkType.COMIC:
        return [("xiaoxiao-diaoduyuan.pdf", comic_pdf(), work.captions[0])]
    offset = 0 if work.work_type is WorkType.PHOTO else 3
    return [(f"photo{i + 1}.jpg", jpeg(scene(offset + i)), c) for i, c in enumerate(work.captions)]


def seed_demo_works(
    session: Session,
    store: ObjectStore | None = None,
    publish: Callable[[Session, Job], bool] | None = None,
) -> list[str]:
    """Add the demo's photo, comic and story entries where missing; the titles added.
    Their files go to `store` (the app's) and their jobs to the fleet (`publish`)."""
    if store is None:
        from web.extensions import store as app_store

        store = app_store()
    send = publish or publish_job
    settings = store.settings
    contest = session.scalar(select(Contest).where(Contest.slug == DEMO_SLUG))
    username = DEMO_USERS[Role.CONTESTANT][0]
    owner = session.scalar(select(User).where(User.username == username))
    if contest is None or owner is None:
        return []
    if set(contest.work_types or []) != set(ALL_TYPES):
        contest.work_types = ALL_TYPES
        session.commit()
    added = []
    for work in DEMO_WORKS:
        there = select(Entry.id).where(Entry.contest_id == contest.id, Entry.title == work.title)
        if session.scalar(there) is not None:
            continue
        entry = create_entry(session, contest, owner, _fields(work, owner))
        if work.story:
            save_story(session, entry, work.story, settings.story_max_chars)
        try:
            for name, data, caption in files_of(work):
                key = original_key(entry.id, uuid.uuid4().hex)
                original = Original(
                    io.BytesIO(data), key, len(data), filename=name, caption=caption
                )
                accept_original(session, store, settings, entry, original, send)
        except SubmissionError as exc:  # the object store is down: the entry waits for files
            session.rollback()
            log.warning("demo entry %s has no files yet: %s", work.title, exc)
            continue
        added.append(work.title)
    return added


def _fields(work: DemoWork, owner: User) -> EntryFields:
    return EntryFields(
        title=work.title,
        collective="市公交集团枢纽站青年文明号",
        category=EntryCategory.COLLECTIVE,
        district="市直单位",
        industry="交通运输",
        contact_name="示例联系人",
        contact_phone="13800000000",
        email=owner.email or "demo-contestant@example.org",
        summary=work.summary,
        work_type=work.work_type,
    )
