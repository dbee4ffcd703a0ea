"""Background jobs with progress the UI can poll (PLT-6).

A domain registers a handler for a job kind; `job_start` records the job and
enqueues the `run_job` task once the transaction commits; the worker
(`satu worker`) runs it. Handlers receive the job and a `report(percent,
message)` callable and return a result dict (and may set `job.result_url`).
"""

import logging
import traceback
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from satu.core.errors import DomainError
from satu.core.models import Job

logger = logging.getLogger(__name__)

_handlers: dict[str, Callable] = {}


def register_handler(kind: str, handler: Callable) -> None:
    _handlers[kind] = handler


@transaction.atomic
def job_start(
    *, actor, kind: str, title: str, params: dict | None = None, input_file=None
) -> Job:
    """Record a queued job and enqueue it after commit."""
    if kind not in _handlers:
        raise DomainError(_("Unknown job kind “%(kind)s”.") % {"kind": kind})
    job = Job(kind=kind, title=title[:200], params=params or {}, created_by=actor)
    if input_file is not None:
        job.input_file.save(input_file.name, input_file, save=False)
    job.save()
    from satu.core.tasks import run_job

    transaction.on_commit(lambda: run_job.enqueue(job.pk))
    return job


def _report(job_id: int) -> Callable[[int, str], None]:
    def report(percent: int, message: str = "") -> None:
        Job.objects.filter(pk=job_id).update(
            progress=max(0, min(100, int(percent))), message=message[:500]
        )

    return report


def job_run(job_id: int) -> None:
    """Run one job (called by the worker). Failures are stored on the job."""
    job = (
        Job.objects.select_related("created_by")
        .filter(pk=job_id, state=Job.State.QUEUED)
        .first()
    )
    if job is None:
        return
    # Messages a job writes are read by its owner: use the owner's language.
    with translation.override(job.created_by.language):
        _run(job)


def _run(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, started_at=timezone.now()
    )
    try:
        result = _handlers[job.kind](job, _report(job.pk)) or {}
    except DomainError as exc:
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED,
            message=str(exc)[:500],
            result={"code": exc.code, "detail": str(exc), "fields": exc.fields},
            finished_at=timezone.now(),
        )
        return
    except Exception:
        logger.exception("job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.FAILED,
            message=_(
                "The job failed unexpectedly; the administrator can see the log."
            ),
            result={"trace": traceback.format_exc()[-4000:]},
            finished_at=timezone.now(),
        )
        return
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.DONE,
        progress=100,
        result=result,
        result_url=job.result_url,
        finished_at=timezone.now(),
        message=result.get("message", _("Done."))[:500],
    )


def job_get(*, actor, job_id: int) -> Job:
    from satu.core.errors import NotFound

    job = Job.objects.filter(pk=job_id, created_by=actor).first()
    if job is None:
        raise NotFound(_("Job not found."))
    return job
