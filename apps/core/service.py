"""Every write knows its actor (docs/architecture.md, "Who did it").

``@service`` wraps each function of an app's ``services.py``:

    @service
    def card_suspend(*, acting_user: User | SystemActor, card: Card, on: date) -> Card:
        ...

- it runs the function in one transaction (``transaction.atomic``), so the service itself
  never says so;
- it sets the history context, ``pghistory.context(user=…, reason=…)``: every history row the
  database triggers write in that transaction names the member of staff (``user``, the pk as
  the request middleware writes it) or the job (``system``), and ``reason`` is the outermost
  service that ran. Each service also adds its own name as a key (``{"card_suspend": True}``),
  so a row written by nested services lists them all (the application history uses that);
- it refuses a call without ``acting_user``: a write nobody did is a defect. Only a job's
  service may declare a default, its own :class:`SystemActor`
  (``acting_user: SystemActor = NOTICE_JOB``).

Celery tasks and management commands are not members of staff: they pass a
:class:`SystemActor` with the job's name (``SystemActor("notices.run_daily")``).

A request runs inside the history middleware's context, which every service of that request
joins; outside a request (tasks, commands, tests) the outermost service opens one.

This module imports no app of the project (apps/core is the ground floor).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, overload

import pghistory
from django.db import transaction

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SystemActor:
    """A job acting on its own: a Celery task, a management command, the demo loader, a device.

    ``name`` is what the history shows: the task name (``notices.run_daily``), the command
    (``manage.py seed_demo``) or ``device:<id>``.
    """

    name: str

    @property
    def pk(self) -> None:
        return None

    def __str__(self) -> str:
        return self.name


# The outermost service of the current call chain: it names the reason of the whole context.
_outermost: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "madoguchi_service", default=None
)


def actor_metadata(actor: object) -> dict[str, Any]:
    """What the history context says about who acted."""
    if isinstance(actor, SystemActor):
        return {"system": actor.name}
    pk = getattr(actor, "pk", None)
    if pk is None or not getattr(actor, "is_authenticated", False):
        raise TypeError(f"acting_user must be a member of staff or a SystemActor, not {actor!r}")
    return {"user": str(pk)}


@overload
def service(func: Callable[P, T], /) -> Callable[P, T]: ...


@overload
def service(*, atomic: bool = True) -> Callable[[Callable[P, T]], Callable[P, T]]: ...


def service(
    func: Callable[P, T] | None = None, /, *, atomic: bool = True
) -> Callable[P, T] | Callable[[Callable[P, T]], Callable[P, T]]:
    """Run a function as a service: one transaction, and the history context names its actor.

    ``@service(atomic=False)`` is for the few jobs that commit as they go on purpose (the
    notice run keeps its trail row when the run fails; a batch render commits its progress):
    they get the history context and open their own transactions.
    """
    if func is None:
        return lambda f: _wrap(f, atomic=atomic)
    return _wrap(func, atomic=atomic)


def _wrap(func: Callable[P, T], *, atomic: bool) -> Callable[P, T]:
    name = func.__name__
    parameter = inspect.signature(func).parameters.get("acting_user")
    if parameter is None or parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
        raise TypeError(f"service {name} must take a keyword-only acting_user")
    default = parameter.default
    if default is not inspect.Parameter.empty and not isinstance(default, SystemActor):
        raise TypeError(f"service {name}: only a SystemActor may be acting_user's default")

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        actor = kwargs.get("acting_user", default)
        if actor is inspect.Parameter.empty:
            raise TypeError(f"{name}() needs acting_user (a member of staff or a SystemActor)")
        metadata = {name: True, **actor_metadata(actor)}
        if _outermost.get() is None:
            metadata["reason"] = name
        token = _outermost.set(_outermost.get() or name)
        try:
            with pghistory.context(**metadata):
                if not atomic:
                    return func(*args, **kwargs)
                with transaction.atomic():
                    return func(*args, **kwargs)
        finally:
            _outermost.reset(token)

    return wrapper
