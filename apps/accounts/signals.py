"""Signals of the accounts app, for the access log (apps.audit.receivers) to record."""

from django.dispatch import Signal

# A sign-in that did not get past the password stage. Arguments: request, username, reason
# ("password": wrong user name or password; "rate_limited": refused before trying).
sign_in_failed = Signal()
