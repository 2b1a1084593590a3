"""The program clock: slot k of the program is due at `origin + k / fps`, exactly, for as long as it runs.

Every program frame is composed for one slot and carries it; the encoder's PTS is the slot, so the
video timeline is the program clock by construction (never a count of frames, which creeps when
the compositor runs a little fast, nor a reading of a clock, which jitters). A slot the compositor
could not fill in time (the machine stalled) is skipped, and leaves a gap in PTS.

Phase lock: when a source delivers at the program rate, its frames should be composed the moment
they land rather than up to a frame later. The compose moment of a slot is its due time plus a
*phase*, which follows the source's arrivals but is bounded to ± half a period, so it can never
accumulate: over any stretch the program emits exactly `fps` frames per second of the clock. A
source running a little fast or slow slides through the window and, once per wrap, loses or repeats
a frame — the program's rate is the program's, not the source's.

A slot's window opens a whole period before its compose moment (and closes half a period after):
a source whose frames land right at the seam between two windows — where the bounded phase cannot
follow it — would otherwise settle with every frame waiting half a period for the next window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PHASE_GAIN = 0.25  # how quickly the compose moment locks onto a source's rhythm


@dataclass(frozen=True)
class Window:
    slot: int
    at: float  # the program clock's instant for this slot (monotonic): what the frame is composed FOR
    opens: float  # the earliest moment a fresh picture may be taken for it
    closes: float  # past this, the last picture is shown again


class ProgramClock:
    """Slots and their compose windows. Pure arithmetic: the caller passes every `now`."""

    def __init__(self, fps: float, origin: float, gain: float = PHASE_GAIN) -> None:
        if fps <= 0:
            raise ValueError(f"the program rate must be positive, got {fps}")
        self.fps = fps
        self.period = 1.0 / fps
        self.origin = origin
        self.gain = gain
        self.slot = 0  # the next slot to compose
        self.phase = 0.0  # compose moment − due time, within ± half a period
        self.skipped = 0  # slots given up because the machine was too late for them

    def at(self, slot: int) -> float:
        """The program clock's instant for `slot`."""
        return self.origin + slot * self.period

    def seconds(self, slot: int) -> float:
        """Program time of `slot`, in seconds since the origin."""
        return slot * self.period

    def slot_at(self, instant: float) -> int:
        """The slot whose time is nearest to `instant`."""
        return math.floor((instant - self.origin) * self.fps + 0.5)

    def window(self) -> Window:
        centre = self.at(self.slot) + self.phase
        return Window(self.slot, self.at(self.slot), centre - self.period, centre + self.period / 2)

    def composed(self, now: float, arrival: float | None = None) -> int:
        """The current slot is done; `arrival`: when its fresh picture landed, if the source is in step.

        Moves to the next slot and returns how many slots were skipped because `now` is already
        past their windows (0 normally).
        """
        half = self.period / 2
        if arrival is not None:
            error = min(half, max(-half, arrival - (self.at(self.slot) + self.phase)))
            self.phase = min(half, max(-half, self.phase + self.gain * error))
        self.slot += 1
        late = now - (self.at(self.slot) + self.phase + half)
        if late <= 0:
            return 0
        # Fell behind by more than a window: give up the slots already past, never burst to catch up.
        skip = math.floor(late / self.period) + 1
        self.slot += skip
        self.skipped += skip
        return skip
