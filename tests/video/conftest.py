from __future__ import annotations

import pytest

from booth.app.root import Booth, build_booth
from booth.core.config import ProgramConfig, demo_config
from booth.core.drop import DropSpec, Sku
from tests.conftest import SolidSource


@pytest.fixture
def small_booth(qapp) -> Booth:
    """The real object graph at 640x360 with a solid grey camera at the device seam."""
    config = demo_config()
    config = type(config)(
        drop=DropSpec("Test drop", (Sku("tee", "TEE / BLACK", 12),), timer_seconds=90, low_at=10, critical_at=3,
                     pre_sale=True),
        program=ProgramConfig(640, 360, 30),
    )
    booth = build_booth(config, source=SolidSource((640, 360)))
    yield booth
    booth.stop()
