"""Who test fixtures act as when they build data through the services (apps.core.service)."""

from apps.core.service import SystemActor

FIXTURES = SystemActor("test fixtures")
