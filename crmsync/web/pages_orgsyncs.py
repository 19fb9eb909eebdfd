"""Pages: org syncs (add Contact or Lead, method, interval, enable, Save, Test, remove) and data sources."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from crmsync.engine import datasources, orgsync
from crmsync.errors import ConfigError
from crmsync.web.api_connections import connection_row, org_sync_out
from crmsync.web.api_orgsyncs import campaign_names, source_out, test_object
from crmsync.web.forms import parse_conditions, parse_mapping, parse_names, show_condition
from crmsync.web.pages_kit import Page, page


def confirmation(crm_object: str) -> str:
    """The exact question asked before an org sync is removed."""
    return f"Remove {crm_object} sync? This will also remove any data sources linked to this object."


def _here(name: str) -> str:
    return f"/integrations/{quote(name)}/org-syncs"


@page
def org_syncs(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    here = _here(row.name)
    if p.request.method == "POST":
        try:
            orgsync.add_sync(p.workspace, row.name, p.field("object"))
        except ConfigError as exc:
            return p.back(here, error=exc.message)
        return p.back(
            here, notice=f"Added the {p.field('object')} sync (disabled until you enable it and Save)"
        )
    syncs = [org_sync_out(x) for x in orgsync.list_syncs(p.workspace, row.name)]
    campaigns = campaign_names(p.workspace)
    objects = sorted({m.object for m in p.workspace.profile(row).objects})
    return p.render(
        "org_syncs.html",
        name=row.name,
        syncs=syncs,
        addable=[o for o in objects if o not in {s.object for s in syncs}],
        sources=[source_out(x, campaigns) for x in datasources.list_sources(p.workspace, row.name)],
        campaigns=campaigns,
        confirmation=confirmation,
        show_condition=show_condition,
    )


@page
def org_sync(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    here, crm_object, action = _here(row.name), p.path["object"], p.path["action"]
    try:
        if action == "save":
            interval = p.field("interval_minutes")
            change = orgsync.Change(
                method=p.field("method") or None,
                interval_minutes=int(interval) if interval.isdigit() else None,
                enabled=p.field("enabled") == "on",
            )
            saved = orgsync.set_sync(p.workspace, row.name, crm_object, change)
            return p.back(here, notice=f"Saved the {saved.crm_object} sync")
        if action == "test":
            result = test_object(p.workspace, row.name, crm_object)
            return p.back(here, notice=result.message) if result.ok else p.back(here, error=result.message)
        if action == "remove":
            if p.field("confirmed") != "yes":
                return p.render(
                    "confirm.html",
                    question=confirmation(crm_object),
                    action=p.request.url.path,
                    back=here,
                    button=f"Remove {crm_object} sync",
                )
            removed = orgsync.remove_sync(p.workspace, row.name, crm_object)
            return p.back(here, notice=f"Removed the {removed.crm_object} sync and its data sources")
    except ConfigError as exc:
        return p.back(here, error=exc.message)
    return p.render("error.html", status=404, message=f"no action {action!r}")


@page
def data_sources(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    here = _here(row.name)
    try:
        datasources.add_source(
            p.workspace,
            row.name,
            p.field("name").strip(),
            p.field("object"),
            filters=parse_conditions(p.field("filters")),
            fields=parse_names(p.field("fields")),
        )
    except ConfigError as exc:
        return p.back(here, error=exc.message)
    return p.back(here, notice=f"Added data source {p.field('name').strip()}")


@page
def data_source(p: Page) -> Response:
    row = connection_row(p.workspace, p.path["name"])
    here, source, action = _here(row.name), p.path["source"], p.path["action"]
    try:
        if action == "save":
            datasources.set_source(
                p.workspace,
                row.name,
                source,
                filters=parse_conditions(p.field("filters")),
                fields=parse_names(p.field("fields")),
            )
            return p.back(here, notice=f"Saved data source {source}")
        if action == "remove":
            datasources.remove_source(p.workspace, row.name, source)
            return p.back(here, notice=f"Removed data source {source}; imported records stay")
        if action == "link":
            campaign = p.field("campaign_id")
            if not campaign.isdigit() or int(campaign) not in campaign_names(p.workspace):
                raise ConfigError("choose a campaign")
            datasources.link_source(
                p.workspace,
                row.name,
                source,
                int(campaign),
                phone_fields=parse_names(p.field("phone_fields")),
                custom_fields=parse_mapping(p.field("custom_fields")),
            )
            return p.back(here, notice=f"{source} now feeds campaign {campaign}")
        if action == "unlink":
            campaign = p.field("campaign_id")
            if not campaign.isdigit():
                raise ConfigError("choose a campaign")
            datasources.unlink_source(p.workspace, row.name, source, int(campaign))
            return p.back(here, notice=f"{source} no longer feeds campaign {campaign}")
    except ConfigError as exc:
        return p.back(here, error=exc.message)
    return p.render("error.html", status=404, message=f"no action {action!r}")


routes = [
    Route("/integrations/{name}/org-syncs", org_syncs, methods=["GET", "POST"]),
    Route("/integrations/{name}/org-syncs/{object}/{action}", org_sync, methods=["POST"]),
    Route("/integrations/{name}/data-sources", data_sources, methods=["POST"]),
    Route("/integrations/{name}/data-sources/{source}/{action}", data_source, methods=["POST"]),
]
