"""`grader serve` over real HTTP: who may call what, with which exact status code.

Each server here is the real command (`tests/live_service.py`), one process per module
fixture:

- `server`: one grading worker and a rate limit too high to trip. It carries the auth
  matrix of the JSON API (no token, a wrong token, another student's, the owner's, the
  TA's, for every endpoint), the pages and their login, the CSRF protection of the forms,
  uploads that must be refused with a clear 4xx and leave nothing behind, regrades, the
  CSV exports and the OpenAPI schema.
- `idle`: no grading worker (`--workers 0`, so a submission stays queued) and 5 requests
  a minute: the report of a submission not graded yet (409) and the rate limit (429 with
  Retry-After, per token, and per client address for wrong tokens).

At the end, no token may appear in either server's log (uvicorn's access log) or in any
page fetched, its links and form actions included.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_service import SAMPLES, TA, LiveService
from tests.service_helpers import COURSE

ROOT_LIMITS = "[limits]\nupload_bytes = 100000\n"
assert ROOT_LIMITS in COURSE
MATRIX_COURSE = COURSE.replace(
    ROOT_LIMITS, ROOT_LIMITS + "requests_per_minute = 100000\nta_requests_per_minute = 100000\n"
)
LIMITED_COURSE = COURSE.replace(
    ROOT_LIMITS, ROOT_LIMITS + "requests_per_minute = 5\nta_requests_per_minute = 5\n"
)
LIMITED_ROSTER = "student_id,name\ns001,Ada\ns002,Alan\ns003,Grace\n"
UPLOAD_LIMIT = 100000

OWNER = "s001"
OTHER = "s002"
CORRECT = SAMPLES / "correct.py"
BUGGY = SAMPLES / "bug_chain_backward_db.py"

PAGES_SEEN: list[str] = []
"""The HTML of every page fetched by this module, checked for tokens at the end."""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LiveService]:
    live = LiveService.start(tmp_path_factory.mktemp("matrix"), course=MATRIX_COURSE, workers=1)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def idle(tmp_path_factory) -> Iterator[LiveService]:
    live = LiveService.start(
        tmp_path_factory.mktemp("idle"), course=LIMITED_COURSE, roster=LIMITED_ROSTER, workers=0
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def http(server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="module")
def graded(server, http) -> dict[str, str]:
    """A graded hw1 submission of each student: {"sid": s001's, "other_sid": s002's}."""
    mine = server.upload(http, OWNER, "hw1", CORRECT)
    theirs = server.upload(http, OTHER, "hw1", BUGGY)
    assert (mine.status_code, theirs.status_code) == (202, 202), (mine.text, theirs.text)
    assert mine.json()["graded_at"] is None
    for answer, name in ((mine, OWNER), (theirs, OTHER)):
        done = server.wait_done(http, answer.json()["id"], name)
        assert done["status"] == "graded"
        assert done["graded_at"] > done["received_at"]  # both ISO 8601 in UTC
    return {"sid": mine.json()["id"], "other_sid": theirs.json()["id"]}


def headers_for(server: LiveService, who: str) -> dict[str, str]:
    """The Authorization header of `who`: none, wrong, owner, other or ta."""
    if who == "none":
        return {}
    if who == "wrong":
        return {"Authorization": "Bearer not-a-token"}
    return server.bearer({"owner": OWNER, "other": OTHER, "ta": TA}[who])


def own_submissions(server: LiveService, http: httpx.Client, name: str) -> list[dict]:
    answer = http.get("/api/submissions", headers=server.bearer(name))
    assert answer.status_code == 200, answer.text
    return answer.json()


def stored_directories(server: LiveService) -> set[str]:
    submissions = server.data_dir / "submissions"
    return {path.name for path in submissions.iterdir()} if submissions.exists() else set()


def wait_idle(server: LiveService, http: httpx.Client, timeout: float = 120.0) -> None:
    """Until nothing is queued or grading."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = http.get("/api/health").json()
        if health["queued"] == 0 and health["grading"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"the queue did not drain in {timeout} s")


@contextlib.contextmanager
def login(server: LiveService, name: str) -> Iterator[httpx.Client]:
    """A client with a page session of `name` (logged in through the login form)."""
    with server.client() as client:
        form = client.get("/")
        assert form.status_code == 200
        answer = client.post(
            "/login",
            data={"token": server.tokens[name], "csrf": hidden_csrf(form.text)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        assert client.cookies.get("grader_session") == server.tokens[name]
        yield client


def hidden_csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no csrf field in the page"
    return found.group(1)


def fetch(client: httpx.Client, url: str) -> httpx.Response:
    answer = client.get(url, follow_redirects=False)
    if answer.headers.get("content-type", "").startswith("text/html"):
        PAGES_SEEN.append(answer.text)
    return answer


# --------------------------------------------------------------------------- 1. the API matrix

WHO = ("none", "wrong", "other", "owner", "ta")


def row(method: str, path: str, *codes: int) -> list[tuple[str, str, str, int]]:
    """One endpoint's cells: a code for none, wrong, other, owner, ta."""
    assert len(codes) == len(WHO)
    return [(method, path, who, code) for who, code in zip(WHO, codes, strict=True)]


MATRIX = [
    *row("GET", "/api/health", 200, 200, 200, 200, 200),
    *row("GET", "/api/me", 401, 401, 200, 200, 200),
    *row("GET", "/api/assignments", 401, 401, 200, 200, 200),
    *row("POST", "/api/submissions", 401, 401, 202, 202, 403),
    *row("GET", "/api/submissions", 401, 401, 200, 200, 200),
    *row("GET", "/api/submissions?student=s002", 401, 401, 200, 403, 200),
    *row("GET", "/api/submissions?student=nobody", 401, 401, 403, 403, 404),
    *row("GET", "/api/submissions/{sid}", 401, 401, 404, 200, 200),
    *row("GET", "/api/submissions/{sid}/report", 401, 401, 404, 200, 200),
    *row("GET", "/api/submissions/{sid}/file", 401, 401, 404, 200, 200),
    *row("GET", "/api/submissions/not-an-id", 401, 401, 404, 404, 404),
    *row("GET", "/api/submissions?assignment=hw9", 401, 401, 404, 404, 404),
    # the TA's 202s change state: test_regrade_one and test_regrade_assignment
    *row("POST", "/api/submissions/{sid}/regrade", 401, 401, 403, 403, 202),
    *row("POST", "/api/assignments/hw1/regrade", 401, 401, 403, 403, 202),
    *row("GET", "/api/assignments/hw1/status", 401, 401, 403, 403, 200),
    *row("GET", "/api/assignments/hw1/gradebook.csv", 401, 401, 403, 403, 200),
    *row("GET", "/api/assignments/hw1/gradescope.csv", 401, 401, 403, 403, 200),
    *row("GET", "/api/assignments/hw9/status", 401, 401, 403, 403, 404),
    *row("GET", "/api/assignments/hw9/gradebook.csv", 401, 401, 403, 403, 404),
    *row("GET", "/api/assignments/hw9/gradescope.csv", 401, 401, 403, 403, 404),
    *row("POST", "/api/assignments/hw9/regrade", 401, 401, 403, 403, 404),
]
STATEFUL = {
    ("POST", "/api/submissions/{sid}/regrade", "ta"),
    ("POST", "/api/assignments/hw1/regrade", "ta"),
}


@pytest.mark.parametrize(
    ("method", "path", "who", "expected"),
    [cell for cell in MATRIX if cell[:3] not in STATEFUL],
    ids=[f"{m} {p} {w}" for m, p, w, _ in MATRIX if (m, p, w) not in STATEFUL],
)
def test_api_auth_matrix(server, http, graded, method, path, who, expected):
    url = path.format(sid=graded["sid"])
    options = {}
    if method == "POST" and path == "/api/submissions":
        options = {
            "data": {"assignment": "hw1"},
            "files": {"file": ("hw1.py", CORRECT.read_bytes())},
        }
    answer = http.request(method, url, headers=headers_for(server, who), **options)
    assert answer.status_code == expected, answer.text
    if expected == 401:
        assert answer.headers.get("www-authenticate") == "Bearer"
    if expected >= 400:
        assert answer.json()["detail"]


def test_api_answers_say_whose_they_are(server, http, graded):
    wait_idle(server, http)
    me = http.get("/api/me", headers=server.bearer(OWNER)).json()
    assert (me["role"], me["name"]) == ("student", OWNER)
    ta = http.get("/api/me", headers=server.bearer(TA)).json()
    assert (ta["role"], ta["name"]) == ("ta", TA)
    names = [a["name"] for a in http.get("/api/assignments", headers=server.bearer(OWNER)).json()]
    assert names == ["hw1", "old", "lenient"]

    mine = own_submissions(server, http, OWNER)
    assert graded["sid"] in {s["id"] for s in mine}
    assert {s["student"] for s in mine} == {OWNER}
    everyone = own_submissions(server, http, TA)
    assert {graded["sid"], graded["other_sid"]} <= {s["id"] for s in everyone}
    assert {s["student"] for s in everyone} == {OWNER, OTHER}
    theirs = http.get("/api/submissions?student=s002", headers=server.bearer(TA)).json()
    assert theirs and {s["student"] for s in theirs} == {OTHER}
    assert http.get("/api/submissions?student=s002", headers=server.bearer(OTHER)).json() == theirs


def test_api_submission_file_and_report(server, http, graded):
    sid = graded["sid"]
    for name in (OWNER, TA):
        file = http.get(f"/api/submissions/{sid}/file", headers=server.bearer(name))
        assert file.status_code == 200
        assert file.content == CORRECT.read_bytes()
        report = http.get(f"/api/submissions/{sid}/report", headers=server.bearer(name))
        assert report.status_code == 200
        assert {e["name"] for e in report.json()["exercises"]} == {"chain_rule", "activations"}
        assert report.json()["score"] == report.json()["max_score"] > 0
    # another student learns nothing, not even that the id exists
    missing = http.get(f"/api/submissions/{sid}/file", headers=server.bearer(OTHER))
    unknown = http.get("/api/submissions/0123/file", headers=server.bearer(OTHER))
    assert missing.status_code == unknown.status_code == 404
    assert missing.json()["detail"].replace(sid, "?") == unknown.json()["detail"].replace(
        "0123", "?"
    )
    assert CORRECT.read_bytes() not in missing.content


def test_api_exports(server, http, graded):
    wait_idle(server, http)
    assignments = http.get("/api/assignments", headers=server.bearer(OWNER)).json()
    counted_id = next(a["counted"] for a in assignments if a["name"] == "hw1")
    counted = http.get(f"/api/submissions/{counted_id}", headers=server.bearer(OWNER)).json()
    theirs = next(
        a["counted"]
        for a in http.get("/api/assignments", headers=server.bearer(OTHER)).json()
        if a["name"] == "hw1"
    )
    their_score = http.get(f"/api/submissions/{theirs}", headers=server.bearer(OTHER)).json()

    book = http.get("/api/assignments/hw1/gradebook.csv", headers=server.bearer(TA))
    assert book.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(book.text)))
    assert rows[0][:3] == ["student", "total", "max"]
    assert set(rows[0][3:]) == {"chain_rule", "activations"}
    by_student = {r[0]: r for r in rows[1:]}
    assert set(by_student) == {OWNER, OTHER}
    assert float(by_student[OWNER][1]) == counted["score"]
    assert float(by_student[OWNER][2]) == counted["max_score"]
    assert float(by_student[OTHER][1]) == their_score["score"]

    scope = http.get("/api/assignments/hw1/gradescope.csv", headers=server.bearer(TA))
    rows = list(csv.reader(io.StringIO(scope.text)))
    assert rows[0] == ["Name", "SID", "Email", "Total Score"]
    by_sid = {r[1]: r for r in rows[1:]}
    assert by_sid[OWNER][0] == "Ada"
    assert float(by_sid[OWNER][3]) == counted["score"]

    status = http.get("/api/assignments/hw1/status", headers=server.bearer(TA)).json()
    assert status["assignment"] == "hw1"
    assert status["students_submitted"] == 2
    assert {s["student"]: s["counted"]["id"] for s in status["students"]}[OWNER] == counted_id


def test_regrade_one(server, http, graded):
    sid = graded["sid"]
    before = server.wait_done(http, sid, OWNER)
    answer = http.post(f"/api/submissions/{sid}/regrade", headers=server.bearer(TA))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"queued": [sid]}
    now = http.get(f"/api/submissions/{sid}", headers=server.bearer(OWNER)).json()
    assert now["round"] == before["round"] + 1
    assert now["status"] in ("queued", "grading")
    after = server.wait_done(http, sid, OWNER)
    assert (after["status"], after["round"]) == ("graded", before["round"] + 1)
    assert after["score"] == before["score"]
    report = http.get(f"/api/submissions/{sid}/report", headers=server.bearer(OWNER))
    assert report.status_code == 200


def test_regrade_assignment(server, http, graded):
    wait_idle(server, http)
    hw1 = http.get("/api/submissions?assignment=hw1", headers=server.bearer(TA)).json()
    answer = http.post("/api/assignments/hw1/regrade", headers=server.bearer(TA))
    assert answer.status_code == 202, answer.text
    assert sorted(answer.json()["queued"]) == sorted(s["id"] for s in hw1)
    for submission in hw1:
        done = server.wait_done(http, submission["id"], TA)
        assert (done["status"], done["round"]) == ("graded", submission["round"] + 1)


def test_report_of_a_submission_not_graded_is_409(idle):
    # s003 only: the rate-limit test counts s001's, s002's and the address's requests
    with idle.client() as client:
        sent = idle.upload(client, "s003", "hw1", CORRECT)
        assert sent.status_code == 202
        sid = sent.json()["id"]
        report = client.get(f"/api/submissions/{sid}/report", headers=idle.bearer("s003"))
        assert report.status_code == 409
        assert "queued" in report.json()["detail"]
        again = client.post(f"/api/submissions/{sid}/regrade", headers=idle.bearer(TA))
        assert (again.status_code, again.json()) == (202, {"queued": []})  # left alone


# --------------------------------------------------------------------------- 2. pages


def test_pages_need_a_session(server, graded):
    with server.client() as client:
        home = fetch(client, "/")
        assert home.status_code == 200
        assert 'action="/login"' in home.text and 'name="token"' in home.text
        assert "grader_login" in client.cookies
        for url in (f"/submissions/{graded['sid']}", "/ta/assignments/hw1"):
            answer = client.get(url, follow_redirects=False)
            assert answer.status_code == 303, url
            assert answer.headers["location"] == "/"
        # a form post without a session: 401, not a redirect
        post = client.post("/submit", data={"assignment": "hw1"}, files={"file": ("a.py", b"x")})
        assert post.status_code == 401


def test_login_sets_a_strict_httponly_cookie(server):
    with server.client() as client:
        form = fetch(client, "/")
        answer = client.post(
            "/login",
            data={"token": server.tokens[OWNER], "csrf": hidden_csrf(form.text)},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert answer.headers["location"] == "/"
        cookies = [c for c in answer.headers.get_list("set-cookie") if "grader_session=" in c]
        assert len(cookies) == 1
        attributes = {part.strip().lower() for part in cookies[0].split(";")}
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
        home = fetch(client, "/")
        assert home.status_code == 200 and "Your submissions" in home.text


def test_login_with_a_wrong_token_is_401(server):
    with server.client() as client:
        form = fetch(client, "/")
        answer = client.post(
            "/login", data={"token": "not-a-token", "csrf": hidden_csrf(form.text)}
        )
        PAGES_SEEN.append(answer.text)
        assert answer.status_code == 401
        assert "not valid" in answer.text
        assert "grader_session" not in client.cookies


def test_student_pages(server, graded):
    with login(server, OWNER) as client:
        assert fetch(client, "/ta/assignments/hw1").status_code == 403
        assert fetch(client, "/ta/students/s001").status_code == 403
        assert fetch(client, f"/submissions/{graded['other_sid']}").status_code == 404
        own = fetch(client, f"/submissions/{graded['sid']}")
        assert own.status_code == 200
        assert "Feedback" in own.text
        assert "chain_rule" in own.text
        home = fetch(client, "/")
        assert f"/submissions/{graded['sid']}" in home.text
        assert graded["other_sid"] not in home.text


def test_ta_pages(server, graded):
    with login(server, TA) as client:
        for url in ("/", "/ta/assignments/hw1", "/ta/assignments/hw1/class", "/ta/students/s001"):
            answer = fetch(client, url)
            assert answer.status_code == 200, url
        assert graded["sid"] in fetch(client, "/ta/students/s001").text
        assert fetch(client, "/ta/students/nobody").status_code == 404
        assert fetch(client, "/ta/assignments/hw9").status_code == 404


# --------------------------------------------------------------------------- 3. CSRF


def test_form_posts_need_the_csrf_field_and_our_origin(server, http, graded):
    with login(server, OWNER) as client:
        home = fetch(client, "/")
        csrf = hidden_csrf(home.text)
        upload = {"file": ("hw1.py", CORRECT.read_bytes())}
        before = own_submissions(server, http, OWNER)
        refused = [
            client.post("/submit", data={"assignment": "hw1"}, files=upload),
            client.post("/submit", data={"assignment": "hw1", "csrf": "0" * 64}, files=upload),
            client.post(
                "/submit",
                data={"assignment": "hw1", "csrf": csrf},
                files=upload,
                headers={"Origin": "http://evil.example"},
            ),
        ]
        assert [answer.status_code for answer in refused] == [403, 403, 403]
        PAGES_SEEN.extend(answer.text for answer in refused)
        assert own_submissions(server, http, OWNER) == before

        ok = client.post(
            "/submit",
            data={"assignment": "hw1", "csrf": csrf},
            files=upload,
            headers={"Origin": server.url},
            follow_redirects=False,
        )
        assert ok.status_code == 303, ok.text
        new = [s for s in own_submissions(server, http, OWNER) if s not in before]
        assert len(new) == 1
        assert ok.headers["location"] == f"/submissions/{new[0]['id']}"
        assert new[0]["assignment"] == "hw1"


def test_login_needs_the_login_csrf(server):
    with server.client() as client:
        form = fetch(client, "/")
        token = server.tokens[OWNER]
        missing = client.post("/login", data={"token": token}, follow_redirects=False)
        assert missing.status_code == 403
        wrong = client.post("/login", data={"token": token, "csrf": "x"}, follow_redirects=False)
        assert wrong.status_code == 403
        # the field without the cookie it must match
        client.cookies.clear()
        alone = client.post(
            "/login",
            data={"token": token, "csrf": hidden_csrf(form.text)},
            follow_redirects=False,
        )
        assert alone.status_code == 403
        evil = client.post(
            "/login",
            data={"token": token, "csrf": hidden_csrf(fetch(client, "/").text)},
            headers={"Origin": "http://evil.example"},
            follow_redirects=False,
        )
        assert evil.status_code == 403
        assert "grader_session" not in client.cookies


# --------------------------------------------------------------------------- 4. bad input


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("hw1.py", b"\0" * 10_000_000)
    return buffer.getvalue()


BAD_UPLOADS = [
    # (case id, assignment, file name, content, status, words the detail must hold)
    # past the body limit (upload limit + form overhead): refused before it is read
    ("oversized", "hw1", "hw1.py", b"#" * 200_000, 413, "the upload is larger than the course's"),
    # within the body limit, past the upload limit: refused by the store
    ("over-limit", "hw1", "hw1.py", b"#" * 120_000, 413, "the file is larger than the"),
    ("exe", "hw1", "hw1.exe", b"MZ\x90\x00", 415, ".py files and .ipynb"),
    ("zip-bomb", "hw1", "hw1.zip", None, 415, ".py files and .ipynb"),
    ("corrupt-notebook", "hw1", "x.ipynb", b"{not json", 422, "not valid JSON"),
    ("notebook-without-cells", "hw1", "x.ipynb", b"[1, 2]", 422, "no list of cells"),
    ("not-utf8", "hw1", "hw1.py", b"x = '\xe9t\xe9'\n", 422, "not UTF-8"),
    ("empty", "hw1", "hw1.py", b"", 422, "empty"),
    ("traversal", "hw1", "../../evil.py", b"x = 1\n", 400, "contains a path"),
    ("backslash", "hw1", "..\\evil.py", b"x = 1\n", 400, "contains a path"),
    ("absolute", "hw1", "/etc/evil.py", b"x = 1\n", 400, "contains a path"),
    ("unknown-assignment", "hw9", "hw1.py", b"x = 1\n", 404, "no assignment 'hw9'"),
    ("past-deadline", "old", "hw1.py", b"x = 1\n", 403, "deadline"),
]


@pytest.mark.parametrize(
    ("assignment", "filename", "content", "expected", "words"),
    [case[1:] for case in BAD_UPLOADS],
    ids=[case[0] for case in BAD_UPLOADS],
)
def test_bad_upload_is_refused_and_stores_nothing(
    server, http, assignment, filename, content, expected, words
):
    content = zip_bomb() if content is None else content
    before, on_disk = own_submissions(server, http, OTHER), stored_directories(server)
    answer = http.post(
        "/api/submissions",
        headers=server.bearer(OTHER),
        data={"assignment": assignment},
        files={"file": (filename, content)},
    )
    assert answer.status_code == expected, answer.text
    assert words in answer.json()["detail"]
    assert own_submissions(server, http, OTHER) == before
    assert stored_directories(server) == on_disk


def test_chunked_oversized_upload_is_413(server, http):
    request = http.build_request(
        "POST",
        "/api/submissions",
        data={"assignment": "hw1"},
        files={"file": ("hw1.py", b"#" * 200_000)},
    )
    body = request.read()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    before, on_disk = own_submissions(server, http, OTHER), stored_directories(server)
    answer = http.post(
        "/api/submissions",
        headers={**server.bearer(OTHER), "Content-Type": request.headers["content-type"]},
        content=chunks(),
    )
    assert answer.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413, answer.text
    # refused by the body limit as the body grows, not after reading it
    assert answer.json()["detail"] == "the upload is larger than the course's limit of 100000 bytes"
    assert own_submissions(server, http, OTHER) == before
    assert stored_directories(server) == on_disk


def test_no_file_escapes_the_data_directory(server, tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    assert list(base.rglob("evil.py")) == []
    assert not Path("/etc/evil.py").exists()
    names = {path.name for path in (server.data_dir / "submissions").rglob("*") if path.is_file()}
    assert not any("evil" in name for name in names)


@pytest.mark.parametrize(
    ("data", "files", "field"),
    [
        ({"assignment": "hw1"}, {"upload": ("hw1.py", b"x = 1\n")}, "file"),
        ({}, {"file": ("hw1.py", b"x = 1\n")}, "assignment"),
    ],
    ids=["no-file", "no-assignment"],
)
def test_missing_form_field_is_422(server, http, data, files, field):
    before = own_submissions(server, http, OTHER)
    answer = http.post("/api/submissions", headers=server.bearer(OTHER), data=data, files=files)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["detail"]
    assert own_submissions(server, http, OTHER) == before


def test_late_accepted_then_limit_reached(server, http):
    before = own_submissions(server, http, OTHER)
    for _ in range(2):
        answer = server.upload(http, OTHER, "lenient", CORRECT)
        assert answer.status_code == 202, answer.text
        assert answer.json()["late"] is True
    counted = own_submissions(server, http, OTHER)
    assert len(counted) == len(before) + 2
    third = server.upload(http, OTHER, "lenient", CORRECT)
    assert third.status_code == 409
    assert "all 2" in third.json()["detail"]
    assert own_submissions(server, http, OTHER) == counted


# --------------------------------------------------------------------------- 5. rate limit


def test_rate_limit_per_token(idle):
    with idle.client() as client:
        for _ in range(5):
            assert client.get("/api/me", headers=idle.bearer(OWNER)).status_code == 200
        over = client.get("/api/me", headers=idle.bearer(OWNER))
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert "too many requests" in over.json()["detail"]
        assert client.get("/api/me", headers=idle.bearer(OTHER)).status_code == 200


def test_rate_limit_per_address_for_wrong_tokens(idle):
    with idle.client() as client:
        for attempt in range(5):
            wrong = {"Authorization": f"Bearer wrong-{attempt}"}
            assert client.get("/api/me", headers=wrong).status_code == 401
        over = client.get("/api/me", headers={"Authorization": "Bearer wrong-5"})
        assert over.status_code == 429
        assert int(over.headers["retry-after"]) >= 1
        assert client.get("/api/me", headers=idle.bearer(OTHER)).status_code == 200


# --------------------------------------------------------------------------- 6. no tokens


def test_no_token_in_logs_or_pages(server, idle, graded):
    with login(server, OWNER) as student:
        for url in ("/", f"/submissions/{graded['sid']}", f"/submissions/{graded['other_sid']}"):
            fetch(student, url)
    with login(server, TA) as ta:
        for url in (
            "/",
            "/ta/assignments/hw1",
            "/ta/assignments/hw1/class",
            "/ta/students/s001",
            f"/submissions/{graded['other_sid']}",
        ):
            fetch(ta, url)
    tokens = [*server.tokens.values(), *idle.tokens.values()]
    assert len(PAGES_SEEN) >= 8
    for html in PAGES_SEEN:
        links = re.findall(r'(?:href|action)="([^"]*)"', html)
        assert links
        for token in tokens:
            assert token not in html
            assert not any(token in link for link in links)
        assert not any("token=" in link for link in links)

    logs = server.logs() + idle.logs()
    assert '"GET /api/me HTTP/1.1" 200' in logs  # the access log is there to look at
    assert '"POST /login HTTP/1.1" 303' in logs
    for token in tokens:
        assert token not in logs


# --------------------------------------------------------------------------- 7. OpenAPI


def test_openapi_schema(server, http):
    answer = http.get("/api/openapi.json")
    assert answer.status_code == 200
    schema = answer.json()
    for path in (
        "/api/submissions",
        "/api/submissions/{submission_id}/report",
        "/api/assignments/{assignment}/status",
    ):
        assert path in schema["paths"], path
    assert {"SubmissionOut", "Report"} <= set(schema["components"]["schemas"])
    assert not any(path.startswith("/ta/") or path == "/login" for path in schema["paths"])
