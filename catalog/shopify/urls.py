from __future__ import annotations

from django.urls import path

from catalog.shopify import views

app_name = "shopify"
urlpatterns = [
    path("", views.connection, name="connection"),
    path("check", views.check, name="check"),
    path("disconnect", views.disconnect, name="disconnect"),
]
