"""The shop-unreachable drill at the shop client's transport (the rehearsal's fault seam), against the
real stand-in: the sync's alert for the host comes within the target, and clears once the shop is back."""

from __future__ import annotations

import time

from booth.app.drills import DrillRunner
from booth.app.root import build_booth
from booth.bench.shop_standin import StandinProcess
from booth.core.clock import SystemClock
from booth.core.config import BoothConfig, ProgramConfig
from booth.core.drop import DropSpec, Sku
from booth.core.shop.settings import ShopCredentials, ShopSettings, ShopSku
from booth.devices.shopify import ShopifyClient
from booth.drop.controller import DropController
from booth.shop.sync import ShopSync
from tests.conftest import SolidSource
from tests.shop.conftest import TEE_VARIANT
from tests.shop.test_sync import NAMES, ListJournal
from tests.waiting import wait_until


class SyncOnHostLine:
    """What the host's line shows of a shop sync: its alerts."""

    def __init__(self, sync: ShopSync) -> None:
        self.sync = sync

    def host_alerts(self) -> list[tuple[str, str]]:
        return [(a.what, a.message) for a in self.sync.health.alerts(time.monotonic(), live=True)]


def test_the_shop_unreachable_drill_measures_the_alert_at_the_transport(qapp, standin: StandinProcess,
                                                                        credentials: ShopCredentials) -> None:
    spec = DropSpec("Shop drill", (Sku("tee", "TEE / BLACK", 50),), rehearsal=True)
    booth = build_booth(BoothConfig(drop=spec, program=ProgramConfig(320, 180, 15)), source=SolidSource((320, 180)))
    assert booth.faults is not None
    client = ShopifyClient(standin.domain, credentials, "2026-04", base_url=standin.url, timeout_s=1.0,
                           transport=booth.faults.shop_adapter())  # fmt: skip
    shop = ShopSettings(standin.domain, standin.location_id, (ShopSku("tee", TEE_VARIANT, None, 50),),
                        poll_seconds=1.0, stale_alarm_seconds=5.0)  # fmt: skip
    items = client.resolve(shop.skus, shop.location_id, NAMES)
    counter = DropController(DropSpec("Shop drill", (Sku("tee", "TEE / BLACK", 50),), rehearsal=True,
                                      shop_skus=("tee",)), SystemClock(), ListJournal())  # fmt: skip
    sync = ShopSync(shop, client, counter, NAMES, webhook_secret=standin.client_secret, rehearsal=True,
                    items=items, poll_timeout_s=1.0).start()  # fmt: skip
    try:
        wait_until(lambda: sync.health.last_news_at is not None, 5, "the first poll")
        result = DrillRunner(booth, shop=SyncOnHostLine(sync)).run_one("shop-unreachable")
        assert result.passed is True, result
        assert result.figure is not None and result.figure <= 2.0
        assert "Cannot reach booth-test.myshopify.com" in result.detail
        assert result.checks == {"the shop answered again after the fault": True}
        assert not SyncOnHostLine(sync).host_alerts()  # the fault is gone with the drill
    finally:
        sync.stop()
