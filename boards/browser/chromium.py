"""Headless Chromium from Debian's packages (chromium, chromium-driver), driven with selenium; every wait has a timeout
that names what it waited for."""
from __future__ import annotations

import contextlib
import subprocess
from typing import Any, Iterator

from ...export.debian_rootfs import debian_tool
from ...runtime.errors import PaddleEdgeError

# As root in a container Chromium needs --no-sandbox; no GPU here, and nothing in the background may reach the network.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-extensions", "--no-first-run", "--window-size=1200,900")


class BrowserError(PaddleEdgeError):
    """The browser could not start, load the page, or finish what the page was asked to do."""


def chromium_version() -> str:
    """What `chromium --version` says (installing Debian's package first if it is missing)."""
    return subprocess.run([debian_tool("chromium", "chromium", BrowserError), "--version"], capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def headless_chromium() -> Iterator[Any]:
    """A selenium WebDriver on a fresh headless Chromium, quit on leaving."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise BrowserError(f"the browser board needs selenium ({exc})", "pip install 'paddle-edge[browser]'") from exc
    options = webdriver.ChromeOptions()
    options.binary_location = debian_tool("chromium", "chromium", BrowserError)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(debian_tool("chromedriver", "chromium-driver", BrowserError)), options=options)
    except WebDriverException as exc:
        raise BrowserError(f"headless Chromium did not start: {exc.msg}",
                           "check `chromium --headless=new --no-sandbox --dump-dom about:blank` works on this host") from exc
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> str:
    """The page's console errors so far, one per line (what a failing page said about itself)."""
    return "\n".join(entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE")


def wait_for(driver: Any, expression: str, seconds: float, what: str) -> None:
    """Poll the JavaScript `expression` until it is true; a timeout is an error naming `what` and the page's console errors."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        WebDriverWait(driver, seconds, poll_frequency=0.1).until(lambda d: d.execute_script(f"return Boolean({expression})"))
    except TimeoutException as exc:
        said = console_errors(driver)
        raise BrowserError(f"the page did not get to {what} within {seconds:g} s" + (f"; its console:\n{said}" if said else ""),
                           "check the page's files are all served (boards/browser/page, onnxruntime-web in the cache)") from exc


def call_async(driver: Any, function: str, argument: Any, seconds: float, what: str) -> Any:
    """Await window.paddleEdge.`function`(argument) in the page; its exception, or a timeout, is an error naming `what`."""
    from selenium.common.exceptions import TimeoutException

    driver.set_script_timeout(seconds)
    script = (f"const done = arguments[arguments.length - 1]; Promise.resolve(arguments[0]).then(a => window.paddleEdge.{function}(a))"
              ".then(r => done({ok: r}), e => done({error: String(e && e.message || e)}));")
    try:
        answer = driver.execute_async_script(script, argument)
    except TimeoutException as exc:
        raise BrowserError(f"the page did not finish {what} within {seconds:g} s", "run fewer samples (--limit), or a smaller model") from exc
    if "error" in answer:
        raise BrowserError(f"onnxruntime-web failed on {what}: {answer['error']}",
                           "an op or type the web runtime lacks is named above; run the bundle on a CPU board instead")
    return answer["ok"]
