from django_tasks import task

from satu.core import jobs


@task()
def run_job(job_id: int) -> None:
    jobs.job_run(job_id)
