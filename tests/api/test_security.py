"""The attacks from issue 12, replayed against the real API: each is refused and sells nothing."""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest

from booth.api.token import token_path
from tests.api.client import Client

ATTACK = {"sku": "tee", "qty": 10}  # would sell out the drop


def test_it_listens_on_this_machine_only_and_keeps_the_token_to_this_user(served) -> None:
    assert served.parts.api.url == f"http://127.0.0.1:{served.port}"
    mode = stat.S_IMODE(os.stat(token_path(served.session.opened.db_path.parent)).st_mode)
    assert mode == 0o600
    assert len(served.token) >= 40


@pytest.mark.parametrize("token", [None, "wrong-token-0123456789012345678901234567890", ""])
def test_without_the_right_token_nothing_sells_and_nothing_is_read(served, api: Client, token) -> None:
    stranger = Client(served.port, None)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    answer = stranger.post("/sale", ATTACK, headers=headers)
    assert answer.status == 401 and "token" in answer.error
    assert answer.headers["www-authenticate"].startswith("Bearer")
    for path in ("/state", "/metrics", "/openapi.json", "/events"):
        assert stranger.get(path, headers=headers).status == 401, path
    assert api.left("tee") == 10


def test_a_web_page_elsewhere_cannot_sell_even_with_a_simple_cross_site_post(served, api: Client) -> None:
    # What a page at https://evil.example can make the host's browser send without a preflight.
    simple = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    assert Client(served.port, None).post("/sale", json.dumps(ATTACK), headers=simple).status == 403
    form = {"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}
    assert Client(served.port, None).post("/sale", "sku=tee&qty=10", headers=form).status == 403
    # Even a request that somehow carries the token is refused by its origin, or as a text body.
    assert api.post("/sale", ATTACK, headers={"Origin": "https://evil.example"}).status == 403
    assert api.post("/sale", ATTACK, headers={"Sec-Fetch-Site": "cross-site"}).status == 403
    answer = api.post("/sale", json.dumps(ATTACK), headers={"Content-Type": "text/plain"})
    assert answer.status == 415 and "application/json" in answer.error
    assert api.left("tee") == 10


def test_dns_rebinding_is_refused_by_the_host_header(served, api: Client) -> None:
    answer = api.post("/sale", ATTACK, headers={"Host": f"evil.example:{served.port}"})
    assert answer.status == 400 and "Host not allowed" in answer.error
    assert api.get("/state", headers={"Host": "127.0.0.1:1"}).status == 400  # our address, another port
    assert api.get("/state", headers={"Host": f"localhost:{served.port}"}).status == 200
    assert api.left("tee") == 10


def test_booths_own_page_origin_is_accepted(served, api: Client) -> None:
    same = {"Origin": f"http://127.0.0.1:{served.port}", "Sec-Fetch-Site": "same-origin"}
    assert api.post("/sale", {"sku": "tee"}, headers=same).status == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "GET"])
def test_wrong_methods_get_405(api: Client, method: str) -> None:
    answer = api.request(method, "/sale")
    assert answer.status == 405 and answer.body["ok"] is False


def test_unknown_paths_get_404_once_authenticated(served, api: Client) -> None:
    assert api.get("/nowhere").status == 404
    assert Client(served.port, None).get("/nowhere").status == 401  # no route list for strangers


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"sku": "tee", "qty": ' + "9" * 5000 + "}", "Malformed request"),
        ("[" * 3000 + "]" * 3000, "Malformed request"),
        ('{"sku": "\\ud800"}', "Malformed request"),
        ("{sku: tee}", "Malformed request"),
        ('{"sku": "tee", "qty": "2"}', "qty"),
        ('{"sku": "tee", "qty": 1.5}', "qty"),
        ('{"sku": "tee", "qty": true}', "qty"),
        ('{"sku": "tee", "qty": 0}', "qty"),
        ('{"sku": "tee", "price": 20}', "price"),
    ],
)
def test_malformed_bodies_get_400_with_what_is_wrong(api: Client, body: str, expected: str) -> None:
    answer = api.post("/sale", body.encode(), headers={"Content-Type": "application/json"})
    assert answer.status == 400 and expected in answer.error, answer
    assert api.left("tee") == 10  # and Booth keeps serving


def test_an_oversized_body_gets_413_before_it_is_read(api: Client) -> None:
    answer = api.post("/sale", b"{" + b" " * 20_000 + b"}", headers={"Content-Type": "application/json"})
    assert answer.status == 413 and "at most" in answer.error


def test_a_garbled_content_length_gets_a_reply_not_a_dropped_connection(served) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall("POST /sale HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ²\r\n\r\n{}".encode())
        reply = sock.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")


def test_a_client_trickling_its_headers_is_closed_and_never_holds_up_others(served, api: Client) -> None:
    with socket.create_connection(("127.0.0.1", served.port), timeout=15) as slow:
        slow.sendall(b"GET /state HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never finishes
        assert api.get("/state").status == 200  # others are served meanwhile
        slow.sendall(b"X-Slow: 1\r\n")  # a byte now and then does not keep it open
        assert slow.recv(4096) == b""  # closed by the server within its header deadline (5 s)
