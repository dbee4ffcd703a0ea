from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "satu.web"
    label = "web"
