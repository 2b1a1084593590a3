"""The API over the GUI's whole rig (the composition root's `add_rig`): sources, clips, moments, metrics."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from booth.app.options import Options
from booth.app.root import Booth, add_rig, build_booth
from booth.app.startup import recording_folder
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from booth.core.failover import Lock
from booth.drop.session import start_drop_session
from booth.store.reader import SessionReader
from tests.api.client import Client
from tests.conftest import SolidSource
from tests.waiting import wait_until

SIZE = (640, 360)


@pytest.fixture
def rig(qapp, tmp_path: Path) -> Iterator[tuple[Booth, Client, Options]]:
    config = demo_config()
    config = type(config)(
        drop=DropSpec("Rig drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=600, pre_sale=True),
        program=ProgramConfig(*SIZE, 30),
    )
    options = Options(api_port=0, data_dir=tmp_path / "data")
    session = start_drop_session(options.data_dir, config)
    booth = build_booth(config, source=SolidSource(SIZE), secondary_source=SolidSource(SIZE), session=session)
    add_rig(booth, options)
    booth.start()
    assert booth.api is not None and booth.api.port is not None, booth.problems
    yield booth, Client(booth.api.port, booth.api.token), options
    booth.stop()


def metrics(client: Client) -> dict:
    answer = client.get("/metrics")
    assert answer.status == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(answer.body)
        for s in family.samples
    }


def test_the_host_lock_and_reconnect_reach_the_switcher(rig) -> None:
    booth, api, _ = rig
    assert api.post("/sources/lock", {"lock": "secondary"}).status == 200
    wait_until(lambda: booth.switcher.lock is Lock.SECONDARY, 5, "the lock to apply")
    wait_until(lambda: api.state()["sources"]["on_program"] == "secondary", 5, "the program on the secondary")
    assert api.state()["sources"]["lock"] == "secondary"
    assert api.post("/sources/lock", {"lock": "sideways"}).status == 400
    answer = api.post("/sources/reconnect")
    assert answer.status == 200 and answer.body["ok"] is True


def test_a_clip_and_a_moment_from_the_api_are_saved_and_in_the_session_log(rig) -> None:
    booth, api, options = rig
    wait_until(lambda: booth.output.status().replay_s >= 2.0, 20, "two seconds of encoded program")
    clip = api.post("/clip", {"seconds": 5})
    assert clip.status == 200, clip
    assert Path(clip.body["path"]).stat().st_size > 0
    moment = api.post("/moments", {"reason": "host waved the tee"})
    assert moment.status == 200 and moment.body["reason"] == "host waved the tee"
    assert booth.session.log.flush()
    with SessionReader(options.data_dir / "booth.sqlite3") as reader:
        kinds = [e.kind for e in reader.events(reader.session().id)]
    assert "clip" in kinds and "moment" in kinds


def test_metrics_come_from_the_rig_and_an_idle_crowd_does_not_hold_up_a_scrape(rig) -> None:
    booth, api, options = rig
    idle = [socket.create_connection(("127.0.0.1", api.port), timeout=10) for _ in range(8)]
    try:
        idle[0].sendall(b"GET /metrics HTTP/1.1\r\n")  # one of them trickles a request that never ends
        found = metrics(api)
    finally:
        for conn in idle:
            conn.close()
    assert found[("booth_drop_units_left", (("sku", "tee"),))] == 12
    assert found[("booth_output_connected", (("output", "stream"),))] == 0.0  # no ingest configured
    assert ("booth_output_bitrate_bits_per_second", (("output", "stream"),)) in found
    assert found[("booth_failover_switches_total", ())] == booth.switcher.switch_count
    folder = recording_folder(options, booth.config)
    assert ("booth_disk_free_bytes", (("path", str(folder)),)) in found  # the disk guard's, where recordings go
