from __future__ import annotations

from django.urls import path

from catalog import retry_views, upload_views, views
from catalog.exports import urls as export_urls

app_name = "catalog"
urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="product_list"),
    path("products/<str:sku>/", views.product_detail, name="product_detail"),
    path("upload/", upload_views.upload, name="upload"),
    path("batches/", upload_views.batch_list, name="batch_list"),
    path("batches/new", upload_views.batch_create, name="batch_create"),
    path("batches/<uuid:batch_id>/", upload_views.batch_detail, name="batch_detail"),
    path("batches/<uuid:batch_id>/files", upload_views.batch_files, name="batch_files"),
    path("batches/<uuid:batch_id>/close", upload_views.batch_close, name="batch_close"),
    path("batches/<uuid:batch_id>/retry", retry_views.batch_retry, name="batch_retry"),
    path("versions/<uuid:version_id>/retry", retry_views.version_retry, name="version_retry"),
    # Exports' own routes, named in this namespace (catalog:exports, catalog:export_detail…).
    *export_urls.urlpatterns,
    path("files/sources/<uuid:source_id>", views.source_file, name="source_file"),
    path("files/versions/<uuid:version_id>/<str:kind>", views.version_file, name="version_file"),
    path("files/renditions/<uuid:rendition_id>", views.rendition_file, name="rendition_file"),
    path("i/<str:key>/<str:name>", views.public_rendition, name="public_rendition"),
]
