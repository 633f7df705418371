"""CSRF on every form, escaping everywhere, headers that keep scripts to our own files."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

POST_ROUTES = ["/cart/add", "/cart/update", "/cart/remove", "/checkout"]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_without_a_csrf_token_is_refused(shopper: Any, path: str) -> None:
    shopper.token()  # the session exists and has a token; the form just does not send it
    response = shopper.post(path, {"sku": "LNT-001", "quantity": "1"}, csrf=False)

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "This form has expired" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_post_with_a_wrong_csrf_token_is_refused(shopper: Any, path: str) -> None:
    shopper.token()
    form = {"sku": "LNT-001", "quantity": "1", "csrf_token": "forged-" + "x" * 40}
    response = shopper.post(path, form, csrf=False)

    assert response.status_code == 400


def test_a_token_from_another_session_is_refused(make_app: Any) -> None:
    app = make_app()
    attacker, victim = app.test_client(), app.test_client()
    page = attacker.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    victim.get("/")

    form = {"sku": "LNT-001", "quantity": "1", "csrf_token": match.group(1)}
    assert victim.post("/cart/add", data=form).status_code == 400


def test_a_post_without_any_session_is_refused(client: FlaskClient) -> None:
    form = {"sku": "LNT-001", "quantity": "1", "csrf_token": "anything"}
    assert client.post("/cart/add", data=form).status_code == 400


def test_every_post_form_on_every_page_carries_the_token(shopper: Any) -> None:
    shopper.add("LNT-001")
    for path in ["/", "/products/LNT-001", "/cart", "/checkout"]:
        page = shopper.get(path).get_data(as_text=True)
        forms = re.findall(r"<form[^>]*>.*?</form>", page, flags=re.S)
        posts = [form for form in forms if 'method="post"' in form]
        assert posts, path
        for form in posts:
            assert 'name="csrf_token"' in form, (path, form[:120])


def test_pages_have_no_inline_scripts_styles_or_handlers(shopper: Any) -> None:
    shopper.add("LNT-001")
    for path in ["/", "/products/LNT-001", "/cart", "/checkout", "/pipeline", "/nope"]:
        page = shopper.get(path).get_data(as_text=True)
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == [], path
        assert re.findall(r"\son[a-z]+=", page) == [], path
        assert " style=" not in page, path


def test_responses_carry_a_strict_content_security_policy(client: FlaskClient) -> None:
    response = client.get("/")

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_httponly_and_samesite_lax(shopper: Any) -> None:
    response = shopper.add("LNT-001")

    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lantern_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on a laptop; SESSION_COOKIE_SECURE=1 behind TLS


def test_secure_cookies_can_be_required(make_app: Any) -> None:
    client = make_app(SESSION_COOKIE_SECURE="true").test_client()
    page = client.get("/")
    assert "Secure" in page.headers["Set-Cookie"]


def test_a_script_in_a_name_is_rendered_as_text(shopper: Any, producer: Any) -> None:
    shopper.add("LNT-001")
    response = shopper.checkout(name="<script>alert(1)</script>", email="not-an-email")

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in page
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page
    assert producer.calls == []


def test_a_script_in_an_order_record_is_rendered_as_text(shopper: Any, consumer: Any) -> None:
    # Placed by this session, so its page shows the (hostile) customer name too.
    shopper.add("LNT-001")
    order_id = shopper.checkout().headers["Location"].rsplit("/", 1)[1]
    client = shopper.client
    consumer.records[order_id] = {
        "order_id": order_id,
        "status": "fulfilled",
        "customer_name": "<script>alert(1)</script>",
        "lines": [
            {
                "sku": "LNT-001",
                "name": "<img src=x onerror=alert(2)>",
                "quantity": 1,
                "unit_price_cents": 4900,
            }
        ],
        "total_cents": 4900,
        "accepted_at": 1.0,
        "recorded_at": 2.0,
        "message_id": "msg-1",
        "trace_id": '"><script>alert(3)</script>',
    }

    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "trace-ui" not in page  # not a trace id: shown as text, never linked

    # The live fragment the order page swaps in is escaped the same way.
    api = client.get(f"/api/orders/{order_id}")
    assert api.mimetype == "application/json"
    fragment = (api.json or {})["html"]
    assert "<script>alert" not in fragment
    assert "<img src=x" not in fragment
