"""/metrics in Prometheus' text format, computed when Prometheus scrapes.

Nothing is kept in this process: queue depths and live workers are read from Redis (RQ's
own registries), job and stage durations and gate decisions from the tallies workers
write to PostgreSQL (processing.metrics). So every web process answers the same, for the
whole fleet, and a restart loses nothing. A scrape costs a few Redis calls and three
small indexed queries.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator

from django.conf import settings
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from catalog.models import ImageVersion
from processing.metrics import BUCKETS, bucket_for
from processing.models import DurationTally, GateTally

_HISTOGRAMS = {
    "job": ("lightbox_job_duration_seconds", "Wall time of background jobs, by job and outcome.", "job"),
    "stage": ("lightbox_stage_duration_seconds", "Wall time of pipeline stages, per photo.", "stage"),
}


def _queue_metrics() -> Iterator[Metric]:
    import django_rq
    from rq.registry import (
        DeferredJobRegistry,
        FailedJobRegistry,
        ScheduledJobRegistry,
        StartedJobRegistry,
    )
    from rq.worker import Worker

    depth = GaugeMetricFamily(
        "lightbox_queue_jobs", "Jobs per RQ queue and state.", labels=["queue", "state"]
    )
    connection = None
    for name in settings.QUEUE_NAMES:
        queue = django_rq.get_queue(name)
        connection = queue.connection
        depth.add_metric([name, "queued"], queue.count)
        depth.add_metric([name, "started"], StartedJobRegistry(queue=queue).count)
        depth.add_metric([name, "scheduled"], ScheduledJobRegistry(queue=queue).count)
        depth.add_metric([name, "deferred"], DeferredJobRegistry(queue=queue).count)
        depth.add_metric([name, "failed"], FailedJobRegistry(queue=queue).count)
    yield depth

    workers = GaugeMetricFamily(
        "lightbox_workers", "RQ workers alive (registered and heartbeating), by state.", labels=["state"]
    )
    states: dict[str, int] = defaultdict(int)
    for worker in Worker.all(connection=connection) if connection is not None else []:
        state = worker.get_state()
        states[str(getattr(state, "value", state))] += 1
    for state in ("busy", "idle", "suspended", "started"):
        workers.add_metric([state], states.pop(state, 0))
    for state, count in states.items():
        workers.add_metric([state], count)
    yield workers


def _version_metrics() -> Iterator[Metric]:
    from django.db.models import Count

    gauge = GaugeMetricFamily(
        "lightbox_versions_active", "Image versions not yet settled, by status.", labels=["status"]
    )
    counts = dict(
        ImageVersion.objects.filter(status__in=[*ImageVersion.ACTIVE_STATES, *ImageVersion.REVIEWABLE_STATES])
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    for status in (*ImageVersion.ACTIVE_STATES, *ImageVersion.REVIEWABLE_STATES):
        gauge.add_metric([str(status)], counts.get(status, 0))
    yield gauge


def _tally_metrics() -> Iterator[Metric]:
    series: dict[tuple[str, str, str], list[tuple[float, int, float]]] = defaultdict(list)
    for row in DurationTally.objects.order_by("kind", "name", "outcome", "le").values_list(
        "kind", "name", "outcome", "le", "count", "sum_seconds"
    ):
        kind, name, outcome, le, count, total = row
        series[(kind, name, outcome)].append((le, count, total))
    for kind, (metric_name, documentation, label) in _HISTOGRAMS.items():
        labels = [label, "outcome"] if kind == "job" else [label]
        family = HistogramMetricFamily(metric_name, documentation, labels=labels)
        for (row_kind, name, outcome), buckets in series.items():
            if row_kind != kind:
                continue
            # Every series gets every bound, so histogram_quantile sees the same buckets.
            counts = dict.fromkeys(BUCKETS, 0)
            for le, count, _ in buckets:
                counts[bucket_for(le)] += count
            cumulative, running = [], 0
            for le, count in counts.items():
                running += count
                cumulative.append(("+Inf" if math.isinf(le) else repr(float(le)), running))
            family.add_metric(
                [name, outcome] if kind == "job" else [name],
                cumulative,
                sum_value=sum(total for _, _, total in buckets),
            )
        yield family

    decisions = CounterMetricFamily(
        "lightbox_gate_decisions", "Versions the quality gate passed or flagged.", labels=["decision"]
    )
    reasons = CounterMetricFamily(
        "lightbox_gate_reasons",
        "Reasons the quality gate gave, by decision (one version may give several).",
        labels=["decision", "reason"],
    )
    for decision, reason, count in GateTally.objects.order_by("decision", "reason").values_list(
        "decision", "reason", "count"
    ):
        if reason:
            reasons.add_metric([decision, reason], count)
        else:
            decisions.add_metric([decision], count)
    yield decisions
    yield reasons


class LightboxCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from _queue_metrics()
        yield from _version_metrics()
        yield from _tally_metrics()


def exposition() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LightboxCollector())
    return generate_latest(registry)
