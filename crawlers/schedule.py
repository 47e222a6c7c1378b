"""The harvest scheduler: one APScheduler job per source, kept in the state database, every run isolated.

    scheduler = HarvestScheduler(settings=settings, store=store, themes=themes)   # themes: loaded by the caller
    scheduler.start(first_runs=demo)         # jobs synced from store.sources; optional run of each now
    run = scheduler.run_now("demo_shequ")    # the run, recorded at once; SourceBusyError when one is going
    scheduler.pause("demo_shequ"); scheduler.resume("demo_shequ")
    scheduler.shutdown()

Jobs live in a SQLAlchemy job store on the state database, so schedules and next run times survive a
restart; a job names a module-level function and the source id, and reaches the live scheduler through a
process-level registry. At most one run of a source goes at a time anywhere: a lease in the database
(many processes) plus `max_instances=1` (this process). The thread pool caps this process's concurrent runs.
A firing that finds the lease held watches it; if the lease lapses unreleased (its process died), the
watcher takes the source over with a `retry` run. Runs happen in child processes (crawlers.supervise).
Every run is recorded as soon as its lease is taken, queued (crawlers.run_state.queue_run), and its child
process takes that row over: a caller of `run_now` has the run's id at once, however long the child takes
to begin; a run whose child never begins it is finished as failed with the reason, never left running.

Errors (HarvestError subclasses):
SchedulerError
 +-- SourceBusyError        the source's lease is held: a run of it is going on (carries the holder)
 +-- ScheduleInvalidError   a source's schedule cannot be turned into a trigger (carries the reason)
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
from datetime import datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from config.loader import load_themes
from config.settings import Settings
from config.source_models import Schedule
from config.themes import ThemeTable
from crawlers.alerts import AlertHook
from crawlers.errors import HarvestError
from crawlers.logcontext import log_context
from crawlers.run_state import drop_queued, queue_run
from crawlers.state import RunRecord, StateNotFoundError, StateStore, StoredSource
from crawlers.state.db import utcnow
from crawlers.state.holders import new_holder as holder_id
from crawlers.supervise import AttemptResult, ChildRun, LeaseKeeper, supervise
from indexer.dump import build_dump_in_child
from indexer.errors import DumpError

logger = logging.getLogger(__name__)

TIMEZONE = "Asia/Shanghai"
JOB_TABLE = "edufed_scheduler_jobs"
PERSISTENT, VOLATILE = "default", "volatile"
RUNS, LIGHT = "default", "light"
_WATCH_MARGIN = timedelta(seconds=0.5)
_DOW_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SchedulerError(HarvestError):
    """Base of the scheduler's errors."""


class SourceBusyError(SchedulerError):
    """A run of the source is already going (here or in another process)."""

    def __init__(self, source_id: str, *, holder: str | None) -> None:
        self.source_id = source_id
        self.holder = holder
        super().__init__(f"a run of {source_id} is already going (held by {holder or 'another process'})")


class ScheduleInvalidError(SchedulerError):
    """A source's schedule cannot be turned into a trigger."""

    def __init__(self, source_id: str, *, reason: str) -> None:
        self.source_id = source_id
        self.reason = reason
        super().__init__(f"the schedule of {source_id} is invalid: {reason}")


_SERVICES: dict[str, HarvestScheduler] = {}
_REGISTRY_LOCK = threading.Lock()


def _service(name: str) -> HarvestScheduler | None:
    with _REGISTRY_LOCK:
        found = _SERVICES.get(name)
    if found is None:
        logger.warning("a job of scheduler %r fired, but no such scheduler runs in this process", name)
    return found


def scheduled_job(service: str, source_id: str) -> None:
    """The persistent job of one source (referenced by name in the job store)."""
    found = _service(service)
    if found is not None:
        found.run_scheduled(source_id)


def acquired_job(service: str, source_id: str, trigger: str, holder: str, run_id: str | None = None) -> None:
    """A run asked for now, whose lease was taken (and run recorded) when it was asked for."""
    found = _service(service)
    if found is not None:
        found.run_acquired(source_id, trigger=trigger, holder=holder, run_id=run_id)


def watch_job(service: str, source_id: str) -> None:
    """Look at a lease held elsewhere once it should have lapsed; take the source over if its holder died."""
    found = _service(service)
    if found is not None:
        found.watch(source_id)


def health_job(service: str) -> None:
    """The periodic staleness check."""
    found = _service(service)
    if found is not None:
        found.check_alerts()


def sync_job(service: str) -> None:
    """The periodic pick-up of sources added, changed or removed through the API or by another process."""
    found = _service(service)
    if found is not None:
        found.sync()


def dump_job(service: str) -> None:
    """The daily bulk data dump, built in a low-priority child process (indexer.dump)."""
    found = _service(service)
    if found is not None:
        try:
            build_dump_in_child(found.settings)
        except DumpError as exc:  # the published dumps stay; tomorrow's run tries again
            logger.error("the daily dump failed: %s", exc)


def new_holder() -> str:
    """A lease holder id for one run attempt: host, process id, process start time and a random part."""
    return holder_id()


def holder_pid(holder: str) -> int | None:
    """The process id inside a holder id made by `new_holder`."""
    parts = holder.rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _crontab_weekdays(field: str) -> str:
    """Crontab numbers weekdays from Sunday=0 (7 too); APScheduler from Monday=0, so use names."""
    return re.sub(r"\d+", lambda m: _DOW_NAMES[int(m.group())] if int(m.group()) < 8 else m.group(), field)


def build_trigger(source_id: str, schedule: Schedule) -> BaseTrigger:
    """The APScheduler trigger of a source's schedule (cron in Asia/Shanghai, else an interval)."""
    jitter = schedule.jitter_seconds or None
    if schedule.cron:
        fields = schedule.cron.split()
        if len(fields) != 5:
            raise ScheduleInvalidError(source_id, reason=f"cron needs 5 fields, got {schedule.cron!r}")
        minute, hour, day, month, weekday = fields
        try:
            return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                               day_of_week=_crontab_weekdays(weekday), timezone=TIMEZONE, jitter=jitter)  # fmt: skip
        except ValueError as exc:
            raise ScheduleInvalidError(source_id, reason=str(exc)) from exc
    if not schedule.interval_minutes:
        raise ScheduleInvalidError(source_id, reason="neither cron nor interval_minutes is set")
    return IntervalTrigger(minutes=schedule.interval_minutes, timezone=TIMEZONE, jitter=jitter)


def schedule_fingerprint(schedule: Schedule) -> str:
    """A short text that changes exactly when the trigger must change."""
    return json.dumps([schedule.cron, schedule.interval_minutes, schedule.jitter_seconds])


def job_id(source_id: str) -> str:
    """The persistent job id of a source."""
    return f"harvest:{source_id}"


class HarvestScheduler:
    """Schedules, starts, watches and stops the harvest runs of this process."""

    def __init__(
        self, *, settings: Settings, store: StateStore, themes: ThemeTable | None = None, name: str = "edufed"
    ) -> None:
        """`themes` is the theme table every run classifies by (the caller's, loaded once at its start; without
        it the scheduler loads `settings.themes_file` here, once)."""
        self.settings = settings
        self.themes = themes if themes is not None else load_themes(settings.themes_file)
        self.config = settings.scheduler
        self.store = store
        self.name = name
        self.alerts = AlertHook(store, settings=settings.scheduler)
        self.keeper = LeaseKeeper(store, ttl=self.config.lease_ttl_seconds)
        self.stopping = threading.Event()
        self._lost: dict[str, threading.Event] = {}
        self._queued: dict[str, tuple[str, str]] = {}  # holder -> (source id, run id) of runs not yet begun
        self._jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
        self.scheduler = BackgroundScheduler(
            jobstores={PERSISTENT: self._jobstore, VOLATILE: MemoryJobStore()},
            executors={RUNS: ThreadPoolExecutor(self.config.max_concurrent_runs), LIGHT: ThreadPoolExecutor(2)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.config.misfire_grace_seconds,
            },  # fmt: skip
            timezone=TIMEZONE,
        )

    # -- life cycle ---------------------------------------------------------------------------------

    def start(self, *, first_runs: bool = False) -> None:
        """Start scheduling; with `first_runs`, also run every schedulable source once right away."""
        self._create_job_table()
        with _REGISTRY_LOCK:
            _SERVICES[self.name] = self
        self.keeper.start()
        self.scheduler.start()
        self.sync()
        self.scheduler.add_job(health_job, "interval", seconds=self.config.health_check_seconds, args=[self.name],
                               id="health", jobstore=VOLATILE, executor=LIGHT, replace_existing=True)  # fmt: skip
        self.scheduler.add_job(sync_job, "interval", seconds=self.config.sync_seconds, args=[self.name],
                               id="sync", jobstore=VOLATILE, executor=LIGHT, replace_existing=True)  # fmt: skip
        if self.settings.dump.enabled:
            self.scheduler.add_job(dump_job, CronTrigger(hour=self.settings.dump.hour), args=[self.name], id="dump",
                                   jobstore=VOLATILE, executor=LIGHT, replace_existing=True)  # fmt: skip
        if first_runs:
            for source in self.store.sources.find(enabled=True):
                if source.schedulable:
                    self._first_run(source.id)

    def _first_run(self, source_id: str) -> None:
        try:
            self.run_now(source_id, trigger="startup")
        except SourceBusyError as exc:  # another process runs it: take it over should that process die
            logger.info("no start-up run of %s: %s", source_id, exc)
            self._watch_later(source_id)

    def _create_job_table(self) -> None:
        # Two processes starting together on one PostgreSQL may race to create the table: retry once.
        for attempt in range(3):
            try:
                self._jobstore.jobs_t.create(self.store.engine, checkfirst=True)
                return
            except SQLAlchemyError:
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def shutdown(self) -> None:
        """Stop scheduling; runs still going are stopped and recorded as interrupted."""
        self.stopping.set()
        if self.scheduler.running:
            # A pass of APScheduler's loop still going when shutdown marks it stopped fails to remove a one-shot job
            # that just fired (JobLookupError in the scheduler's thread). Pause first, then wait that pass out:
            # get_jobs takes the lock the pass holds, and a paused loop starts no new pass.
            self.scheduler.pause()
            self.scheduler.get_jobs()
            self.scheduler.shutdown(wait=True)
        for holder, (source_id, run_id) in list(self._queued.items()):  # their jobs will never run
            self._drop(source_id, holder, run_id, error_type="RunInterrupted",
                       reason="the service stopped before the run began")  # fmt: skip
        self.keeper.stop()
        with _REGISTRY_LOCK:
            if _SERVICES.get(self.name) is self:
                del _SERVICES[self.name]

    # -- jobs ---------------------------------------------------------------------------------------

    def sync(self) -> None:
        """Make the persistent jobs match the registered sources (add, reschedule, pause, remove)."""
        wanted = set()
        for source in self.store.sources.find():
            if self._sync_one(source):
                wanted.add(job_id(source.id))
        for job in self.scheduler.get_jobs(jobstore=PERSISTENT):
            if job.id not in wanted:
                self._remove(job.id)

    def _sync_one(self, source: StoredSource) -> bool:
        if not source.enabled:
            return False
        try:
            trigger = build_trigger(source.id, source.config.schedule)
        except ScheduleInvalidError as exc:
            logger.error("%s; the source is not scheduled", exc)
            return False
        name = f"{source.id} {schedule_fingerprint(source.config.schedule)}"
        job = self.scheduler.get_job(job_id(source.id), jobstore=PERSISTENT)
        if job is None:
            job = self._add(source, trigger=trigger, name=name)
        elif job.name != name:
            job = self.scheduler.reschedule_job(job.id, jobstore=PERSISTENT, trigger=trigger)
            job = self.scheduler.modify_job(job.id, jobstore=PERSISTENT, name=name)
        if job is not None:
            self._set_paused(job, paused=source.paused)
        return True

    def _add(self, source: StoredSource, *, trigger: BaseTrigger, name: str) -> Job | None:
        extra = {"next_run_time": None} if source.paused else {}
        try:
            return self.scheduler.add_job(scheduled_job, trigger, args=[self.name, source.id], id=job_id(source.id),
                                          name=name, jobstore=PERSISTENT, executor=RUNS, **extra)  # fmt: skip
        except ConflictingIdError:  # another process on the same database added it a moment ago
            return self.scheduler.get_job(job_id(source.id), jobstore=PERSISTENT)

    def _set_paused(self, job: Job, *, paused: bool) -> None:
        if paused and job.next_run_time is not None:
            self.scheduler.pause_job(job.id, jobstore=PERSISTENT)
        elif not paused and job.next_run_time is None:
            self.scheduler.resume_job(job.id, jobstore=PERSISTENT)

    def _remove(self, identifier: str) -> None:
        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(identifier, jobstore=PERSISTENT)

    def next_run_time(self, source_id: str) -> datetime | None:
        """When the source's job fires next; None when it is paused, disabled or unknown."""
        job = self.scheduler.get_job(job_id(source_id), jobstore=PERSISTENT)
        return job.next_run_time if job is not None else None

    def pause(self, source_id: str) -> StoredSource:
        """Pause a source: no scheduled runs until resumed (a run going on is left to finish)."""
        source = self.store.sources.set_paused(source_id, True)
        self._sync_one(source)
        return source

    def resume(self, source_id: str) -> StoredSource:
        """Resume a paused source's schedule, from now."""
        source = self.store.sources.set_paused(source_id, False)
        self._sync_one(source)
        return source

    # -- runs ---------------------------------------------------------------------------------------

    def run_now(self, source_id: str, *, trigger: str = "manual") -> RunRecord:
        """Queue a run of a source now (within the concurrency limit); returns the run, recorded before this
        returns (status running, `queued` until its child process begins it; its holder is the lease's).
        SchedulerError once the scheduler is stopping: the run would never begin."""
        if self.stopping.is_set():
            raise SchedulerError(f"the scheduler is stopping; {source_id} is not run")
        self.store.sources.get(source_id)
        holder = new_holder()
        if not self._acquire(source_id, holder):
            lease = self.store.leases.get(source_id)
            raise SourceBusyError(source_id, holder=lease.holder if lease else None)
        run: RunRecord | None = None
        try:
            run = queue_run(self.store, source_id, trigger=trigger, holder=holder)
            self._queued[holder] = (source_id, run.id)
            self.scheduler.add_job(acquired_job, DateTrigger(utcnow()), id=f"run:{holder}", jobstore=VOLATILE,
                                   args=[self.name, source_id, trigger, holder, run.id], executor=RUNS,
                                   misfire_grace_time=None)  # fmt: skip
        except Exception as exc:
            if run is None:
                self._release(source_id, holder)
            else:
                self._drop(
                    source_id, holder, run.id, error_type="RunNotQueued", reason=f"it could not be queued: {exc}"
                )
            raise
        return run

    def run_scheduled(self, source_id: str) -> AttemptResult | None:
        """A scheduled firing: run the source unless it is paused or running elsewhere."""
        with log_context(source_id=source_id):
            try:
                source = self.store.sources.get(source_id)
            except StateNotFoundError:
                self._remove(job_id(source_id))
                return None
            if not source.schedulable:
                logger.info("%s is paused or disabled; scheduled run skipped", source_id)
                return None
            holder = new_holder()
            if not self._acquire(source_id, holder):
                logger.info("%s is being harvested elsewhere; this firing is skipped", source_id)
                self._watch_later(source_id)
                return None
            return self.run_acquired(source_id, trigger="schedule", holder=holder)

    def run_acquired(
        self, source_id: str, *, trigger: str, holder: str, run_id: str | None = None
    ) -> AttemptResult | None:
        """Run a source whose lease `holder` holds, as the run `run_id` recorded by `run_now` (None: the run is
        recorded here); the lease is released at the end."""
        with log_context(source_id=source_id):
            if self.stopping.is_set():
                if run_id is not None:
                    self._drop(source_id, holder, run_id, error_type="RunInterrupted",
                               reason="the service stopped before the run began")  # fmt: skip
                else:
                    self._release(source_id, holder)
                return None
            self._queued.pop(holder, None)
            lost = self._lost.pop(holder, None) or threading.Event()
            try:
                if run_id is None:
                    run_id = queue_run(self.store, source_id, trigger=trigger, holder=holder).id
                request = ChildRun(source_id, trigger, holder, self._state_url(), self.settings, self.themes,
                                   logging.getLogger().getEffectiveLevel(), run_id)  # fmt: skip
                result = supervise(request, store=self.store, limit_seconds=self._limit(source_id),
                                   lease_lost=lost, stopping=self.stopping)  # fmt: skip
            finally:
                self._release(source_id, holder)
            with log_context(run_id=result.run_id):
                logger.info("run of %s (%s) ended: %s", source_id, trigger, result.status)
            self.check_alerts([source_id])
            return result

    def watch(self, source_id: str) -> AttemptResult | None:
        """Follow a lease held elsewhere; take the source over once it lapses without being released."""
        lease = self.store.leases.get(source_id)
        if lease is None or self.stopping.is_set():
            return None  # released: its run ended normally
        if lease.expires_at > utcnow():
            self._watch_later(source_id)
            return None
        holder = new_holder()
        if not self._acquire(source_id, holder):
            self._watch_later(source_id)
            return None
        try:
            schedulable = self.store.sources.get(source_id).schedulable
        except StateNotFoundError:
            schedulable = False
        if not schedulable:
            self._release(source_id, holder)
            return None
        logger.warning("taking %s over from %s, whose lease lapsed at %s", source_id, lease.holder, lease.expires_at)
        return self.run_acquired(source_id, trigger="retry", holder=holder)

    def _watch_later(self, source_id: str) -> None:
        lease = self.store.leases.get(source_id)
        if lease is None or self.stopping.is_set():
            return
        self.scheduler.add_job(watch_job, DateTrigger(lease.expires_at + _WATCH_MARGIN), args=[self.name, source_id],
                               id=f"watch:{source_id}", jobstore=VOLATILE, executor=RUNS, replace_existing=True,
                               misfire_grace_time=None)  # fmt: skip

    def _acquire(self, source_id: str, holder: str) -> bool:
        if not self.store.leases.try_acquire(source_id, holder, ttl=self.config.lease_ttl_seconds):
            return False
        self._lost[holder] = self.keeper.hold(source_id, holder)
        return True

    def _release(self, source_id: str, holder: str) -> None:
        self._lost.pop(holder, None)
        self.keeper.release(source_id, holder)

    def _drop(self, source_id: str, holder: str, run_id: str, *, error_type: str, reason: str) -> None:
        """A queued run that will never begin: finish it as failed with the reason, give its lease back."""
        self._queued.pop(holder, None)
        try:
            drop_queued(self.store, run_id, error_type=error_type, reason=reason)
        except Exception:  # the next holder of the lease abandons it
            logger.exception("could not record that run %s of %s never began", run_id, source_id)
        finally:
            self._release(source_id, holder)
        logger.warning("run %s of %s never began: %s", run_id, source_id, reason)

    def _limit(self, source_id: str) -> float:
        minutes = self.store.sources.get(source_id).config.schedule.timeout_minutes
        return minutes * 60 if minutes else self.config.run_timeout_seconds

    def _state_url(self) -> str:
        return self.store.engine.url.render_as_string(hide_password=False)

    def check_alerts(self, source_ids: list[str] | None = None) -> None:
        """Send the alerts that are due (never lets an alert problem break a run)."""
        try:
            self.alerts.check(source_ids)
        except Exception:
            logger.exception("checking alerts failed")
