"""Queues and fairness: interactive work first, Launch ahead of the rest, and `low` still
moving while higher queues are full. A real LightboxWorker drains real Redis queues."""

from __future__ import annotations

import django_rq
import pytest
from django.conf import settings

from processing.worker import LightboxWorker, fair_order

ORDER_KEY = "lightbox:test:fair-order"


def note(queue_name: str) -> None:
    """The job the test queues: records which queue it came from, in run order."""
    django_rq.get_connection("default").rpush(ORDER_KEY, queue_name)


def test_the_interactive_queue_always_leads_and_every_nth_turn_a_lower_queue_goes_first():
    names = ["interactive", "high", "default", "low"]

    orders = [fair_order(names, names, dequeued, every=4)[:2] for dequeued in range(1, 13)]

    assert all(order[0] == "interactive" for order in orders)
    leads = [order[1] for order in orders]
    assert leads == [
        "high", "high", "high", "default",
        "high", "high", "high", "low",
        "high", "high", "high", "default",
    ]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_interactive_work_first_and_low_before_high_is_empty(redis_conn, settings):
    settings.LIGHTBOX_FAIR_SHARE_EVERY = 4
    queues = {name: django_rq.get_queue(name) for name in settings.QUEUE_NAMES}
    for name in ("low", "default", "high"):
        for _ in range(8):
            queues[name].enqueue(f"{__name__}.note", name)
    for _ in range(2):
        queues["interactive"].enqueue(f"{__name__}.note", "interactive")

    worker = LightboxWorker(list(queues.values()), connection=redis_conn)
    worker.work(burst=True, with_scheduler=False)

    ran = [item.decode() for item in redis_conn.lrange(ORDER_KEY, 0, -1)]
    assert len(ran) == 26
    assert ran[:2] == ["interactive", "interactive"]
    # Strict priority would start `low` only after all 16 high and default jobs (index 18).
    assert ran.index("low") <= 8
    assert ran.index("default") <= 4
    # Launch keeps most of the worker while it has work: 6 of the first 8 bulk jobs.
    assert ran[2:10].count("high") == 6


def test_bin_run_and_the_readme_listen_to_every_queue_in_priority_order():
    from pathlib import Path

    root = Path(settings.BASE_DIR)
    expected = "rqworker " + " ".join(settings.QUEUE_NAMES)
    assert expected in (root / "bin" / "run").read_text()
    assert expected in (root / "README.md").read_text()
