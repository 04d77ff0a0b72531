from __future__ import annotations

from django.urls import path

from catalog import views

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="product_list"),
    path("products/<str:sku>/", views.product_detail, name="product_detail"),
    path("upload/", views.upload, name="upload"),
    path("batches/<uuid:batch_id>/", views.batch_detail, name="batch_detail"),
    path("exports/", views.exports, name="exports"),
    path("files/sources/<uuid:source_id>", views.source_file, name="source_file"),
    path("files/versions/<uuid:version_id>/<str:kind>", views.version_file, name="version_file"),
    path("files/renditions/<uuid:rendition_id>", views.rendition_file, name="rendition_file"),
]
