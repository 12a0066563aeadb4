"""The HTML feedback pages in a real browser (headless Chromium through Playwright), opened
as a student and a TA open them: straight from disk, on a desktop, on a phone, and printed.

The pages are made through the real command line on the bundled samples: `grader check
--html` for a passing student and for a failing one whose bugs give every kind of plot, and
`grader batch --out` for a small class (its index and one student page). Each page must load
without a console error or an uncaught exception and without a single request leaving its
file (the browser records every request); every figure must have a size on screen and a text
alternative; a screenshot must not be blank; at 390x844 (a phone) nothing may overflow
sideways; and the page must print to PDF. On the class page every link to a student page
must open and the table must sort on a header click.

Chromium comes from the system (`apt-get install chromium`), never from `playwright
install`. Without it the module is skipped, unless GRADER_REQUIRE_BROWSER is set (CI sets
it), in which case it fails.
"""

from __future__ import annotations

import ast
import base64
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
CHROMIUM = shutil.which("chromium")
REQUIRED = bool(os.environ.get("GRADER_REQUIRE_BROWSER"))

if CHROMIUM is None and not REQUIRED:
    pytest.skip(
        "no `chromium` on PATH (apt-get install chromium chromium-driver); set "
        "GRADER_REQUIRE_BROWSER=1 to make this a failure",
        allow_module_level=True,
    )

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

#: One failing student with every kind of plot: correct.py with the one buggy function of
#: each of these samples put in place of the right one.
BUGS = (
    "bug_deep_backward_derivative_at_A",  # error maps, gradient directions
    "bug_gd_loss_after_update",  # a loss history
    "bug_momentum_no_one_minus_beta",  # optimizer steps
    "bug_minibatches_drop_last",  # batch membership
    "bug_sigmoid_overflow",  # an activation curve with non-finite values
    "bug_relu_grad_at_zero",  # an activation curve
)
#: Each kind of plot, as its text alternative names it.
KINDS = {
    "error map": r"\berror map\b",
    "loss history": r"\bloss(es)? per iteration\b|\bloss history\b",
    "optimizer steps": r"\bcontour\b.*\bsteps\b",
    "batch membership": r"\bexamples?\b.*\bbatch(es)?\b",
    "activation curve": r"\bover z\b",
    "gradient directions": r"\bdirections?\b",
}

#: The small class of `grader batch`: letters-only names, so that any collation sorts them
#: alike, and scores in another order than the names.
CLASS = {
    "ada": "bug_mse_loss_sum.py",
    "bob": "correct.py",
    "cy": "bug_relu_grad_at_zero.py",
    "dee": "bug_sigmoid_overflow.py",
}


def functions(source: str) -> dict[str, str]:
    tree = ast.parse(source)
    return {
        node.name: ast.get_source_segment(source, node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }


def all_bugs_source() -> str:
    """correct.py with the buggy version of each function that a sample of BUGS changed."""
    source = (SAMPLES / "correct.py").read_text()
    right = functions(source)
    for bug in BUGS:
        changed = {
            name: text
            for name, text in functions((SAMPLES / f"{bug}.py").read_text()).items()
            if right.get(name) != text
        }
        assert changed, f"{bug}.py changes no function of correct.py"
        for name, text in changed.items():
            source = source.replace(right[name], text)
    return source


def grader(*args: str | Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "grader", *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finish(process: subprocess.Popen, codes: tuple[int, ...]) -> None:
    output, _ = process.communicate(timeout=120)
    assert process.returncode in codes, f"{process.args}: exit {process.returncode}\n{output}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict[str, Path]:
    """The pages, made through the command line (the three commands run side by side)."""
    work = tmp_path_factory.mktemp("pages")
    (work / "all_bugs.py").write_text(all_bugs_source())
    students = work / "class"
    students.mkdir()
    for name, sample in CLASS.items():
        shutil.copy(SAMPLES / sample, students / f"{name}.py")
    passing = grader("check", SAMPLES / "correct.py", "--html", work / "passing.html")
    failing = grader("check", work / "all_bugs.py", "--html", work / "failing.html")
    batch = grader("batch", students, "--out", work / "out", "--workers", "2")
    finish(passing, (0,))
    finish(failing, (1,))
    finish(batch, (0,))
    return {
        "passing": work / "passing.html",
        "failing": work / "failing.html",
        "class": work / "out" / "index.html",
        "batch student": work / "out" / "pages" / "dee.html",
    }


@pytest.fixture(scope="module")
def browser() -> Browser:
    if CHROMIUM is None:
        pytest.fail("GRADER_REQUIRE_BROWSER is set but there is no `chromium` on PATH")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def _context(browser: Browser, **options) -> BrowserContext:
    context = browser.new_context(**options)
    # Recorded first (page.on("request")), then refused: nothing may reach a network.
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file:", "data:", "about:"))
            else route.abort()
        ),
    )
    return context


@pytest.fixture(scope="module")
def desktop(browser):
    context = _context(browser, viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(browser):
    context = _context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


@dataclass
class Visit:
    """A page opened from disk, and what it did while loading."""

    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.console_errors, f"{self.url}: console errors {self.console_errors}"
        assert not self.page_errors, f"{self.url}: uncaught exceptions {self.page_errors}"
        outside = [
            url
            for url in self.requests
            if url != self.url and not url.startswith(("data:", "about:"))
        ]
        assert not outside, f"{self.url} requested more than itself: {outside}"


def visit(context: BrowserContext, path: Path | str) -> Visit:
    """Open a file (or a file: URL) with every request, console error and uncaught
    exception recorded from before the navigation."""
    url = path if isinstance(path, str) else path.resolve().as_uri()
    page = context.new_page()
    seen = Visit(page, url)
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            seen.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.goto(url, wait_until="load")
    return seen


def figures(page: Page) -> list[dict]:
    """Every figure.plot: its box on screen, its svg's box and its text alternative."""
    return page.eval_on_selector_all(
        "figure.plot",
        """figures => figures.map(f => {
            const box = r => r && {x: r.x, y: r.y, width: r.width, height: r.height};
            const svg = f.querySelector('svg');
            const caption = f.querySelector('figcaption');
            return {
                box: box(f.getBoundingClientRect()),
                svg: svg ? box(svg.getBoundingClientRect()) : null,
                role: f.getAttribute('role'),
                label: (f.getAttribute('aria-label') || '').trim(),
                caption: caption ? caption.textContent.trim() : '',
            };
        })""",
    )


def pixel_variety(png: bytes, context: BrowserContext) -> tuple[int, int, float]:
    """(width, height, share of the pixels unlike the commonest colour) of a PNG: decoded by
    PIL where it is installed, otherwise by the browser on a canvas."""
    try:
        from PIL import Image
    except ImportError:
        page = context.new_page()
        try:
            return tuple(page.evaluate(DECODE_IN_BROWSER, base64.b64encode(png).decode()))
        finally:
            page.close()
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG"
        rgb = image.convert("RGB")
        total = rgb.width * rgb.height
        commonest = max(count for count, _ in rgb.getcolors(maxcolors=total))
        return rgb.width, rgb.height, 1 - commonest / total


DECODE_IN_BROWSER = """async (data) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + data;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.naturalWidth;
    canvas.height = image.naturalHeight;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    const pixels = new Uint32Array(
        context.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    const counts = new Map();
    for (const p of pixels) counts.set(p, (counts.get(p) || 0) + 1);
    const commonest = Math.max(...counts.values());
    return [canvas.width, canvas.height, 1 - commonest / pixels.length];
}"""

PAGES = ["passing", "failing", "class", "batch student"]


def test_the_harness_sees_what_it_must_refuse(desktop, tmp_path):
    """The checks below can fail: a request to the network or to another file, a console
    error and an uncaught exception are all recorded."""
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><img src="https://example.invalid/x.png"><img src="x.png">'
        '<script>console.error("boom"); throw new Error("uncaught")</script>'
    )
    seen = visit(desktop, page)
    assert "https://example.invalid/x.png" in seen.requests
    assert (tmp_path / "x.png").as_uri() in seen.requests
    assert "boom" in seen.console_errors
    assert any("uncaught" in error for error in seen.page_errors)
    with pytest.raises(AssertionError):
        seen.assert_clean()
    seen.page.close()


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_without_errors_and_requests_only_itself(name, site, desktop):
    seen = visit(desktop, site[name])
    seen.assert_clean()
    assert seen.page.title().strip(), f"{name}: no <title>"
    assert seen.page.locator("h1").count() >= 1, f"{name}: no heading"
    seen.page.close()


@pytest.mark.parametrize("name", PAGES)
def test_every_figure_has_a_size_and_a_text_alternative(name, site, desktop):
    seen = visit(desktop, site[name])
    drawn = figures(seen.page)
    if name == "passing":
        assert drawn == [], "a passing student's page has nothing to plot"
    else:
        assert drawn, f"{name}: no figure"
    if name == "failing":
        alternatives = [f"{figure['label']} {figure['caption']}" for figure in drawn]
        for kind, pattern in KINDS.items():
            assert any(re.search(pattern, text, re.I) for text in alternatives), (
                f"no {kind} among the figures: {alternatives}"
            )
    for number, figure in enumerate(drawn, 1):
        where = f"{name}, figure {number} ({figure['label'] or figure['caption']!r})"
        assert figure["box"]["width"] > 0 and figure["box"]["height"] > 0, where
        assert figure["svg"], f"{where}: no inline svg"
        assert figure["svg"]["width"] > 0 and figure["svg"]["height"] > 0, where
        assert figure["label"] or figure["caption"], f"{where}: no text alternative"
    seen.page.close()


@pytest.mark.parametrize("name", PAGES)
def test_a_screenshot_is_not_blank(name, site, desktop):
    seen = visit(desktop, site[name])
    width, height, variety = pixel_variety(seen.page.screenshot(), desktop)
    assert (width, height) == (DESKTOP["width"], DESKTOP["height"])
    assert variety > 0.0005, f"{name}: the screenshot is (nearly) one colour"
    seen.page.close()


@pytest.mark.parametrize("name", PAGES)
def test_readable_on_a_phone(name, site, phone):
    seen = visit(phone, site[name])
    seen.assert_clean()
    scroll_width = seen.page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"] + 1, f"{name}: {scroll_width}px wide on a phone"
    for number, figure in enumerate(figures(seen.page), 1):
        box = figure["box"]
        assert box["x"] >= -1 and box["x"] + box["width"] <= PHONE["width"] + 1, (
            f"{name}, figure {number} sticks out: {box}"
        )
        assert figure["svg"]["width"] > 0 and figure["svg"]["height"] > 0
    seen.page.close()


@pytest.mark.parametrize("name", PAGES)
def test_prints(name, site, desktop):
    seen = visit(desktop, site[name])
    seen.page.emulate_media(media="print")
    for number, figure in enumerate(figures(seen.page), 1):
        assert figure["box"]["width"] > 0 and figure["box"]["height"] > 0, (
            f"{name}, figure {number} vanishes in print"
        )
    pdf = seen.page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    seen.page.close()


def test_every_student_link_on_the_class_page_opens(site, desktop):
    seen = visit(desktop, site["class"])
    links = seen.page.eval_on_selector_all(
        "#students a[href]", "links => links.map(a => [a.textContent.trim(), a.href])"
    )
    seen.page.close()
    pages = site["class"].parent / "pages"
    student_links = {text: url for text, url in links if "/pages/" in url}
    assert set(student_links) >= set(CLASS), f"links: {links}"
    for text, url in student_links.items():
        assert url.startswith(pages.resolve().as_uri() + "/"), url
        student = visit(desktop, url)  # raises net::ERR_FILE_NOT_FOUND for a missing page
        student.assert_clean()
        assert text in student.page.content(), f"{url} does not name {text}"
        student.page.close()


def _column(page: Page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#students tbody tr",
        f"rows => rows.map(r => r.cells[{index}] ? r.cells[{index}].textContent.trim() : '')",
    )


def _key(text: str) -> float | str:
    number = re.search(r"-?\d+(?:\.\d+)?", text)
    return float(number.group()) if number else text.casefold()


def test_the_class_table_sorts_on_a_header_click(site, desktop):
    seen = visit(desktop, site["class"])
    page = seen.page
    headers = [h.strip().casefold() for h in page.locator("#students thead th").all_inner_texts()]
    rows = page.locator("#students tbody tr")
    assert rows.count() == len(CLASS)
    before = sorted(page.locator("#students tbody tr").all_inner_texts())
    wanted = [
        next(i for i, h in enumerate(headers) if "student" in h or "name" in h),
        next(i for i, h in enumerate(headers) if "score" in h or "%" in h or "total" in h),
    ]
    for index in wanted:
        header = page.locator("#students thead th").nth(index)
        # Where a user clicks: the heading's button (or link) when it has one.
        control = header.locator("button, a, [role=button]")
        header = control.first if control.count() else header
        header.click()
        first = [_key(text) for text in _column(page, index)]
        assert len(set(map(str, first))) > 1, f"column {headers[index]!r} is all alike"
        assert first in (sorted(first), sorted(first, reverse=True)), (
            f"after a click on {headers[index]!r}: {first}"
        )
        header.click()
        second = [_key(text) for text in _column(page, index)]
        assert second == first[::-1], f"a second click on {headers[index]!r}: {second}"
        # Rows move whole.
        assert sorted(page.locator("#students tbody tr").all_inner_texts()) == before
    seen.assert_clean()
    page.close()


SCREENSHOTS = ROOT / "docs" / "img"


def _assert_screenshot(path: Path, context: BrowserContext) -> None:
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), f"{path} is not a PNG"
    assert len(data) < 500_000, f"{path}: {len(data) // 1024} KB"
    width, height, variety = pixel_variety(data, context)
    assert 600 <= width <= 2000 and 300 <= height <= 4000, f"{path}: {width}x{height}"
    assert variety > 0.01, f"{path} is (nearly) one colour"


def test_the_screenshots_script_takes_both_screenshots(site, browser, desktop, tmp_path):
    """docs/screenshots.py's browser half, on this module's batch (its other half is the
    `grader batch` made above)."""
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = script.take(browser, site["class"].parent, tmp_path, student="dee")
    assert [path.name for path in written] == ["student-page.png", "class-page.png"]
    for path in written:
        _assert_screenshot(path, desktop)


@pytest.mark.parametrize("name", ["student-page.png", "class-page.png"])
def test_the_readme_shows_valid_screenshots(name, desktop):
    assert f"docs/img/{name}" in (ROOT / "README.md").read_text()
    _assert_screenshot(SCREENSHOTS / name, desktop)
