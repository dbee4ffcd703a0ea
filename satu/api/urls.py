from django.urls import path

from satu.api.main import api

urlpatterns = [path("", api.urls)]
