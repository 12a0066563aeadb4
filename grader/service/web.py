"""The pages: log in with a token, hand in through a form, watch a submission become its
feedback page; for TAs, the dashboard, per-assignment and per-student views, the live
class page, regrades and exports.

Sessions are the token in an HttpOnly, SameSite=Strict cookie; every form post carries a
CSRF field and is refused if its Origin is another site (grader/service/auth.py). Pages
are rendered with the feedback pages' Jinja2 environment (autoescaped) and sent with a
Content-Security-Policy that allows no script but the class page's own inline sorter, no
request to any other origin and no framing.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from grader.service.api import count_request, csv_response
from grader.service.auth import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    cross_site,
    csrf_ok,
    csrf_token,
)
from grader.service.core import Service
from grader.service.metrics import service_metrics
from grader.service.tokens import Principal, authenticate

router = APIRouter(include_in_schema=False)

SUBMISSION_REFRESH_SECONDS = 5
DASHBOARD_REFRESH_SECONDS = 15
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline';"
        " img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": under it a browser sends `Origin: null` with every form post,
    # which the cross-site check refuses (no one could log in). "same-origin" still sends
    # no Referer to any other site, and the real Origin to this one.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginRequired(Exception):
    """A page asked for without a valid session: the login page is shown instead."""


class CsrfRefused(Exception):
    """A form post without our CSRF field, or from another site."""


def service(request: Request) -> Service:
    return request.app.state.service


Svc = Annotated[Service, Depends(service)]


def session(request: Request, svc: Svc) -> tuple[Principal, str]:
    """The logged-in principal and their token, counted against its request budget."""
    token = request.cookies.get(SESSION_COOKIE)
    who = authenticate(svc.store, token)
    count_request(svc, request, token, who)
    if who is None or token is None:
        raise LoginRequired
    return who, token


Session = Annotated[tuple[Principal, str], Depends(session)]


def check_form(request: Request, svc: Service, token: str, csrf: str | None) -> None:
    if cross_site(request.headers.get("origin"), request.headers.get("host")):
        raise CsrfRefused
    if not csrf_ok(svc.secret, token, csrf):
        raise CsrfRefused


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    from grader.renderers.html import environment

    svc: Service = request.app.state.service
    who, token = context.pop("session", (None, None))
    context.setdefault("title", f"{svc.course.name}")
    html = (
        environment()
        .get_template(template)
        .render(
            course=svc.course.name,
            who=who,
            csrf=csrf_token(svc.secret, token) if token else "",
            **context,
        )
    )
    return html_response(html, status_code)


def html_response(html: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def message_page(request: Request, status_code: int, heading: str, message: str) -> HTMLResponse:
    who_token = None
    token = request.cookies.get(SESSION_COOKIE)
    who = authenticate(request.app.state.service.store, token)
    if who is not None:
        who_token = (who, token)
    return page(
        request,
        "service_message.html",
        status_code,
        session=who_token or (None, None),
        heading=heading,
        message=message,
    )


def login_page(request: Request, message: str | None = None, status_code: int = 200) -> Response:
    nonce = secrets.token_urlsafe(24)
    response = page(request, "service_login.html", status_code, login_csrf=nonce, message=message)
    set_cookie(request, response, LOGIN_COOKIE, nonce)
    return response


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- logging in


@router.get("/")
def home(request: Request, svc: Svc) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    who = authenticate(svc.store, token)
    if who is None or token is None:
        return login_page(request)
    count_request(svc, request, token, who)
    if who.is_ta:
        return dashboard(request, svc, (who, token))
    return student_home(request, svc, (who, token), who.name, heading="Your submissions")


@router.post("/login")
def login(
    request: Request,
    svc: Svc,
    token: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE)
    if (
        cross_site(request.headers.get("origin"), request.headers.get("host"))
        or not expected
        or not secrets.compare_digest(expected, csrf)
    ):
        raise CsrfRefused
    token = token.strip()
    who = authenticate(svc.store, token)
    count_request(svc, request, token if who else None, who)
    if who is None:
        return login_page(request, "That token is not valid: check it and try again.", 401)
    response = see_other("/")
    set_cookie(request, response, SESSION_COOKIE, token)
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, svc: Svc, who: Session, csrf: Annotated[str, Form()] = "") -> Response:
    check_form(request, svc, who[1], csrf)
    response = see_other("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- students


def student_home(
    request: Request, svc: Service, who: tuple[Principal, str], student: str, heading: str
) -> Response:
    principal = who[0]
    as_student = Principal("student", student)
    assignments = []
    for info in svc.assignments(as_student):
        rows = [
            svc.out(s)
            for s in reversed(svc.submissions(principal, student=student, assignment=info.name))
        ]
        assignments.append({"info": info, "rows": rows})
    return page(
        request, "service_student.html", session=who, heading=heading, assignments=assignments
    )


@router.post("/submit")
async def submit(
    request: Request,
    svc: Svc,
    who: Session,
    assignment: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, svc, who[1], csrf)
    data = await file.read(svc.course.limits.upload_bytes + 1)
    submission = await run_in_threadpool(svc.submit, who[0], assignment, file.filename or "", data)
    return see_other(f"/submissions/{submission.id}")


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, svc: Svc, who: Session, submission_id: str) -> Response:
    found = svc.submission(who[0], submission_id)
    html = svc.page_html(found)
    if html is not None:
        return html_response(html)
    return page(
        request,
        "service_submission.html",
        session=who,
        submission=found,
        refresh_seconds=SUBMISSION_REFRESH_SECONDS,
    )


# --------------------------------------------------------------------------- TAs


def dashboard(request: Request, svc: Service, who: tuple[Principal, str]) -> Response:
    assignments = [
        {
            "name": name,
            **svc.status(who[0], name).model_dump(include={"counts", "students_submitted"}),
        }
        for name in svc.course.assignments
    ]
    return page(
        request,
        "service_dashboard.html",
        session=who,
        heading="Dashboard",
        assignments=assignments,
        roster_size=len(svc.course.students),
        refresh_seconds=DASHBOARD_REFRESH_SECONDS,
        metrics=service_metrics(svc),
    )


@router.get("/ta/assignments/{assignment}")
def assignment_page(request: Request, svc: Svc, who: Session, assignment: str) -> Response:
    return page(
        request,
        "service_assignment.html",
        session=who,
        status=svc.status(who[0], assignment),
        refresh_seconds=DASHBOARD_REFRESH_SECONDS,
    )


@router.get("/ta/assignments/{assignment}/class")
def class_results(request: Request, svc: Svc, who: Session, assignment: str) -> Response:
    from grader.renderers.html import class_page

    counted = svc.counted_reports(who[0], assignment)
    html = class_page(
        [report for _, report in counted],
        title=f"{svc.course.name}: {assignment}",
        students=[s.student for s, _ in counted],
        pages={s.student: f"/submissions/{s.id}" for s, _ in counted},
        files=[
            ("gradebook CSV", f"/ta/assignments/{assignment}/gradebook.csv"),
            ("Gradescope CSV", f"/ta/assignments/{assignment}/gradescope.csv"),
        ],
    )
    return html_response(html)


@router.get("/ta/assignments/{assignment}/gradebook.csv")
def gradebook(svc: Svc, who: Session, assignment: str) -> Response:
    return csv_response(*svc.export_csv(who[0], assignment, "gradebook"))


@router.get("/ta/assignments/{assignment}/gradescope.csv")
def gradescope(svc: Svc, who: Session, assignment: str) -> Response:
    return csv_response(*svc.export_csv(who[0], assignment, "gradescope"))


@router.get("/ta/students/{student}")
def student_page(request: Request, svc: Svc, who: Session, student: str) -> Response:
    svc.require_ta(who[0])
    svc.submissions(who[0], student=student)  # NotFound for a student not on the roster
    return student_home(request, svc, who, student, heading=f"Submissions of {student}")


@router.post("/ta/submissions/{submission_id}/regrade")
def regrade_one(
    request: Request,
    svc: Svc,
    who: Session,
    submission_id: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, svc, who[1], csrf)
    found = svc.submission(who[0], submission_id)
    svc.regrade(who[0], submission_id=submission_id)
    return see_other(f"/ta/students/{found.student}")


@router.post("/ta/assignments/{assignment}/regrade")
def regrade_all(
    request: Request,
    svc: Svc,
    who: Session,
    assignment: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_form(request, svc, who[1], csrf)
    svc.regrade(who[0], assignment=assignment)
    return see_other(f"/ta/assignments/{assignment}")
