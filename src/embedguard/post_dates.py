"""Post dates in the page's language.

X's oEmbed writes the post's date in English as the last link's text ("May 5, 2026"); a
German page shows "5. Mai 2026" instead.
"""

from __future__ import annotations

import re
from datetime import date

from babel.dates import format_date
from markupsafe import Markup

# The names X writes, spelled out here rather than read from Babel's English locale data:
# loading that at import cost every worker about 5 MB before any post was shown.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DATE_LINK_TEXT = re.compile(
    r">(" + "|".join(_MONTHS) + r") ([1-9]|[12][0-9]|3[01]), ((?:19|20)[0-9]{2})</a>"
)


def localize_post_dates(html: Markup | str, lang: str) -> Markup:
    """``html`` (already safe) with English link-text dates written in ``lang``."""

    def replace(match: re.Match[str]) -> str:
        month, day, year = (
            _MONTHS.index(match.group(1)) + 1,
            int(match.group(2)),
            int(match.group(3)),
        )
        try:
            written = format_date(date(year, month, day), format="long", locale=lang)
        except ValueError:  # e.g. February 30
            return match.group(0)
        return f">{Markup.escape(written)}</a>"

    return Markup(_DATE_LINK_TEXT.sub(replace, str(html)))  # noqa: S704
