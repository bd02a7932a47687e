"""The inline SVG charts: structure, gaps, anomaly marks and escaping."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard import charts
from dashboard.domain.models import NextDayPrediction, PeriodAggregate, TrendPoint


def _points() -> list[TrendPoint]:
    start = date(2026, 1, 1)
    out = []
    for i in range(10):
        score = None if i == 4 else 20.0 + i * 8
        out.append(
            TrendPoint(
                day=start + timedelta(days=i),
                recovery_score=score,
                recovery_band=None if score is None else ("red" if score < 34 else "yellow"),
                predicted_recovery=50.0 if i > 1 else None,
                lower_80=30.0 if i > 1 else None,
                upper_80=70.0 if i > 1 else None,
                is_anomaly=i == 6,
                anomaly_reasons="hrv_low <script>alert(1)</script>" if i == 6 else None,
            )
        )
    return out


def test_recovery_trend_draws_points_gaps_interval_and_next_day() -> None:
    nxt = NextDayPrediction(
        day=date(2026, 1, 11),
        predicted_recovery=61.0,
        lower_80=40.0,
        upper_80=80.0,
        model_name="m",
        model_version="1",
    )
    svg = str(charts.recovery_trend(_points(), nxt))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="pt-') == 9  # one missing day
    assert svg.count("<polyline") == 3  # recovery split at the gap (2) + one prediction line
    assert svg.count("<polygon") == 1
    assert svg.count('class="anomaly"') == 1
    assert 'class="next-day"' in svg and "61%" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_inputs_render_nothing() -> None:
    assert str(charts.recovery_trend([], None)) == ""
    assert str(charts.sleep_stages([], [])) == ""
    assert str(charts.activity_bars([])) == ""
    assert (
        str(charts.aggregate_line([], "avg_day_strain_score", y_max=21, colour="#fff", label="x"))
        == ""
    )


def test_aggregate_line_plots_each_value() -> None:
    rows = [
        PeriodAggregate(period_start=date(2026, 1, 5) + timedelta(weeks=i), avg_day_strain_score=s)
        for i, s in enumerate([10.0, None, 12.0, 14.0])
    ]
    svg = str(
        charts.aggregate_line(rows, "avg_day_strain_score", y_max=21, colour="#4dabf7", label="s")
    )
    assert svg.count("<circle") == 3 and svg.count("<polyline") == 2
