from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (`satu demo`): a top-layer app that calls every domain's services."""

    name = "satu.demo"
    label = "demo"
    verbose_name = "Demo data"
