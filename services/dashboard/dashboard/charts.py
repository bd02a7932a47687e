"""Inline SVG charts rendered on the server: no JavaScript library, no CDN, nothing fetched.

Each function returns a complete ``<svg>`` element as :class:`markupsafe.Markup`; every piece
of data text inside it is escaped. Points carry ``<title>`` tooltips so values stay readable
without a script, and the SVGs have ``role="img"`` plus a text label for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

from dashboard.domain.models import (
    BAND_COLOURS,
    ActivitySummary,
    NextDayPrediction,
    PeriodAggregate,
    SleepNight,
    SleepStage,
    TrendPoint,
)

_FONT = 'font-family="system-ui, sans-serif" font-size="11" fill="#9aa0a6"'
_PREDICTION = "#4dabf7"
_ANOMALY = "#ff6b6b"


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _segments(values: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at gaps (None) so lines never bridge missing days."""
    out: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for v in values:
        if v is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append(v)
    if current:
        out.append(current)
    return out


def _points(seg: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in seg)


def recovery_trend(
    points: Sequence[TrendPoint],
    next_day: NextDayPrediction | None,
    *,
    width: int = 900,
    height: int = 280,
) -> Markup:
    """Recovery per day on band-coloured zones, the prediction line with its 80 % band,
    anomalies marked, and tomorrow's prediction with its interval at the right edge."""
    if not points:
        return Markup("")
    left, right, top, bottom = 36, 24, 12, 26
    start = points[0].day
    n_days = len(points) + (1 if next_day is not None else 0)
    plot_w = width - left - right
    plot_h = height - top - bottom

    def x(day: date) -> float:
        return left + (day - start).days * plot_w / max(n_days - 1, 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="Recovery trend from {start} to {points[-1].day}">'
    ]
    for lo, hi, band in ((0, 34, "red"), (34, 67, "yellow"), (67, 100, "green")):
        parts.append(
            f'<rect x="{left}" y="{y(hi):.1f}" width="{plot_w}" height="{y(lo) - y(hi):.1f}" '
            f'fill="{BAND_COLOURS[band]}" opacity="0.07"/>'
        )
    for tick in (0, 34, 67, 100):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="#3a3f45" stroke-width="0.5"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {_FONT}>{tick}</text>'
        )
    step = max(1, n_days // 6)
    for i in range(0, len(points), step):
        d = points[i].day
        parts.append(
            f'<text x="{x(d):.1f}" y="{height - 8}" text-anchor="middle" {_FONT}>{d:%d %b}</text>'
        )
    # 80 % interval as a shaded area, split at days without a prediction.
    bands = _segments(
        [
            (x(p.day), p.lower_80) if p.lower_80 is not None and p.upper_80 is not None else None
            for p in points
        ]
    )
    uppers = {x(p.day): p.upper_80 for p in points if p.upper_80 is not None}
    for seg in bands:
        upper = [(px, y(uppers[px])) for px, _ in seg]
        lower = [(px, y(lo)) for px, lo in reversed(seg)]
        parts.append(
            f'<polygon points="{_points(upper + lower)}" fill="{_PREDICTION}" opacity="0.13"/>'
        )
    for seg in _segments(
        [
            (x(p.day), y(p.predicted_recovery)) if p.predicted_recovery is not None else None
            for p in points
        ]
    ):
        parts.append(
            f'<polyline points="{_points(seg)}" fill="none" stroke="{_PREDICTION}" '
            'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    for seg in _segments(
        [(x(p.day), y(p.recovery_score)) if p.recovery_score is not None else None for p in points]
    ):
        parts.append(
            f'<polyline points="{_points(seg)}" fill="none" stroke="#e8eaed" stroke-width="1.5"/>'
        )
    for p in points:
        if p.recovery_score is not None and p.recovery_band is not None:
            tip = f"{p.day}: recovery {p.recovery_score:.0f}%"
            if p.predicted_recovery is not None:
                tip += f", predicted {p.predicted_recovery:.0f}%"
            parts.append(
                f'<circle cx="{x(p.day):.1f}" cy="{y(p.recovery_score):.1f}" r="3" '
                f'fill="{BAND_COLOURS[p.recovery_band]}" class="pt-{p.recovery_band}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        if p.is_anomaly:
            cy = y(p.recovery_score) if p.recovery_score is not None else top + 8
            tip = f"{p.day}: anomaly {escape(p.anomaly_reasons or '')}"
            parts.append(
                f'<circle cx="{x(p.day):.1f}" cy="{cy:.1f}" r="7" fill="none" '
                f'stroke="{_ANOMALY}" stroke-width="2" class="anomaly"><title>{tip}</title>'
                "</circle>"
            )
    if next_day is not None:
        nx = x(start + timedelta(days=n_days - 1))
        if next_day.lower_80 is not None and next_day.upper_80 is not None:
            parts.append(
                f'<line x1="{nx:.1f}" x2="{nx:.1f}" y1="{y(next_day.upper_80):.1f}" '
                f'y2="{y(next_day.lower_80):.1f}" stroke="{_PREDICTION}" stroke-width="3" '
                'stroke-linecap="round" opacity="0.6"/>'
            )
        tip = (
            f"{next_day.day}: predicted {next_day.predicted_recovery:.0f}% "
            f"(80 % interval {_fmt(next_day.lower_80)}–{_fmt(next_day.upper_80)})"
        )
        parts.append(
            f'<circle cx="{nx:.1f}" cy="{y(next_day.predicted_recovery):.1f}" r="5" '
            f'fill="{_PREDICTION}" class="next-day"><title>{escape(tip)}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sleep_stages(
    nights: Sequence[SleepNight],
    stages: Sequence[SleepStage],
    *,
    width: int = 900,
    height: int = 260,
) -> Markup:
    """Stacked bars of stage hours per main sleep (naps are listed in the table only)."""
    main = [n for n in nights if not n.is_nap]
    if not main or not stages:
        return Markup("")
    left, right, top, bottom = 36, 12, 12, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(n.stage_minutes.values()) / 60 for n in main]
    y_max = max(10.0, float(int(max(totals)) + 1))
    bar_w = plot_w / len(main)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="Sleep stages per night">'
    ]
    for tick in range(0, int(y_max) + 1, 2):
        ty = top + plot_h * (1 - tick / y_max)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
            'stroke="#3a3f45" stroke-width="0.5"/>'
            f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" {_FONT}>{tick}h</text>'
        )
    step = max(1, len(main) // 8)
    for i, night in enumerate(main):
        bx = left + i * bar_w + bar_w * 0.15
        base = float(top + plot_h)
        for stage in stages:
            minutes = night.stage_minutes.get(stage.sleep_stage_name, 0.0)
            h = plot_h * (minutes / 60) / y_max
            base -= h
            tip = f"{night.day} {stage.sleep_stage_name}: {minutes:.0f} min"
            parts.append(
                f'<rect x="{bx:.1f}" y="{base:.1f}" width="{bar_w * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{stage.colour}"><title>{escape(tip)}</title></rect>'
            )
        if i % step == 0:
            parts.append(
                f'<text x="{bx + bar_w * 0.35:.1f}" y="{height - 8}" text-anchor="middle" '
                f"{_FONT}>{night.day:%d %b}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def activity_bars(summaries: Sequence[ActivitySummary], *, width: int = 900) -> Markup:
    """Horizontal bars: total minutes per activity type."""
    if not summaries:
        return Markup("")
    row_h, label_w, right = 26, 170, 90
    height = row_h * len(summaries) + 8
    peak = max(s.total_minutes for s in summaries) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="Workout minutes by activity type">'
    ]
    for i, s in enumerate(summaries):
        yy = 4 + i * row_h
        w = (width - label_w - right) * s.total_minutes / peak
        parts.append(
            f'<text x="{label_w - 8}" y="{yy + 16}" text-anchor="end" {_FONT}>'
            f"{escape(s.activity_name)}</text>"
            f'<rect x="{label_w}" y="{yy + 4}" width="{w:.1f}" height="{row_h - 8}" rx="3" '
            f'fill="#16ec06" opacity="0.75"><title>{escape(s.activity_name)}: {s.workout_count} '
            f"workouts, {s.total_minutes:.0f} min</title></rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{yy + 16}" {_FONT}>'
            f"{s.total_minutes:.0f} min · {s.workout_count}×</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def aggregate_line(
    rows: Sequence[PeriodAggregate],
    field: str,
    *,
    y_max: float,
    colour: str,
    label: str,
    width: int = 440,
    height: int = 180,
) -> Markup:
    """One aggregate column over periods as a line with dots."""
    values = [(r.period_start, getattr(r, field)) for r in rows]
    if not any(v is not None for _, v in values):
        return Markup("")
    left, right, top, bottom = 34, 10, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(i: int) -> float:
        return left + i * plot_w / max(len(values) - 1, 1)

    def py(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart small" role="img" aria-label="{escape(label)}">'
    ]
    for frac in (0.0, 0.5, 1.0):
        tick = y_max * frac
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
            'stroke="#3a3f45" stroke-width="0.5"/>'
            f'<text x="{left - 5}" y="{py(tick) + 4:.1f}" text-anchor="end" {_FONT}>'
            f"{tick:.0f}</text>"
        )
    for seg in _segments(
        [(px(i), py(float(v))) if v is not None else None for i, (_, v) in enumerate(values)]
    ):
        parts.append(
            f'<polyline points="{_points(seg)}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
        )
    for i, (day, v) in enumerate(values):
        if v is not None:
            parts.append(
                f'<circle cx="{px(i):.1f}" cy="{py(float(v)):.1f}" r="2.5" fill="{colour}">'
                f"<title>{day}: {float(v):.1f}</title></circle>"
            )
    step = max(1, len(values) // 5)
    for i in range(0, len(values), step):
        anchor = "end" if px(i) > width - right - 20 else "middle"
        parts.append(
            f'<text x="{px(i):.1f}" y="{height - 6}" text-anchor="{anchor}" {_FONT}>'
            f"{values[i][0]:%d %b}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
