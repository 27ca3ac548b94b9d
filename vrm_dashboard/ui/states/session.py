"""The signed-in person. Every other page state inherits from it.

The browser holds only an opaque session token; who the user is and what they may do is
looked up on the server for every event, so a revoked permission bites at once and a
crafted event from the client gets no further than the service guard.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import reflex as rx
from sqlmodel import Session

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.domain.invoice_status import IllegalTransition
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, NotAuthenticated, ServiceError
from vrm_dashboard.ui.screen_access import home_route, required_for, screens_for


class SessionState(rx.State):
    token: str = rx.Cookie("", name="vrm_session", same_site="strict")
    user_name: str = ""
    user_email: str = ""
    role_names: str = ""
    nav_labels: list[str] = []
    nav_routes: list[str] = []
    denied: str = ""

    def _actor(self, session: Session) -> Actor | None:
        return auth.actor_for_token(session, self.token)

    @contextmanager
    def _acting(self, action: Action | None = None, read_only: bool = False) -> Iterator[tuple[Session, Actor]]:
        """A unit of work as the signed-in actor; raises NotAuthenticated / PermissionDenied."""
        with session_scope(read_only=read_only) as session:
            actor = self._actor(session)
            if actor is None:
                raise NotAuthenticated("Your session has ended; please sign in again")
            if action is not None:
                require(actor, action)
            yield session, actor

    def _outcome_of(self, work, action: Action | None = None, read_only: bool = False) -> tuple[Any, str]:  # type: ignore[no-untyped-def]
        """Run `work(session, actor)` in one unit of work: (its result, "") or (None, why it
        was refused)."""
        try:
            with self._acting(action, read_only=read_only) as (session, actor):
                return work(session, actor), ""
        except FieldErrors as exc:
            return None, "; ".join(exc.errors.values())
        except (ServiceError, IllegalTransition) as exc:
            return None, str(exc)

    def _attempt(self, work, action: Action | None = None) -> str:  # type: ignore[no-untyped-def]
        """Run `work(session, actor)` in one unit of work: its message, or why it was refused."""
        result, refused = self._outcome_of(work, action)
        return refused or result

    def _show_identity(self, actor: Actor) -> None:
        self.user_name = actor.full_name
        self.user_email = actor.email
        self.role_names = ", ".join(sorted(r.replace("_", " ") for r in actor.roles))
        screens = screens_for(actor.actions)
        self.nav_labels = [s.label for s in screens]
        self.nav_routes = [s.route for s in screens]

    def _enter_page(self, action: Action | None) -> Actor | None:
        """Page entry check: identity for the shell, and whether this screen is allowed."""
        with session_scope(read_only=True) as session:
            actor = self._actor(session)
        if actor is None:
            return None
        self._show_identity(actor)
        if action is None:
            self.denied = "This screen is not in the route table."
        else:
            self.denied = "" if actor.can(action) else "Your role does not give you access to this screen."
        return actor if not self.denied else None

    @rx.event
    def go_home(self):  # type: ignore[no-untyped-def]
        with session_scope(read_only=True) as session:
            actor = self._actor(session)
        if actor is None:
            return rx.redirect("/login")
        return rx.redirect(home_route(actor.actions))

    @rx.event
    def sign_out(self):  # type: ignore[no-untyped-def]
        with session_scope() as session:
            auth.sign_out(session, self.token)
        self.token = ""
        self.user_name = self.user_email = self.role_names = ""
        self.nav_labels, self.nav_routes = [], []
        return rx.redirect("/login")


PageState = TypeVar("PageState", bound=SessionState)


def page_load(
    load: Callable[[PageState, Actor], Any],
) -> Callable[[PageState], Any]:
    """The guard of every screen's on-load handler: the permission is the one `ui.routes` gives
    the route this handler loads. Signed out: to the sign-in page. Not allowed: the page shows
    why and loads nothing. Allowed: `load(self, actor)` runs."""

    def guarded(self: PageState) -> Any:
        actor = self._enter_page(required_for(guarded))
        if actor is None:
            return None if self.denied else rx.redirect("/login")
        return load(self, actor)

    # Reflex reads the handler's name and arguments: the state's own, with no actor.
    guarded.__name__, guarded.__qualname__, guarded.__doc__ = load.__name__, load.__qualname__, load.__doc__
    guarded.__module__ = load.__module__
    return guarded
