"""The account page: who you are, your roles, and your API tokens (made, listed, revoked)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from catalog.api.errors import error_body
from catalog.api.models import ApiToken


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What it is for, e.g. “PIM sync”.")


def _page(request: HttpRequest, form: TokenForm, new_token: str = "", status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "roles": [group.name for group in request.user.groups.order_by("name")],
        "tokens": ApiToken.objects.filter(user=request.user),  # type: ignore[misc]  # logged in
        "new_token": new_token,
        "docs_url": reverse("api:openapi-view"),
    }
    return render(request, "api/account.html", context, status=status)


@require_GET
@login_required
def account(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm())


@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    """Make a token and show it on this response only: it is stored hashed, never again readable."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    _token, raw = ApiToken.issue(request.user, form.cleaned_data["name"])
    response = _page(request, TokenForm(), new_token=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if token.revoke():
        messages.success(request, f"Token “{token.name}” revoked; calls with it now get 401.")
    return redirect("account:detail")


def api_not_found(request: HttpRequest, *args: object) -> JsonResponse:
    """Any other address under /api/v1/ answers with the API's error body, not an HTML page."""
    return JsonResponse(
        error_body(404, f"There is no API endpoint at {request.path}."),
        status=404,
        content_type="application/json; charset=utf-8",  # as ninja's responses
    )
