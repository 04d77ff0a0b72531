"""The review pages: each as a full page and as its htmx fragment, decisions over POST."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import ImageVersion, Product, SourceImage, UploadBatch, VersionStatus
from review.forms import QueueFilterForm
from review.models import ReviewDecision
from review.services import claim_next

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def reviewing(client, reviewer):
    client.force_login(reviewer)
    return client


def is_full_page(response) -> bool:
    return "<html" in response.content.decode()


def test_the_queue_is_a_page_and_its_results_a_fragment(reviewing, make_flagged):
    make_flagged()

    page = reviewing.get(reverse("review:queue"))
    fragment = reviewing.get(reverse("review:queue"), **HX)

    assert page.status_code == fragment.status_code == 200
    assert is_full_page(page)
    assert not is_full_page(fragment)
    assert 'id="queue-results"' in fragment.content.decode()
    assert "ITEM-1" in fragment.content.decode()


def test_the_queue_filters_by_reason_and_counts_every_reason(reviewing, make_flagged):
    make_flagged(reasons=[{"code": "blurry", "message": "Blurry"}, {"code": "cut_off", "message": "Cut"}])
    make_flagged(reasons=[{"code": "cut_off", "message": "Cut"}])
    make_flagged(reasons=[{"code": "holes", "message": "Holes"}], brand="Other")

    response = reviewing.get(reverse("review:queue"), {"reason": "blurry"}, **HX)

    assert [v.source.product.sku for v in response.context["flagged"]] == ["ITEM-1"]
    # Counts are a facet: every reason under the other filters, the chosen one included.
    counts = {row["code"]: row["count"] for row in response.context["reason_counts"]}
    assert counts == {"cut_off": 2, "blurry": 1, "holes": 1}
    by_brand = reviewing.get(reverse("review:queue"), {"brand": "Kiln"}, **HX)
    assert {row["code"]: row["count"] for row in by_brand.context["reason_counts"]} == {
        "cut_off": 2,
        "blurry": 1,
    }


def test_the_queue_filters_by_score_range(reviewing, make_flagged):
    make_flagged(score=20)
    make_flagged(score=60)

    response = reviewing.get(reverse("review:queue"), {"score_min": 50, "score_max": 70}, **HX)

    assert [v.score for v in response.context["flagged"]] == [60]


def test_the_queue_page_offers_the_catalogs_brands_and_the_batches_with_items_waiting(
    reviewing, make_flagged
):
    waiting = make_flagged(brand="Kiln")
    make_flagged(brand="Acme")
    spring = UploadBatch.objects.create(name="Spring shoot")
    UploadBatch.objects.create(name="All done")
    SourceImage.objects.filter(pk=waiting.source_id).update(batch=spring)
    Product.objects.filter(pk=waiting.source.product_id).update(category="Kitchen")

    html = reviewing.get(reverse("review:queue"), {"brand": "Kiln"}).content.decode()

    assert '<option value="Acme">' in html
    assert '<option value="Kiln" selected>' in html
    assert '<option value="Kitchen">' in html
    assert f'<option value="{spring.pk}">Spring shoot</option>' in html
    assert "All done" not in html


def test_the_filters_a_decision_carries_are_parsed_without_a_query(django_assert_num_queries):
    batch = uuid.uuid4()
    data = {"reason": "blurry", "brand": "Kiln", "batch": str(batch), "score_min": "10"}

    with django_assert_num_queries(0):
        filters = QueueFilterForm(data)
        assert filters.is_valid()
        assert filters.querystring() == f"reason=blurry&brand=Kiln&batch={batch}&score_min=10"


def test_an_unknown_reason_in_the_filters_is_ignored(reviewing, make_flagged):
    make_flagged()

    response = reviewing.get(reverse("review:queue"), {"reason": "no_such_reason"}, **HX)

    assert len(response.context["flagged"]) == 1


def test_opening_the_decision_page_claims_the_first_item(reviewing, reviewer, make_flagged):
    first = make_flagged(minutes_ago=20)
    make_flagged(minutes_ago=10)

    page = reviewing.get(reverse("review:decide"))

    assert page.status_code == 200
    assert is_full_page(page)
    html = page.content.decode()
    assert f'data-version="{first.pk}"' in html
    assert reverse("catalog:source_file", args=[first.source_id]) in html
    assert "The product touches the edge of the photo." in html
    assert "Product cut off by the frame" in html
    first.refresh_from_db()
    assert first.claimed_by == reviewer


def test_next_and_previous_step_through_the_queue_as_fragments(reviewing, make_flagged):
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)

    forward = reviewing.get(reverse("review:decide"), {"after": first.pk}, **HX)
    back = reviewing.get(reverse("review:decide"), {"before": second.pk}, **HX)
    past_the_end = reviewing.get(reverse("review:decide"), {"after": second.pk}, **HX)

    assert not is_full_page(forward)
    assert forward.context["version"] == second
    assert back.context["version"] == first
    assert past_the_end.context["version"] is None
    assert 'data-testid="queue-empty"' in past_the_end.content.decode()


def test_an_empty_queue_says_so(reviewing):
    response = reviewing.get(reverse("review:decide"))

    assert response.status_code == 200
    assert "Nothing left to review" in response.content.decode()


def test_approving_over_htmx_returns_the_next_item_already_claimed(
    reviewing, reviewer, make_flagged, redis_conn
):
    first, second = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)
    reviewing.get(reverse("review:decide"))

    response = reviewing.post(reverse("review:approve", args=[first.pk]), **HX)

    assert response.status_code == 200
    assert not is_full_page(response)
    html = response.content.decode()
    assert "Approved ITEM-1 v1." in html
    assert f'data-version="{second.pk}"' in html
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == VersionStatus.RENDERING
    assert second.claimed_by == reviewer


def test_approving_without_htmx_redirects_to_the_next_item(reviewing, make_flagged, redis_conn):
    version = make_flagged()

    response = reviewing.post(reverse("review:approve", args=[version.pk]) + "?brand=Kiln")

    assert response.status_code == 302
    assert response["Location"] == reverse("review:decide") + "?brand=Kiln"
    assert ReviewDecision.objects.filter(version=version, action="approve").exists()


@pytest.mark.parametrize("headers", [HX, {}], ids=["htmx", "plain"])
def test_a_second_approval_is_refused_with_409_and_a_message(reviewing, make_flagged, redis_conn, headers):
    version = make_flagged()
    reviewing.post(reverse("review:approve", args=[version.pk]), **HX)

    response = reviewing.post(reverse("review:approve", args=[version.pk]), **headers)

    assert response.status_code == 409
    assert is_full_page(response) is (not headers)
    assert "This item was already decided: it is now rendering." in response.content.decode()


def test_a_decision_on_an_item_another_reviewer_holds_is_refused(
    reviewing, other_reviewer, make_flagged, redis_conn
):
    version = make_flagged()
    claim_next(other_reviewer)

    response = reviewing.post(reverse("review:approve", args=[version.pk]), **HX)

    assert response.status_code == 409
    assert "rob-reviewer is reviewing this item right now." in response.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


def test_rejecting_needs_a_reason_from_the_list(reviewing, make_flagged):
    version = make_flagged()

    missing = reviewing.post(reverse("review:reject", args=[version.pk]), {"note": "meh"}, **HX)
    unknown = reviewing.post(reverse("review:reject", args=[version.pk]), {"reason": "ugly"}, **HX)

    assert missing.status_code == unknown.status_code == 422
    assert "Choose a reason for the rejection." in missing.content.decode()
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


def test_rejecting_with_a_reason_records_it(reviewing, make_flagged):
    version = make_flagged()

    response = reviewing.post(
        reverse("review:reject", args=[version.pk]), {"reason": "duplicate", "note": "same as photo 1"}, **HX
    )

    assert response.status_code == 200
    assert "Rejected ITEM-1 v1." in response.content.decode()
    decision = ReviewDecision.objects.get(version=version)
    assert (decision.action, decision.reason, decision.note) == ("reject", "duplicate", "same as photo 1")


def test_reprocessing_queues_a_new_version_with_the_chosen_options(reviewing, make_flagged, redis_conn):
    version = make_flagged()
    form = {"refine_edges": "on", "crop_left": 2, "crop_top": 3, "crop_right": 50, "crop_bottom": 40}

    response = reviewing.post(reverse("review:reprocess", args=[version.pk]), form, **HX)

    assert response.status_code == 200
    assert "Reprocessing ITEM-1 v2." in response.content.decode()
    new = ImageVersion.objects.get(parent=version)
    assert new.options == {"refine_edges": True, "shadow": False, "crop": [2, 3, 50, 40]}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"crop_left": 0, "crop_top": 0, "crop_right": 65, "crop_bottom": 48}, "inside the photo"),
        ({"crop_left": 0, "crop_top": 0}, "all four crop edges"),
    ],
)
def test_a_crop_outside_the_photo_is_refused(reviewing, make_flagged, form, message):
    version = make_flagged()

    response = reviewing.post(reverse("review:reprocess", args=[version.pk]), form, **HX)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ImageVersion.objects.filter(parent=version).exists()


def test_the_grid_is_a_page_and_a_fragment_without_items_others_hold(reviewing, other_reviewer, make_flagged):
    mine, held = make_flagged(minutes_ago=20), make_flagged(minutes_ago=10)
    claim_next(other_reviewer, after=mine)

    page = reviewing.get(reverse("review:grid"))
    fragment = reviewing.get(reverse("review:grid"), **HX)

    assert is_full_page(page)
    assert not is_full_page(fragment)
    assert list(fragment.context["items"]) == [mine]
    assert str(held.pk) not in fragment.content.decode()


def test_bulk_approval_reports_what_was_applied_and_what_was_stale(
    reviewing, reviewer, other_reviewer, make_flagged, redis_conn
):
    free, decided, held = (
        make_flagged(minutes_ago=30),
        make_flagged(minutes_ago=20),
        make_flagged(minutes_ago=10),
    )
    reviewing.post(reverse("review:approve", args=[decided.pk]), **HX)
    claim_next(other_reviewer, after=decided)

    response = reviewing.post(
        reverse("review:bulk_approve"), {"ids": [free.pk, decided.pk, held.pk, "not-a-uuid"]}, **HX
    )

    assert response.status_code == 200
    assert (response.context["applied"], response.context["stale"]) == (1, 2)
    assert "Approved 1. 2 could not be" in response.content.decode()
    assert set(ImageVersion.objects.filter(status="rendering").values_list("pk", flat=True)) == {
        free.pk,
        decided.pk,
    }


def test_bulk_approval_without_htmx_redirects_back_to_the_grid(reviewing, make_flagged, redis_conn):
    version = make_flagged()

    response = reviewing.post(reverse("review:bulk_approve"), {"ids": [version.pk]})

    assert response.status_code == 302
    assert response["Location"] == reverse("review:grid")


def review_urls(version_pk):
    return [
        ("get", reverse("review:queue")),
        ("get", reverse("review:decide")),
        ("get", reverse("review:grid")),
        ("post", reverse("review:approve", args=[version_pk])),
        ("post", reverse("review:reject", args=[version_pk])),
        ("post", reverse("review:reprocess", args=[version_pk])),
        ("post", reverse("review:bulk_approve")),
    ]


@pytest.mark.parametrize("role", ["merchandiser", "outsider"])
def test_people_without_the_review_role_are_refused_everywhere(request, client, make_flagged, role):
    version = make_flagged()
    client.force_login(request.getfixturevalue(role))

    for method, url in review_urls(version.pk):
        assert getattr(client, method)(url).status_code == 403, url
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


def test_anonymous_visitors_are_sent_to_log_in_everywhere(client, make_flagged):
    version = make_flagged()

    for method, url in review_urls(version.pk):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_a_decision_without_a_csrf_token_is_refused(reviewer, make_flagged, redis_conn):
    version = make_flagged()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)

    for url in (reverse("review:approve", args=[version.pk]), reverse("review:bulk_approve")):
        assert client.post(url, {"ids": [version.pk]}, **HX).status_code == 403
    version.refresh_from_db()
    assert version.status == VersionStatus.FLAGGED


def test_htmx_sends_the_csrf_token_from_the_page_in_a_header(reviewer, make_flagged, redis_conn):
    version = make_flagged()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    page = client.get(reverse("review:decide"))
    token = page.context["csrf_token"]

    assert f'"X-CSRFToken": "{token}"' in page.content.decode()
    response = client.post(reverse("review:approve", args=[version.pk]), HTTP_X_CSRFTOKEN=str(token), **HX)
    assert response.status_code == 200
