"""Request dependencies: the container, the caller's language, the signed-in staff member."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from loket.bootstrap import Container
from loket.domain.errors import DomainError
from loket.domain.staff import Role, StaffMember
from loket.services import staff as staff_service
from loket.web.problems import language_of


class AuthError(DomainError):
    """Raised at the edge when a request lacks a valid sign-in or the role for it."""


def get_container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def get_language(request: Request) -> str:
    return language_of(request)


def client_address(request: Request) -> str:
    """The caller's address, as the server saw it (behind a proxy: run uvicorn with
    --proxy-headers and a trusted --forwarded-allow-ips so this is the citizen's)."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_staff(request: Request, container: ContainerDep) -> StaffMember:
    token = bearer_token(request)
    member = None if token is None else staff_service.staff_for_token(container.staff, token)
    if member is None:
        raise AuthError("auth.required")
    return member


ContainerDep = Annotated[Container, Depends(get_container)]
LanguageDep = Annotated[str, Depends(get_language)]
CurrentStaff = Annotated[StaffMember, Depends(current_staff)]


def require(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets through staff with any of `roles`, else a 403."""

    def check(member: CurrentStaff) -> StaffMember:
        if not member.has_role(*roles):
            raise AuthError("auth.forbidden")
        return member

    return Depends(check)


def officer_id(member: StaffMember) -> int:
    assert member.id is not None
    return member.id
