"""Every URL pattern of the site, with made-up arguments, for tests that must cover them all."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_SAMPLE = {"uuid": str(uuid.UUID(int=1)), "int": "1", "slug": "x", "str": "x", "path": "x"}


def _fill(route: str) -> str:
    return _CONVERTER.sub(lambda m: _SAMPLE.get(m.group(1) or "str", "x"), route)


def url_patterns(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(view name, path) for every plain route; regex routes (the admin's) are left out."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        if route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            space = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, prefix + route, space)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", "/" + _fill(prefix + route)
