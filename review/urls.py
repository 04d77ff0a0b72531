from __future__ import annotations

from django.urls import path

from review import views

app_name = "review"
urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
