"""User subcommands: ``patrol users add|list|passwd|seed-demo``."""

from __future__ import annotations

import argparse
import getpass
import sys

from gis.access.session_token import SessionTokens
from gis.access.users import (
    ROLES,
    User,
    department_code,
    hash_password,
    open_user_repository,
    seed_demo_users,
    utcnow,
)
from gis.errors import ValidationError
from gis.settings import Settings


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise ValidationError("the two passwords differ", field="password", fix="type it again")
    return first


def _cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    user = User(
        username=args.username,
        role=args.role,
        display_name=args.name or "",
        zones=_split(args.zones),
        fronts=_split(args.fronts),
        person_id=args.person_id,
        department=department_code(args.department) if args.department else None,
        # patrol --subdistrict CODE users add … (or PATROL_SUBDISTRICT); * = district level
        subdistrict=settings.subdistrict,
    )
    repo = open_user_repository(settings)
    repo.add(user, hash_password(_read_password(args)))
    print(f"added {user.username} ({user.role}, {user.subdistrict}) to {repo.db.where}")
    return 0


def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    users = open_user_repository(settings).list_users()
    for u in users:
        scope = ",".join(u.zones + u.fronts) or u.person_id or u.department or "*"
        flag = "" if u.active else " (disabled)"
        print(
            f"{u.username:12s} {u.role:11s} {u.subdistrict:10s} {u.display_name:10s} {scope}{flag}"
        )
    print(f"{len(users)} user(s)")
    return 0


def _cmd_passwd(args: argparse.Namespace, settings: Settings) -> int:
    repo = open_user_repository(settings)
    repo.get(args.username)  # NotFoundError before asking for a password
    repo.set_password(args.username, hash_password(_read_password(args)))
    repo.clear_failures(args.username)
    ended = SessionTokens(repo.db).revoke_user(args.username, now=utcnow())
    print(f"password of {args.username} changed; {ended} open session(s) logged out")
    return 0


def _cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> int:
    from gis.services.subdistricts import settings_geography

    geo = settings_geography(settings)
    added = seed_demo_users(open_user_repository(settings), list(geo.zones["zone_id"]))
    print(f"demo users added: {', '.join(added) or 'none (all exist)'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``patrol users ...``."""
    p = sub.add_parser("users", help="manage the app's users (stored with the data)")
    usub = p.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="add a user (asks for the password)")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--name", help="display name, e.g. 张三")
    a.add_argument("--zones", help="comma-separated zone ids (area chiefs, patrol)")
    a.add_argument("--fronts", help="comma-separated front ids (area chiefs)")
    a.add_argument("--person-id", help="person id (patrol members)")
    a.add_argument("--department", help="member department (liaisons), e.g. 城管")
    a.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    a.set_defaults(func=_cmd_add)
    ls = usub.add_parser("list", help="list users and their scope")
    ls.set_defaults(func=_cmd_list)
    pw = usub.add_parser("passwd", help="set a user's password (and unlock the name)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw.set_defaults(func=_cmd_passwd)
    sd = usub.add_parser("seed-demo", help="add the demo accounts for the bundled data")
    sd.set_defaults(func=_cmd_seed_demo)
