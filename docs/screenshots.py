"""Retake the README's screenshots of the HTML feedback pages.

    python docs/screenshots.py             # docs/img/student-page.png and class-page.png
    python docs/screenshots.py --out DIR   # somewhere else

Grades a small class of bundled samples with `grader batch`, then opens a failing student's
page and the class page in headless Chromium (the system's `chromium`, driven by Playwright:
no `playwright install`) and saves the top of each.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "submissions"
OUT = ROOT / "docs" / "img"

#: The class: a few bundled samples, graded under their own names.
CLASS = (
    "correct.py",
    "correct_notebook.ipynb",
    "bug_gd_loss_after_update.py",
    "bug_momentum_no_one_minus_beta.py",
    "bug_minibatches_drop_last.py",
    "bug_relu_grad_at_zero.py",
    "bug_deep_backward_derivative_at_A.py",
    "bug_mlp_db1_not_summed.ipynb",
)
#: Whose page is shown.
STUDENT = "bug_deep_backward_derivative_at_A"
#: The viewport of each screenshot, at 1x: the student's page at its figures, the whole
#: class page.
SHOTS = {
    "student-page.png": {"width": 1000, "height": 1250},
    "class-page.png": {"width": 1000, "height": 800},
}


def grade_class(work: Path) -> Path:
    """`grader batch hw1 --out out` on CLASS, in `work`; returns its output folder."""
    students = work / "hw1"
    students.mkdir()
    for name in CLASS:
        shutil.copy(SAMPLES / name, students / name)
    out = work / "out"
    subprocess.run(
        [sys.executable, "-m", "grader", "batch", "hw1", "--out", "out"],
        cwd=work,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    for page in (out / "index.html", out / "pages" / f"{STUDENT}.html"):
        if not page.is_file():
            raise SystemExit(f"grader batch did not write {page}")
    return out


def take(browser: Browser, site: Path, out: Path, student: str = STUDENT) -> list[Path]:
    """Screenshot a failing student's page (at its figures) and the class page of `site` (a
    batch's --out)."""
    out.mkdir(parents=True, exist_ok=True)
    pages = {
        "student-page.png": site / "pages" / f"{student}.html",
        "class-page.png": site / "index.html",
    }
    written = []
    for name, page_file in pages.items():
        context = browser.new_context(viewport=SHOTS[name], device_scale_factor=1)
        page = context.new_page()
        page.goto(page_file.resolve().as_uri(), wait_until="load")
        if name == "student-page.png" and page.locator("#figures").count():
            page.evaluate("document.getElementById('figures').scrollIntoView()")
        page.screenshot(path=out / name, full_page=name == "class-page.png")
        context.close()
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("no `chromium` on PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as work, sync_playwright() as playwright:
        site = grade_class(Path(work))
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--disable-dev-shm-usage"]
        )
        try:
            for path in take(browser, site, args.out):
                print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
