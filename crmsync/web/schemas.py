"""Request and response bodies of the JSON API (they also make its OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crmsync.model.profile import Condition

Name = Annotated[str, Field(min_length=1, max_length=100)]
Id = Annotated[int, Field(ge=1, le=2**53)]
Limit = Annotated[int, Field(ge=1, le=500)]
Interval = Literal[5, 10, 15, 30]


class In(BaseModel):
    """Inputs refuse unknown fields, so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Message(BaseModel):
    message: str


class Toggle(In):
    pull: bool
    push: bool


class LastRun(BaseModel):
    id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    message: str | None


class ConnectionCard(BaseModel):
    name: str
    crm: str
    profile: str
    connected: bool
    status: str
    last_sync: datetime | None
    error_total: int
    locks: int
    queue_depth: int
    last_run: LastRun | None
    login_url: str | None
    username: str | None
    problem: str | None = None


class ConnectionList(BaseModel):
    connections: list[ConnectionCard]


class CredentialsIn(In):
    """Credentials are write-only: no answer ever contains them."""

    crm: Literal["salesforce", "bloomerang"] | None = None
    profile: Annotated[str, Field(max_length=200)] | None = None
    api_url: Annotated[str, Field(max_length=500)] | None = None
    api_key: Annotated[str, Field(max_length=500)] | None = None
    rate_limit: Annotated[str, Field(max_length=40, pattern=r"^\d+/\d+(\.\d+)?$")] | None = None
    login_url: Annotated[str, Field(max_length=500)] | None = None
    auth: Literal["password", "client_credentials", "refresh_token"] | None = None
    client_id: Annotated[str, Field(max_length=500)] | None = None
    client_secret: Annotated[str, Field(max_length=500)] | None = None
    username: Annotated[str, Field(max_length=500)] | None = None
    password: Annotated[str, Field(max_length=500)] | None = None
    security_token: Annotated[str, Field(max_length=500)] | None = None
    refresh_token: Annotated[str, Field(max_length=2000)] | None = None


class TestOut(BaseModel):
    ok: bool
    message: str


class JobObject(BaseModel):
    type: str
    label: str
    fetched: int
    total: int | None
    done: bool
    counts: dict[str, int]


class JobOut(BaseModel):
    id: str
    connection: str
    status: str
    message: str
    run_id: int | None
    api_calls: int
    started_at: datetime
    finished_at: datetime | None
    objects: list[JobObject]
    notes: list[str]


class RunOut(BaseModel):
    id: int
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]]
    api_calls: int
    message: str | None


class RunList(BaseModel):
    runs: list[RunOut]


class ObjectSettingOut(BaseModel):
    type: str
    label: str
    crm_object: str
    pull: bool
    push: bool


class OrgSyncOut(BaseModel):
    object: str
    method: str
    interval_minutes: int
    enabled: bool
    status: str
    last_sync: datetime | None
    error_total: int
    last_error: str | None
    next_poll: datetime | None


class OrgSyncList(BaseModel):
    org_syncs: list[OrgSyncOut]


class SettingsOut(BaseModel):
    crm: str
    objects: list[ObjectSettingOut]
    incremental_field: str
    conflict_policy: str
    filters: dict[str, list[Condition]]
    org_syncs: list[OrgSyncOut]


class SettingsIn(In):
    toggles: dict[str, Toggle] | None = None
    incremental_field: Literal["LastModifiedDate", "SystemModstamp"] | None = None
    conflict_policy: Literal["crm_wins", "platform_wins", "latest_wins"] | None = None
    filters: dict[str, list[Condition]] | None = None


class LogEntryOut(BaseModel):
    id: int
    connection: str | None
    run_id: int | None
    data_type: str
    action: str
    direction: str
    status: str
    message: str
    crm_id: str | None
    platform_id: int | None
    created_at: datetime


class LogEntryDetail(LogEntryOut):
    details: dict[str, Any] | None


class LogQuery(In):
    tab: Literal["pull", "push", "errors"] | None = None
    status: Literal["processed", "error", "pending", "skipped"] | None = None
    type: Annotated[str, Field(max_length=64)] | None = None
    since: date | None = None
    until: date | None = None
    connection: Name | None = None
    before: Id | None = None
    limit: Limit = 50


class LogPage(BaseModel):
    entries: list[LogEntryOut]
    next_before: int | None


class LockOut(BaseModel):
    key: str
    connection: str
    direction: Literal["push", "pull"]
    platform_type: str
    platform_id: int | None
    crm_id: str | None
    failures: int
    last_error: str
    last_error_code: str | None
    last_failed_at: datetime
    locked_at: datetime | None


class LockList(BaseModel):
    locks: list[LockOut]


class LockQuery(In):
    connection: Name | None = None


class ArchiveIn(In):
    keys: Annotated[list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=1000)]
    connection: Name | None = None


class ArchiveOut(BaseModel):
    archived: int


class ArchivedOut(BaseModel):
    key: str
    connection: str
    platform_type: str
    platform_id: int
    crm_object: str
    crm_id: str | None
    reason: Literal["deleted", "merged", "with_parent"]
    master_crm_id: str | None
    parent_type: str | None
    parent_id: int | None
    archived_at: datetime | None


class ArchivedList(BaseModel):
    archived: list[ArchivedOut]


class ArchivedQuery(In):
    connection: Name | None = None
    type: Name | None = None


class RestoredOut(BaseModel):
    key: str
    linked_to: str | None
    message: str


class RestoreOut(BaseModel):
    restored: list[RestoredOut]
    api_calls: int


class RecordOut(BaseModel):
    id: int
    label: str
    crm_id: str | None
    state: str
    detail: str
    failures: int
    last_error: str | None
    updated_at: datetime


class RecordQuery(In):
    state: Literal["synced", "pending", "error", "locked", "skipped"] | None = None
    before: Id | None = None
    limit: Limit = 50


class RecordPageOut(BaseModel):
    records: list[RecordOut]
    next_before: int | None


class WhyOut(BaseModel):
    reason: str
    action: str
    action_label: str


class RecordDetail(BaseModel):
    record: RecordOut
    values: dict[str, Any]
    synced_at: datetime | None
    history: list[LogEntryOut]
    why: WhyOut


class CrmWhyQuery(In):
    crm_id: Annotated[str, Field(min_length=1, max_length=64)]


class ResyncIn(In):
    ids: Annotated[list[Id], Field(min_length=1, max_length=2000)]


class ResyncRecord(BaseModel):
    type: str
    id: int
    status: str
    message: str
    crm_id: str | None
    locked: bool


class ResyncOut(BaseModel):
    pushed: int
    failed: int
    skipped: int
    api_calls: int
    records: list[ResyncRecord]


class OrgSyncAdd(In):
    object: Name


class OrgSyncChange(In):
    method: Literal["cdc", "poll"] | None = None
    interval_minutes: Interval | None = None
    enabled: bool | None = None


class SourceLinkOut(BaseModel):
    campaign_id: int
    campaign_name: str | None
    phone_fields: list[str]
    custom_fields: dict[str, str]


class DataSourceOut(BaseModel):
    name: str
    object: str
    filters: list[dict[str, Any]]
    fields: list[str]
    needs_backfill: bool
    links: list[SourceLinkOut]


class DataSourceList(BaseModel):
    data_sources: list[DataSourceOut]


FieldName = Annotated[str, Field(min_length=1, max_length=100)]


class DataSourceIn(In):
    name: Name
    object: Name
    filters: Annotated[list[Condition], Field(max_length=50)] = []
    fields: Annotated[list[FieldName], Field(max_length=200)] = []


class DataSourceChange(In):
    filters: Annotated[list[Condition], Field(max_length=50)] | None = None
    fields: Annotated[list[FieldName], Field(max_length=200)] | None = None


class LinkIn(In):
    campaign_id: Id
    phone_fields: Annotated[list[FieldName], Field(min_length=1, max_length=20)]
    custom_fields: dict[Annotated[str, Field(min_length=1, max_length=100)], FieldName] = {}


class CampaignOut(BaseModel):
    id: int
    name: str


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]
