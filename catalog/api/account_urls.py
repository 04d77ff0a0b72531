from __future__ import annotations

from django.urls import path

from catalog.api import views

app_name = "account"
urlpatterns = [
    path("", views.account, name="detail"),
    path("tokens/new", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke", views.token_revoke, name="token_revoke"),
]
