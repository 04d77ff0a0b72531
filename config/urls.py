from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns

from lightbox.access import require_admin
from lightbox.login_throttle import ThrottledAuthenticationForm
from operations import views as operations_views


def rq_dashboard_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """django-rq's pages (admins only) carry inline scripts and styles of their own: the one
    place the Content-Security-Policy lets them run."""
    return require_admin(
        csp_update({"script-src": ["'unsafe-inline'"], "style-src": ["'unsafe-inline'"]})(view)
    )


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin's, error pages):
    send them to the SVG that base.html names. Not permanent: the static name carries a
    content hash that changes with the file."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("", include("catalog.urls")),
    path("", include("review.urls")),
    path("", include("insights.urls")),
    path("", include("catalog.api.urls")),
    path("account/", include("catalog.api.account_urls")),
    path("webhooks/", include("catalog.webhooks.urls")),
    path("scenes/", include("catalog.scenes.urls")),
    path("settings/shopify/", include("catalog.shopify.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The RQ dashboard: admins only (django-rq itself only asks for staff); its JSON
    # stats keep their own bearer-token auth (RQ_API_TOKEN) for monitoring.
    path(
        "django-rq/",
        include(
            (
                [*get_api_urlpatterns(), *get_admin_urlpatterns(view_wrapper=rq_dashboard_view)],
                "django_rq",
            )
        ),
    ),
    path("healthz", operations_views.healthz, name="healthz"),
    path("metrics", operations_views.metrics, name="metrics"),
    path("favicon.ico", favicon, name="favicon"),
]
