"""The digest's chart: the team's last 8 weeks as a PNG, drawn headless with matplotlib."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.digest import Rate, WeekRates
from bot.replies import Attachment

SERIES = (
    ("checkins", "Check-ins on time", "#2e7d32"),
    ("followups", "Follow-ups sent on time", "#1565c0"),
    ("promises", "Promises kept on time", "#ef6c00"),
)


def _values(weeks: Sequence[WeekRates], attr: str) -> list[float]:
    # A week with nothing measured is NaN, which matplotlib leaves as a gap rather than a fall to 0 %.
    rates: list[Rate] = [getattr(week, attr) for week in weeks]
    return [math.nan if rate.percent is None else float(rate.percent) for rate in rates]


def eight_weeks(weeks: Sequence[WeekRates], *, end_day: date, tz: ZoneInfo) -> Attachment:
    """A line chart of the three team figures, one point a week, as a PNG attachment."""
    # Imported here, not at the top: the bot should not pay matplotlib's start-up cost for a weekly chart.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    title = f"The team's last 8 weeks, to {end_day.day} {end_day:%b %Y}"
    figure = Figure(figsize=(8, 4), dpi=100)
    # Agg draws into memory: no display, no pyplot and its global state, safe in any thread.
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(weeks)))
    for attr, label, colour in SERIES:
        axes.plot(positions, _values(weeks, attr), marker="o", label=label, color=colour, linewidth=2)
    axes.set_xticks(positions)
    starts = [week.start.astimezone(tz) for week in weeks]
    axes.set_xticklabels([f"{start.day} {start:%b}" for start in starts], fontsize=8)
    axes.set_xlabel("Week starting")
    axes.set_ylim(-5, 105)
    axes.yaxis.set_major_formatter(PercentFormatter())
    axes.grid(axis="y", alpha=0.3)
    axes.set_title(title)
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Attachment(
        filename=f"nudgebot-8-weeks-{end_day.isoformat()}.png",
        title=title,
        content=buffer.getvalue(),
        mimetype="image/png",
    )
