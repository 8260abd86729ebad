"""The timeline and log pages in headless Chromium (Debian's, driven by playwright).

The timeline is of a real run: the research team against the loopback provider server
(latency, a retried request, a tool call). The browser must draw one bar per recorded
turn and call, show the hover cards, and do it all with every network request refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _log_files import service_log
from _research_team import build_team, queue_replies
from fake_llm_server import FakeLLMServer

from muster.core.instrumentation import SpanKind
from muster.ops import LogAnalyzer, PerformanceDiagnostics, render_log_report, render_timeline


async def _diagnosed(fake_llm: FakeLLMServer) -> PerformanceDiagnostics:
    queue_replies(fake_llm)
    team, clients = build_team(fake_llm)
    diagnostics = PerformanceDiagnostics()
    try:
        await diagnostics.diagnose_slow_response(team, "Summarise the evidence on AI in hospitals")
    finally:
        for client in clients:
            await client.close()
    return diagnostics


async def test_every_turn_and_call_of_a_real_run_is_drawn(
    browser: Any, fake_llm: FakeLLMServer, tmp_path: Path
) -> None:
    diagnostics = await _diagnosed(fake_llm)
    recorded = diagnostics.last_recording
    assert recorded is not None
    page_file = tmp_path / "timeline.html"
    page_file.write_text(render_timeline(diagnostics.timeline("Research team")), encoding="utf-8")
    page = await browser.new_page(viewport={"width": 1280, "height": 720})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(page_file.as_uri())

    def count(kind: SpanKind) -> int:
        return sum(1 for span in recorded.spans if span.kind is kind)

    assert await page.locator(".bar").count() == len(recorded.spans) == 8
    for kind in SpanKind:
        assert await page.locator(f'.bar[data-kind="{kind.value}"]').count() == count(kind)
    # each bar is really laid out: visible, inside the track, wider for longer spans
    boxes = [await bar.bounding_box() for bar in await page.locator(".bar").all()]
    assert all(box is not None and box["width"] >= 2 and box["height"] > 0 for box in boxes)
    await page.locator('.bar[data-kind="tool_call"]').hover()
    tip = page.locator("#tip")
    assert await tip.is_visible()
    assert "Tool call · search_papers" in await tip.inner_text()
    await page.locator('.bar[data-kind="model_call"]').first.hover()
    card = await tip.inner_text()
    assert "attempts\n2" in card and "retry backoff" in card
    await page.locator(".msg").last.hover()
    assert "Approved" in await tip.inner_text()  # the reviewer's message, on its turn
    shot = tmp_path / "timeline.png"
    await page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert errors == []


async def _offline_page(browser: Any, html: str) -> tuple[Any, list[str]]:
    context = await browser.new_context()
    await context.set_offline(True)
    requested: list[str] = []

    async def refuse(route: Any) -> None:
        requested.append(route.request.url)
        await route.abort()

    await context.route("**/*", refuse)
    page = await context.new_page()
    page.on("pageerror", lambda exc: requested.append(f"error: {exc}"))
    # a reference the page's own security policy blocks is never requested, but is logged
    page.on("console", lambda message: requested.append(message.text) if message.type == "error" else None)
    await page.set_content(html, wait_until="load")
    return page, requested


async def test_the_offline_check_sees_an_external_asset(browser: Any) -> None:
    from muster.ops._html import page as make_page

    for body in (
        '<img src="http://example.invalid/x.png">',
        '<link rel="stylesheet" href="https://cdn.invalid/a.css">',
    ):
        _, requested = await _offline_page(browser, make_page("t", body))
        assert requested, body
    _, requested = await _offline_page(browser, "<p>" + 'x<img src="http://example.invalid/y.png">' + "</p>")
    assert requested[0] == "http://example.invalid/y.png"  # no policy: the request itself is caught


async def test_the_timeline_works_with_no_network(browser: Any, fake_llm: FakeLLMServer) -> None:
    diagnostics = await _diagnosed(fake_llm)
    page, requested = await _offline_page(browser, render_timeline(diagnostics.timeline()))
    assert await page.locator(".bar").count() == 8
    # force: a turn shorter than its message's 8 px marker is covered by it, and the hover
    # then lands on the marker; either way the inline script must show the card.
    await page.locator('.bar[data-kind="agent_turn"]').first.hover(force=True)
    assert await page.locator("#tip").is_visible()  # the inline script ran
    assert await page.evaluate("getComputedStyle(document.querySelector('.bar.model')).backgroundColor") == (
        "rgb(59, 130, 246)"  # the inline stylesheet applied
    )
    assert requested == []


async def test_the_log_report_works_with_no_network(browser: Any, tmp_path: Path) -> None:
    log = tmp_path / "service.log"
    service_log(log, requests=600, hours=5)
    report = LogAnalyzer(log).generate_report(hours=5)
    page, requested = await _offline_page(browser, render_log_report(report))
    assert await page.locator("polyline.latency").count() == 3
    assert await page.locator("rect.errbar").count() > 0
    box = await page.locator("svg.chart").first.bounding_box()
    assert box is not None and box["width"] > 500 and box["height"] > 100
    assert requested == []
