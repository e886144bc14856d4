"""Who may do what: the one place that knows the roles (docs/architecture.md, "Who may do what").

Everything that asks "may this member of staff …?" asks this module:

- **Predicates** (``works_with_residents``, ``is_supervisor``, ``may_void_payments``,
  ``may_approve_waiver`` …): ``rule(user)`` or ``rule(user, obj)`` → ``bool``. Services call
  them to refuse (``PermissionDenied``), views and templates to gate and to hide.
- **Scoping**: :func:`restrict` is the one helper behind every ``*_for(user)`` selector
  (NetBox's ``restrict()``): rows outside the user's office are simply absent, so a view
  answers 404, never 403.
- **View decorators** (``resident_staff_required``, ``supervisor_required`` … or
  ``require(rule)``): anonymous users go to the sign-in page, a role that may not act gets 403.
- **DRF permission classes** (``IsResidentStaff``, ``IsSupervisor`` or
  ``RulePermission`` with a ``rule``).
- **Template filter** ``{% load policy %}{% if user|may:"void_payments" %}``: hide the button
  the user could not press. The names are the keys of :data:`RULES`.

Nobody else compares role strings (``grep -rn "role ==\\|\\.role in" apps templates`` finds
this module only). To add a permission: write a predicate here from the role predicates, add
it to ``RULES`` if a template needs it, use it in the service and the view, and add the route
to the access table (tests/accounts/test_access_table.py).

Why the ``rules`` package, and how much of it: its ``Predicate`` gives composition
(``is_supervisor & same_office``), a name for each rule, and argument adaptation (a rule of
``(user, obj)`` may be asked with the user alone), so we build every predicate on it and keep
the named ones in a ``rules.RuleSet``. Its Django integration we do not use, because here it
gets in the way: its permission backend answers through ``User.has_perm``, where an active
superuser (our ``admin``) passes every check, but the admin must not see residents; its view
decorator redirects a signed-in user without the right to the sign-in page instead of a 403;
its DRF mixin maps model permissions per viewset action, and our API is plain ``APIView``\\ s
gated by role; and ``rules`` is not in ``INSTALLED_APPS`` because its app config imports every
module named ``rules.py``, which in this project are the pure domain rules. So the decorators,
permission classes and the template filter below are a few lines each, on the same predicates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ClassVar, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rules.predicates import NO_VALUE, Predicate
from rules.rulesets import RuleSet

from apps.accounts.models import User
from apps.accounts.roles import Role

M = TypeVar("M", bound=Model)
View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class Rule(Predicate):
    """A ``rules`` predicate that is called like a function: ``rule(user, obj=None) -> bool``.

    ``Predicate.__call__`` would call the wrapped function with exactly the arguments given;
    ``test`` adapts them (a missing ``obj`` is None) and always answers a bool.
    """

    def __call__(self, user: object = NO_VALUE, obj: object = NO_VALUE) -> bool:
        return self.test(user, obj)

    def __and__(self, other: Rule) -> Rule:
        return cast(Rule, super().__and__(other))

    def __or__(self, other: Rule) -> Rule:
        return cast(Rule, super().__or__(other))

    def __invert__(self) -> Rule:
        return cast(Rule, super().__invert__())


def rule(fn: Callable[..., bool]) -> Rule:
    """Decorator: a function of ``(user)`` or ``(user, obj)`` becomes a composable :class:`Rule`."""
    return Rule(fn)


# --- roles: the only comparisons of role strings ----------------------------------------------

# Who works with residents' records at the counter (always scoped to their own office).
RESIDENT_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})
# Who may reveal a My Number, always with a purpose and a log row (R-MYN-2).
REVEAL_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})
# Who reads the access log (the auditor the whole city's; a supervisor their own office's).
AUDIT_ROLES = frozenset({Role.AUDITOR, Role.SUPERVISOR})


def _has_role(user: object, roles: frozenset[Role]) -> bool:
    return isinstance(user, User) and user.is_active and user.role in roles


def uses_django_admin(role: Role) -> bool:
    """Whose account gets ``is_staff``/``is_superuser``: the Django admin is the admin's."""
    return role is Role.ADMIN


@rule
def works_with_residents(user: object) -> bool:
    """Clerks and supervisors: the resident pages, counter procedures, fees, notices lookup."""
    return _has_role(user, RESIDENT_ROLES)


@rule
def has_office(user: object) -> bool:
    return isinstance(user, User) and user.office_id is not None


@rule
def has_counter(user: object) -> bool:
    """The user's screens show one counter's card reads (User.counter)."""
    return isinstance(user, User) and user.counter_id is not None


@rule
def _supervisor_role(user: object) -> bool:
    return _has_role(user, frozenset({Role.SUPERVISOR}))


# A supervisor acts for their own office; the database makes sure they have one.
is_supervisor = _supervisor_role & has_office


@rule
def is_auditor(user: object) -> bool:
    return _has_role(user, frozenset({Role.AUDITOR}))


@rule
def is_admin(user: object) -> bool:
    """The system administrator: staff, offices, counters, devices; never residents."""
    return _has_role(user, frozenset({Role.ADMIN}))


# --- what each may do -------------------------------------------------------------------------

resident_staff = works_with_residents & has_office


@rule
def _reveal_role(user: object) -> bool:
    return _has_role(user, REVEAL_ROLES)


@rule
def is_designated_handler(user: object) -> bool:
    """R-AUD-3: designated by the city to handle My Numbers (User.designated_handler)."""
    return isinstance(user, User) and user.is_active and user.designated_handler


# R-MYN-2, R-AUD-3: a clerk or supervisor who is a designated handler. The reveal also needs a
# purpose, a fresh authentication and room under the hourly rate (below, and the service).
may_reveal_my_number = _reveal_role & is_designated_handler

# R-AUD-3: a sign-in or re-authentication within the last 5 minutes.
REVEAL_AUTHENTICATION_MAX_AGE = 5 * 60


def authenticated_recently_enough_to_reveal(seconds_ago: float | None) -> bool:
    """R-AUD-3: the last sign-in or re-authentication was at most 5 minutes ago."""
    return seconds_ago is not None and seconds_ago <= REVEAL_AUTHENTICATION_MAX_AGE


def reveal_rate_allows(reveals_in_the_last_hour: int) -> bool:
    """R-AUD-3: at most MY_NUMBER_REVEALS_PER_HOUR reveals per user in any hour (policy: 20)."""
    from django.conf import settings

    return reveals_in_the_last_hour < settings.MY_NUMBER_REVEALS_PER_HOUR


@rule
def may_read_audit_log(user: object) -> bool:
    return _has_role(user, AUDIT_ROLES)


# The auditor reads the whole city's access log; everyone else only their office's.
reads_whole_city_log = is_auditor

# R-REI-3 and the fee schedule: the supervisor's decisions.
may_manage_fee_schedules = is_supervisor
may_void_payments = is_supervisor
may_approve_waivers = is_supervisor
may_manage_notice_batches = is_supervisor

may_manage_devices = is_admin

# The supervisor's reports (issue 12): read only. A supervisor sees their office's figures,
# the auditor the whole city's (with an office filter), as with the access log.
may_read_reports = is_supervisor | is_auditor
reads_whole_city_reports = is_auditor
# R-NOT-4: importing J-LIS's posted-notices list writes the city's letters: a supervisor's.
may_reconcile_notices = is_supervisor
# The clerk's live card-read panel: resident staff at a counter.
may_watch_counter = works_with_residents & has_counter


@rule
def same_office(user: object, obj: object) -> bool:
    """``obj`` (a resident, payment, waiver, counter …) belongs to the user's office."""
    office_id = getattr(user, "office_id", None)
    return office_id is not None and getattr(obj, "office_id", None) == office_id


# Counter work on one resident (or a row of one office): resident staff of that office.
may_work_on = resident_staff & same_office

# R-AUD-3: the supervisors of the office acknowledge an alert about one of their staff.
may_acknowledge_alert = is_supervisor & same_office


@rule
def _requested_by(user: object, waiver: object) -> bool:
    return getattr(waiver, "requested_by_id", None) == getattr(user, "pk", NO_VALUE)


# R-REI-3: four eyes. A supervisor of the waiver's office who did not ask for it.
may_approve_waiver = is_supervisor & same_office & ~_requested_by


@rule
def _own_counter(user: object, counter: object) -> bool:
    counter_id = getattr(user, "counter_id", None)
    return counter_id is not None and getattr(counter, "pk", None) == counter_id


# A counter's day is closed by its own clerk, or by a supervisor for any counter of the
# office (a clerk closing another clerk's counter was a defect).
may_close_counter = resident_staff & same_office & (_own_counter | is_supervisor)
# Reopening a close, so that a correction can be made that day, is a supervisor's.
may_reopen_closes = is_supervisor
may_reopen_close = is_supervisor & same_office


# The rules templates may name (``user|may:"…"``); the same objects as above.
RULES = RuleSet()
for _name, _rule in {
    "work_with_residents": works_with_residents,
    "watch_counter": may_watch_counter,
    "reveal_my_number": may_reveal_my_number,
    "read_audit_log": may_read_audit_log,
    "manage_fee_schedules": may_manage_fee_schedules,
    "void_payments": may_void_payments,
    "reopen_closes": may_reopen_closes,
    "approve_waivers": may_approve_waivers,
    "approve_waiver": may_approve_waiver,
    "manage_notice_batches": may_manage_notice_batches,
    "manage_devices": may_manage_devices,
    "be_auditor": is_auditor,
    "read_reports": may_read_reports,
    "reconcile_notices": may_reconcile_notices,
}.items():
    RULES[_name] = _rule


def allows(name: str, user: object, obj: object = NO_VALUE) -> bool:
    """The named rule of :data:`RULES`; an unknown name is a programming error, not a "no"."""
    if name not in RULES:
        raise KeyError(f"no rule named {name!r} in apps.accounts.policy.RULES")
    return cast(Rule, RULES[name])(user, obj)


def check(allowed: bool, message: str = "この操作を行う権限がありません。") -> None:
    """In a service: refuse with a Japanese 403 message unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


# --- scoping ----------------------------------------------------------------------------------


def restrict(
    queryset: QuerySet[M],
    user: object,
    *,
    allowed: Rule = works_with_residents,
    office: str = "office_id",
    whole_city: Rule | None = None,
) -> QuerySet[M]:
    """The rows of ``queryset`` that ``user`` may see (every ``*_for(user)`` selector).

    Nothing unless ``allowed(user)``; everything if ``whole_city(user)``; otherwise the rows
    whose ``office`` lookup is the user's office. Rows out of scope are absent, so a view that
    looks one up answers 404: a clerk cannot even learn that a row of another office exists.
    """
    if not allowed(user):
        return queryset.none()
    if whole_city is not None and whole_city(user):
        return queryset
    office_id = getattr(user, "office_id", None)
    if office_id is None:
        return queryset.none()
    return queryset.filter(**{office: office_id})


# --- views --------------------------------------------------------------------------------------


class StaffRequest(HttpRequest):
    """A request that passed one of the decorators below: its user is a signed-in User."""

    user: User


def require(allowed: Rule) -> Callable[[View], View]:
    """View decorator: anonymous users go to the sign-in page; without ``allowed`` 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return cast(View, login_required(wrapped))

    return decorator


resident_staff_required = require(works_with_residents)
supervisor_required = require(is_supervisor)
audit_staff_required = require(may_read_audit_log)
admin_required = require(may_manage_devices)
reports_required = require(may_read_reports)


# --- the API ------------------------------------------------------------------------------------


class RulePermission(BasePermission):
    """A DRF permission class on a rule: subclass and set ``rule`` (and ``message``)."""

    rule: ClassVar[Rule]
    message = "この操作を行う権限がありません。"

    def has_permission(self, request: Request, view: object) -> bool:
        return self.rule(request.user)


SUPERVISORS_ONLY = "監督者のみが行える操作です。"


def allow(allowed: Rule, message: str = RulePermission.message) -> type[RulePermission]:
    """A permission class for one rule: ``permission_classes = [allow(may_void_payments)]``."""
    attributes = {"rule": allowed, "message": message, "__doc__": f"DRF permission: {allowed}"}
    return cast(type[RulePermission], type(f"Allow({allowed})", (RulePermission,), attributes))


class IsResidentStaff(RulePermission):
    """Clerks and supervisors (their rows scoped to their office by the selectors)."""

    rule = works_with_residents


class IsSupervisor(RulePermission):
    rule = is_supervisor
    message = SUPERVISORS_ONLY
