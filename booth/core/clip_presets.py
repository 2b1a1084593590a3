"""Short-form clip presets and the layout maths of a 9:16 (or captioned 16:9) clip, as pure domain.

A preset is what a platform accepts on upload (H.264 High, closed GOP of half the frame rate,
2 B-frames, yuv420p, AAC-LC 48 kHz, moov at the front, no edit list, a bitrate per size) plus the
platform's safe zone: the part of the 9:16 screen its own buttons, captions and progress bar never
cover. Sources (vendor figures, not official templates): `shared/anchors/shop-and-surfaces.md` §4.

The layout answers, for a program frame of any size, where every piece of the clip goes:

- **crop**: a 9:16 window of the program, full height, centred on a focus the host can nudge. A
  16:9 overlay (≈ 43 % of the frame wide at 720p) never fits a 9:16 window (31.6 % of the width),
  and its corner would land in the platform's top or bottom band anyway, so the burned-in counter
  and timer are *lifted*: cut from the program, scaled up to fit the safe zone, placed in its upper
  band; their old place inside the window is hidden (interpolated away) so they never show twice.
- **blur** / **solid**: the whole frame, as large as it can be while its overlay stays inside the
  safe zone, on a blurred copy of itself or a solid background.
- **full**: a 16:9 clip re-encoded only to burn a caption in; the overlay stays where it is.

The caption (a hook line) is wrapped here, with the bundled font's advance widths, so its block
is known before ffmpeg draws it: inside the safe zone, never over the counter and timer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from booth.core.overlay import BIG_TEXT, NAME_TEXT, Corner, OverlayModel, anchor_point

# -- geometry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rect:
    """Pixels: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def intersects(self, other: Rect) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def union(self, other: Rect) -> Rect:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Rect(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)

    def clipped(self, w: int, h: int) -> Rect:
        """This rect inside a w×h frame."""
        x, y = max(0, self.x), max(0, self.y)
        return Rect(x, y, max(0, min(self.right, w) - x), max(0, min(self.bottom, h) - y))


def _even(value: float) -> int:
    """Round down to an even pixel count (4:2:0 chroma is sampled in 2×2 blocks)."""
    return max(2, int(value) // 2 * 2)


# -- platforms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SafeZone:
    """Margins the platform's interface covers, as fractions of the canvas."""

    top: float
    bottom: float
    left: float
    right: float

    def rect(self, w: int, h: int) -> Rect:
        x, y = math.ceil(w * self.left), math.ceil(h * self.top)
        return Rect(x, y, math.floor(w * (1 - self.right)) - x, math.floor(h * (1 - self.bottom)) - y)


# TikTok: top 180–250 px, bottom 320–460 px (another vendor: 35 %), right action rail 120–180 px of
# 1080×1920; we take the strict end of each. Reels (Meta): top 14 %, bottom 35 %, 6 % each side.
# Shorts: text ≈ 150 px from top and bottom, a right action column and a bottom title/subscribe
# area; no figure for that area was found, so the bottom uses Meta's 35 % (design to the strictest).
SAFE_ZONES: dict[str, SafeZone] = {
    "tiktok": SafeZone(top=250 / 1920, bottom=0.35, left=0.06, right=180 / 1080),
    "reels": SafeZone(top=0.14, bottom=0.35, left=0.06, right=0.06),
    "shorts": SafeZone(top=150 / 1920, bottom=0.35, left=0.06, right=0.15),
    "landscape": SafeZone(top=0.05, bottom=0.05, left=0.05, right=0.05),  # EBU R95 graphics-safe
}


class Aspect(StrEnum):
    VERTICAL = "9:16"
    LANDSCAPE = "16:9"


@dataclass(frozen=True)
class ClipPreset:
    """One upload target. Every field is checked by ffprobe in the tests."""

    key: str
    label: str
    aspect: Aspect
    width: int
    height: int
    video_kbps: int  # at ≤ 30 fps; `video_kbps_at` scales it for 48–60 fps (YouTube's 8 → 12 Mbit/s)
    safe: SafeZone
    max_seconds: float  # the platform's longest clip we target (not its absolute limit)
    min_seconds: float = 3.0  # Reels and TikTok refuse anything shorter
    audio_kbps: int = 128  # Reels: 128 kbps; Shorts: 128 kbps mono (program audio is mono)
    audio_rate: int = 48_000  # AAC-LC at 48 kHz
    profile: str = "high"  # x264 picks the level from size, rate and bitrate
    pix_fmt: str = "yuv420p"
    bframes: int = 2  # YouTube: 2 B-frames, closed GOP of half the frame rate
    gop_s: float = 0.5
    # x264 speed: ultrafast, but with the 8×8 transform (which makes it High profile) and B-frames.
    # Measured on 2 cores: 1080×1920 at ≈ 98 fps per core, 12 % less CPU than adding CABAC.
    x264_preset: str = "ultrafast"
    x264_params: str = "8x8dct=1:bframes=2:open-gop=0"

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def safe_rect(self) -> Rect:
        return self.safe.rect(self.width, self.height)

    def video_kbps_at(self, fps: float) -> int:
        return round(self.video_kbps * 1.5) if fps > 30.5 else self.video_kbps

    def gop_frames(self, fps: float) -> int:
        return max(1, round(fps * self.gop_s))


def _vertical(key: str, label: str, zone: str, max_seconds: float, small: bool) -> ClipPreset:
    # YouTube's upload table: 1080p 8 Mbit/s, 720p 5 Mbit/s at 24–30 fps. Reels accepts up to 25.
    size, kbps = ((720, 1280), 5000) if small else ((1080, 1920), 8000)
    return ClipPreset(key, label, Aspect.VERTICAL, *size, video_kbps=kbps, safe=SAFE_ZONES[zone],
                      max_seconds=max_seconds)  # fmt: skip


PRESETS: dict[str, ClipPreset] = {
    p.key: p
    for p in (
        _vertical("tiktok", "TikTok 9:16", "tiktok", 600.0, small=False),
        _vertical("reels", "Instagram Reels 9:16", "reels", 900.0, small=False),
        _vertical("shorts", "YouTube Shorts 9:16", "shorts", 180.0, small=False),
        # The same targets at 720×1280 for a weak machine: 2.25× fewer pixels to encode.
        _vertical("tiktok-720", "TikTok 9:16 (720p, weak machine)", "tiktok", 600.0, small=True),
        _vertical("reels-720", "Instagram Reels 9:16 (720p, weak machine)", "reels", 900.0, small=True),
        _vertical("shorts-720", "YouTube Shorts 9:16 (720p, weak machine)", "shorts", 180.0, small=True),
        # 16:9: remuxed as recorded when nothing is burned in; re-encoded to these when a caption is.
        ClipPreset("landscape", "16:9 (1080p)", Aspect.LANDSCAPE, 1920, 1080, 8000, SAFE_ZONES["landscape"], 3600.0),
        ClipPreset("landscape-720", "16:9 (720p)", Aspect.LANDSCAPE, 1280, 720, 5000, SAFE_ZONES["landscape"],
                   3600.0),
    )
}  # fmt: skip


class PresetError(ValueError):
    pass


def find_preset(key: str) -> ClipPreset:
    try:
        return PRESETS[key.strip().lower()]
    except KeyError:
        raise PresetError(f"there is no clip preset {key!r}; choose one of {', '.join(PRESETS)}") from None


def check_duration(preset: ClipPreset, seconds: float) -> str:
    """'' when the platform takes a clip this long, else the sentence saying why not."""
    if seconds < preset.min_seconds:
        return f"{preset.label} needs at least {preset.min_seconds:g} s; this clip is {seconds:.1f} s"
    if seconds > preset.max_seconds:
        return f"{preset.label} takes at most {preset.max_seconds:g} s; this clip is {seconds:.0f} s"
    return ""


# -- text metrics of the bundled fonts (resources/fonts, DejaVu) -------------------------------

# Advance widths of DejaVu Sans Bold, thousandths of an em, for ' ' … '~' (read with QFontMetricsF).
_SANS_BOLD = (
    "348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 696 696 696 "
    "696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 775 637 995 837 850 "
    "733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 675 716 593 716 678 435 716 "
    "712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 924 645 652 582 712 365 712 838"
)
SANS_ADVANCE = tuple(int(n) / 1000 for n in _SANS_BOLD.split())
MONO_ADVANCE = 0.602  # DejaVu Sans Mono Bold: every glyph
WIDE_FALLBACK = 1.0  # anything outside ASCII: assume a wide glyph, so a line never overflows
ASCENT, DESCENT = 0.928, 0.236  # of the pixel size


def text_width(text: str, px: int, mono: bool = False) -> float:
    """Pixel advance of `text` in the bundled bold face at pixel size `px`."""
    if mono:
        return len(text) * MONO_ADVANCE * px
    return sum(SANS_ADVANCE[o - 32] if 32 <= (o := ord(c)) <= 126 else WIDE_FALLBACK for c in text) * px


def line_height(px: int) -> int:
    """What Qt's integer QFontMetrics.height() gives for the bundled faces."""
    return round(ASCENT * px) + round(DESCENT * px)


# -- where the burned-in overlay is ------------------------------------------------------------


def overlay_box(corner: Corner, frame_w: int, frame_h: int, model: OverlayModel) -> Rect:
    """The overlay's plate in the program frame, as `booth.video.overlay_render` draws it
    (same fractions, same font metrics, same anchor), within ±2 px."""
    pad, gap = round(frame_h * 0.02), round(frame_h * 0.04)
    name_px, big_px = max(8, round(frame_h * NAME_TEXT)), max(8, round(frame_h * BIG_TEXT))
    left_w = math.ceil(max(text_width(model.product, name_px), text_width(model.stock_text, big_px) + pad))
    right_w = math.ceil(max(text_width(model.timer_label, name_px), text_width(model.timer_text, big_px, mono=True)))
    max_w = round(frame_w * 0.9) - 2 * pad
    left_w = min(left_w, max_w - right_w - gap)
    box_w = 2 * pad + left_w + gap + right_w
    box_h = 2 * pad + line_height(name_px) + line_height(big_px)
    x, y = anchor_point(corner, frame_w, frame_h, box_w, box_h)
    return Rect(x, y, box_w, box_h)


def overlay_extent(frame_w: int, frame_h: int, models: Iterable[OverlayModel], margin: int = 2) -> Rect | None:
    """Every place the overlay occupied over a clip (its text, so its width, changes), plus a margin."""
    box: Rect | None = None
    for model in models:
        one = overlay_box(model.corner, frame_w, frame_h, model)
        box = one if box is None else box.union(one)
    if box is None:
        return None
    return Rect(box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin).clipped(frame_w, frame_h)


# -- caption -----------------------------------------------------------------------------------

CAPTION_MAX_LINES = 3
CAPTION_TEXT = {Aspect.VERTICAL: 0.032, Aspect.LANDSCAPE: 0.05}  # pixel size / canvas height
CAPTION_PAD = 0.3  # plate padding, of the pixel size
CAPTION_GAP = 0.012  # between caption, overlay and picture, of the canvas height
CAPTION_LINE_GAP = 0.15  # between the plates of two lines, of the pixel size


@dataclass(frozen=True)
class CaptionLayout:
    lines: tuple[str, ...]
    font_px: int
    pad_px: int
    line_boxes: tuple[Rect, ...]  # each line's plate (text + padding), centred in the safe zone
    truncated: bool  # the text needed more than CAPTION_MAX_LINES lines and was shortened

    @property
    def block(self) -> Rect:
        box = self.line_boxes[0]
        for other in self.line_boxes[1:]:
            box = box.union(other)
        return box


def wrap_caption(text: str, px: int, max_width: float, max_lines: int = CAPTION_MAX_LINES) -> tuple[list[str], bool]:
    """Greedy word wrap with the font's advances; a word wider than a line is broken by letters.
    Control characters (line feeds included) become spaces: one paragraph, wrapped here."""
    words = "".join(c if c.isprintable() else " " for c in text).split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if text_width(candidate, px) <= max_width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for char in word:  # a word on its own, broken where it must be
            if line and text_width(line + char, px) > max_width:
                lines.append(line)
                line = ""
            line += char
    if line:
        lines.append(line)
    if len(lines) <= max_lines:
        return lines, False
    kept = lines[:max_lines]
    last = kept[-1]
    while last and text_width(last + "…", px) > max_width:
        last = last[:-1].rstrip()
    kept[-1] = last + "…"
    return kept, True


def place_caption(text: str, aspect: Aspect, canvas_h: int, safe: Rect, top: int) -> CaptionLayout | None:
    """The caption's lines from `top` down, centred in the safe zone; None for an empty caption."""
    px = max(12, round(canvas_h * CAPTION_TEXT[aspect]))
    pad = max(2, round(px * CAPTION_PAD))
    lines, truncated = wrap_caption(text, px, safe.w - 2 * pad)
    if not lines:
        return None
    boxes = []
    y = top
    height = line_height(px) + 2 * pad
    for line in lines:
        w = math.ceil(text_width(line, px)) + 2 * pad
        boxes.append(Rect(safe.x + (safe.w - w) // 2, y, w, height))
        y += height + round(px * CAPTION_LINE_GAP)
    return CaptionLayout(tuple(lines), px, pad, tuple(boxes), truncated)


# -- layout ------------------------------------------------------------------------------------


class Framing(StrEnum):
    CROP = "crop"  # a 9:16 window of the program, the counter and timer lifted into the safe zone
    BLUR = "blur"  # the whole frame on a blurred copy of itself
    SOLID = "solid"  # the whole frame on a solid background
    FULL = "full"  # 16:9: the whole frame, as it is


FOCUS_STEP = 0.05  # one nudge moves the crop window by 5 % of the program width
LIFT_MAX_HEIGHT = 0.12  # the lifted overlay is at most this share of the canvas height


def nudge_focus(focus_x: float, steps: int, step: float = FOCUS_STEP) -> float:
    """The crop focus after the host's nudges (left < 0 < right), kept inside the picture."""
    return min(1.0, max(0.0, round(focus_x + steps * step, 4)))


@dataclass(frozen=True)
class ClipLayout:
    frame_w: int  # the program frame
    frame_h: int
    canvas_w: int  # the clip
    canvas_h: int
    framing: Framing
    source: Rect  # the part of the program frame shown (the crop window, or the whole frame)
    picture: Rect  # where that part lands on the canvas
    safe: Rect  # the preset's safe zone on the canvas
    overlay: Rect | None  # where the counter and timer end up on the canvas (None: a clean clip)
    lift_from: Rect | None = None  # crop only: the overlay's plate in the program frame …
    hide: Rect | None = None  # … hidden in the picture (it overlaps the window) so it never shows twice
    caption: CaptionLayout | None = None

    @property
    def overlay_in_safe_zone(self) -> bool:
        return self.overlay is None or self.safe.contains(self.overlay)


class LayoutError(ValueError):
    pass


def plan_layout(
    preset: ClipPreset,
    program_w: int,
    program_h: int,
    framing: Framing,
    *,
    overlay: Rect | None = None,
    focus_x: float = 0.5,
    caption: str = "",
) -> ClipLayout:
    """Where everything goes. `overlay`: the burned-in plate in the program frame (None for a
    clean program). Raises LayoutError with a sentence for impossible requests."""
    if program_w < 16 or program_h < 16:
        raise LayoutError(f"the program frame {program_w}×{program_h} is too small to make a clip from")
    if overlay is not None:
        overlay = overlay.clipped(program_w, program_h)
        if overlay.w == 0 or overlay.h == 0:
            overlay = None
    if preset.aspect is Aspect.LANDSCAPE:
        if framing is not Framing.FULL:
            raise LayoutError(f"a 16:9 preset shows the full frame; {framing.value!r} is for 9:16 presets")
        return _landscape(preset, program_w, program_h, overlay, caption)
    if framing is Framing.FULL:
        raise LayoutError("a 9:16 preset needs crop, blur or solid framing")
    safe = preset.safe_rect()
    gap = round(preset.height * CAPTION_GAP)
    text = place_caption(caption, preset.aspect, preset.height, safe, safe.y)
    below_caption = text.block.bottom + gap if text else safe.y
    if framing is Framing.CROP:
        return _crop(preset, program_w, program_h, overlay, min(1.0, max(0.0, focus_x)), text, below_caption)
    return _fit(preset, program_w, program_h, framing, overlay, text, below_caption)


def _landscape(preset: ClipPreset, w: int, h: int, overlay: Rect | None, caption: str) -> ClipLayout:
    cw, ch = preset.size
    safe = preset.safe_rect()
    sx, sy = cw / w, ch / h
    on_canvas = None
    if overlay is not None:
        on_canvas = Rect(math.floor(overlay.x * sx), math.floor(overlay.y * sy),
                         math.ceil(overlay.w * sx), math.ceil(overlay.h * sy))  # fmt: skip
    text = place_caption(caption, preset.aspect, ch, safe, safe.y)
    if text is not None and on_canvas is not None and on_canvas.y < ch // 2:
        # the overlay sits in a top corner: the caption goes to the bottom of the safe area
        text = place_caption(caption, preset.aspect, ch, safe, safe.bottom - text.block.h)
    return ClipLayout(w, h, cw, ch, Framing.FULL, Rect(0, 0, w, h), Rect(0, 0, cw, ch), safe, on_canvas, caption=text)


def crop_window(w: int, h: int, focus_x: float) -> Rect:
    """The widest 9:16 window of a w×h frame, centred on `focus_x` (0 = left, 1 = right), clamped."""
    cw, ch = (_even(h * 9 / 16), _even(h)) if h * 9 / 16 <= w else (_even(w), _even(w * 16 / 9))
    x = round(focus_x * w - cw / 2)
    x = min(max(0, x), w - cw) // 2 * 2
    return Rect(x, (h - ch) // 2 // 2 * 2, cw, ch)


def _crop(preset: ClipPreset, w: int, h: int, overlay: Rect | None, focus_x: float,
          text: CaptionLayout | None, below_caption: int) -> ClipLayout:  # fmt: skip
    cw, ch = preset.size
    safe = preset.safe_rect()
    window = crop_window(w, h, focus_x)
    picture = Rect(0, 0, cw, ch)
    if overlay is None:
        return ClipLayout(w, h, cw, ch, Framing.CROP, window, picture, safe, None, caption=text)
    scale = cw / window.w
    in_place = Rect(round((overlay.x - window.x) * scale), round((overlay.y - window.y) * scale),
                    math.ceil(overlay.w * scale), math.ceil(overlay.h * scale))  # fmt: skip
    if window.contains(overlay) and safe.contains(in_place) and not (text and text.block.intersects(in_place)):
        return ClipLayout(w, h, cw, ch, Framing.CROP, window, picture, safe, in_place, caption=text)
    # Lift: as large as the safe zone's width allows, capped so it does not eat the picture.
    lift = min(safe.w / overlay.w, ch * LIFT_MAX_HEIGHT / overlay.h)
    lw, lh = _even(overlay.w * lift), _even(overlay.h * lift)
    if below_caption + lh > safe.bottom:
        raise LayoutError("the caption leaves no room for the counter and timer in the safe zone: shorten it")
    target = Rect(safe.x + (safe.w - lw) // 2 // 2 * 2, below_caption // 2 * 2 + 2, lw, lh)
    # Hide the whole plate (not just the part inside the window): the fill is interpolated from the
    # pixels around it, which must be picture, not plate.
    hide = overlay if overlay.intersects(window) else None
    return ClipLayout(w, h, cw, ch, Framing.CROP, window, picture, safe, target, lift_from=overlay, hide=hide,
                      caption=text)  # fmt: skip



def _fit(preset: ClipPreset, w: int, h: int, framing: Framing, overlay: Rect | None,
         text: CaptionLayout | None, below_caption: int) -> ClipLayout:  # fmt: skip
    """The largest scale s at which the frame fits the canvas under the caption and its overlay
    lies in the safe zone. Every constraint is linear in s and holds as s → 0, so the feasible
    scales are an interval [0, s*]: bisect for s*."""
    cw, ch = preset.size
    safe = preset.safe_rect()
    guard = 2  # pixels: rounding to even sizes never pushes the overlay out
    inner = Rect(safe.x + guard, safe.y + guard, safe.w - 2 * guard, safe.h - 2 * guard)
    top = below_caption if text else 0

    def spans(s: float) -> tuple[tuple[float, float], tuple[float, float]]:
        x_lo, x_hi = 0.0, cw - s * w
        y_lo, y_hi = float(top), ch - s * h
        if overlay is not None:
            x_lo, x_hi = max(x_lo, inner.x - s * overlay.x), min(x_hi, inner.right - s * overlay.right)
            y_lo, y_hi = max(y_lo, inner.y - s * overlay.y), min(y_hi, inner.bottom - s * overlay.bottom)
        return (x_lo, x_hi), (y_lo, y_hi)

    def fits(s: float) -> bool:
        (x_lo, x_hi), (y_lo, y_hi) = spans(s)
        return x_lo <= x_hi and y_lo <= y_hi

    lo, hi = 0.0, min(cw / w, ch / h)
    if fits(hi):
        lo = hi
    else:
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    if lo * h < ch * 0.1:
        raise LayoutError("the caption and the overlay leave no room for the picture: shorten the caption")
    s = lo
    pw, ph = _even(w * s), _even(h * s)
    s = min(pw / w, ph / h)
    (x_lo, x_hi), (y_lo, y_hi) = spans(s)
    x = min(max((cw - pw) / 2, x_lo), x_hi)  # centred when it can be
    band_bottom = safe.bottom if overlay is not None else ch
    y = min(max((top + band_bottom - ph) / 2, y_lo), y_hi)  # centred in what is left of the safe band
    px, py = math.ceil(x / 2) * 2, math.ceil(y / 2) * 2
    if px + pw > cw or (overlay is not None and px + overlay.right * s > inner.right + guard):
        px -= 2
    if py + ph > ch or (overlay is not None and py + overlay.bottom * s > inner.bottom + guard):
        py -= 2
    on_canvas = None
    if overlay is not None:
        on_canvas = Rect(math.floor(px + overlay.x * s), math.floor(py + overlay.y * s),
                         math.ceil(overlay.w * s), math.ceil(overlay.h * s))  # fmt: skip
    return ClipLayout(w, h, cw, ch, framing, Rect(0, 0, w, h), Rect(px, py, pw, ph), safe, on_canvas, caption=text)
