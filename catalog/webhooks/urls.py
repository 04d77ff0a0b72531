from __future__ import annotations

from django.urls import path

from catalog.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.endpoint_list, name="endpoint_list"),
    path("new", views.endpoint_create, name="endpoint_create"),
    path("<uuid:endpoint_id>/", views.endpoint_detail, name="endpoint_detail"),
    path("<uuid:endpoint_id>/rotate", views.endpoint_rotate, name="endpoint_rotate"),
    path("<uuid:endpoint_id>/enable", views.endpoint_enable, name="endpoint_enable"),
    path("<uuid:endpoint_id>/disable", views.endpoint_disable, name="endpoint_disable"),
    path("<uuid:endpoint_id>/test", views.endpoint_test, name="endpoint_test"),
    path("deliveries/<uuid:delivery_id>/resend", views.delivery_resend, name="delivery_resend"),
]
