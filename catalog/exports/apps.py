from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "catalog.exports"
    label = "exports"
    verbose_name = "Exports"
