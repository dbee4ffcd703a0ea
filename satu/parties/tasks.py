"""Background jobs of the parties domain (django-tasks)."""

from django_tasks import task

from satu.parties import services


@task()
def recompute_rule_segments() -> int:
    """Recompute every active rule segment (scheduled hourly); returns how many."""
    return services.segments_recompute_all()
