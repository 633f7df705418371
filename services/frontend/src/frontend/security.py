"""CSRF protection and the security headers every response carries.

CSRF uses the synchronizer-token pattern: one random token per session, kept in the signed
session cookie and echoed in a hidden field of every form. A POST without the matching field is
refused with 400 before the view runs. The cookie is HttpOnly and SameSite=Lax on top of that.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

CSRF_FIELD = "csrf_token"
_SESSION_KEY = "csrf"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Everything is served from this origin: scripts only from static files, no inline code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csrf_token() -> str:
    """This session's token, created on first use (templates call it for every form)."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method not in _UNSAFE_METHODS:
        return
    expected = session.get(_SESSION_KEY)
    sent = request.form.get(CSRF_FIELD, "")
    if not isinstance(expected, str) or not sent:
        abort(400, description="This form has expired. Go back, reload the page and try again.")
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        abort(400, description="This form has expired. Go back, reload the page and try again.")


def _add_headers(response: Response) -> Response:
    # One look at the names already set, not a scan of the header list per header.
    present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118 - Headers
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            response.headers.add(name, value)
    if request.endpoint != "static" and "cache-control" not in present:
        # Pages hold a per-session CSRF token and the cart: never in a shared cache.
        response.headers.add("Cache-Control", "no-store")
    return response


def init_security(app: Flask, *, secret_key: str, secure_cookie: bool) -> None:
    app.config.update(
        SECRET_KEY=secret_key,
        SESSION_COOKIE_NAME="lantern_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookie,
    )
    app.before_request(_check_csrf)
    app.after_request(_add_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
