from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "catalog.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
