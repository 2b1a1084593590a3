"""`booth pack`: after the drop, the clip pack of a session — a clip and thumbnail per marked moment,
a 60–90 s recap and the manifest — cut from the recording the session log names.

    booth pack                          the latest session, TikTok 9:16, crop framing
    booth pack 3 --preset reels-720 --framing blur

The pack goes beside the recording (`booth-…-pack/`), where `booth report --format html` finds it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session", nargs="?", type=int, metavar="SESSION", help="session id (default: the latest)")
    parser.add_argument("--preset", default="tiktok", help="clip preset (default tiktok; tiktok-720 on a weak machine)")
    parser.add_argument("--framing", default="crop", choices=("crop", "blur", "solid"), help="9:16 framing")
    parser.add_argument("--clip-seconds", type=float, default=15.0, help="one moment's clip (default 15)")
    parser.add_argument("--clean", action="store_true", help="cut the clean recording (without the overlay)")
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="where the session log lives (default: the user data folder)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from booth.core.clip_plan import pack_folder
    from booth.core.clip_presets import Framing, PresetError, find_preset
    from booth.devices.clip_export import ExportError, probe_video
    from booth.program_out.export import ExportQueue
    from booth.program_out.pack import make_pack, moments_from_log, overlay_places
    from booth.store import kinds
    from booth.store.db import StoreError
    from booth.store.paths import resolve_data_dir
    from booth.store.reader import SessionReader

    try:
        preset = find_preset(args.preset)
        with SessionReader.open(resolve_data_dir(args.data_dir)) as reader:
            session = reader.session(args.session)
            events = reader.events(session.id)
    except (StoreError, PresetError) as exc:
        sys.stderr.write(f"booth pack: {exc}\n")
        return 1
    recordings = next((row.payload for row in reversed(events) if row.kind == kinds.RECORDING), {})
    which = "clean" if args.clean else "program"
    recording = recordings.get(which)
    if not recording:
        hint = "set [clips] clean = true for one" if args.clean else "was recording off?"
        sys.stderr.write(f"booth pack: session {session.id} has no {which} recording in its log ({hint}).\n")
        return 1
    path = Path(str(recording))
    moments = moments_from_log(session, events)
    overlay = None
    if not args.clean:
        try:
            info = probe_video(path)
        except ExportError as exc:
            sys.stderr.write(f"booth pack: the recording {path}: {exc}.\n")
            return 1
        overlay = overlay_places(session, info.width, info.height)
    folder = Path(pack_folder(path))
    queue = ExportQueue()
    queue.start()
    try:
        result = make_pack(moments, path, folder, queue, preset=preset.key, framing=Framing(args.framing),
                           overlay=overlay, clip_s=args.clip_seconds,
                           on_progress=lambda n, total, status: print(f"{n}/{total} {status.message}"))  # fmt: skip
    finally:
        queue.stop()
    for problem in result.problems:
        sys.stderr.write(f"booth pack: {problem}\n")
    print(f"Pack: {len(result.rows)} clips in {folder} (manifest.csv, manifest.json)")
    return 0 if result.ok else 1
