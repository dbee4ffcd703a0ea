"""Background jobs of sales (django-tasks)."""

from django_tasks import task

from satu.core import features
from satu.sales import services


@task()
def expire_quotes() -> int:
    """Daily: mark open quotes past their valid-until date expired."""
    if not features.is_enabled("sales"):
        return 0
    return services.quotes_expire()
