"""The frozen bundle's entry point: the `booth` command, plus the two ways Booth starts itself again.

A PyInstaller bundle has no `python` to run, so `sys.executable` is the bundle's own `booth`
program. Booth starts child processes with it in two places, and both must keep working frozen:

- `sys.executable -m booth.<module> …` (the encoder process, the bench's sender): handled here
  like `python -m`, for Booth's own modules only;
- multiprocessing's resource tracker (shared memory for the encoder's frames), which runs
  `sys.executable … -c "from multiprocessing.resource_tracker import main …"`: PyInstaller's
  runtime hook handles that inside `multiprocessing.freeze_support()`.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys


def main() -> int:
    multiprocessing.freeze_support()  # returns at once unless this process is a multiprocessing helper
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        if module != "booth" and not module.startswith("booth."):
            sys.stderr.write(f"booth: -m runs Booth's own modules only, not {module!r}\n")
            return 2
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from booth.cli import main as booth_main

    return booth_main()


if __name__ == "__main__":
    sys.exit(main())
