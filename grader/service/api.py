"""The JSON API under /api: everything the pages do, for scripts, `grader submit` and
`grader.submit` in a notebook. Tokens come only as `Authorization: Bearer <token>`.

Status codes: 202 a submission accepted (queued); 400 a file name with a path; 401 no or a
wrong token; 403 a token that may not do this (a student on a TA's endpoint, a TA handing
in, past a refusing deadline, not on the roster); 404 an unknown assignment, or a
submission that does not exist or is someone else's; 409 the report of a submission not
graded yet, or no submissions left; 413 too large; 415 not a .py or .ipynb; 422 a corrupt
notebook or a malformed request; 429 too many requests (Retry-After says when to retry).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import PlainTextResponse, Response

from grader import __version__
from grader.report import Report
from grader.service.core import Service
from grader.service.models import (
    AssignmentOut,
    AssignmentStatus,
    Health,
    Me,
    Problem,
    Regraded,
    SubmissionOut,
)
from grader.service.tokens import Principal, authenticate

router = APIRouter(prefix="/api")

ERRORS = {
    401: {"model": Problem, "description": "No token, or a wrong one."},
    403: {"model": Problem, "description": "This token may not do this."},
    404: {"model": Problem, "description": "Not found (or someone else's)."},
    429: {"model": Problem, "description": "Too many requests from this token."},
}


def service(request: Request) -> Service:
    return request.app.state.service


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def count_request(svc: Service, request: Request, token: str | None, who: Principal | None):
    """429 once the token (or, without a valid one, the client) is over its budget."""
    over = svc.over_budget(token, who, request.client.host if request.client else None)
    if over is not None:
        raise HTTPException(429, over.message, headers={"Retry-After": str(over.retry_after)})


def principal(request: Request, svc: Annotated[Service, Depends(service)]) -> Principal:
    token = bearer_token(request)
    who = authenticate(svc.store, token)
    count_request(svc, request, token, who)
    if token is None:
        raise unauthorized("send your token as 'Authorization: Bearer <token>'")
    if who is None:
        raise unauthorized("this token is not valid (mistyped, or replaced by a newer one)")
    return who


Svc = Annotated[Service, Depends(service)]
Who = Annotated[Principal, Depends(principal)]


@router.get("/health", response_model=Health)
def health(svc: Svc) -> Health:
    counts = svc.store.status_counts()
    return Health(
        version=__version__,
        course=svc.course.name,
        workers_alive=svc.pool.alive if svc.pool is not None else None,
        queued=counts["queued"],
        grading=counts["grading"],
    )


@router.get("/me", response_model=Me, responses=ERRORS)
def me(svc: Svc, who: Who) -> Me:
    return svc.me(who)


@router.get("/assignments", response_model=list[AssignmentOut], responses=ERRORS)
def assignments(svc: Svc, who: Who) -> list[AssignmentOut]:
    return svc.assignments(who)


@router.post(
    "/submissions",
    status_code=202,
    response_model=SubmissionOut,
    responses={
        **ERRORS,
        400: {"model": Problem},
        409: {"model": Problem},
        413: {"model": Problem},
        415: {"model": Problem},
        422: {"model": Problem},
    },
)
async def submit(
    svc: Svc,
    who: Who,
    assignment: Annotated[str, Form(description="The assignment, e.g. hw1.")],
    file: Annotated[UploadFile, File(description="A .py file or an .ipynb notebook.")],
) -> SubmissionOut:
    """Hand in a file. It is on disk and queued when the 202 is sent."""
    from starlette.concurrency import run_in_threadpool

    data = await file.read(svc.course.limits.upload_bytes + 1)
    submission = await run_in_threadpool(svc.submit, who, assignment, file.filename or "", data)
    return svc.out(submission)


@router.get("/submissions", response_model=list[SubmissionOut], responses=ERRORS)
def submissions(
    svc: Svc,
    who: Who,
    assignment: Annotated[str | None, Query()] = None,
    student: Annotated[str | None, Query(description="TAs only: whose submissions.")] = None,
) -> list[SubmissionOut]:
    """Submissions, oldest first: a student's own, or (TA) everyone's."""
    return [svc.out(s) for s in svc.submissions(who, student=student, assignment=assignment)]


@router.get("/submissions/{submission_id}", response_model=SubmissionOut, responses=ERRORS)
def submission(svc: Svc, who: Who, submission_id: str) -> SubmissionOut:
    return svc.out(svc.submission(who, submission_id))


@router.get(
    "/submissions/{submission_id}/report",
    responses={**ERRORS, 200: {"model": Report}, 409: {"model": Problem}},
)
def report(svc: Svc, who: Who, submission_id: str) -> Response:
    """The grader's report of the submission (its current grading)."""
    found = svc.submission(who, submission_id)
    report_json = svc.report_json(found)
    if report_json is None:
        raise HTTPException(409, f"the submission is {found.status}, not graded")
    return Response(report_json, media_type="application/json")


@router.get("/submissions/{submission_id}/file", responses=ERRORS)
def submitted_file(svc: Svc, who: Who, submission_id: str) -> Response:
    """The file as it was handed in."""
    found = svc.submission(who, submission_id)
    return Response(
        svc.store.path_of(found).read_bytes(),
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{found.safe_name}"'},
    )


@router.post(
    "/submissions/{submission_id}/regrade",
    status_code=202,
    response_model=Regraded,
    responses=ERRORS,
)
def regrade_one(svc: Svc, who: Who, submission_id: str) -> Regraded:
    """Grade a submission again (TAs). One still queued or grading is left alone."""
    return Regraded(queued=svc.regrade(who, submission_id=submission_id))


@router.post(
    "/assignments/{assignment}/regrade", status_code=202, response_model=Regraded, responses=ERRORS
)
def regrade_all(svc: Svc, who: Who, assignment: str) -> Regraded:
    """Grade every graded or failed submission of the assignment again (TAs)."""
    return Regraded(queued=svc.regrade(who, assignment=assignment))


@router.get("/assignments/{assignment}/status", response_model=AssignmentStatus, responses=ERRORS)
def status(svc: Svc, who: Who, assignment: str) -> AssignmentStatus:
    """Where every student of the roster stands (TAs)."""
    return svc.status(who, assignment)


@router.get(
    "/assignments/{assignment}/gradebook.csv",
    response_class=PlainTextResponse,
    responses=ERRORS,
)
def gradebook(svc: Svc, who: Who, assignment: str) -> Response:
    """Each student's counted score, total and per exercise (TAs)."""
    return csv_response(*svc.export_csv(who, assignment, "gradebook"))


@router.get(
    "/assignments/{assignment}/gradescope.csv",
    response_class=PlainTextResponse,
    responses=ERRORS,
)
def gradescope(svc: Svc, who: Who, assignment: str) -> Response:
    """Name, SID, Email, Total Score, for Gradescope's score upload (TAs)."""
    return csv_response(*svc.export_csv(who, assignment, "gradescope"))


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
