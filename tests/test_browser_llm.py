"""The web page's model switch in headless Chromium, over the real chapter index: shown only
with an endpoint configured; asking with it shows the model's answer with numbered quote
marks that open the quote in the document, or the could-not-be-checked notice above the
reader's answer. The model is the scripted server (tests/helpers/fake_llm.py); one check runs
the real llama.cpp server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from api.app import create_app
from qa.service import QAService
from tests.helpers.fake_llm import MODEL, FakeLLM, fake_llm_server, quoting
from tests.helpers.llama_server import ALIAS, gemma_model, llama_server
from tests.helpers.servers import serve_in_thread
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

QUESTION = "When was the Extended Deterrence Dialogue established?"
EDD_WORDS = "The EDD was established in 2010"
UNVERIFIED = "The model's answer could not be checked against the sources"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with fake_llm_server() as server:
        yield server


@contextlib.contextmanager
def page_url(real_service: Any, **llm: Any) -> Iterator[str]:
    """The app over the session's chapter index with these ``llm_*`` settings, on loopback."""
    settings = real_service.settings.model_copy(update=llm)
    service = QAService(settings, embedder=real_service.embedder, model=real_service.model,
                        span_model=real_service.span_model)
    service.open(rebuild=False)
    with serve_in_thread(create_app(settings, service)) as port:
        yield f"http://127.0.0.1:{port}/"


def open_with_switch(driver: Any, url: str) -> Any:
    """Load the page and wait until it has asked /ready whether there is a model."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    switch = driver.find_element(By.ID, "answerer-switch")
    WebDriverWait(driver, 60).until(lambda d: switch.get_attribute("data-checked") == "true")
    return switch


def ask_with_model(driver: Any, url: str, question: str = QUESTION) -> None:
    """Turn the switch on and ask; wait for the answer or an error line (3 minutes at most)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    switch = open_with_switch(driver, url)
    assert switch.is_displayed()
    checkbox = driver.find_element(By.ID, "use-llm")
    if not checkbox.is_selected():
        checkbox.click()
    box = driver.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question)
    driver.find_element(By.ID, "ask-button").click()
    WebDriverWait(driver, 180).until(lambda d: (
        d.find_element(By.ID, "status").get_attribute("data-kind") == "error"
        or (d.find_element(By.ID, "asked").text == question
            and not d.find_element(By.ID, "result").get_attribute("hidden"))))


def test_the_switch_shows_the_models_verified_answer_with_quote_marks(
        real_service: Any, fake: FakeLLM, browser: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    fake.set(content=quoting("It was established in 2010.", EDD_WORDS))
    with page_url(real_service, llm_url=fake.url, llm_model=MODEL, llm_timeout=30) as url:
        ask_with_model(browser, url)
        assert len(fake.requests) == 1  # the page asked with answerer llm
        answer = browser.find_element(By.ID, "answer")
        assert answer.text.startswith("It was established in 2010.")
        written = browser.find_element(By.ID, "written-by")
        assert written.is_displayed() and MODEL in written.text
        assert not browser.find_element(By.ID, "llm-notice").is_displayed()
        (mark,) = answer.find_elements(By.CSS_SELECTOR, "a.quote-mark")
        assert mark.text == "[1]"
        citation = browser.find_element(By.CSS_SELECTOR, "#citations .citation")
        assert "quoted by the model" in citation.text
        mark.click()  # opens the quote, highlighted, in the full document
        frame = citation.find_element(By.CSS_SELECTOR, ".document")
        WebDriverWait(browser, 60).until(lambda d: frame.get_attribute("data-state") == "loaded")
        assert frame.find_element(By.CSS_SELECTOR, "mark.quote").text == EDD_WORDS
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors


def test_an_unverified_answer_shows_the_notice_and_the_readers_answer(
        real_service: Any, fake: FakeLLM, browser: Any) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By

    fake.set(content=quoting("It was established in 2012.", EDD_WORDS))
    with page_url(real_service, llm_url=fake.url, llm_model=MODEL, llm_timeout=30) as url:
        ask_with_model(browser, url)
        notice = browser.find_element(By.ID, "llm-notice")
        assert notice.is_displayed() and notice.text.startswith(UNVERIFIED)
        assert "the number '2012' in the answer is in no quote" in notice.text
        answer = browser.find_element(By.ID, "answer")
        assert "2012" not in answer.text and "2010" in answer.text  # the reader's answer
        assert not answer.find_elements(By.CSS_SELECTOR, "a.quote-mark")
        assert not browser.find_element(By.ID, "written-by").is_displayed()


def test_without_an_endpoint_there_is_no_switch(real_service: Any,
                                                browser: Any) -> None:  # noqa: F811
    with page_url(real_service, llm_url=None) as url:
        switch = open_with_switch(browser, url)
        assert not switch.is_displayed()


def test_the_switch_with_the_real_llama_cpp_server(
        real_service: Any, browser: Any,  # noqa: F811
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    folder = tmp_path_factory.mktemp("llama-browser")
    with llama_server(gemma_model(folder), folder / "server.log") as server, \
            page_url(real_service, llm_url=server.url, llm_model=ALIAS, llm_timeout=180,
                     llm_context_tokens=512, llm_max_tokens=64) as url:
        ask_with_model(browser, url)
        notice = browser.find_element(By.ID, "llm-notice")
        marks = browser.find_elements(By.CSS_SELECTOR, "#answer a.quote-mark")
        status = browser.find_element(By.ID, "status").text
        # a verified answer with its quote marks, the could-not-be-checked notice, or (this
        # base model mostly writes on until the answer budget ends) the one-line error
        assert (marks and browser.find_element(By.ID, "written-by").is_displayed()) or (
            notice.is_displayed() and notice.text) or "QA_LLM_MAX_TOKENS" in status, status
