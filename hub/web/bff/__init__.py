"""The hub's faces (the shopper app at ``/app/``, the mall console at ``/console/``) as a
backend-for-frontend (RFC 10017, BCP 212).

The hub runs the authorization code + PKCE flow server-side, as a confidential client of
itself (``faces``), keeps the tokens in a server-side session (``store``) and gives the
browser only an HttpOnly, SameSite=Strict cookie holding an opaque session id
(``routes``). GraphQL accepts that cookie only with the custom header a cross-site form
cannot send (``auth``). No token ever reaches JavaScript or browser storage.
"""

from hub.web.bff.auth import FaceAuthBackend, face_middleware
from hub.web.bff.faces import FACES, ensure_face_clients
from hub.web.bff.routes import face_routes

__all__ = [
    "FACES",
    "FaceAuthBackend",
    "ensure_face_clients",
    "face_middleware",
    "face_routes",
]
