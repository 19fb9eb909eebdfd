"""``crmsync datasource``: filtered views of an org sync's object, linked to platform campaigns."""

from __future__ import annotations

import re
from typing import Annotated, Any

import typer

from crmsync.cli.common import ConnectionOption, JsonOption, app, fail, json_line, open_workspace, out
from crmsync.errors import ConfigError, CrmsyncError
from crmsync.model.profile import Condition

datasource_app = typer.Typer(
    help="Data sources: which CRM records feed which platform campaigns.", no_args_is_help=True
)
app.add_typer(datasource_app, name="datasource")

FilterOption = Annotated[
    list[str] | None,
    typer.Option("--filter", help='a condition "FIELD OP VALUE", e.g. "MailingState = CA" (repeatable)'),
]
FieldOption = Annotated[
    list[str] | None, typer.Option("--field", help="a CRM field the source reads (repeatable)")
]
_CONDITION = re.compile(r"^\s*([\w.]+)\s*(!=|<=|>=|=|<|>|\blike\b)\s*(.*?)\s*$", re.IGNORECASE)


def parse_filter(text: str) -> Condition:
    """``"MailingState = CA"`` -> a Condition; ``null``, ``true`` and ``false`` are literals."""
    match = _CONDITION.match(text)
    if match is None:
        raise ConfigError(f"--filter {text!r} is not FIELD OP VALUE (OP one of = != < <= > >= like)")
    field, op, raw = match.groups()
    value: Any = {"null": None, "true": True, "false": False}.get(raw.lower(), raw.strip("'\""))
    return Condition(field=field, op=op.lower(), value=value)


def _describe(source: Any) -> str:
    where = " and ".join(f"{c['field']} {c['op']} {c['value']!r}" for c in source.filters) or "every record"
    links = ", ".join(f"campaign {link.campaign_id}" for link in source.links) or "no campaign"
    pending = " (imports everything it matches on the next poll)" if source.needs_backfill else ""
    return f"{source.name:<24} {source.crm_object:<8} where {where}; feeds {links}{pending}"


@datasource_app.command("list")
def list_command(
    ctx: typer.Context, connection: ConnectionOption = None, as_json: JsonOption = False
) -> None:
    """List data sources with their filters and campaign links."""
    from crmsync.engine.datasources import list_sources

    workspace = open_workspace(ctx, configured=True)
    try:
        sources = list_sources(workspace, connection)
    finally:
        workspace.close()
    for source in sources:
        if as_json:
            print(json_line({**source.__dict__, "links": [link.__dict__ for link in source.links]}))
        else:
            out.print(_describe(source), highlight=False)
    if not sources and not as_json:
        out.print("no data sources; add one with `crmsync datasource add NAME --object Contact`")


@datasource_app.command("add")
def add_command(
    ctx: typer.Context,
    name: str,
    crm_object: Annotated[str, typer.Option("--object", help="the org sync's object, e.g. Contact or Lead")],
    filters: FilterOption = None,
    fields: FieldOption = None,
    connection: ConnectionOption = None,
) -> None:
    """Add a data source over an org sync's object."""
    from crmsync.engine.datasources import add_source

    workspace = open_workspace(ctx, configured=True)
    try:
        conditions = [parse_filter(f) for f in filters or []]
        source = add_source(workspace, connection, name, crm_object, filters=conditions, fields=fields or [])
        out.print(_describe(source), highlight=False)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@datasource_app.command("set")
def set_command(
    ctx: typer.Context,
    name: str,
    filters: FilterOption = None,
    fields: FieldOption = None,
    connection: ConnectionOption = None,
) -> None:
    """Replace a data source's filter or field list."""
    from crmsync.engine.datasources import set_source

    workspace = open_workspace(ctx, configured=True)
    try:
        conditions = [parse_filter(f) for f in filters] if filters is not None else None
        source = set_source(workspace, connection, name, filters=conditions, fields=fields)
        out.print(_describe(source), highlight=False)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@datasource_app.command("remove")
def remove_command(ctx: typer.Context, name: str, connection: ConnectionOption = None) -> None:
    """Remove a data source and its links; records already imported stay in their campaigns."""
    from crmsync.engine.datasources import remove_source

    workspace = open_workspace(ctx, configured=True)
    try:
        remove_source(workspace, connection, name)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"removed data source {name}; records already imported stay in their campaigns")


@datasource_app.command("link")
def link_command(
    ctx: typer.Context,
    name: str,
    campaign: Annotated[int, typer.Option("--campaign", help="platform campaign id")],
    phones: Annotated[
        list[str], typer.Option("--phone", help="a CRM field holding a phone number (repeatable)")
    ],
    custom: Annotated[
        list[str] | None, typer.Option("--custom", help="KEY=CRM_FIELD custom field (repeatable)")
    ] = None,
    connection: ConnectionOption = None,
) -> None:
    """Attach a data source to a platform campaign, mapping phone numbers and custom fields."""
    from crmsync.engine.datasources import link_source

    mapping: dict[str, str] = {}
    for item in custom or []:
        key, sep, field = item.partition("=")
        if not sep or not key or not field:
            raise fail(f"--custom {item!r} is not KEY=CRM_FIELD")
        mapping[key] = field
    workspace = open_workspace(ctx, configured=True)
    try:
        source = link_source(
            workspace, connection, name, campaign, phone_fields=phones, custom_fields=mapping
        )
        out.print(_describe(source), highlight=False)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()


@datasource_app.command("unlink")
def unlink_command(
    ctx: typer.Context,
    name: str,
    campaign: Annotated[int, typer.Option("--campaign", help="platform campaign id")],
    connection: ConnectionOption = None,
) -> None:
    """Detach a data source from a campaign; records already imported stay."""
    from crmsync.engine.datasources import unlink_source

    workspace = open_workspace(ctx, configured=True)
    try:
        unlink_source(workspace, connection, name, campaign)
    except CrmsyncError as exc:
        raise fail(exc) from None
    finally:
        workspace.close()
    out.print(f"data source {name} no longer feeds campaign {campaign}")
