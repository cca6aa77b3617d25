"""How autogenerate spells our column types in a revision: as plain SQLAlchemy
types, so that a revision never imports the models it predates."""

from __future__ import annotations

from sqlmodel.sql.sqltypes import AutoString

from bot.store.tables import UTCDateTime


def render_item(kind: str, obj, autogen_context):
    if kind != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime()"  # aware UTC in Python, a plain timestamp in the database
    if isinstance(obj, AutoString):
        return f"sa.String({obj.length})" if obj.length else "sa.String()"
    return False
