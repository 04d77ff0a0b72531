from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "catalog.api"
    label = "api"
    verbose_name = "JSON API"
