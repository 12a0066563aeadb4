"""The service's pages in a real browser (headless Chromium through Playwright), against a
real `grader serve` (tests/live_service.py), used as a student and a TA use them.

A student logs in through the login form with their token, hands in the sample notebook
through the hw1 form, lands on the submission's page, and waits while it refreshes itself
until it becomes the feedback page with full marks; back on their page the submission is
listed as graded and as the one that counts. A TA (another browser context) sees it on the
dashboard, on the assignment's page, on the class page, and opens the student's feedback
from there. Logging out returns to the login form, and the submission's page then sends the
browser to the login page.

Every context records each request, console error and uncaught exception from its start:
no page may log an error (a Content-Security-Policy violation is one, so this also checks
the pages against their CSP), no request may go to another origin than the server's (such
requests are refused after being recorded), and no URL the browser asked for may hold a
token. The conventions, and Chromium's helpers, are those of tests/test_pages_browser.py:
without a system `chromium` the module is skipped unless GRADER_REQUIRE_BROWSER is set.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.live_service import SAMPLES, TA, LiveService
from tests.service_helpers import COURSE
from tests.test_pages_browser import CHROMIUM, DESKTOP, pixel_variety

NOTEBOOK = SAMPLES / "correct_notebook.ipynb"
STUDENT = "s001"
OTHER = "s002"
ASSIGNMENT = "hw1"
GRADING_MS = 90_000
#: The test course, with a request budget that browsing the pages does not exhaust.
BROWSING_COURSE = COURSE.replace("[limits]\n", "[limits]\nrequests_per_minute = 1000\n", 1)
SCORE = re.compile(r"(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)")
SUBMISSION_URL = re.compile(r"/submissions/([0-9a-f]+)$")


@dataclass
class Recorded:
    """What the pages of one browser context did."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def outside(self) -> list[str]:
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "about:")) and not same_origin(url, self.origin)
        ]

    def assert_clean(self, tokens: dict[str, str]) -> None:
        assert not self.console_errors, f"console errors: {self.console_errors}"
        assert not self.page_errors, f"uncaught exceptions: {self.page_errors}"
        assert not self.outside(), f"requests to other origins: {self.outside()}"
        leaked = [url for url in self.requests for token in tokens.values() if token in url]
        assert not leaked, f"a token in a URL: {leaked}"


def same_origin(url: str, origin: str) -> bool:
    one, other = urlsplit(url), urlsplit(origin)
    return (one.scheme, one.netloc) == (other.scheme, other.netloc)


def recorded_context(browser: Browser, origin: str) -> tuple[BrowserContext, Recorded]:
    """A desktop context that records every request, console error and uncaught exception
    of its pages, and lets only requests to `origin` through (after recording them)."""
    context = browser.new_context(viewport=DESKTOP)
    seen = Recorded(origin)
    context.on("request", lambda request: seen.requests.append(request.url))
    context.on(
        "console",
        lambda message: (
            seen.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    context.on("weberror", lambda error: seen.page_errors.append(str(error.error)))
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if same_origin(route.request.url, origin) else route.abort()
        ),
    )
    return context, seen


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveService]:
    assert "requests_per_minute = 1000" in BROWSING_COURSE
    live = LiveService.start(tmp_path_factory.mktemp("service"), course=BROWSING_COURSE, workers=1)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.fail("GRADER_REQUIRE_BROWSER is set but there is no `chromium` on PATH")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def student(browser, server) -> Iterator[tuple[BrowserContext, Recorded]]:
    context, seen = recorded_context(browser, server.url)
    yield context, seen
    context.close()


@pytest.fixture(scope="module")
def ta(browser, server) -> Iterator[tuple[BrowserContext, Recorded]]:
    context, seen = recorded_context(browser, server.url)
    yield context, seen
    context.close()


def log_in(page: Page, server: LiveService, name: str) -> None:
    """Through the login form, as a person does: type the token, press the button."""
    page.goto(server.url + "/")
    expect(page.locator("#token")).to_have_attribute("type", "password")
    page.fill("#token", server.tokens[name])
    page.locator("#login").get_by_role("button", name="Log in").click()
    expect(page, "the login form did not log in").to_have_url(server.url + "/")
    expect(page.locator("#token")).to_have_count(0)


def score_of(text: str) -> tuple[float, float]:
    found = SCORE.search(text)
    assert found, f"no score in {text!r}"
    return float(found.group(1)), float(found.group(2))


@dataclass
class HandedIn:
    page: Page
    submission_id: str
    waited_on: str
    """The status the submission's page showed before its feedback: queued or grading."""


@pytest.fixture(scope="module")
def handed_in(student, server) -> HandedIn:
    """The student logs in, hands in the notebook through the hw1 form, and waits on the
    submission's page (which refreshes itself) until it is the feedback page."""
    context, _ = student
    page = context.new_page()
    log_in(page, server, STUDENT)
    form = page.locator(f"#assignment-{ASSIGNMENT} form.upload")
    form.locator(f"#file-{ASSIGNMENT}").set_input_files(NOTEBOOK)
    form.get_by_role("button", name="Hand in").click()
    page.wait_for_url(SUBMISSION_URL)
    submission_id = SUBMISSION_URL.search(page.url).group(1)
    waited_on = ""
    if "Feedback" not in page.title():
        status = page.locator("#state .status")
        waited_on = status.inner_text().strip()
        assert waited_on in ("queued", "grading"), page.content()
        refresh = page.locator('meta[http-equiv="refresh"]')
        assert refresh.get_attribute("content") == "5"
    # No reload from here: only the page's own refresh can bring the feedback.
    try:
        expect(page).to_have_title(re.compile(r"\bFeedback\b"), timeout=GRADING_MS)
    except AssertionError as error:
        raise AssertionError(f"{error}\nserver log:\n{server.logs()}") from None
    assert page.url.endswith(f"/submissions/{submission_id}")
    return HandedIn(page, submission_id, waited_on)


def eventually(page: Page, condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait (letting the browser's events arrive) until `condition()` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the browser never reported it"
        page.wait_for_timeout(50)


def test_the_harness_sees_what_it_must_refuse(browser, server):
    """A request to another origin and a CSP violation on one of the server's pages are
    both recorded (the violation as a console error; the CSP stops the request)."""
    context, seen = recorded_context(browser, server.url)
    page = context.new_page()
    page.goto(server.url + "/")
    page.evaluate(
        """() => {
            const image = document.createElement('img');
            image.src = 'https://example.invalid/x.png';
            document.body.append(image);
        }"""
    )
    eventually(page, lambda: any("Content Security Policy" in t for t in seen.console_errors))
    page.goto("about:blank")
    page.set_content('<img src="https://example.invalid/y.png">')
    assert "https://example.invalid/y.png" in seen.outside()
    page.set_content("<script>throw new Error('uncaught')</script>")
    eventually(page, lambda: any("uncaught" in error for error in seen.page_errors))
    with pytest.raises(AssertionError):
        seen.assert_clean(server.tokens)
    context.close()
    leaky = Recorded(server.url, requests=[f"{server.url}/?t={server.tokens[STUDENT]}"])
    with pytest.raises(AssertionError, match="a token in a URL"):
        leaky.assert_clean(server.tokens)


def test_the_student_waits_on_their_submission_and_gets_full_marks(handed_in, student):
    page = handed_in.page
    assert handed_in.waited_on in ("queued", "grading"), (
        "the submission was graded before its page was ever shown: the refresh went untested"
    )
    heading = page.locator("h1").first.inner_text()
    assert "Feedback" in page.title()
    score, max_score = score_of(heading)
    assert max_score > 0 and score == max_score, heading
    assert "(100%)" in heading
    expect(page.get_by_text(f"student: {STUDENT}")).to_be_visible()
    width, height, variety = pixel_variety(page.screenshot(), student[0])
    assert (width, height) == (DESKTOP["width"], DESKTOP["height"])
    assert variety > 0.0005, "the feedback page's screenshot is (nearly) one colour"


def test_the_submission_is_listed_graded_and_counted(handed_in, server):
    page = handed_in.page
    page.get_by_role("link", name="your submissions").click()
    page.wait_for_url(server.url + "/")
    row = page.locator(f"#assignment-{ASSIGNMENT} #submission-{handed_in.submission_id}")
    expect(row).to_have_count(1)
    expect(row.locator(".status")).to_have_text("graded")
    expect(row.locator(".counted")).to_have_text("counts")
    expect(row).to_contain_text(NOTEBOOK.name)
    score, max_score = score_of(row.locator("td.num").inner_text())
    assert max_score > 0 and score == max_score
    expect(page.locator(f"#assignment-{ASSIGNMENT} .submissions tbody tr")).to_have_count(1)
    expect(page.get_by_text("1 of 50 submissions used")).to_be_visible()


def test_the_ta_sees_it_on_every_page(handed_in, ta, server):
    context, _ = ta
    page = context.new_page()
    log_in(page, server, TA)
    expect(page.locator("h1")).to_have_text("Dashboard")
    section = page.locator(f"#assignment-{ASSIGNMENT}")
    expect(section).to_contain_text("1 of 2 students submitted")
    counts = [text.split() for text in section.locator(".counts li").all_inner_texts()]
    assert ["graded", "1"] in counts, counts
    expect(section.get_by_role("link", name="class page")).to_have_attribute(
        "href", f"/ta/assignments/{ASSIGNMENT}/class"
    )
    for label, end in (("gradebook CSV", "gradebook.csv"), ("Gradescope CSV", "gradescope.csv")):
        expect(section.get_by_role("link", name=label)).to_have_attribute(
            "href", f"/ta/assignments/{ASSIGNMENT}/{end}"
        )

    section.get_by_role("link", name=ASSIGNMENT, exact=True).click()
    page.wait_for_url(f"{server.url}/ta/assignments/{ASSIGNMENT}")
    rows = page.locator("#students tbody tr")
    expect(rows).to_have_count(2)
    mine = rows.filter(has=page.get_by_role("link", name=STUDENT, exact=True))
    expect(mine.locator(".status")).to_have_text("graded")
    score, max_score = score_of(mine.locator("td.num").last.inner_text())
    assert max_score > 0 and score == max_score
    other = rows.filter(has=page.get_by_role("link", name=OTHER, exact=True))
    expect(other.locator(".status")).to_have_count(0)

    page.get_by_role("link", name="class page").click()
    page.wait_for_url(f"{server.url}/ta/assignments/{ASSIGNMENT}/class")
    link = page.locator("#students").get_by_role("link", name=STUDENT, exact=True)
    expect(link).to_have_attribute("href", f"/submissions/{handed_in.submission_id}")
    link.click()
    page.wait_for_url(f"{server.url}/submissions/{handed_in.submission_id}")
    assert "Feedback" in page.title()
    expect(page.get_by_text(f"student: {STUDENT}")).to_be_visible()
    score, max_score = score_of(page.locator("h1").first.inner_text())
    assert max_score > 0 and score == max_score
    page.close()


def test_logging_out_ends_the_session(handed_in, student, server):
    page = handed_in.page
    page.goto(server.url + "/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(server.url + "/")
    expect(page.locator("#token")).to_be_visible()
    cookies = student[0].cookies(server.url)
    assert server.tokens[STUDENT] not in [cookie["value"] for cookie in cookies]
    page.goto(f"{server.url}/submissions/{handed_in.submission_id}")
    assert page.url == server.url + "/", page.url
    expect(page.locator("#token")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Log in")
    page.close()


@pytest.mark.parametrize("who", ["student", "ta"])
def test_no_error_no_other_origin_no_token_in_a_url(who, request, server, handed_in):
    """Run last (file order): everything both contexts did above."""
    _, seen = request.getfixturevalue(who)
    assert any(SUBMISSION_URL.search(url) for url in seen.requests), seen.requests
    seen.assert_clean(server.tokens)
