"""The README's pictures of each clip version: one frame of each, from real exports of a real
program (the demo camera, the real overlay, the real encoders), scaled down to stay small.

    python -m booth.bench.clip_frames resources/clips
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from booth.bench.clip_program import make_program
from booth.core.clip_presets import Framing
from booth.core.overlay import AMBER, Corner, OverlayModel
from booth.program_out.export import ExportQueue, ExportRequest, ExportSource, JobState

SIZE, FPS = (1280, 720), 30.0
MODEL = OverlayModel("DEMO TEE / BLACK", "7 LEFT", AMBER, "00:09", "LAST CALL", AMBER, Corner.BOTTOM_LEFT)
CAPTION = "Only 7 left: last call on the black tee!"
# (file, preset, framing, clean, remux, caption)
VERSIONS = [
    ("landscape-overlay", "landscape", Framing.FULL, False, True, ""),
    ("landscape-clean", "landscape", Framing.FULL, True, True, ""),
    ("vertical-crop-overlay", "tiktok", Framing.CROP, False, False, CAPTION),
    ("vertical-blur-overlay", "tiktok", Framing.BLUR, False, False, CAPTION),
    ("vertical-crop-clean", "tiktok", Framing.CROP, True, False, CAPTION),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--width", type=int, default=360, help="width of a 9:16 picture (16:9: twice that)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([])
    program = make_program(SIZE, FPS, 4.0, MODEL)
    work = Path(tempfile.mkdtemp(prefix="booth-clip-frames-"))
    queue = ExportQueue()
    queue.start()
    args.folder.mkdir(parents=True, exist_ok=True)
    try:
        for name, preset, framing, clean, remux, caption in VERSIONS:
            source = ExportSource(0.0, 3.5, data=program.clean_ts if clean else program.ts)
            overlay = None if clean else program.overlay
            request = ExportRequest(source, work, name, preset=preset, framing=framing, frame_size=SIZE, fps=FPS,
                                    overlay=overlay, caption=caption, remux=remux)  # fmt: skip
            status = queue.submit(request).future.result(120)
            if status.state is not JobState.DONE or status.path is None:
                print(f"{name}: {status.message}", file=sys.stderr)
                return 1
            width = args.width * 2 if preset.startswith("landscape") else args.width
            out = args.folder / f"{name}.png"
            subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-v", "error", "-y", "-ss", "2.0", "-i",
                            str(status.path), "-frames:v", "1", "-vf", f"scale={width}:-2:flags=lanczos",
                            "-compression_level", "9", str(out)], check=True)  # fmt: skip
            print(f"{out}  {out.stat().st_size // 1024} KB")
    finally:
        queue.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
