"""``make seed``: a fictional city centre to try the product with.

Runs only on an empty database. Every account shares one demo password, printed
once here and listed in the README; it is for demonstrations only.
"""

from __future__ import annotations

import logging
import sys

from sqlmodel import Session, select

from chainels_app import db
from chainels_app.models import (
    Community,
    Company,
    Group,
    GroupKind,
    PostKind,
    Role,
    User,
)
from chainels_app.services import posts
from chainels_app.services.access import actor_in
from chainels_app.services.auth import hash_password
from chainels_app.services.directory import create_community, join_community

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo-binnenstad-2026"
DEMO_DOMAIN = "demo.example"

STREETS = ("Hoofdstraat", "Marktstraat", "Kerkstraat")
SAFETY_GROUP = "Veiligheid"

# (company, street, address, people: (local part, name, role))
COMPANIES = (
    (
        "Ondernemersvereniging Binnenstad",
        "Marktstraat",
        "Marktstraat 1",
        (("beheer", "Anja de Vries", Role.ADMIN),),
    ),
    (
        "Politie Basisteam Centrum",
        None,
        "Stationsplein 2",
        (("wijkagent", "Peter Bakker", Role.POLICE),),
    ),
    (
        "Stadswacht Beveiliging",
        None,
        "Kerkstraat 30",
        (("beveiliging", "Sandra Visser", Role.SECURITY),),
    ),
    (
        "Bakkerij De Korenschoof",
        "Hoofdstraat",
        "Hoofdstraat 12",
        (("bakkerij", "Henk Jansen", Role.ENTREPRENEUR),),
    ),
    (
        "Juwelier Goudsmid",
        "Hoofdstraat",
        "Hoofdstraat 27",
        (("juwelier", "Fatima El Amrani", Role.ENTREPRENEUR),),
    ),
    (
        "Drogisterij Het Kruidvat",
        "Hoofdstraat",
        "Hoofdstraat 40",
        (("drogisterij", "Kees Smit", Role.ENTREPRENEUR),),
    ),
    (
        "Boekhandel Het Leesteken",
        "Marktstraat",
        "Marktstraat 8",
        (("boekhandel", "Marieke de Boer", Role.ENTREPRENEUR),),
    ),
    (
        "Modehuis Van Dijk",
        "Marktstraat",
        "Marktstraat 15",
        (("modehuis", "Jeroen van Dijk", Role.ENTREPRENEUR),),
    ),
    (
        "Café De Gouden Leeuw",
        "Marktstraat",
        "Marktstraat 22",
        (("cafe", "Ingrid Mulder", Role.ENTREPRENEUR),),
    ),
    (
        "Fietsenwinkel Trapvast",
        "Kerkstraat",
        "Kerkstraat 5",
        (("fietsen", "Ahmet Yilmaz", Role.ENTREPRENEUR),),
    ),
    (
        "Slagerij Vers",
        "Kerkstraat",
        "Kerkstraat 11",
        (("slagerij", "Bram de Graaf", Role.ENTREPRENEUR),),
    ),
    (
        "Opticien Helder Zicht",
        "Kerkstraat",
        "Kerkstraat 19",
        (("opticien", "Yvonne Koster", Role.ENTREPRENEUR),),
    ),
)

_SAFETY_ROLES = (Role.ADMIN, Role.POLICE, Role.SECURITY)

# (author's local part, title, text, group or None for everyone), oldest first
POSTS = (
    (
        "beheer",
        "Welkom op het platform van de binnenstad",
        "Hier delen ondernemers, politie en beveiliging wat de binnenstad "
        "aangaat. Elk bericht komt ook per e-mail binnen; hoe vaak kiest u "
        "zelf bij **Instellingen**.",
        None,
    ),
    (
        "wijkagent",
        "Let op: wisselgeldtruc in de winkels",
        "Twee mannen betalen met een briefje van 50 euro en vragen tijdens het "
        "teruggeven om ander wisselgeld. Tel rustig na en roep een collega "
        "erbij. Ziet u het gebeuren, bel dan **112**.",
        None,
    ),
    (
        "beveiliging",
        "Extra surveillance tijdens de koopavond",
        "Donderdag lopen er van 18.00 tot 21.00 uur twee extra surveillanten "
        "door de Hoofdstraat en de Marktstraat.",
        SAFETY_GROUP,
    ),
)


def _add_member(
    session: Session,
    community: Community,
    company: Company,
    groups: list[Group],
    person: tuple[str, str, Role],
    password_hash: str,
) -> User:
    local, name, role = person
    user = User(
        email=f"{local}@{DEMO_DOMAIN}",
        name=name,
        password_hash=password_hash,
        current_community_id=community.id,
    )
    session.add(user)
    session.flush()
    join_community(
        session,
        user=user,
        community_id=community.id,
        company_id=company.id,
        role=role,
        group_ids=[g.id for g in groups],
    )
    return user


def seed_demo_area(session: Session) -> list[User]:
    """Create the demo city centre; returns its people."""
    community = create_community(
        session, name="Binnenstad Voorbeeldstad", city="Voorbeeldstad"
    )
    groups = {
        name: Group(community_id=community.id, name=name, kind=GroupKind.STREET)
        for name in STREETS
    }
    groups[SAFETY_GROUP] = Group(
        community_id=community.id, name=SAFETY_GROUP, kind=GroupKind.WORKING_GROUP
    )
    session.add_all(groups.values())
    session.flush()

    password_hash = hash_password(DEMO_PASSWORD)
    people = []
    for company_name, street, address, persons in COMPANIES:
        company = Company(
            community_id=community.id,
            name=company_name,
            street_address=address,
            postal_code="1234 AB",
            city="Voorbeeldstad",
        )
        session.add(company)
        session.flush()
        for person in persons:
            member_groups = [groups[street]] if street else []
            if person[2] in _SAFETY_ROLES:
                member_groups.append(groups[SAFETY_GROUP])
            people.append(
                _add_member(
                    session, community, company, member_groups, person, password_hash
                )
            )
    _add_posts(session, community, groups, people)
    return people


def _add_posts(
    session: Session,
    community: Community,
    groups: dict[str, Group],
    people: list[User],
) -> None:
    by_local = {user.email.split("@")[0]: user for user in people}
    for local, title, body, group in POSTS:
        author = actor_in(session, user=by_local[local], community_id=community.id)
        posts.create_post(
            session,
            actor=author,
            kind=PostKind.ANNOUNCEMENT,
            title=title,
            body=body,
            group_ids=[groups[group].id] if group else [],
        )


def main() -> int:
    """Seed an empty database and print the demo accounts once."""
    with db.session_scope() as session:
        if session.exec(select(Community.id)).first() is not None:
            print("The database already has a community; nothing seeded.")  # noqa: T201
            return 0
        people = seed_demo_area(session)
    print("Demo area 'Binnenstad Voorbeeldstad' created. Demo accounts:")  # noqa: T201
    for user in people:
        print(f"  {user.email}")  # noqa: T201
    print(f"Password for every demo account (demo only): {DEMO_PASSWORD}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
