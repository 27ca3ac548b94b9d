"""What the route table (`ui.routes`) says about each screen, for the two readers that sit
below the pages in the import graph: the page-load guard and the navigation.

The table imports every page and every page imports its state, so no state can import the
table. The table hands its rows down here once, when it is built (`install`). Until then, and
for any load handler the table does not name, the guard refuses: a screen missing from the
table cannot be opened."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from vrm_dashboard.domain.permissions import Action


@dataclass(frozen=True)
class Screen:
    """A screen in the navigation."""

    label: str
    route: str
    action: Action


@dataclass
class _Installed:
    screens: tuple[Screen, ...] = ()
    # load handler function -> the permission of the route it loads
    required: dict[Callable[..., object], Action] | None = None


_TABLE = _Installed()


def install(screens: Iterable[Screen], required: dict[Callable[..., object], Action]) -> None:
    """Called once by ui.routes with its navigation rows and each load handler's permission."""
    _TABLE.screens = tuple(screens)
    _TABLE.required = dict(required)


def required_for(load: Callable[..., object]) -> Action | None:
    """The permission a page-load handler checks, or None when no route names it."""
    return (_TABLE.required or {}).get(load)


def screens_for(actions: frozenset[str]) -> list[Screen]:
    return [s for s in _TABLE.screens if s.action.value in actions]


def home_route(actions: frozenset[str]) -> str:
    allowed = screens_for(actions)
    return allowed[0].route if allowed else "/login"
