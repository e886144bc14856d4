from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session

from apps.accounts import policy
from apps.accounts.models import User
from apps.core.service import service


@service
def staff_deactivate(*, acting_user: User, user: User) -> int:
    """Deactivate `user` and end every session they have, at once. Returns sessions ended.

    Django already refuses an inactive user on their next request; ending the sessions also
    removes them from the session store, so no copy of the cookie is worth anything.
    """
    policy.check(policy.is_admin(acting_user), "職員を無効にできるのはシステム管理者です。")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return staff_sessions_end(acting_user=acting_user, user=user)


@service
def staff_sessions_end(*, acting_user: User, user: User) -> int:
    """End every session of `user` (sessions are tracked per user by allauth.usersessions)."""
    policy.check(policy.is_admin(acting_user) or acting_user.pk == user.pk)
    sessions = list(UserSession.objects.select_for_update().filter(user=user))
    keys = [session.session_key for session in sessions]
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(pk__in=[session.pk for session in sessions]).delete()
    return len(keys)
