"""Estimate how long a waiting ticket will wait, from recent handling times and officers on duty."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Used when no contact has been finished yet (start of the day, a new service): ten minutes is
# the typical length of a contact at a police desk, so the first estimates are plausible.
DEFAULT_HANDLING_SECONDS = 600.0

# How many imaginary contacts of DEFAULT_HANDLING_SECONDS are blended with the real ones.
# Handling times are skewed (most contacts are short, a few take an hour), so the mean of
# three or four contacts can double or halve from one contact to the next; five pseudo-contacts
# keep the shown wait steady until there is real evidence, and fade out once a few dozen
# contacts have been measured.
DEFAULT_PRIOR_WEIGHT = 5

# The standard normal quantile for 90%: low and high are the 10th and 90th percentiles, so
# about eight citizens in ten are called inside the band (see docs/waiting-time.md).
BAND_Z = 1.2815515655446004

# Above this many minutes the estimate is shown in steps of five minutes: the band is then
# wider than five minutes, so "17 minutes" would claim a precision we do not have.
COARSE_FROM_MINUTES = 15
COARSE_STEP_MINUTES = 5


@dataclass(frozen=True)
class HandlingStats:
    """How long an officer is occupied by one ticket, estimated from recent contacts.

    A duration should run from taking the ticket until the officer is available again
    (contact plus wrap-up): that is the time the officer cannot take the next ticket.
    """

    mean_seconds: float
    sample_size: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mean_seconds) and self.mean_seconds > 0):
            raise ValueError("mean_seconds must be a positive number")
        if self.sample_size < 0:
            raise ValueError("sample_size must not be negative")

    @classmethod
    def from_durations(
        cls,
        durations: Sequence[float],
        *,
        default_seconds: float = DEFAULT_HANDLING_SECONDS,
        prior_weight: int = DEFAULT_PRIOR_WEIGHT,
    ) -> HandlingStats:
        """Blend the recent durations with `prior_weight` contacts of `default_seconds`.

        This is the posterior-style shrunk mean (sum + weight * default) / (n + weight): with
        no data it is the default, with many contacts it is the sample mean.
        """
        if not (math.isfinite(default_seconds) and default_seconds > 0):
            raise ValueError("default_seconds must be a positive number")
        if prior_weight < 0:
            raise ValueError("prior_weight must not be negative")
        if any(not (math.isfinite(d) and d >= 0) for d in durations):
            raise ValueError("durations must be finite and not negative")
        n = len(durations)
        if n + prior_weight == 0:
            return cls(mean_seconds=default_seconds, sample_size=0)
        total = math.fsum(durations) + prior_weight * default_seconds
        mean = total / (n + prior_weight)
        # All-zero durations with no prior would give a zero mean: a wait of "nothing, always"
        # is never honest, so fall back to the default.
        return cls(mean_seconds=mean if mean > 0 else default_seconds, sample_size=n)


@dataclass(frozen=True)
class WaitEstimate:
    """An expected wait with an 80% band; unknown when nobody on duty can serve the ticket."""

    seconds: float | None
    low_seconds: float | None
    high_seconds: float | None
    is_known: bool

    def __post_init__(self) -> None:
        values = (self.seconds, self.low_seconds, self.high_seconds)
        if not self.is_known:
            if any(v is not None for v in values):
                raise ValueError("an unknown estimate carries no numbers")
            return
        if self.seconds is None or self.low_seconds is None or self.high_seconds is None:
            raise ValueError("a known estimate needs seconds, low_seconds and high_seconds")
        if not 0 <= self.low_seconds <= self.seconds <= self.high_seconds:
            raise ValueError("expected 0 <= low_seconds <= seconds <= high_seconds")

    @classmethod
    def unknown(cls) -> WaitEstimate:
        return cls(seconds=None, low_seconds=None, high_seconds=None, is_known=False)

    def minutes_rounded(self) -> int | None:
        """The wait to show, in whole minutes; None when unknown, 0 when it is the ticket's turn.

        Rounded up, and to five-minute steps above fifteen minutes, so the number is never
        more precise than the estimate and a citizen is rarely told less than they will wait.
        """
        if self.seconds is None:
            return None
        # The small tolerance keeps exactly 600.0 s at 10 minutes despite float noise.
        minutes = max(0, math.ceil(self.seconds / 60 - 1e-9))
        if minutes > COARSE_FROM_MINUTES:
            minutes = COARSE_STEP_MINUTES * math.ceil(minutes / COARSE_STEP_MINUTES)
        return minutes


def estimate_wait(
    *, ahead: int, officers_free: int, officers_on_duty: int, stats: HandlingStats
) -> WaitEstimate:
    """Estimate the wait of one ticket (method and measured error: docs/waiting-time.md).

    `ahead` counts tickets that will be served before this one by the officers who can serve
    it; `officers_on_duty` counts those officers when available, busy or in wrap-up;
    `officers_free` those available now. Raises ValueError on inconsistent counts.
    """
    if ahead < 0 or officers_free < 0 or officers_on_duty < 0:
        raise ValueError("counts must not be negative")
    if officers_free > officers_on_duty:
        raise ValueError("officers_free cannot exceed officers_on_duty")
    if officers_on_duty == 0:
        # Nobody can serve this ticket until an officer comes on duty, and when that will be is
        # not in the data: any number would be invented.
        return WaitEstimate.unknown()
    if ahead < officers_free:
        # A free officer is left for this ticket once those ahead are handed out. The offer and
        # accept take seconds, below what the one-minute display can show.
        return WaitEstimate(seconds=0.0, low_seconds=0.0, high_seconds=0.0, is_known=True)
    # Every on-duty officer is busy once the free ones have taken tickets ahead; this ticket
    # is taken at the k-th departure after that. With exponential handling times (M/M/c)
    # departures of c busy officers form a Poisson stream of rate c/mean, so the wait is
    # Erlang(k) with that rate: mean k*m/c, standard deviation sqrt(k)*m/c.
    departures = ahead - officers_free + 1
    per_departure = stats.mean_seconds / officers_on_duty
    low, high = _erlang_band(departures)
    return WaitEstimate(
        seconds=departures * per_departure,
        low_seconds=low * per_departure,
        high_seconds=high * per_departure,
        is_known=True,
    )


def _erlang_band(k: int) -> tuple[float, float]:
    """The 10th and 90th percentiles of a sum of k unit exponentials (Erlang, rate 1).

    Wilson-Hilferty's cube-root approximation of gamma quantiles: closed form, within a few
    percent even for k = 1, where mean +- 1.28 sd would give a band of 0 .. 2.3 with a
    negative lower end clipped away and the wrong coverage.
    """
    spread = BAND_Z / (3 * math.sqrt(k))
    centre = 1 - 1 / (9 * k)
    low = k * max(0.0, centre - spread) ** 3
    high = k * (centre + spread) ** 3
    return low, high
