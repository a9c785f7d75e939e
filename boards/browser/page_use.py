"""Use the web page as a person would, in headless Chromium: draw a digit on the pad with pointer events, read what each
model answered, take a screenshot. `paddle-edge serve DIR --screenshot PNG` and the tests do this."""
from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .chromium import BrowserError, headless_chromium, load, wait_for
from .server import serve

READY_SECONDS = 60.0
# A "7" as one stroke on the 280 x 280 pad: across the top, then down to the left.
SEVEN: Tuple[Tuple[int, int], ...] = ((80, 70), (150, 70), (205, 70), (185, 130), (160, 190), (140, 240))


@dataclasses.dataclass(frozen=True)
class PageUse:
    """What the page showed after the drawing: per precision, the answer, probabilities and latency text; the pad as a
    PNG; every URL the page fetched."""

    answers: Dict[str, str]
    probabilities: Dict[str, List[float]]
    latency: Dict[str, str]
    pad_png: bytes
    requests: List[str]
    base_url: str


def _draw(driver: Any, stroke: Sequence[Tuple[int, int]]) -> None:
    """One stroke on the pad with WebDriver pointer actions (pointerdown, moves, pointerup), in pad pixels."""
    from selenium.webdriver.common.action_chains import ActionChains

    pad = driver.find_element("id", "pad")
    points = [stroke[0]]
    for (xa, ya), (xb, yb) in zip(stroke, stroke[1:]):  # short moves, as a hand makes
        points += [(round(xa + (xb - xa) * t / 4), round(ya + (yb - ya) * t / 4)) for t in range(1, 5)]
    (x0, y0), width, height = points[0], pad.size["width"], pad.size["height"]
    actions = ActionChains(driver, duration=10).move_to_element_with_offset(pad, x0 - width // 2, y0 - height // 2).click_and_hold()
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        actions.move_by_offset(xb - xa, yb - ya)
    actions.release().perform()


def use_page(site: Path, strokes: Sequence[Sequence[Tuple[int, int]]] = (SEVEN,), screenshot: Optional[Path] = None) -> PageUse:
    """Serve `site`, open it, draw `strokes` (the page answers after each), read the answers; save a screenshot if asked."""
    with serve(Path(site), results=False) as url, headless_chromium() as driver:
        load(driver, f"{url}index.html")
        wait_for(driver, "document.body.dataset.ready === 'true' || document.getElementById('error').textContent", READY_SECONDS,
                 "load the models with onnxruntime-web")
        for i, stroke in enumerate(strokes, 1):
            _draw(driver, stroke)
            wait_for(driver, f"Number(document.body.dataset.predictions || 0) >= {i} || document.getElementById('error').textContent",
                     READY_SECONDS, f"answer stroke {i}")
        error = driver.execute_script("return document.getElementById('error').textContent")
        if error:
            raise BrowserError(f"the page failed: {error}", "open it in a browser with `paddle-edge serve DIR` and see its console")
        said = driver.execute_script(
            "return [...document.querySelectorAll('.model')].map(p => [p.id, p.dataset.answer, p.dataset.probabilities, "
            "p.querySelector('.latency').textContent])")
        pad = driver.execute_script("return document.getElementById('pad').toDataURL('image/png')")
        requests = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        if screenshot is not None and not driver.save_screenshot(str(screenshot)):
            raise BrowserError(f"Chromium could not write the screenshot {screenshot}", "check the folder exists and is writable")
    answered = [(p, a, probs, t) for p, a, probs, t in said if probs]
    if len(answered) != len(said):
        raise BrowserError(f"the page showed no answer for {[p for p, _, probs, _ in said if not probs]}", "open it with `paddle-edge serve DIR`")
    return PageUse({p: a for p, a, _, _ in answered}, {p: json.loads(probs) for p, _, probs, _ in answered},
                   {p: t for p, _, _, t in answered}, base64.b64decode(pad.split(",", 1)[1]), requests, url)

