"""The annotation team on one Label Studio: who annotates, who reviews.

Label Studio Community has no roles: every member of the organisation holds every
permission (changing the config, deleting tasks, starring a ground truth). sitrep keeps
the team's roster in the dataset (`datasets/label-studio/team.json`: e-mail, role,
Label Studio user id, when added and removed; never a password) and checks roles itself
where it matters: agreement and adjudication leave reviewers' annotations out, and pull
reports annotations of accounts that are not on the team.

1. `add` puts a person on the roster and gets them an account through Label Studio's own
   sign-up page. By default they receive the organisation's invite link and choose their
   own password. With a hand-over file, sitrep signs the account up itself with a
   generated one-time password, written only into that new 0600 file for handing over.
2. `members` matches the roster with the server's accounts: invited (no account yet),
   active, removed, or an account nobody added (the invite link went further than meant).
3. `remove` deactivates: the organisation membership is soft-deleted (the account keeps
   its annotations but no longer sees the projects), the invite link is renewed so the
   old one stops working, and the roster keeps the person, so their work stays attributed
   (Label Studio shows a removed member as "Deleted User").
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sitrep import paths
from sitrep.annotate.labelstudio.client import Client
from sitrep.errors import ConfigError, SitrepError
from sitrep.fileio import write_atomic

ROSTER = "team.json"
EMAIL = re.compile(r"^[^@\s/:]+@[^@\s/:]+$")
HIDDEN_EMAIL = "Deleted"  # what Label Studio shows for a removed member's e-mail


class Role(StrEnum):
    annotator = "annotator"  # annotates tasks; counted in agreement
    reviewer = "reviewer"  # adjudicates and stars ground truths; left out of agreement


class Status(StrEnum):
    invited = "invited"  # on the roster, no account yet
    active = "active"
    removed = "removed"
    not_on_team = "not on the team"  # an account on the server nobody added


class TeamError(SitrepError):
    """A team change that cannot be made (unknown or duplicate member, bad e-mail...)."""


@dataclass
class Member:
    email: str
    role: Role
    added: str
    user_id: int | None = None
    removed: str | None = None


@dataclass
class Roster:
    path: Path
    members: list[Member] = field(default_factory=list)

    def find(self, email: str) -> Member | None:
        wanted = email.lower()
        return next((m for m in self.members if m.email.lower() == wanted), None)

    def by_user_id(self) -> dict[int, Member]:
        return {m.user_id: m for m in self.members if m.user_id is not None}

    def emails(self, role: Role) -> set[str]:
        return {m.email for m in self.members if m.role is role}

    def save(self) -> None:
        body = {"members": [asdict(m) for m in self.members]}
        write_atomic(self.path, json.dumps(body, indent=2, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class Added:
    member: Member
    invite_url: str | None  # for the person to sign up with, when sitrep did not
    handover: Path | None  # the 0600 file with the one-time password, when it did


@dataclass(frozen=True)
class Row:
    email: str
    role: str
    status: Status
    user_id: int | None
    annotations: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": str(self.status)}


def roster_file(root: Path | None = None) -> Path:
    return (root or paths.project_root()) / "datasets" / "label-studio" / ROSTER


def load_roster(path: Path) -> Roster:
    """The roster in `path` (an empty one when the file does not exist yet)."""
    if not path.is_file():
        return Roster(path)
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        members = [Member(**{**m, "role": Role(m["role"])}) for m in body["members"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: not a team roster ({exc}); fix or remove it") from None
    return Roster(path, members)


def reviewers(path: Path | None = None) -> set[str]:
    """The e-mails of the team's reviewers (none without a roster): their annotations are
    adjudications, not votes, so agreement and adjudication leave them out."""
    return load_roster(path or roster_file()).emails(Role.reviewer)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_email(email: str) -> None:
    if not EMAIL.match(email):
        raise TeamError(f"{email!r} is not an e-mail address (expected name@domain)")


def server_users(client: Client) -> list[dict[str, Any]]:
    users = client.get("/api/users")
    return users if isinstance(users, list) else []


def add(
    client: Client, roster: Roster, email: str, role: Role, handover: Path | None = None
) -> Added:
    """Put `email` on the team with `role` and give them a way in (see the module doc)."""
    _check_email(email)
    if handover is not None and handover.exists():
        raise TeamError(f"{handover} exists: a hand-over file is never overwritten; name a new one")
    known = roster.find(email)
    if known is not None:
        state = "was removed" if known.removed else f"is already on the team as {known.role}"
        raise TeamError(
            f"{email} {state}; Label Studio Community cannot restore a removed member: "
            "add them under another e-mail address"
            if known.removed
            else f"{email} {state}: nothing to do"
        )
    member = Member(email=email, role=role, added=_now())
    existing = _user_by_email(client, email)
    invite = None
    if existing is not None:
        member.user_id = int(existing["id"])
    elif handover is not None:
        member.user_id = _sign_up_for(client, email, handover)
    else:
        invite = invite_url(client)
    roster.members.append(member)
    roster.save()
    return Added(member, invite, handover if existing is None else None)


def invite_url(client: Client) -> str:
    body = client.get("/api/invite")
    return f"{client.url}{body['invite_url']}"


def _user_by_email(client: Client, email: str) -> dict[str, Any] | None:
    wanted = email.lower()
    return next(
        (u for u in server_users(client) if str(u.get("email", "")).lower() == wanted), None
    )


def _sign_up_for(client: Client, email: str, handover: Path) -> int:
    """Sign `email` up through the sign-up page with a one-time password written only to
    `handover` (a new file, mode 0600); returns the new account's user id."""
    password = secrets.token_urlsafe(18)
    login = f"{client.url}/user/login/"
    text = (
        f"Label Studio: {login}\nlog in as: {email}\none-time password: {password}\n"
        "Change it after the first login (Account & Settings), then delete this file.\n"
    )
    fd = os.open(handover, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        sign_up(client.url, invite_url(client), email, password)
    except BaseException:
        handover.unlink(missing_ok=True)
        raise
    user = _user_by_email(client, email)
    if user is None:
        handover.unlink(missing_ok=True)
        raise TeamError(f"Label Studio accepted the sign-up of {email} but lists no such account")
    return int(user["id"])


def sign_up(base_url: str, invite: str, email: str, password: str) -> None:
    """What a person does with the invite link: open the sign-up page, fill in e-mail and
    password, submit. Label Studio's form needs its CSRF token and cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(jar)
    )
    with opener.open(invite, timeout=30) as page:
        html = page.read().decode("utf-8", errors="replace")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if token is None:
        raise TeamError(f"{base_url}: the sign-up page has no form (is sign-up disabled?)")
    form = {"csrfmiddlewaretoken": token.group(1), "email": email, "password": password}
    request = urllib.request.Request(
        invite, data=urllib.parse.urlencode(form).encode(), headers={"Referer": invite}
    )
    try:
        with opener.open(request, timeout=60) as answer:
            landed = answer.url
            body = answer.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        raise TeamError(
            f"{base_url}: the sign-up of {email} was refused (HTTP {exc.code})"
        ) from None
    if "/user/signup" in landed:
        errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', body)
        why = "; ".join(e.strip() for e in errors if e.strip()) or "the form came back"
        raise TeamError(f"{base_url}: the sign-up of {email} failed: {why}")


def members(client: Client, roster: Roster) -> list[Row]:
    """Every roster member with their state on the server, then the accounts nobody added
    (the server's own admin aside)."""
    users = server_users(client)
    by_id = {int(u["id"]): u for u in users}
    by_email = {str(u.get("email", "")).lower(): u for u in users}
    admin = client.whoami().get("id")
    rows = []
    for m in roster.members:
        user = by_id.get(m.user_id) if m.user_id is not None else by_email.get(m.email.lower())
        if m.user_id is None and user is not None:
            m.user_id = int(user["id"])  # signed up through the invite link since
        status = Status.removed if m.removed else (Status.active if user else Status.invited)
        rows.append(Row(m.email, str(m.role), status, m.user_id))
    known = {m.user_id for m in roster.members} | {admin}
    for user in users:
        if int(user["id"]) not in known and user.get("email") != HIDDEN_EMAIL:
            rows.append(Row(str(user.get("email")), "", Status.not_on_team, int(user["id"])))
    if any(r.user_id is not None for r in rows):
        roster.save()  # remember the user ids learnt
    return rows


def remove(client: Client, roster: Roster, email: str) -> Member:
    """Deactivate `email` (see the module doc); their annotations stay."""
    member = roster.find(email)
    if member is None or member.removed:
        raise TeamError(
            f"{email} is not an active member of the team (see `sitrep annotate team list`)"
        )
    if member.user_id is None:
        user = _user_by_email(client, email)
        member.user_id = int(user["id"]) if user else None
    if member.user_id is not None:
        org = client.whoami()["active_organization"]
        client.call("DELETE", f"/api/organizations/{org}/memberships/{member.user_id}/")
    client.post("/api/invite/reset-token", {})
    member.removed = _now()
    roster.save()
    return member
