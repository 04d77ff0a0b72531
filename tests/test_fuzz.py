"""A bounded fuzz pass over the readers of untrusted uploads (issue 16): mutated photos into
the ingest stage and the upload header check, mutated ZIPs (their manifest among them) into
the archive reader, mutated CSV into the manifest parser. Only each reader's own clear error
may come out, and the process's peak memory stays bounded. bench/fuzz.py runs it longer."""

from __future__ import annotations

import pytest

from bench.fuzz import TARGETS, fuzz, peak_rss_mb

# Pillow warns about the damaged TIFFs it still reads; warnings are not what is tested here.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
EXAMPLES = 400
ALLOWED_RSS_GROWTH_MB = 600


@pytest.fixture(scope="module")
def rss_before():
    for target in TARGETS:  # imports and first decodes are not the fuzz's memory
        for seed in target.seeds():
            target.check(seed)
    return peak_rss_mb()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_mutated_bytes_get_only_our_own_clear_errors(target, rss_before):
    outcomes = fuzz(target, EXAMPLES)

    assert sum(outcomes.values()) >= EXAMPLES // 2  # hypothesis really ran them
    assert peak_rss_mb() - rss_before < ALLOWED_RSS_GROWTH_MB


def test_the_fuzz_notices_a_reader_that_crashes():
    """The harness is not blind: a reader that lets a foreign error out is caught."""
    from bench.fuzz import Crash, Target, check_archive

    def leaky(data: bytes) -> str:
        if len(data) % 2:
            raise KeyError("boom")
        return check_archive(data)

    with pytest.raises(Crash):
        fuzz(Target("leaky", lambda data: _wrap(leaky, data), TARGETS[2].seeds), 50)


def _wrap(check, data: bytes) -> str:
    from bench.fuzz import Crash

    try:
        return check(data)
    except KeyError as exc:
        raise Crash(str(exc)) from exc
