"""The operations dashboard: exact figures over a known day, the live backlog, alerts and access."""

from __future__ import annotations

import re

import django_rq
import pytest
from django.urls import reverse
from rq import Queue
from rq.serializers import JSONSerializer

from insights.dashboard import human_duration
from tests.insights import test_kpis

URL = reverse("insights:dashboard")
# test_kpis' known day of work, shared as fixtures.
history = test_kpis.history
prices = test_kpis.prices
profiles = test_kpis.profiles
# The day of tests/insights/test_kpis.py's history, in whole UTC days: 2026-03-02.
THE_DAY = {"range": "custom", "start": "2026-03-02", "end": "2026-03-02"}
EMPTY_DAY = {"range": "custom", "start": "2026-01-01", "end": "2026-01-01"}


@pytest.fixture
def admin_client(client, admin_user, redis_conn):
    client.force_login(admin_user)
    return client


def enqueue_now(name, func, *args):
    # Straight to Redis: django-rq would wait for the test's transaction to commit.
    return Queue(name, connection=django_rq.get_connection(name), serializer=JSONSerializer).enqueue(
        func, *args
    )


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, f"{testid} not on the page"
    return match.group(1).strip()


def bars_in(html: str, chart: str) -> int:
    svg = re.search(rf'<svg[^>]*data-chart="{chart}".*?</svg>', html, re.DOTALL)
    assert svg, f"no {chart} chart"
    return svg.group(0).count('<g class="bar">')


def test_the_page_shows_the_exact_figures_of_a_known_day(admin_client, history, prices):
    html = admin_client.get(URL, THE_DAY).content.decode()

    # Published on 2026-03-02: a 60 s, b 120 s, c 300 s, d 3600 s (at 08:00, before test_kpis' DAY).
    assert text_of(html, "ttp-median") == "3 min 30 s"
    assert text_of(html, "ttp-p90") == "43 min 30 s"
    assert text_of(html, "ttp-p95") == "51 min 45 s"
    # Scored that day: a, b, c, d, e, f, g; a person saw c, e, f, g.
    assert text_of(html, "intervention-share") == "57 %"
    assert (text_of(html, "approve"), text_of(html, "reject"), text_of(html, "reprocess")) == ("1", "1", "1")
    # d has no compute seconds; i finished the next day.
    assert text_of(html, "cost-total") == "0.6750"
    assert text_of(html, "cost-per-image") == "0.0964"
    assert re.findall(r'data-reason="([^"]+)"', html) == ["cut_off", "background", "low_contrast"]
    assert re.findall(r'data-testid="reason-count">(\d+)<', html) == ["3", "1", "1"]


def test_the_charts_draw_one_bar_per_day_hour_and_score_bucket(admin_client, history, prices):
    html = admin_client.get(URL, THE_DAY).content.decode()

    assert bars_in(html, "cost-per-day") == 1
    assert bars_in(html, "throughput-per-hour") == 24
    assert bars_in(html, "score-distribution") == 10
    assert 'viewBox="0 0 600 200"' in html


def test_first_pass_compliance_is_a_row_per_profile(admin_client, history, profiles):
    first, second = profiles
    html = admin_client.get(URL, THE_DAY).content.decode()

    # d's failed rendition is on the day too (at 08:00), so the second profile is 1 of 2.
    assert re.search(rf'data-profile="{first.slug}"><td>[^<]+</td><td>3</td><td>2</td><td>67 %', html)
    assert re.search(rf'data-profile="{second.slug}"><td>[^<]+</td><td>2</td><td>1</td><td>50 %', html)


def test_figures_link_to_the_lists_they_count(admin_client, history):
    html = admin_client.get(URL, {**THE_DAY, "brand": "Loom"}).content.decode()

    assert 'href="/review/?brand=Loom&amp;reason=cut_off"' in html
    assert 'href="/products/?brand=Loom&amp;status=flagged"' in html


def test_a_batch_narrows_every_figure_to_the_versions_uploaded_in_it(admin_client, history, prices, profiles):
    first, second = profiles
    batch = history["batch"].pk
    html = admin_client.get(URL, {**THE_DAY, "batch": str(batch)}).content.decode()

    # The batch holds a (60 s, cpu 2 s) and b (120 s, gpu 1 s), both auto-passed.
    assert (text_of(html, "ttp-median"), text_of(html, "ttp-p90"), text_of(html, "ttp-p95")) == (
        "1 min 30 s",
        "1 min 54 s",
        "1 min 57 s",
    )
    assert text_of(html, "intervention-share") == "0 %"
    assert (text_of(html, "approve"), text_of(html, "reject"), text_of(html, "reprocess")) == ("0", "0", "0")
    assert (text_of(html, "cost-total"), text_of(html, "cost-per-image")) == ("0.1200", "0.0600")
    assert "No flagged versions in this range." in html
    assert re.search(rf'data-profile="{first.slug}"><td>[^<]+</td><td>2</td><td>1</td><td>50 %', html)
    assert re.search(rf'data-profile="{second.slug}"><td>[^<]+</td><td>1</td><td>1</td><td>100 %', html)
    assert f'<a href="/products/?batch={batch}&amp;status=published">Published</a></td><td>2</td>' in html
    assert f'<option value="{batch}" selected>spring</option>' in html


def test_a_profile_narrows_the_figures_to_versions_rendered_for_it(admin_client, history, prices, profiles):
    first, second = profiles
    html = admin_client.get(URL, {**THE_DAY, "profile": second.slug}).content.decode()

    # Rendered for the second profile: a (60 s), c (300 s, approved by a person), d (3600 s).
    assert (text_of(html, "ttp-median"), text_of(html, "ttp-p90"), text_of(html, "ttp-p95")) == (
        "5 min 0 s",
        "49 min 0 s",
        "54 min 30 s",
    )
    assert text_of(html, "intervention-share") == "33 %"
    assert (text_of(html, "approve"), text_of(html, "reject"), text_of(html, "reprocess")) == ("1", "0", "0")
    # d has no compute seconds: a 0.02 and c 0.3 over two versions.
    assert (text_of(html, "cost-total"), text_of(html, "cost-per-image")) == ("0.3200", "0.1600")
    # Checked first attempts for it: a passed, d failed; c is not checked yet.
    assert re.search(rf'data-profile="{second.slug}"><td>[^<]+</td><td>2</td><td>1</td><td>50 %', html)
    assert f'data-profile="{first.slug}"' not in html
    assert re.findall(r'data-reason="([^"]+)"', html) == ["cut_off"]
    # The queue knows no profiles: the link lists every cut_off, and the page says so.
    assert 'href="/review/?reason=cut_off"' in html
    assert "the lists linked below are not narrowed by profile" in html


def test_figures_carry_the_batch_into_the_lists_they_link_to(admin_client, history):
    batch = history["batch"].pk
    html = admin_client.get(URL, {**THE_DAY, "brand": "Loom", "batch": str(batch)}).content.decode()

    assert f'href="/products/?brand=Loom&amp;batch={batch}&amp;status=flagged"' in html


def test_the_time_to_publication_trend_draws_the_median_of_each_day(admin_client, history):
    two_days = {"range": "custom", "start": "2026-03-01", "end": "2026-03-02"}
    html = admin_client.get(URL, two_days).content.decode()

    assert bars_in(html, "time-to-publication-per-day") == 2
    assert "<title>2026-03-01: median — (0 published)</title>" in html
    # a 60, b 120, c 300 and d 3600 s.
    assert "<title>2026-03-02: median 3 min 30 s (4 published)</title>" in html


def test_the_cost_per_volume_tier_is_a_table_row_per_tier(admin_client, history, settings, prices):
    settings.LIGHTBOX_VOLUME_TIERS = ((0, 1.0), (3, 0.5))
    html = admin_client.get(URL, THE_DAY).content.decode()

    # a 0.02, b 0.1, c 0.3 first; then e 0.04, f 0.01, g 0.2, h 0.005 at half.
    assert (
        '<tr data-tier="1–3"><td>1–3</td><td>× 1.0</td><td>3</td>'
        "<td>0.4200</td><td>0.4200</td><td>0.1400</td></tr>"
    ) in html
    assert (
        '<tr data-tier="4+"><td>4+</td><td>× 0.5</td><td>4</td>'
        "<td>0.2550</td><td>0.1275</td><td>0.0319</td></tr>"
    ) in html


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"batch": "not-a-uuid"}, "Enter a valid UUID."),
        ({"batch": "00000000-0000-0000-0000-000000000000"}, "There is no upload batch with this id."),
        ({"profile": "no-such-profile"}, "Select a valid choice."),
    ],
)
def test_an_unknown_batch_or_profile_is_a_form_error(admin_client, params, error):
    html = admin_client.get(URL, params).content.decode()

    assert error in html
    assert "data-chart" not in html


def test_an_empty_range_renders_with_no_figures(admin_client, history):
    response = admin_client.get(URL, EMPTY_DAY)

    assert response.status_code == 200
    html = response.content.decode()
    assert text_of(html, "ttp-median") == "—"
    assert text_of(html, "cost-per-image") == "—"
    assert "No flagged versions in this range." in html
    assert bars_in(html, "cost-per-day") == 0


def test_a_month_of_throughput_is_drawn_per_day(admin_client, history):
    month = {"range": "custom", "start": "2026-02-28", "end": "2026-03-29"}
    html = admin_client.get(URL, month).content.decode()

    assert "Published per day" in html
    assert bars_in(html, "throughput-per-day") == 30
    # a, b, c and d were published on 2026-03-02.
    assert "<title>2026-03-02: 4</title>" in html


@pytest.mark.parametrize("choice", ["today", "7d", "30d"])
def test_each_preset_range_renders(admin_client, choice):
    assert admin_client.get(URL, {"range": choice}).status_code == 200


@pytest.mark.parametrize(
    ("params", "error"),
    [
        (
            {"range": "custom", "start": "2026-03-05", "end": "2026-03-01"},
            "The end date is before the start date.",
        ),
        ({"range": "custom", "start": "2026-03-05"}, "A custom range needs a start and an end date."),
        ({"range": "custom", "start": "yesterday", "end": "2026-03-01"}, "Enter a valid date."),
        ({"range": "forever"}, "Select a valid choice."),
    ],
)
def test_an_invalid_range_is_a_form_error_not_a_failure(admin_client, params, error):
    response = admin_client.get(URL, params)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert "data-chart" not in response.content.decode()


def test_the_backlog_counts_waiting_and_failed_jobs_per_queue(admin_client, make_version, product):
    make_version(product)  # queued now
    enqueue_now("low", "processing.jobs.process_version", "x")
    html = admin_client.get(URL).content.decode()

    assert '<tr data-queue="low"><td>low</td><td>1</td><td>0</td></tr>' in html
    assert text_of(html, "backlog-waiting") == "1"
    assert text_of(html, "workers") == "0"
    assert text_of(html, "oldest-queued") in {"0 s", "1 s"}


def test_the_backlog_fragment_alone_answers_an_htmx_poll(admin_client):
    response = admin_client.get(URL, {"range": "today"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="backlog"')
    assert 'hx-trigger="every 10s"' in html
    assert "<html" not in html
    assert "data-chart" not in html


def test_the_full_page_polls_the_backlog_every_ten_seconds(admin_client):
    html = admin_client.get(URL).content.decode()

    assert "<html" in html
    assert 'hx-get="/dashboard/?range=7d" hx-trigger="every 10s"' in html


def test_no_alert_below_the_limits(admin_client):
    assert 'data-testid="alert"' not in admin_client.get(URL).content.decode()


def test_an_alert_shows_when_the_backlog_passes_its_limit(admin_client, settings):
    settings.LIGHTBOX_ALERT_BACKLOG = 1
    for n in range(2):
        enqueue_now("default", "processing.jobs.process_version", str(n))

    html = admin_client.get(URL).content.decode()

    assert "Backlog: 2 jobs waiting (limit 1)." in html


def test_an_alert_shows_when_the_failure_rate_passes_its_limit(admin_client, settings, make_version, product):
    settings.LIGHTBOX_ALERT_FAILURE_RATE = 0.5
    make_version(product)
    queue = django_rq.get_queue("default")
    job = enqueue_now("default", "processing.jobs.process_version", "x")
    queue.remove(job)
    queue.failed_job_registry.add(job, ttl=60)

    html = admin_client.get(URL).content.decode()

    assert "Failure rate: 1 failed jobs for 1 versions (100.0%, limit 50.0%)." in html


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "—"), (45, "45 s"), (125, "2 min 5 s"), (3900, "1 h 5 min")]
)
def test_durations_read_as_people_say_them(seconds, text):
    assert human_duration(seconds) == text


def test_only_an_admin_sees_the_dashboard(client, admin_user, reviewer, merchandiser, redis_conn):
    for user, status in ((admin_user, 200), (reviewer, 403), (merchandiser, 403)):
        client.force_login(user)
        assert client.get(URL).status_code == status
