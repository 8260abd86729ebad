"""ServiceMetrics: the seed's names and muster's, on a registry of its own, scraped as text."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from muster.service.metrics import ServiceMetrics
from muster.service.models import RunStatus
from muster.service.store import SqlStore

EXPECTED = {
    "autogen_requests": "counter",
    "autogen_requests_failed": "counter",
    "autogen_request_duration_seconds": "histogram",
    "autogen_agents_count": "gauge",
    "muster_runs": "gauge",
    "muster_run_queue_depth": "gauge",
    "muster_run_queue_wait_seconds": "histogram",
    "muster_turns": "counter",
    "muster_model_calls": "counter",
    "muster_tokens": "counter",
    "muster_cost_usd": "counter",
    "muster_cache_hits": "counter",
    "muster_model_retries": "counter",
    "muster_model_errors": "counter",
    "muster_replayed_turns": "counter",
    "muster_run_duration_seconds": "histogram",
}


def scrape(metrics: ServiceMetrics) -> dict[str, Any]:
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(body.decode())}


def value(families: dict[str, Any], sample_name: str, **labels: str) -> float:
    for sample in (s for family in families.values() for s in family.samples):
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items()):
            return float(sample.value)
    raise AssertionError(f"no sample {sample_name} {labels}")


def test_every_metric_is_exported_with_its_type() -> None:
    families = scrape(ServiceMetrics())
    assert {name: families[name].type for name in EXPECTED} == EXPECTED
    assert "process_resident_memory_bytes" in {s.name for f in families.values() for s in f.samples}


def test_the_text_uses_the_seeds_sample_names() -> None:
    metrics = ServiceMetrics(process=False)
    metrics.observe_request("GET", "/v1/runs/{run_id}", 200, 0.01)
    text = metrics.render()[0].decode()
    for line in (
        "# TYPE autogen_requests_total counter",
        'autogen_requests_total{method="GET",route="/v1/runs/{run_id}",status="200"} 1.0',
        "# TYPE autogen_request_duration_seconds histogram",
        'autogen_agents_count{status="offline"} 0.0',
        'muster_runs{status="pending"} 0.0',
    ):
        assert line in text


def test_request_helper_counts_failures_only_for_5xx() -> None:
    metrics = ServiceMetrics(process=False)
    metrics.observe_request("POST", "/v1/threads/{thread_id}/runs", 202, 0.004)
    metrics.observe_request("POST", "/v1/threads/{thread_id}/runs", 429, 0.001)
    metrics.observe_request("POST", "/v1/threads/{thread_id}/runs", 503, 2.5)
    f = scrape(metrics)
    route = {"method": "POST", "route": "/v1/threads/{thread_id}/runs"}
    assert value(f, "autogen_requests_total", status="202", **route) == 1
    assert value(f, "autogen_requests_total", status="429", **route) == 1
    assert value(f, "autogen_requests_failed_total", **route) == 1
    assert value(f, "autogen_request_duration_seconds_count", **route) == 3
    assert value(f, "autogen_request_duration_seconds_sum", **route) == pytest.approx(2.505)


def test_run_and_model_helpers() -> None:
    metrics = ServiceMetrics(process=False)
    metrics.set_agents(online=3, offline=1, busy=2)
    metrics.set_run_counts({RunStatus.PENDING: 4, RunStatus.RUNNING: 2})
    metrics.observe_queue_wait(0.3)
    metrics.observe_run(12.0)
    metrics.turn()
    metrics.turn(replayed=True)
    metrics.model_call("openai", "gpt-4o", prompt_tokens=100, completion_tokens=20, cost_usd=0.0125)
    metrics.model_call("openai", "gpt-4o")
    metrics.cache_hit()
    metrics.model_retry(2)
    f = scrape(metrics)
    assert [value(f, "autogen_agents_count", status=s) for s in ("online", "offline", "busy")] == [3, 1, 2]
    assert value(f, "muster_runs", status="pending") == 4 and value(f, "muster_runs", status="failed") == 0
    assert value(f, "muster_run_queue_depth") == 4
    assert value(f, "muster_run_queue_wait_seconds_count") == 1
    assert value(f, "muster_run_duration_seconds_sum") == 12.0
    assert value(f, "muster_turns_total") == 2 and value(f, "muster_replayed_turns_total") == 1
    calls = [s for s in f["muster_model_calls"].samples if s.name == "muster_model_calls_total"]
    assert sum(s.value for s in calls) == 2  # failures are not calls made
    assert value(f, "muster_tokens_total", kind="prompt") == 100
    assert value(f, "muster_tokens_total", kind="completion") == 20
    assert value(f, "muster_cost_usd_total") == pytest.approx(0.0125)
    assert value(f, "muster_cache_hits_total") == 1 and value(f, "muster_model_retries_total") == 2


def test_each_instance_has_its_own_registry() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()  # no "Duplicated timeseries" error
    first.turn()
    assert value(scrape(second), "muster_turns_total") == 0
    assert REGISTRY.get_sample_value("muster_turns_total") is None


async def test_refresh_from_store_reads_the_run_counts(store: SqlStore) -> None:
    from muster.service.models import Strategy

    spec = await store.put_spec("team", {"v": 1})
    for _ in range(2):
        thread = await store.create_thread()
        await store.create_run(thread.id, spec, None, Strategy.REJECT)
    metrics = ServiceMetrics(process=False)
    await metrics.refresh_from_store(store)
    f = scrape(metrics)
    assert value(f, "muster_runs", status="pending") == 2 and value(f, "muster_run_queue_depth") == 2


async def test_failed_model_calls_are_counted_from_a_real_provider_client() -> None:
    """A call whose retries are spent counts as a model error (and its retries); a success does not."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
    from fake_llm_server import ErrorReply, FakeLLMServer, openai_completion, openai_stream

    from muster.models import UserMessage
    from muster.models.exceptions import ModelAuthenticationError, ModelServerError
    from muster.models.openai import OpenAIChatCompletionClient
    from muster.models.retry import RetryPolicy
    from muster.service.metrics import count_model_calls

    metrics = ServiceMetrics(process=False)
    undo = count_model_calls(metrics)
    server = FakeLLMServer().start()
    client = OpenAIChatCompletionClient(
        model="gpt-4o",
        api_key="k",
        base_url=server.openai_url,
        retry_policy=RetryPolicy(max_retries=1, initial_delay=0.01, max_delay=0.02),
    )
    hi = [UserMessage(content="hi", source="u")]
    try:
        server.queue(ErrorReply(status=503), ErrorReply(status=503))  # retried once, then given up
        with pytest.raises(ModelServerError):
            await client.create(hi)
        server.queue(ErrorReply(status=401))  # not retryable: fails at once
        with pytest.raises(ModelAuthenticationError):
            await client.create(hi)
        server.queue(ErrorReply(status=500), ErrorReply(status=500))  # a stream fails the same way
        with pytest.raises(ModelServerError):
            async for _ in client.create_stream(hi):
                pass
        server.queue(openai_completion("fine"), openai_stream(["fi", "ne"]))
        await client.create(hi)
        async for _ in client.create_stream(hi):
            pass
    finally:
        await client.close()
        server.stop()
        undo()
    f = scrape(metrics)
    assert value(f, "muster_model_errors_total", provider="openai", error="ModelServerError") == 2
    assert value(f, "muster_model_errors_total", provider="openai", error="ModelAuthenticationError") == 1
    assert value(f, "muster_model_retries_total") == 2
    calls = [s for s in f["muster_model_calls"].samples if s.name == "muster_model_calls_total"]
    assert sum(s.value for s in calls) == 2  # failures are not calls made
