"""Admin pages for scene templates and rules. Thin: the work is in rules.py and services.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog.scenes import services
from catalog.scenes.forms import RuleForm, TemplateMarkingForm, TemplateUploadForm
from catalog.scenes.models import SceneRule, SceneTemplate
from catalog.scenes.rules import apply_rule
from lightbox.access import require_admin


@require_GET
@require_admin
def index(request: HttpRequest) -> HttpResponse:
    templates = SceneTemplate.objects.order_by("name")
    rules = SceneRule.objects.select_related("template").prefetch_related("profiles", "products")
    return render(request, "scenes/index.html", {"templates": templates, "rules": rules})


@require_http_methods(["GET", "POST"])
@require_admin
def template_create(request: HttpRequest) -> HttpResponse:
    form = TemplateUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            template = services.create_template(
                form.cleaned_data["name"], form.cleaned_data["photo"], request.user
            )
        except services.TemplateRefused as exc:
            form.add_error("photo", str(exc))
        else:
            messages.success(request, "Now mark the placement area, the surface line and the light.")
            return redirect("scenes:template_mark", template.pk)
    return render(request, "scenes/template_create.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require_admin
def template_mark(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(SceneTemplate, pk=template_id)
    form = TemplateMarkingForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        services.save_markings(form)
        messages.success(request, f"Saved the markings of {template.name}.")
        return redirect("scenes:index")
    return render(request, "scenes/template_mark.html", {"form": form, "template": template})


@require_http_methods(["GET", "POST"])
@require_admin
def rule_create(request: HttpRequest) -> HttpResponse:
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = form.save(commit=False)
        rule.created_by = request.user  # type: ignore[assignment]  # require_admin: signed in
        rule.save()
        form.save_m2m()
        rule.products.set(form.cleaned_data["products"])
        made = apply_rule(rule)
        messages.success(request, f"Scene rule saved: {len(made)} scene versions queued.")
        return redirect("scenes:index")
    return render(request, "scenes/rule_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
@require_admin
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    """Change what a rule matches, its profiles or position, or switch it off. Scenes it
    already made stay as they are (a reviewer rejects one that should go); a rule switched
    on again, or matching more products, makes the scenes that are missing."""
    rule = get_object_or_404(SceneRule, pk=rule_id)
    skus = ", ".join(rule.products.order_by("sku").values_list("sku", flat=True))
    form = RuleForm(request.POST or None, instance=rule, initial={"skus": skus})
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        made = apply_rule(rule)
        state = "on" if rule.enabled else "off"
        messages.success(request, f"Scene rule saved ({state}): {len(made)} scene versions queued.")
        return redirect("scenes:index")
    return render(request, "scenes/rule_form.html", {"form": form, "rule": rule})


@require_POST
@require_admin
def rule_apply(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = get_object_or_404(SceneRule, pk=rule_id)
    made = apply_rule(rule)
    messages.success(request, f"{len(made)} scene versions queued for {rule}.")
    return redirect("scenes:index")


@require_GET
@require_admin
def template_photo(request: HttpRequest, template_id: int) -> HttpResponse:
    from catalog.views import _image_response

    template = get_object_or_404(SceneTemplate, pk=template_id)
    return _image_response(template.image, "PNG")  # type: ignore[return-value]
