"""Headless Chromium from Debian's packages (chromium, chromium-driver), driven with selenium; every wait has a timeout
that names what it waited for, and a crashed tab is an error that says so."""
from __future__ import annotations

import contextlib
import subprocess
from typing import Any, Iterator

from ...export.debian_rootfs import debian_tool
from ...runtime.errors import PaddleEdgeError
from ..profile import BROWSER_DRIVERS

# As root in a container Chromium needs --no-sandbox; no GPU here, and nothing in the background may reach the network.
# WebGL2 and WebGPU then run on SwiftShader, Chromium's software GPU (Vulkan on the CPU): headless Chromium 156 offers a
# WebGPU adapter only with --enable-unsafe-webgpu, and warns that falling back to software WebGL is deprecated without
# --enable-unsafe-swiftshader (both lower what the browser guarantees against untrusted pages; these pages are
# paddle-edge's own, served on 127.0.0.1).
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
         "--disable-extensions", "--no-first-run", "--window-size=1200,900", "--enable-unsafe-webgpu", "--enable-unsafe-swiftshader")


class BrowserError(PaddleEdgeError):
    """The browser could not start, load the page, or finish what the page was asked to do."""


class PageError(BrowserError):
    """The page itself said no: its JavaScript threw (e.g. onnxruntime-web refusing a model, or a backend not starting)."""


PAGE_LOAD_SECONDS = 60


def chromium_version(package: str = "chromium") -> str:
    """What `chromium --version` says (installing Debian's package first if it is missing)."""
    proc = subprocess.run([debian_tool("chromium", package, BrowserError), "--version"], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip()


@contextlib.contextmanager
def headless_chromium(package: str = "chromium") -> Iterator[Any]:
    """A selenium WebDriver on a fresh headless Chromium (Debian package `package`, with its WebDriver's package), quit
    on leaving."""
    try:
        from selenium import webdriver
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        raise BrowserError(f"the browser board needs selenium ({exc})", "pip install 'paddle-edge[browser]'") from exc
    options = webdriver.ChromeOptions()
    options.binary_location = debian_tool("chromium", package, BrowserError)
    for flag in FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(debian_tool("chromedriver", BROWSER_DRIVERS[package], BrowserError)), options=options)
    except WebDriverException as exc:
        raise BrowserError(f"headless Chromium did not start: {exc.msg}",
                           "check `chromium --headless=new --no-sandbox --dump-dom about:blank` works on this host") from exc
    driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
    try:
        yield driver
    finally:
        driver.quit()


def load(driver: Any, url: str) -> None:
    """Open `url` in the tab; a page that does not load in PAGE_LOAD_SECONDS is an error naming it."""
    from selenium.common.exceptions import WebDriverException

    try:
        driver.get(url)
    except WebDriverException as exc:
        raise BrowserError(f"Chromium could not load {url} in {PAGE_LOAD_SECONDS} s: {exc.msg}",
                           "check nothing else holds the port and the page's files are there") from exc


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


WEB_RUNTIME_FIX = "if it names an op or a type the web runtime lacks, run the bundle on a CPU board (board parity rpi4)"


def call_async(driver: Any, function: str, argument: Any, seconds: float, what: str, fix: str = WEB_RUNTIME_FIX) -> Any:
    """Await window.paddleEdge.`function`(argument) in the page; its exception (said with `fix`), a timeout or a crashed
    tab is an error naming `what`."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from urllib3.exceptions import TimeoutError as DriverTimeout

    driver.set_script_timeout(seconds)
    script = (f"const done = arguments[arguments.length - 1]; Promise.resolve(arguments[0]).then(a => window.paddleEdge.{function}(a))"
              ".then(r => done({ok: r}), e => done({error: String(e && e.message || e)}));")
    try:
        answer = driver.execute_async_script(script, argument)
    except (TimeoutException, DriverTimeout) as exc:
        raise BrowserError(f"the page did not finish {what} within {seconds:g} s (or its driver stopped answering)",
                           "the model is too slow in this browser for one page call: " +
                           ("run it on a CPU board" if fix == WEB_RUNTIME_FIX else fix)) from exc
    except WebDriverException as exc:
        raise BrowserError(f"the browser tab failed during {what}: {exc.msg}",
                           "a tab that crashed mid-run most likely ran out of memory (wasm32 has 4 GiB): run fewer or smaller inputs") from exc
    if "error" in answer:
        raise PageError(f"the page failed on {what}: {answer['error']}", fix)
    return answer["ok"]
