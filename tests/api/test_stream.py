"""The event stream: a snapshot on connect, numbered deltas after it, and a reconnect without gaps."""

from __future__ import annotations

from tests.api.client import Client, EventStream


def test_a_snapshot_first_then_each_sale_as_a_numbered_delta(served, api: Client) -> None:
    with EventStream(served.port, served.token) as stream:
        snapshot = stream.next()
        assert snapshot["type"] == "snapshot"
        assert snapshot["state"]["drop"]["skus"]["tee"]["left"] == 10
        assert snapshot["state"]["drop"]["deadline_wall"] > snapshot["state"]["server_wall"]
        api.post("/sale", {"sku": "tee", "qty": 2})
        delta = stream.next()
        assert delta["type"] == "drop" and delta["seq"] == snapshot["seq"] + 1
        assert delta["event"]["kind"] == "sale" and delta["drop"]["skus"]["tee"]["left"] == 8
        api.post("/feature", {"sku": "cap"})  # not a drop event: a whole-state delta
        change = stream.next()
        assert change["type"] == "state" and change["seq"] == delta["seq"] + 1
        assert change["state"]["drop"]["featured"] == "cap"


def test_a_client_that_reconnects_gets_exactly_what_it_missed(served, api: Client) -> None:
    with EventStream(served.port, served.token) as stream:
        snapshot = stream.next()
        api.post("/sale", {"sku": "tee"})
        seen = stream.next()
    for _ in range(3):  # sold while the client was away
        api.post("/sale", {"sku": "tee"})
    with EventStream(served.port, served.token, last_event_id=f"{seen['stream']}:{seen['seq']}") as stream:
        missed = [stream.next() for _ in range(3)]
    assert [m["seq"] for m in missed] == [seen["seq"] + 1, seen["seq"] + 2, seen["seq"] + 3]
    assert [m["drop"]["skus"]["tee"]["left"] for m in missed] == [8, 7, 6]
    assert snapshot["stream"] == seen["stream"] == missed[0]["stream"]


def test_a_client_from_before_a_restart_gets_a_fresh_snapshot(serve) -> None:
    first = serve()
    with EventStream(first.port, first.token) as stream:
        old = stream.next()
    first.client.post("/sale", {"sku": "tee", "qty": 4})
    assert first.session.log.flush()
    first.stop()
    second = serve()
    with EventStream(second.port, second.token, last_event_id=f"{old['stream']}:{old['seq'] + 50}") as stream:
        fresh = stream.next()
    assert fresh["type"] == "snapshot" and fresh["stream"] != old["stream"]
    assert fresh["state"]["drop"]["skus"]["tee"]["left"] == 6
