from __future__ import annotations

from django.urls import path

from catalog.scenes import views

app_name = "scenes"
urlpatterns = [
    path("", views.index, name="index"),
    path("templates/new", views.template_create, name="template_create"),
    path("templates/<int:template_id>/", views.template_mark, name="template_mark"),
    path("templates/<int:template_id>/photo", views.template_photo, name="template_photo"),
    path("rules/new", views.rule_create, name="rule_create"),
    path("rules/<int:rule_id>/edit", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/apply", views.rule_apply, name="rule_apply"),
]
