"""An upload handler that stops taking a file once it passes ``UPLOAD_MAX_BYTES``.

Without it a 295 MB file was received, stored and then processed for a minute in one
request. With it the rest of an oversized file is read and thrown away as it arrives (the
client is still sending it), nothing is stored, and ``request.upload_too_large`` tells the
view to say so. A proxy in front should refuse such bodies even earlier
(``client_max_body_size``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


def upload_too_large(request: Any) -> bool:
    """True when an upload of ``request`` was dropped for its size (Django or DRF request)."""
    raw = getattr(request, "_request", request)
    return bool(getattr(raw, "upload_too_large", False))


class BoundedUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: passes chunks on, counting, until the limit."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.limit = int(settings.UPLOAD_MAX_BYTES)
        self.received = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            if self.request is not None:
                # Read by upload_too_large(); an attribute of the request, not a header.
                setattr(self.request, "upload_too_large", True)  # noqa: B010
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
