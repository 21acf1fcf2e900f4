"""Seeding the demo: the desks of the seeds and a back office of staff with printed logins."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from loket.demo import load_demo_locations
from loket.domain.catalogue import CATALOGUE
from loket.domain.staff import Role
from loket.services.queue import QueueContext
from loket.services.staff import StaffContext, add_staff

ALL_SERVICES = frozenset(service.code for service in CATALOGUE)


@dataclass(frozen=True)
class DemoStaff:
    username: str
    display_name: str
    roles: frozenset[Role]
    languages: frozenset[str]


# One back office of four officers and a supervisor serves every desk (CARMA's model),
# plus a host on site, an interpreter and the police IT administrator.
DEMO_STAFF = (
    DemoStaff("an.peeters", "An Peeters", frozenset({Role.OFFICER}), frozenset({"nl", "en"})),
    DemoStaff("jan.claes", "Jan Claes", frozenset({Role.OFFICER}), frozenset({"nl", "fr"})),
    DemoStaff("sofie.maes", "Sofie Maes", frozenset({Role.OFFICER}), frozenset({"nl", "de", "en"})),
    DemoStaff(
        "youssef.amrani", "Youssef Amrani", frozenset({Role.OFFICER}), frozenset({"nl", "fr", "en"})
    ),
    DemoStaff(
        "els.wouters",
        "Els Wouters",
        frozenset({Role.SUPERVISOR}),
        frozenset({"nl", "fr", "de", "en"}),
    ),
    DemoStaff("tom.host", "Tom Vermeulen", frozenset({Role.HOST}), frozenset({"nl"})),
    DemoStaff(
        "lina.tolk", "Lina Haddad", frozenset({Role.INTERPRETER}), frozenset({"nl", "ar", "fr"})
    ),
    DemoStaff("admin", "Beheer ICT", frozenset({Role.ADMINISTRATOR}), frozenset({"nl", "en"})),
)

LOGINS_FILE = "demo-logins.json"


def seed_demo(queue: QueueContext, staff: StaffContext, data_dir: Path) -> bool:
    """Store the demo desks and staff once; returns False when they were already there.

    Passwords and TOTP secrets are made fresh per installation and kept only in the data
    folder (mode 0600), never in the repository.
    """
    with queue.uow() as uow:
        if uow.locations.list():
            return False
        for location in load_demo_locations():
            uow.locations.add(location)
        uow.commit()
    logins = []
    for person in DEMO_STAFF:
        password = secrets.token_urlsafe(12)
        created = add_staff(
            staff,
            username=person.username,
            display_name=person.display_name,
            roles=person.roles,
            languages=person.languages,
            services=ALL_SERVICES,
            password=password,
        )
        logins.append(
            {
                "username": person.username,
                "roles": sorted(role.value for role in person.roles),
                "password": password,
                "totp_secret": created.totp_secret,
            }
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOGINS_FILE
    path.write_text(json.dumps({"logins": logins}, indent=2), encoding="utf-8")
    os.chmod(path, 0o600)
    return True


def demo_logins(data_dir: Path) -> list[dict[str, str]]:
    path = data_dir / LOGINS_FILE
    if not path.is_file():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["logins"]  # type: ignore[no-any-return]
