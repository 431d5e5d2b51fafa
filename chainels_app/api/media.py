"""The HTTP route that hands a member the photos and files they may see.

Every request checks the session cookie and the member's right to the post; a
refusal of any kind is a bare 404, so nobody learns whether an attachment exists.
"""

from __future__ import annotations

import logging
import unicodedata
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from chainels_app import db
from chainels_app.api.auth import SESSION_COOKIE
from chainels_app.services import access, auth, media
from chainels_app.services.errors import DomainError

logger = logging.getLogger(__name__)

_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _open_for_session(
    session: Session, *, token: str | None, attachment_id: int, variant: str
) -> media.ServedFile:
    user = auth.authenticate(session, token=token)
    actor = access.current_actor(session, user=user)
    return media.open_attachment(
        session, actor=actor, attachment_id=attachment_id, variant=variant
    )


def content_disposition(served: media.ServedFile) -> str:
    """The header value with an ASCII fallback and the RFC 5987 UTF-8 name."""
    disposition = "inline" if served.inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", served.download_name)
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    fallback = "".join(
        c if c.isprintable() and c not in '"\\' else "_" for c in ascii_name
    )
    encoded = quote(served.download_name, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _not_found() -> Response:
    return Response(
        status_code=404, headers={**_COMMON_HEADERS, "Cache-Control": "no-store"}
    )


async def serve_media(request: Request) -> Response:
    """Send one attachment's file to a member who may see it; 404 otherwise."""
    try:
        served = await db.run(
            _open_for_session,
            token=request.cookies.get(SESSION_COOKIE),
            attachment_id=int(request.path_params["attachment_id"]),
            variant=str(request.path_params["variant"]),
        )
    except (DomainError, KeyError, ValueError):
        return _not_found()

    return FileResponse(
        served.path,
        media_type=served.content_type,
        headers={
            **_COMMON_HEADERS,
            "Cache-Control": "private, max-age=3600",
            "Content-Disposition": content_disposition(served),
        },
    )
