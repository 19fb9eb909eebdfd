"""A workspace: the platform database, the organization, its connections and their connectors."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from crmsync.catalogs import load_catalog
from crmsync.config import BloomerangConfig, Config, SalesforceConfig, config_hash
from crmsync.connectors.base import Connector
from crmsync.connectors.bloomerang.client import BloomerangClient
from crmsync.connectors.bloomerang.connector import BloomerangConnector
from crmsync.connectors.retry import RetryPolicy
from crmsync.connectors.salesforce.auth import Credentials
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.connector import SalesforceConnector
from crmsync.engine.apply import Scope
from crmsync.engine.conflicts import POLICIES
from crmsync.engine.tokens import DatabaseTokenStore
from crmsync.errors import ConfigError, ProfileError
from crmsync.model.customize import customized, inherited_filters
from crmsync.model.load import check_condition, load_profile
from crmsync.model.profile import Condition, Profile
from crmsync.secrets import Vault
from crmsync.store import tenancy
from crmsync.store.db import create_db_engine, migrate, reading
from crmsync.store.platform import platform_tables
from crmsync.store.tenancy import ConnectionRow, Toggle


class Workspace:
    """Everything a command needs: database (migrated), organization id, vault."""

    def __init__(
        self,
        database_url: str,
        *,
        vault: Vault,
        organization: str = "default",
        schema: str | None = None,
    ) -> None:
        self.engine: Engine = create_db_engine(database_url, schema=schema)
        migrate(self.engine)
        self.vault = vault
        with self.engine.begin() as conn:
            self.organization_id = tenancy.ensure_organization(conn, organization)

    @classmethod
    def from_config(cls, config: Config, *, vault: Vault) -> Workspace:
        """Open the configured database and register every configured connection."""
        workspace = cls(config.database_url, vault=vault, organization=config.organization)
        for name, connection in config.connections.items():
            workspace.register(name, connection)
        return workspace

    def for_organization(self, organization_id: int) -> Workspace:
        """The same database and vault scoped to another organization (the web app serves many).

        The copy shares the engine: close the original, never the copy.
        """
        other = copy.copy(self)
        other.organization_id = organization_id
        return other

    def close(self) -> None:
        """Dispose of database connections."""
        self.engine.dispose()

    def register(self, name: str, cfg: SalesforceConfig | BloomerangConfig) -> ConnectionRow:
        """Store (or update) a configured connection; toggles are applied when the config changed."""
        profile = self._checked_profile(name, cfg)
        digest = config_hash(cfg)
        with self.engine.begin() as conn:
            connection_id, changed = tenancy.upsert_connection(
                conn,
                self.organization_id,
                name=name,
                crm=cfg.crm,
                profile=cfg.profile,
                settings_=cfg.public_settings(),
                credentials=self.vault.encrypt(cfg.secrets()),
                config_hash=digest,
            )
            if changed:
                tenancy.set_toggles(conn, self.organization_id, connection_id, _toggles(profile, cfg))
                # New credentials invalidate the stored token.
                tenancy.save_token(conn, self.organization_id, connection_id, None)
        return self.connection(name)

    def connection(self, name: str | None) -> ConnectionRow:
        """A stored connection by name (or the only one)."""
        with reading(self.engine) as conn:
            rows = tenancy.list_connections(conn, self.organization_id)
        if name is None:
            if len(rows) == 1:
                return rows[0]
            names = ", ".join(r.name for r in rows) or "none"
            raise ConfigError(f"pick a connection with --connection NAME (configured: {names})")
        for row in rows:
            if row.name == name:
                return row
        names = ", ".join(r.name for r in rows) or "none"
        raise ConfigError(f"no connection named {name!r} (configured: {names})")

    def profile(self, row: ConnectionRow) -> Profile:
        """The profile a connection uses, with its custom-mapped fields and sections."""
        return customized(load_profile(row.profile), row.settings.get("sections"))

    def scope(self, row: ConnectionRow) -> Scope:
        """Whose data a connection's work touches, and its conflict policy."""
        policy = row.settings.get("conflict_policy", "latest_wins")
        if policy not in POLICIES:
            raise ConfigError(f"connection {row.name}: conflict_policy must be one of {', '.join(POLICIES)}")
        return Scope(self.organization_id, row.id, self.profile(row), policy)

    def filters(self, row: ConnectionRow) -> dict[str, tuple[Condition, ...]]:
        """Configured filters by platform type, and those sections needing a parent inherit."""
        raw: dict[str, Any] = row.settings.get("filters") or {}
        configured = {t: tuple(Condition.model_validate(c) for c in conds) for t, conds in raw.items()}
        return inherited_filters(self.profile(row), configured)

    def connector(
        self,
        row: ConnectionRow,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> Connector:
        """A connector for the connection (Salesforce ones share their stored token across processes)."""
        secrets: dict[str, str] = self.vault.decrypt(row.credentials) if row.credentials else {}
        settings = row.settings
        if row.crm == "bloomerang":
            return BloomerangConnector(
                BloomerangClient(
                    settings.get("api_url", "https://api.bloomerang.co/v2"),
                    secrets.get("api_key", ""),
                    rate=settings.get("rate_limit"),
                    timeout=float(settings.get("timeout_seconds", 60.0)),
                    retry=retry,
                    transport=transport,
                ),
                concurrency=int(settings.get("concurrency", 4)),
            )
        if row.crm != "salesforce":
            raise ConfigError(f"connection {row.name}: CRM {row.crm!r} is not supported by this version")
        key_file = settings.get("private_key_file")
        credentials = Credentials(
            flow=settings.get("auth", "password"),
            login_url=settings["login_url"],
            client_id=settings.get("client_id"),
            client_secret=secrets.get("client_secret"),
            username=settings.get("username"),
            password=secrets.get("password"),
            security_token=secrets.get("security_token"),
            refresh_token=secrets.get("refresh_token"),
            private_key_file=Path(key_file) if key_file else None,
        )
        client = SalesforceClient(
            credentials,
            api_version=settings.get("api_version", "61.0"),
            token_store=DatabaseTokenStore(self.engine, self.vault, self.organization_id, row.id),
            timeout=float(settings.get("timeout_seconds", 60.0)),
            retry=retry,
            transport=transport,
        )
        return SalesforceConnector(client, page_size=int(settings.get("page_size", 2000)))

    def _checked_profile(self, name: str, cfg: SalesforceConfig | BloomerangConfig) -> Profile:
        place = f"connection {name}"
        try:
            profile = customized(load_profile(cfg.profile), cfg.sections)
        except ProfileError as exc:
            raise ConfigError(f"{place}: {exc}") from None
        if profile.crm != cfg.crm:
            raise ConfigError(
                f"{place}: profile {profile.name} is for {profile.crm}, but the connection's crm is "
                f"{cfg.crm}; "
                f'set crm = "{profile.crm}" or choose a {cfg.crm} profile'
            )
        for mapping in profile.objects:
            toggle = cfg.toggles.get(mapping.type)
            if mapping.pull_only and toggle is not None and toggle.push:
                raise ConfigError(
                    f"{place}: {mapping.label_text} are pulled only ({mapping.object} records are the CRM's "
                    "own); their direction can be receive or off"
                )
        missing = [c for c in cfg.required_credentials() if getattr(cfg, c) in (None, "")]
        if missing:
            raise ConfigError(f"{place}: {cfg.login_text} needs {', '.join(missing)} in crmsync.toml")
        tables = platform_tables()
        for mapping in profile.objects:
            table = tables.get(mapping.type)
            if table is None:
                raise ConfigError(
                    f"{place}: profile {profile.name} maps {mapping.type}, a table the platform lacks"
                )
            columns = [f.column for f in mapping.fields] + list(mapping.lookup_columns())
            for column in columns:
                if column not in table.c:
                    raise ConfigError(
                        f"{place}: profile {profile.name}, object {mapping.type}: column {column!r} "
                        f"does not exist in the platform table {table.name}"
                    )
        known = set(profile.types())
        for kind, keys in (("toggles", set(cfg.toggles) - {"default"}), ("filters", set(cfg.filters))):
            unknown = sorted(keys - known)
            if unknown:
                raise ConfigError(
                    f"{place}: {kind} name unknown object {unknown[0]!r}; profile {profile.name} has "
                    + ", ".join(profile.types())
                )
        catalog = load_catalog(profile.catalog)
        for platform_type, conditions in cfg.filters.items():
            obj = catalog.object(profile.mapping(platform_type).object)
            assert obj is not None
            for cond in conditions:
                try:
                    check_condition(catalog, obj, cond, f"{place}: filters.{platform_type}")
                except ProfileError as exc:
                    raise ConfigError(str(exc)) from None
        return profile


def _toggles(profile: Profile, cfg: SalesforceConfig | BloomerangConfig) -> dict[str, Toggle]:
    default = cfg.toggles.get("default")
    result = {}
    for mapping in profile.objects:
        if mapping.part_of is not None:
            continue
        chosen = cfg.toggles.get(mapping.type, default)
        # A pull-only section (the CRM's users) is never pushed, whatever the default says.
        push = bool(chosen and chosen.push and not mapping.pull_only)
        result[mapping.type] = Toggle(pull=chosen.pull, push=push) if chosen else Toggle(False, False)
    return result
