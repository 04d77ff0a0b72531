from django.apps import AppConfig


class ShopifyConfig(AppConfig):
    name = "catalog.shopify"
    label = "shopify"
    verbose_name = "Shopify"
