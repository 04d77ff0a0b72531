from __future__ import annotations

from django.urls import path

from review import mask_views, views

app_name = "review"
urlpatterns = [
    path("review/", views.queue, name="queue"),
    path("review/item/", views.decide, name="decide"),
    path("review/item/<uuid:version_id>/approve", views.approve, name="approve"),
    path("review/item/<uuid:version_id>/reject", views.reject, name="reject"),
    path("review/item/<uuid:version_id>/reprocess", views.reprocess, name="reprocess"),
    path("review/item/<uuid:version_id>/mask", mask_views.save_mask, name="save_mask"),
    path("review/item/<uuid:version_id>/mask/fix", mask_views.fix_mask, name="fix_mask"),
    path("review/grid/", views.grid, name="grid"),
    path("review/grid/approve", views.bulk_approve, name="bulk_approve"),
]
