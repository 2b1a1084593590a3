"""The 9:16 layout maths: what a host would see go wrong if any of it broke — a counter under
TikTok's buttons, a caption over the counter, a crop that slides off the picture."""

from __future__ import annotations

import itertools

import pytest

from booth.core.clip_plan import MomentKind, clip_window, moment_kind, plan_recap
from booth.core.clip_presets import (
    PRESETS,
    Aspect,
    Framing,
    LayoutError,
    PresetError,
    Rect,
    crop_window,
    find_preset,
    nudge_focus,
    overlay_box,
    plan_layout,
    text_width,
)
from booth.core.overlay import AMBER, WHITE, Corner, OverlayModel

VERTICAL = [p for p in PRESETS.values() if p.aspect is Aspect.VERTICAL]
HOOK = "Only 7 left — the timer is running, grab yours before it hits zero!"


def model(corner: Corner, stock: str = "50 LEFT", label: str = "") -> OverlayModel:
    return OverlayModel("TEE / BLACK", stock, WHITE, "01:30", label, WHITE, corner)


@pytest.mark.parametrize("preset", VERTICAL, ids=lambda p: p.key)
@pytest.mark.parametrize("framing", [Framing.CROP, Framing.BLUR, Framing.SOLID])
@pytest.mark.parametrize("corner", list(Corner))
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (640, 360)])
def test_counter_and_caption_land_in_the_safe_zone(preset, framing, corner, size) -> None:
    box = overlay_box(corner, *size, model(corner, "SOLD OUT", "OFFER ENDED"))
    layout = plan_layout(preset, *size, framing, overlay=box, caption=HOOK)
    assert (layout.canvas_w, layout.canvas_h) == preset.size
    assert layout.overlay is not None and layout.safe.contains(layout.overlay), (layout.overlay, layout.safe)
    assert layout.caption is not None and layout.safe.contains(layout.caption.block)
    assert not layout.caption.block.intersects(layout.overlay)
    canvas = Rect(0, 0, *preset.size)
    assert canvas.contains(layout.picture)
    # legible: the counter's text stays ≥ 2.2 % of the screen height (42 px of 1920) even when the
    # fit shrinks the frame to keep a right-hand corner clear of TikTok's action rail …
    big_text = layout.overlay.h / box.h * 0.09 * size[1]
    assert big_text >= 0.022 * preset.height
    if framing is Framing.CROP:  # … and in a crop it is lifted, at least as large as in the program
        assert layout.lift_from == box and layout.overlay.w >= min(box.w, layout.safe.w - 2)
        assert layout.hide == box  # the old plate is hidden, so it never shows twice
        assert layout.source.w * 16 == pytest.approx(layout.source.h * 9, abs=32)
    else:
        assert layout.picture.w * size[1] == pytest.approx(layout.picture.h * size[0], rel=0.01)


def test_the_crop_follows_the_host_nudging_its_focus_and_stops_at_the_edges() -> None:
    centred = crop_window(1280, 720, 0.5)
    assert (centred.w, centred.h) == (404, 720) and centred.x == (1280 - 404) // 2 // 2 * 2
    right = crop_window(1280, 720, nudge_focus(0.5, 3))
    assert right.x > centred.x
    assert crop_window(1280, 720, nudge_focus(0.5, 40)).right == 1280  # the window stops at the edge
    assert crop_window(1280, 720, nudge_focus(0.5, -40)).x == 0
    assert nudge_focus(0.98, 5) == 1.0 and nudge_focus(0.02, -5) == 0.0


def test_a_clean_source_has_no_counter_and_the_caption_still_goes_in_the_safe_zone() -> None:
    layout = plan_layout(find_preset("reels"), 1280, 720, Framing.CROP, caption=HOOK)
    assert layout.overlay is None and layout.lift_from is None and layout.hide is None
    assert layout.caption is not None and layout.safe.contains(layout.caption.block)


def test_long_captions_wrap_inside_the_safe_width_and_are_shortened_with_an_ellipsis() -> None:
    preset = find_preset("tiktok")
    layout = plan_layout(preset, 1280, 720, Framing.CROP, caption="buy " * 80)
    caption = layout.caption
    assert caption is not None and caption.truncated and len(caption.lines) == 3
    assert caption.lines[-1].endswith("…")
    for line, plate in zip(caption.lines, caption.line_boxes, strict=True):
        assert text_width(line, caption.font_px) + 2 * caption.pad_px <= layout.safe.w
        assert layout.safe.contains(plate)
    one_word = plan_layout(preset, 1280, 720, Framing.CROP, caption="W" * 60).caption
    assert one_word is not None and all(text_width(x, one_word.font_px) <= layout.safe.w for x in one_word.lines)
    assert plan_layout(preset, 1280, 720, Framing.CROP, caption=" \n\t ").caption is None


def test_a_16_9_caption_goes_opposite_the_overlay() -> None:
    preset = find_preset("landscape")
    for corner in Corner:
        box = overlay_box(corner, 1280, 720, model(corner))
        layout = plan_layout(preset, 1280, 720, Framing.FULL, overlay=box, caption="Sold out in 4 minutes")
        assert layout.caption is not None and layout.overlay is not None
        assert not layout.caption.block.intersects(layout.overlay)
        assert layout.safe.contains(layout.caption.block)


def test_impossible_requests_say_what_is_wrong() -> None:
    with pytest.raises(PresetError, match=r"no clip preset 'snapchat'.*tiktok"):
        find_preset("snapchat")
    with pytest.raises(LayoutError, match="9:16 preset needs crop, blur or solid"):
        plan_layout(find_preset("tiktok"), 1280, 720, Framing.FULL)
    with pytest.raises(LayoutError, match="16:9 preset shows the full frame"):
        plan_layout(find_preset("landscape"), 1280, 720, Framing.CROP)


@pytest.mark.parametrize("height", [360, 720, 1080])
def test_the_overlay_box_estimate_matches_the_renderer(qapp, height) -> None:
    """The lift cuts the plate out of the encoded program: its place must be known to ±2 px."""
    from booth.video.overlay_render import OverlayRenderer

    width = height * 16 // 9
    renderer = OverlayRenderer((width, height))
    for corner in Corner:
        for m in (model(corner), model(corner, "SOLD OUT", "OFFER ENDED"),
                  OverlayModel("A very long product name indeed", "3 LEFT", AMBER, "00:09", "LAST CALL", AMBER,
                               corner)):  # fmt: skip
            image, pos = renderer.image_for(m)
            estimate = overlay_box(corner, width, height, m)
            assert abs(estimate.w - image.width()) <= 2 and abs(estimate.h - image.height()) <= 2
            assert abs(estimate.x - pos.x()) <= 2 and abs(estimate.y - pos.y()) <= 2


def test_recap_lasts_60_to_90_seconds_and_keeps_every_moment() -> None:
    moments = [12.0, 95.0, 97.0, 400.0, 1210.0]
    spans = plan_recap(moments, 1800.0)
    total = sum(s.duration_s for s in spans)
    assert 60.0 <= total <= 90.0
    assert all(any(s.start_s <= t <= s.end_s for s in spans) for t in moments)
    assert all(a.end_s < b.start_s for a, b in itertools.pairwise(spans))  # in order, no repeats
    many = plan_recap([float(t) for t in range(5, 3600, 10)], 3600.0)
    assert 60.0 <= sum(s.duration_s for s in many) <= 90.0
    short = plan_recap([3.0], 40.0)
    assert [(s.start_s, s.duration_s) for s in short] == [(0.0, 40.0)]


def test_clip_windows_stay_inside_the_recording_and_kinds_come_from_the_logged_reason() -> None:
    assert clip_window(2.0, 15.0, 100.0).start_s == 0.0
    assert clip_window(99.0, 15.0, 100.0).end_s == 100.0
    assert clip_window(50.0, 15.0, 100.0).start_s == 40.0
    assert moment_kind("first sale") is MomentKind.FIRST_SALE
    assert moment_kind("TEE / BLACK low stock: 10 left") is MomentKind.LOW_STOCK
    assert moment_kind("TEE / BLACK sold out") is MomentKind.SOLD_OUT
    assert moment_kind("camera switch: primary stalled") is MomentKind.CUT
    assert moment_kind("ingest primary → backup") is MomentKind.CUT
