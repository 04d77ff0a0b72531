"""Exports' pages. Included into catalog's URLs, so the names are catalog:exports,
catalog:export_start, catalog:export_detail and catalog:export_download."""

from __future__ import annotations

from django.urls import path

from catalog.exports import views

urlpatterns = [
    path("exports/", views.export_list, name="exports"),
    path("exports/new", views.export_start, name="export_start"),
    path("exports/<uuid:export_id>/", views.export_detail, name="export_detail"),
    path("exports/<uuid:export_id>/download", views.export_download, name="export_download"),
]
