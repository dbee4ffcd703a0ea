from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "satu.api"
    label = "satu_api"
