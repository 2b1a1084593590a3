"""Clip exports with the system ffmpeg (Debian's): command lines, progress, and the low-priority process.

What goes where:
- the layout (`booth.core.clip_presets.ClipLayout`) becomes a filter graph written to a *file*
  (`-filter_complex_script`), and every caption line is its own text file read by drawtext with
  `expansion=none`: the host's words are never on a command line, never parsed as ffmpeg syntax;
- the process runs under `nice -n 19` (or `setpriority` where there is no `nice`), with x264, the
  decoder and the filter graph held to a few threads, so the program's encoder and compositor
  always win the CPU; it writes `-progress` key=value lines on stdout, which become a fraction;
- output goes to `NAME.part` and is renamed only when ffmpeg exited 0, so a half-written or
  cancelled clip never looks like a finished one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from booth.core.clip_presets import ClipLayout, ClipPreset, Framing, Rect

log = logging.getLogger(__name__)

NICE = 19
BACKGROUND = "0x141414"  # the solid framing's background
BLUR_DOWNSCALE = 8  # the blurred background is made at 1/8 size: nearly free, and blurrier for it
CAPTION_PLATE = "black@0.62"  # the overlay's plate opacity (booth.core.overlay.PLATE_ALPHA)


class ExportError(RuntimeError):
    pass


def find_ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    if not path:
        raise ExportError("ffmpeg is not installed: clip export needs it (apt install ffmpeg)")
    return path


@dataclass(frozen=True)
class Segment:
    """A stretch of one MPEG-TS file that starts at a keyframe: from `start_s` (seconds after the
    file's first timestamp; ffmpeg decodes up to there and drops it) for `duration_s`."""

    path: Path
    start_s: float = 0.0
    duration_s: float | None = None  # None: to the end


@dataclass(frozen=True)
class FfmpegJob:
    """One ffmpeg run: its argv (no user text in it), the text files it reads, what it writes."""

    argv: list[str]
    files: dict[Path, str] = field(default_factory=dict)
    output: Path = Path()
    part: Path = Path()  # where ffmpeg writes; renamed to `output` on success
    duration_s: float = 0.0  # of the output, for progress


# -- filter graph escaping ---------------------------------------------------------------------


def escape_option(value: str) -> str:
    """A value inside a filter's options, then inside the graph (ffmpeg-filters §4.1 'Notes on
    filtergraph escaping'): paths with spaces, quotes, colons or brackets stay one value."""
    for char in ("\\", "'", ":"):
        value = value.replace(char, "\\" + char)
    for char in ("\\", "'", "[", "]", ",", ";"):
        value = value.replace(char, "\\" + char)
    return value


def _r(rect: Rect) -> str:
    return f"w={rect.w}:h={rect.h}:x={rect.x}:y={rect.y}"


# -- the filter graph of a layout --------------------------------------------------------------


def layout_filters(layout: ClipLayout, source: str, caption_files: Sequence[Path], font: Path) -> list[str]:
    """Filter chains turning `source` (a pad label) into `[v]`, the finished picture."""
    cw, ch = layout.canvas_w, layout.canvas_h
    chains: list[str] = []
    if layout.framing is Framing.CROP:
        picture = "crop=" + _r(layout.source) + f",scale={cw}:{ch}:flags=bilinear"
        if layout.lift_from is not None and layout.overlay is not None:
            lift, to = layout.lift_from, layout.overlay
            hide = "" if layout.hide is None else f"delogo={_delogo_rect(layout.hide, layout.frame_w, layout.frame_h)},"
            chains += [
                f"{source}split=2[pic][ovl]",
                f"[pic]{hide}{picture}[bg]",
                f"[ovl]crop={_r(lift)},scale={to.w}:{to.h}:flags=bicubic[lift]",
                f"[bg][lift]overlay=x={to.x}:y={to.y}[base]",
            ]
        else:
            chains.append(f"{source}{picture}[base]")
    elif layout.framing is Framing.SOLID:
        p = layout.picture
        chains.append(f"{source}scale={p.w}:{p.h}:flags=bilinear,pad={cw}:{ch}:{p.x}:{p.y}:color={BACKGROUND}[base]")
    elif layout.framing is Framing.BLUR:
        p, src = layout.picture, layout.source
        # the background: the middle 9:16 of the frame, small, blurred until no text (the overlay's
        # included) can be read in it, dimmed, scaled back up
        bw, bh = max(2, cw // BLUR_DOWNSCALE // 2 * 2), max(2, ch // BLUR_DOWNSCALE // 2 * 2)
        cover_w = min(src.w, src.h * cw // ch) // 2 * 2
        chains += [
            f"{source}split=2[full][back]",
            f"[back]crop=w={cover_w}:h={src.h}:x={(src.w - cover_w) // 2 // 2 * 2}:y=0,scale={bw}:{bh},"
            f"boxblur=10:3,lutyuv=y=val*0.55,scale={cw}:{ch}:flags=bilinear[bg]",  # dim: the frame stands out
            f"[full]scale={p.w}:{p.h}:flags=bilinear[fg]",
            f"[bg][fg]overlay=x={p.x}:y={p.y}[base]",
        ]
    else:  # FULL: 16:9
        chains.append(f"{source}scale={cw}:{ch}:flags=bicubic[base]")
    last = "[base]"
    text = layout.caption
    if text is not None:
        draws = []
        centre = layout.safe.x + layout.safe.w // 2
        for box, path in zip(text.line_boxes, caption_files, strict=True):
            draws.append(
                f"drawtext=fontfile={escape_option(str(font))}:textfile={escape_option(str(path))}:expansion=none"
                f":fontsize={text.font_px}:fontcolor=white:box=1:boxcolor={CAPTION_PLATE}:boxborderw={text.pad_px}"
                f":x={centre}-text_w/2:y={box.y + text.pad_px}"
            )
        chains.append(f"{last}{','.join(draws)}[capt]")
        last = "[capt]"
    chains.append(f"{last}format=yuv420p,setsar=1[v]")
    return chains


def _delogo_rect(hide: Rect, frame_w: int, frame_h: int) -> str:
    # delogo interpolates from the pixels around the rectangle: keep one pixel of frame on every side
    x, y = max(1, hide.x), max(1, hide.y)
    right, bottom = min(frame_w - 1, hide.right), min(frame_h - 1, hide.bottom)
    return f"x={x}:y={y}:w={max(1, right - x)}:h={max(1, bottom - y)}"


# -- commands ----------------------------------------------------------------------------------

_COMMON = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
           "-stats_period", "0.25"]  # fmt: skip


def _input(segment: Segment, threads: int) -> list[str]:
    # No input -ss: ffmpeg 5.1 seeking in a TS lands on the keyframe *after* the target. The file
    # starts at the keyframe before it instead (booth.program_out.ts_window) and trim cuts exactly.
    return ["-threads", str(threads), "-f", "mpegts", "-i", str(segment.path)]


def _trim(segment: Segment, index: int) -> tuple[str, str]:
    """Video and audio chains cutting one input to its stretch, both starting at 0."""
    span = f"start={segment.start_s:.3f}" + (f":duration={segment.duration_s:.3f}" if segment.duration_s else "")
    return (f"[{index}:v:0]trim={span},setpts=PTS-STARTPTS[v{index}]",
            f"[{index}:a:0]atrim={span},asetpts=PTS-STARTPTS[a{index}]")  # fmt: skip



def _encode_args(preset: ClipPreset, fps: float, threads: int) -> list[str]:
    kbps = preset.video_kbps_at(fps)
    gop = preset.gop_frames(fps)
    return [
        "-c:v", "libx264", "-preset", preset.x264_preset, "-x264-params", preset.x264_params,
        "-profile:v", preset.profile, "-pix_fmt", preset.pix_fmt, "-threads", str(threads),
        "-g", str(gop), "-keyint_min", str(gop), "-bf", str(preset.bframes),
        "-b:v", f"{kbps}k", "-maxrate", f"{round(kbps * 1.25)}k", "-bufsize", f"{kbps * 2}k",
        "-r", f"{fps:g}",
        "-c:a", "aac", "-b:a", f"{preset.audio_kbps}k", "-ar", str(preset.audio_rate),
    ]  # fmt: skip


def _mp4_out(part: Path) -> list[str]:
    # moov before mdat (faststart) and no edit list: what YouTube and Meta ask of an upload. Without an
    # edit list the muxer moves both tracks by the B-frame delay (2 frames), so they stay in sync.
    return ["-movflags", "+faststart", "-use_editlist", "0", "-f", "mp4", str(part)]


def _part(output: Path) -> Path:
    return output.with_name(output.name + ".part")


def clip_command(
    ffmpeg: str,
    segments: Sequence[Segment],
    layout: ClipLayout,
    preset: ClipPreset,
    fps: float,
    output: Path,
    workdir: Path,
    font: Path,
    *,
    threads: int = 2,
) -> FfmpegJob:
    """A re-encoded clip (9:16, or 16:9 with a caption) from one or more stretches of TS, joined
    in order (the recap). Text files go into `workdir`."""
    if not segments:
        raise ExportError("nothing to export: no stretch of the program was given")
    files: dict[Path, str] = {}
    captions = []
    if layout.caption is not None:
        for i, line in enumerate(layout.caption.lines):
            path = workdir / f"caption-{i}.txt"
            files[path] = line  # no trailing newline: drawtext would draw an empty line
            captions.append(path)
    inputs: list[str] = []
    chains: list[str] = []
    for index, segment in enumerate(segments):
        inputs += _input(segment, threads)
        chains += _trim(segment, index)
    if len(segments) == 1:
        source, audio = "[v0]", "[a0]"
    else:
        pads = "".join(f"[v{i}][a{i}]" for i in range(len(segments)))
        chains.append(f"{pads}concat=n={len(segments)}:v=1:a=1[joined][aout]")
        source, audio = "[joined]", "[aout]"
    chains += layout_filters(layout, source, captions, font)
    script = workdir / "filters.txt"
    files[script] = ";\n".join(chains) + "\n"
    part = _part(output)
    argv = [
        ffmpeg, *_COMMON, *inputs, "-filter_threads", "1", "-filter_complex_threads", "1",
        "-filter_complex_script", str(script), "-map", "[v]", "-map", audio,
        *_encode_args(preset, fps, threads), *_mp4_out(part),
    ]  # fmt: skip
    duration = sum(s.duration_s or 0.0 for s in segments)
    return FfmpegJob(argv, files, output, part, duration)


def remux_command(ffmpeg: str, segment: Segment, output: Path) -> FfmpegJob:
    """16:9 as encoded: a packet copy from the keyframe the file starts at, no re-encode (the start
    can only be a keyframe; `start_s` is ignored, `duration_s` is kept)."""
    part = _part(output)
    limit = ["-t", f"{segment.duration_s:.3f}"] if segment.duration_s else []
    argv = [ffmpeg, *_COMMON, "-f", "mpegts", "-i", str(segment.path), *limit, "-map", "0:v:0", "-map", "0:a:0?",
            "-c", "copy", *_mp4_out(part)]  # fmt: skip
    return FfmpegJob(argv, {}, output, part, segment.duration_s or 0.0)


def thumbnail_command(ffmpeg: str, video: Path, at_s: float, output: Path, width: int) -> FfmpegJob:
    """One JPEG from a finished clip, `width` pixels wide."""
    part = _part(output)
    argv = [ffmpeg, *_COMMON, "-threads", "1", "-ss", f"{max(0.0, at_s):.3f}", "-i", str(video),
            "-frames:v", "1", "-vf", f"scale={width}:-2", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg",
            str(part)]  # fmt: skip
    return FfmpegJob(argv, {}, output, part, 0.0)


# -- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    out_s: float  # output time written so far
    fraction: float  # 0 … 1 of the expected duration (0 when unknown)
    speed: float  # × real time, as ffmpeg reports it (0 when unknown)
    done: bool


class ProgressParser:
    """`-progress` output (key=value lines, a block ends with progress=continue|end) → Progress."""

    def __init__(self, duration_s: float) -> None:
        self.duration_s = duration_s
        self._block: dict[str, str] = {}

    def feed(self, line: str) -> Progress | None:
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        if key != "progress":
            self._block[key] = value.strip()
            return None
        block, self._block = self._block, {}
        out_s = 0.0
        us = block.get("out_time_us") or block.get("out_time_ms")  # both are microseconds in ffmpeg 5
        if us and us.lstrip("-").isdigit():
            out_s = max(0.0, int(us) / 1e6)
        speed_text = block.get("speed", "").rstrip("x").strip()
        try:
            speed = float(speed_text)
        except ValueError:
            speed = 0.0
        done = value.strip() == "end"
        fraction = min(1.0, out_s / self.duration_s) if self.duration_s > 0 else 0.0
        return Progress(out_s, 1.0 if done else fraction, speed, done)


# -- the worker process ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    ok: bool
    output: Path | None
    message: str  # the error in words when not ok
    cancelled: bool = False


class FfmpegRun:
    """One export process at low priority. `run` blocks (call it from the export thread);
    `cancel` may be called from any thread and kills the process by its PID."""

    def __init__(self, job: FfmpegJob, nice: int = NICE) -> None:
        self.job = job
        self.nice = nice
        self._proc: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()

    def run(self, on_progress: Callable[[Progress], None] | None = None) -> RunResult:
        job = self.job
        for path, text in job.files.items():
            path.write_text(text, encoding="utf-8")
        job.part.parent.mkdir(parents=True, exist_ok=True)
        err_path = job.part.with_name(job.part.name + ".log")
        argv = list(job.argv)
        nice_bin = shutil.which("nice")
        if nice_bin:
            argv = [nice_bin, "-n", str(self.nice), *argv]  # niced from its first instruction
        with open(err_path, "wb") as err:
            with self._lock:
                if self._cancelled.is_set():
                    return RunResult(False, None, "cancelled", cancelled=True)
                try:
                    self._proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
                except OSError as exc:
                    return RunResult(False, None, f"ffmpeg could not start: {exc}")
                proc = self._proc
            if not nice_bin:
                with contextlib.suppress(OSError):
                    os.setpriority(os.PRIO_PROCESS, proc.pid, self.nice)
            parser = ProgressParser(job.duration_s)
            assert proc.stdout is not None
            with contextlib.suppress(OSError, ValueError):
                for raw in iter(proc.stdout.readline, b""):
                    progress = parser.feed(raw.decode("utf-8", "replace"))
                    if progress is not None and on_progress is not None:
                        on_progress(progress)
            proc.stdout.close()
            code = proc.wait()
        tail = ""
        with contextlib.suppress(OSError):
            tail = err_path.read_text("utf-8", "replace").strip()
            err_path.unlink()
        if self._cancelled.is_set():
            _remove(job.part)
            return RunResult(False, None, "cancelled", cancelled=True)
        if code != 0 or not job.part.exists() or job.part.stat().st_size == 0:
            _remove(job.part)
            last = tail.splitlines()[-1] if tail else f"exit code {code}"
            log.error("export of %s failed (exit %s): %s", job.output.name, code, tail[-600:])
            return RunResult(False, None, f"ffmpeg failed: {last[:200]}")
        os.replace(job.part, job.output)
        return RunResult(True, job.output, "")


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


# -- reading a finished file -------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration_s: float
    profile: str  # "High", "Constrained Baseline", …


def probe_video(path: Path) -> VideoInfo:
    """Size, rate and length of a file's first video stream (ffprobe); ExportError when unreadable."""
    ffprobe = shutil.which("ffprobe")
    if not ffprobe:
        raise ExportError("ffprobe is not installed: clip export needs it (apt install ffmpeg)")
    try:
        done = subprocess.run(
            [ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries",
             "stream=width,height,avg_frame_rate,r_frame_rate,profile:format=duration", "-of", "json", str(path)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        info = json.loads(done.stdout or "{}")
        stream = info["streams"][0]
        rate = _rate(stream.get("avg_frame_rate")) or _rate(stream.get("r_frame_rate")) or 30.0
        duration = float(info.get("format", {}).get("duration") or 0.0)
        return VideoInfo(int(stream["width"]), int(stream["height"]), rate, duration, str(stream.get("profile", "")))
    except (OSError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as exc:
        log.debug("ffprobe could not read %s: %r", path, exc)
        raise ExportError(f"{path.name} has no readable video") from None


def _rate(text: str | None) -> float:
    num, _, den = (text or "").partition("/")
    try:
        value = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0
    return value if 0 < value <= 240 else 0.0
