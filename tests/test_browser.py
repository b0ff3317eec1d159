"""The real server (``qa serve``) over the real chapter, driven in headless Chromium.

Needs Debian's ``chromium`` and ``chromium-driver`` packages. Skipped when they are missing
on a developer machine; in CI (``CI=true``) a missing browser fails the test instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[1]
SCREENSHOT = REPO / "artifacts" / "browser" / "answer.png"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
QUESTION = "When was the Extended Deterrence Dialogue established?"
HOSTILE = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> '
    "When was the EDD established?"
)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    message = "missing " + ", ".join(missing) + " (apt-get install chromium chromium-driver)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(real_service: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``qa serve`` in a subprocess on a free loopback port; the index is already built."""
    settings = real_service.settings
    with run_server(settings.corpus_dir, settings.index_dir,
                    tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@contextlib.contextmanager
def run_server(corpus: Path, index_dir: Path, log_path: Path) -> Iterator[str]:
    """``qa serve`` over a corpus and its built index; yields the page's URL."""
    _require_browser()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    command = [
        sys.executable, "-m", "qa.cli", "serve",
        "--corpus", str(corpus), "--index-dir", str(index_dir),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited:\n{log_path.read_text('utf-8', 'replace')}")
            try:
                if httpx.get(url + "ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server never got ready:\n{log_path.read_text('utf-8')}")
            time.sleep(0.5)
        assert f"open {url}" in log_path.read_text("utf-8"), "serve must print the URL to open"
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_browser()
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def ask_in_page(driver: Any, url: str, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    box = WebDriverWait(driver, 60).until(ec.element_to_be_clickable((By.ID, "question")))
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ask-button").click()
    # Shared CPU in CI: give the real model time.
    WebDriverWait(driver, 180).until(
        lambda d: (
            d.find_element(By.ID, "asked").text == question
            and not d.find_element(By.ID, "result").get_attribute("hidden")
        )
    )


def test_answer_citation_and_full_document(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ask_in_page(browser, server, QUESTION)
    assert "2010" in browser.find_element(By.ID, "answer").text
    assert "Confidence" in browser.find_element(By.ID, "confidence-text").text

    citation = browser.find_element(By.CSS_SELECTOR, "#citations .citation")
    mark = citation.find_element(By.CSS_SELECTOR, "blockquote mark.quote")
    quote = mark.text
    assert "2010" in quote
    # the short answer is picked out inside the quoted sentence
    assert mark.find_element(By.CSS_SELECTOR, "strong.answer-in-quote").text == "2010"
    passage = citation.find_element(By.CSS_SELECTOR, "blockquote").text
    assert quote in passage and len(passage) > len(quote), "the quote is highlighted in its passage"

    citation.find_element(By.CSS_SELECTOR, ".in-document summary").click()
    frame = citation.find_element(By.CSS_SELECTOR, ".document")
    WebDriverWait(browser, 60).until(lambda d: frame.get_attribute("data-state") == "loaded")
    in_document = frame.find_element(By.CSS_SELECTOR, "mark.quote")
    assert in_document.text == quote
    assert len(frame.text) > 20_000, "the whole chapter is shown"
    visible = browser.execute_script(
        "const [f, m] = arguments; const a = f.getBoundingClientRect(),"
        " b = m.getBoundingClientRect(); return f.scrollTop > 0 && b.top >= a.top && b.top < a.bottom;",
        frame,
        in_document,
    )
    assert visible, "the full document opens scrolled to the quote"

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(SCREENSHOT))
    print(f"screenshot: {SCREENSHOT}")

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_offsets_count_code_points_like_the_server(server: str, browser: Any) -> None:
    browser.get(server)
    cases = [("a🌸b", 2, 3), ("a🌸b", 3, 4), ("abc", 3, 3), ("abc", 4, -1), ("日本🇯🇵x", 4, 6)]
    for text, code_points, units in cases:
        got = browser.execute_script(
            "return window.citeqaOffsets.unitIndex(arguments[0], arguments[1])", text, code_points
        )
        assert got == units, (text, code_points)


def test_a_script_question_renders_as_text(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    ask_in_page(browser, server, HOSTILE)
    assert browser.find_element(By.ID, "asked").text == HOSTILE
    assert browser.execute_script("return window.__pwned") is None
    injected = browser.execute_script(
        "return document.querySelectorAll('#result script, #result img').length"
    )
    assert injected == 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    hostile_shot = SCREENSHOT.with_name("script-question.png")
    assert browser.save_screenshot(str(hostile_shot))
    print(f"screenshot: {hostile_shot}")


def test_the_full_document_is_the_version_the_answer_came_from(
    browser: Any, make_service: Any
) -> None:
    """Issue 24, finding 13: a reload between the answer and "Show in the full document"
    changes the current text; the page still shows the text the citation points into."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from api.app import create_app
    from tests.helpers.servers import serve_in_thread

    text = ("1 Harbour\n\nThe harbour was dredged in 1887 by the town council.\n\n"
            "2 Bridge\n\nThe bridge over the river was finished in 1930.\n")
    service = make_service({"town.txt": text})
    service.open()
    with serve_in_thread(create_app(service.settings, service)) as port:
        url = f"http://127.0.0.1:{port}/"
        ask_in_page(browser, url, "When was the harbour dredged?")
        citation = browser.find_element(By.CSS_SELECTOR, "#citations .citation")
        quote = citation.find_element(By.CSS_SELECTOR, "blockquote mark.quote").text
        assert "1887" in quote
        (service.settings.corpus_dir / "town.txt").write_text(
            "0 Preface\n\nA first page added later.\n\n" + text.replace("1887", "1891"), "utf-8")
        assert httpx.post(url + "reload", timeout=120).json()["reloaded"] is True
        citation.find_element(By.CSS_SELECTOR, ".in-document summary").click()
        frame = citation.find_element(By.CSS_SELECTOR, ".document")
        WebDriverWait(browser, 60).until(
            lambda d: frame.get_attribute("data-state") not in (None, "loading"))
        assert frame.get_attribute("data-state") == "loaded", frame.text
        assert frame.find_element(By.CSS_SELECTOR, "mark.quote").text == quote
        assert "A first page added later" not in frame.text
