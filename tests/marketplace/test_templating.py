"""The date filters write exactly what Flask-Babel writes, in each language and the cooperative's zone."""
from datetime import date, datetime

import flask_babel
import pytest
from flask import render_template_string, session

from marketplace.templating import format_date, format_datetime

MOMENTS = [datetime(2026, 11, 5, 3, 4, 5), datetime(2026, 12, 31, 23, 59, 59), datetime(2027, 1, 1, 0, 0, 0),
           datetime(2026, 2, 28, 16, 30, 0)]


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("zone", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
def test_dates_and_times_read_as_flask_babel_writes_them(app, lang, zone):
    app.config["BABEL_DEFAULT_TIMEZONE"] = zone
    with app.test_request_context("/"):
        session["lang"] = lang
        for moment in MOMENTS:
            assert format_datetime(moment) == flask_babel.format_datetime(moment, "medium")
            assert format_date(moment) == flask_babel.format_date(moment, "medium")
            assert format_date(moment.date()) == flask_babel.format_date(moment.date(), "medium")
        page = render_template_string("{{ d|date }} · {{ t|datetime }} · {{ none|date }}{{ none|datetime }}",
                                      d=date(2026, 8, 17), t=MOMENTS[0])
        assert page == f"{flask_babel.format_date(date(2026, 8, 17), 'medium')} · " \
                       f"{flask_babel.format_datetime(MOMENTS[0], 'medium')} · "


def test_a_utc_evening_is_the_next_day_in_wita(app):
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Makassar"
    with app.test_request_context("/"):
        session["lang"] = "id"
        assert format_date(datetime(2026, 11, 5, 17, 0)) == "6 Nov 2026"
        assert format_datetime(datetime(2026, 11, 5, 17, 0)) == "6 Nov 2026 01.00.00"
