import pytest

from processing import model_cache


@pytest.mark.parametrize(("cores", "workers", "threads"), [(16, 4, 4), (2, 2, 1), (2, 1, 2), (3, 8, 1)])
def test_each_worker_takes_an_equal_share_of_the_cores(settings, monkeypatch, cores, workers, threads):
    settings.LIGHTBOX_ONNX_THREADS = 0
    settings.LIGHTBOX_WORKER_CONCURRENCY = workers
    monkeypatch.setattr(model_cache.os, "cpu_count", lambda: cores)

    assert model_cache.onnx_threads() == threads


def test_a_thread_count_that_is_set_wins(settings):
    settings.LIGHTBOX_ONNX_THREADS = 3
    settings.LIGHTBOX_WORKER_CONCURRENCY = 8

    assert model_cache.onnx_threads() == 3
