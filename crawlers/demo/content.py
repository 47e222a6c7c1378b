"""The demo platforms' content: hand-written courses and feed items, loaded from crawlers/demo/data."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
COURSE_FILES = "le_ouchn_courses_*.json"
FEED_FILE = "shequ_items.json"
# The fields of one le.ouchn.cn Course/Paging list item (PLATFORMS.md 1.1), in the platform's order.
LIST_FIELDS = ("Id", "Name", "Teacher", "SourceName", "Subtitle", "StudentCount", "Tag")
# Module ids are derived from the course id, so the data files need not carry hundreds of UUIDs.
MODULE_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-4f10-9c55-0e2d8a4b7c31")


class DemoDataError(Exception):
    """A bundled demo data file is unreadable or malformed (carries the file and the reason)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"demo data {path.name}: {reason}")


@dataclass(frozen=True)
class DemoCourse:
    """One course of the le.ouchn-style platform: its list item as served, and its lesson titles."""

    item: dict[str, Any]
    lessons: tuple[str, ...]

    @property
    def id(self) -> str | None:
        value = self.item.get("Id")
        return str(value) if value else None

    @property
    def name(self) -> str:
        return str(self.item.get("Name") or "")

    def modules(self) -> list[dict[str, str]]:
        """The MicroCourse/Details `Modules` list: a stable UUID and a title per lesson."""
        return [
            {"Id": str(uuid.uuid5(MODULE_NAMESPACE, f"{self.id}/{n}")), "Title": title}
            for n, title in enumerate(self.lessons, start=1)
        ]


@dataclass(frozen=True)
class DemoFeedItem:
    """One recommended resource of the community-education site, as its RSS item and article page show it."""

    guid: str | None
    published: datetime
    category: str
    title: str
    unit: str
    description: str

    @property
    def page_path(self) -> str | None:
        """Path of the article page, in the CMS's date-partitioned scheme; None for an item without a guid."""
        if not self.guid:
            return None
        return f"/shequ/Pages/Recomend/{self.published:%Y/%m/%d}/{self.guid}.htm"


@dataclass(frozen=True)
class DemoCatalogue:
    """Everything the demo platforms serve, with the look-ups their routes need."""

    courses: tuple[DemoCourse, ...]
    feed_title: str
    feed_description: str
    items: tuple[DemoFeedItem, ...]

    def course(self, course_id: str) -> DemoCourse | None:
        """The course with this Id (exact match), or None."""
        for course in self.courses:
            if course.id is not None and course.id == course_id:
                return course
        return None

    def item_at(self, path: str) -> DemoFeedItem | None:
        """The feed item whose article page lives at this path, or None."""
        for item in self.items:
            if item.page_path == path:
                return item
        return None

    def page(self, number: int, size: int) -> tuple[list[dict[str, Any]], int]:
        """The list items on page `number` (from 1) of `size` items, and the page count."""
        count = math.ceil(len(self.courses) / size) if self.courses else 0
        chosen = self.courses[(number - 1) * size : number * size]
        return [dict(course.item) for course in chosen], count

    @property
    def fingerprint(self) -> str:
        """A short digest of what is served (course ids and feed guids): two processes serving the same
        catalogue give the same fingerprint, so one can harvest the other's platforms."""
        parts = [course.id or "" for course in self.courses] + [item.guid or "" for item in self.items]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    @property
    def last_updated(self) -> datetime:
        """When the newest feed item was published: the catalogue's Last-Modified."""
        return max(item.published for item in self.items)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DemoDataError(path, f"cannot read JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise DemoDataError(path, "the top level must be an object")
    return data


def _course(path: Path, index: int, entry: Any) -> DemoCourse:
    if not isinstance(entry, dict):
        raise DemoDataError(path, f"course {index} is not an object")
    lessons = entry.get("Lessons", [])
    if not isinstance(lessons, list) or not all(isinstance(t, str) for t in lessons):
        raise DemoDataError(path, f"course {index}: Lessons must be a list of titles")
    unknown = set(entry) - set(LIST_FIELDS) - {"Lessons"}
    if unknown:
        raise DemoDataError(path, f"course {index}: unknown fields {sorted(unknown)}")
    item = {name: entry[name] for name in LIST_FIELDS if name in entry}
    return DemoCourse(item=item, lessons=tuple(lessons))


def load_courses(paths: Iterable[Path]) -> tuple[DemoCourse, ...]:
    """Courses from the given files, in a stable order that mixes the topics."""
    courses: list[DemoCourse] = []
    for path in paths:
        entries = _read_json(path).get("courses")
        if not isinstance(entries, list):
            raise DemoDataError(path, "no `courses` list")
        courses += [_course(path, n, entry) for n, entry in enumerate(entries)]
    ids = [c.id for c in courses if c.id]
    if len(ids) != len(set(ids)):
        raise DemoDataError(Path(COURSE_FILES), "two courses share an Id")
    return tuple(sorted(courses, key=_order_key))


def _order_key(course: DemoCourse) -> str:
    # Ids are random UUIDs, so sorting by them mixes the topics; an id-less item sorts by a hash of its name.
    return course.id or hashlib.sha1(course.name.encode("utf-8")).hexdigest()


def _feed_item(path: Path, index: int, entry: Any) -> DemoFeedItem:
    if not isinstance(entry, dict):
        raise DemoDataError(path, f"item {index} is not an object")
    try:
        published = datetime.fromisoformat(str(entry["published"]))
        text = {key: str(entry.get(key) or "") for key in ("category", "title", "unit", "description")}
    except (KeyError, ValueError) as exc:
        raise DemoDataError(path, f"item {index}: bad or missing `published` ({exc})") from exc
    if published.tzinfo is None:
        raise DemoDataError(path, f"item {index}: `published` needs a UTC offset")
    guid = entry.get("guid")
    return DemoFeedItem(guid=str(guid) if guid else None, published=published, **text)


def load_catalogue(data_dir: Path = DATA_DIR) -> DemoCatalogue:
    """Read and check every demo data file; a malformed file raises DemoDataError naming it."""
    course_files = sorted(data_dir.glob(COURSE_FILES))
    if not course_files:
        raise DemoDataError(data_dir / COURSE_FILES, "no course files found")
    feed_path = data_dir / FEED_FILE
    feed = _read_json(feed_path)
    found = feed.get("channel")
    channel: dict[str, Any] = found if isinstance(found, dict) else {}
    entries = feed.get("items")
    if not isinstance(entries, list) or not entries:
        raise DemoDataError(feed_path, "no `items` list")
    catalogue = DemoCatalogue(
        courses=load_courses(course_files),
        feed_title=str(channel.get("title") or "社区教育资源推荐（演示）"),
        feed_description=str(channel.get("description") or ""),
        items=tuple(_feed_item(feed_path, n, entry) for n, entry in enumerate(entries)),
    )
    logger.debug("demo catalogue: %d courses, %d feed items", len(catalogue.courses), len(catalogue.items))
    return catalogue
