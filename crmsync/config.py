"""crmsync.toml: database, organization, connections (credentials from the environment), toggles.

Any string value written as ``env:NAME`` is read from the environment variable NAME, so
credentials never need to be written into the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from crmsync.errors import ConfigError
from crmsync.model.customize import SectionSetting, section_toggles
from crmsync.model.profile import Condition
from crmsync.store.db import DEFAULT_URL

CONFIG_ENV = "CRMSYNC_CONFIG"
DEFAULT_PATH = Path("crmsync.toml")


class ToggleConfig(BaseModel):
    """Pull and push switches of one platform type."""

    model_config = ConfigDict(extra="forbid")

    pull: bool = False
    push: bool = False


def _http_url(value: str) -> str:
    """A CRM's base URL: https (http for a local emulator), without a trailing slash."""
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http:// for a local emulator)")
    return value.rstrip("/")


HttpUrlText = Annotated[str, AfterValidator(_http_url)]


class _ConnectionSettings(BaseModel):
    """What every connection has, whatever its CRM: toggles, filters, sections, conflicts."""

    model_config = ConfigDict(extra="forbid")

    lookback_seconds: int = Field(300, ge=0, le=86400, description="overlap of incremental pulls")
    timeout_seconds: float = Field(60.0, gt=0)
    patience_minutes: float = Field(
        10.0,
        gt=0,
        le=1440,
        description="how long a whole run (Sync All, fetch, reconcile, daily push) retries a CRM that "
        "keeps failing (5xx, 429, timeouts) before it gives up; the next run resumes",
    )
    conflict_policy: Literal["crm_wins", "platform_wins", "latest_wins"] = Field(
        "latest_wins", description="who wins when a field changed on both sides since the last sync"
    )
    toggles: dict[str, ToggleConfig] = Field(default_factory=dict)
    filters: dict[str, list[Condition]] = Field(default_factory=dict)
    sections: dict[str, SectionSetting] = Field(
        default_factory=dict,
        description="per platform type: direction (toggles), filter, fields; custom-mapped sections",
    )

    # Names of the secret settings: encrypted at rest, never shown, left out of public_settings.
    SECRET_NAMES: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _sections_set_toggles_and_filters(self) -> Self:
        """A section's direction is its toggles; its filter joins the type's filters."""
        for platform_type, (pull, push) in section_toggles(self.sections).items():
            if platform_type in self.toggles:
                raise ValueError(
                    f"{platform_type} has both toggles and a section direction; keep one of them"
                )
            self.toggles[platform_type] = ToggleConfig(pull=pull, push=push)
        for platform_type, section in self.sections.items():
            if section.filter:
                self.filters[platform_type] = [*self.filters.get(platform_type, []), *section.filter]
        return self

    def required_credentials(self) -> list[str]:
        """Names of the settings the chosen login needs."""
        return []

    @property
    def login_text(self) -> str:
        """How the connection signs in, for error messages."""
        return "CRM"

    def secrets(self) -> dict[str, str]:
        """The secret values, for encryption at rest."""
        out = {}
        for name in self.SECRET_NAMES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value.get_secret_value()
        return out

    def public_settings(self) -> dict[str, Any]:
        """Everything but secrets and toggles, JSON-ready."""
        return self.model_dump(mode="json", exclude={*self.SECRET_NAMES, "toggles"})


class SalesforceConfig(_ConnectionSettings):
    """A connection to one Salesforce org."""

    crm: Literal["salesforce"] = "salesforce"
    profile: str = Field("npsp", description="packaged profile name or path to a profile YAML file")
    login_url: HttpUrlText = Field(
        "https://login.salesforce.com", description="where the OAuth token endpoint is"
    )
    api_version: str = Field("61.0", pattern=r"^\d{2}\.\d$")
    auth: Literal["password", "client_credentials", "refresh_token", "jwt"] = "password"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    private_key_file: Path | None = Field(None, description="PEM key for the JWT bearer flow")
    page_size: int = Field(2000, ge=200, le=2000, description="Sforce-Query-Options batchSize")
    incremental_field: Literal["LastModifiedDate", "SystemModstamp"] = Field(
        "LastModifiedDate",
        description="what scheduled polls compare: user changes, or all changes incl. automations",
    )
    api_budget_share: float = Field(
        0.5, gt=0, le=1, description="share of the org's daily API limit crmsync may use"
    )
    incremental_jobs: bool | None = Field(
        None, description="run the incremental jobs (standard or alternative); default: as the profile says"
    )
    alternative_incremental: bool = Field(
        False,
        description="the alternative job (every 30 min by SystemModstamp) instead of the standard "
        "one (every 10 min by LastModifiedDate)",
    )
    daily_push_at: str = Field(
        "02:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="when the daily push runs (HH:MM, UTC)"
    )

    SECRET_NAMES: ClassVar[tuple[str, ...]] = ("client_secret", "password", "security_token", "refresh_token")

    def required_credentials(self) -> list[str]:
        """Names of the settings the chosen auth flow needs."""
        return {
            "password": ["client_id", "client_secret", "username", "password"],
            "client_credentials": ["client_id", "client_secret"],
            "refresh_token": ["client_id", "refresh_token"],
            "jwt": ["client_id", "username", "private_key_file"],
        }[self.auth]

    @property
    def login_text(self) -> str:
        """How the connection signs in, for error messages."""
        return f"the {self.auth} login"


class BloomerangConfig(_ConnectionSettings):
    """A connection to one Bloomerang database, by its REST API v2 key."""

    crm: Literal["bloomerang"]
    profile: str = Field("bloomerang", description="packaged profile name or path to a profile YAML file")
    api_url: HttpUrlText = Field("https://api.bloomerang.co/v2", description="the REST API v2 base URL")
    api_key: SecretStr | None = Field(
        None, description="a REST API key (Bloomerang: Settings > Integrations)"
    )
    rate_limit: str | None = Field(
        None,
        pattern=r"^\d+/\d+(\.\d+)?$",
        description="LIMIT/SECONDS the client keeps to (Bloomerang publishes none; 429s are honoured anyway)",
    )
    concurrency: int = Field(4, ge=1, le=16, description="list pages fetched at once")
    poll_minutes: float = Field(15, gt=0, le=1440, description="how often `crmsync run` pulls what changed")
    reconcile_hours: float = Field(
        24, gt=0, description="how often every id is listed to find records deleted in Bloomerang"
    )

    SECRET_NAMES: ClassVar[tuple[str, ...]] = ("api_key",)

    def required_credentials(self) -> list[str]:
        """The API key."""
        return ["api_key"]

    @property
    def login_text(self) -> str:
        """How the connection signs in, for error messages."""
        return "the Bloomerang connection"


def _crm_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("crm", "salesforce"))
    return str(getattr(value, "crm", "salesforce"))


# The CRM a connection talks to is its `crm` setting (Salesforce when left out).
ConnectionConfig = Annotated[
    Annotated[SalesforceConfig, Tag("salesforce")] | Annotated[BloomerangConfig, Tag("bloomerang")],
    Discriminator(_crm_of),
]
CONNECTION_CONFIG: TypeAdapter[SalesforceConfig | BloomerangConfig] = TypeAdapter(ConnectionConfig)


class Config(BaseModel):
    """The whole configuration file."""

    model_config = ConfigDict(extra="forbid")

    database_url: str = DEFAULT_URL
    organization: str = "default"
    connections: dict[str, ConnectionConfig] = Field(default_factory=dict)

    def connection(self, name: str | None) -> tuple[str, SalesforceConfig | BloomerangConfig]:
        """The named connection, or the only one when ``name`` is None."""
        if name is None:
            if len(self.connections) == 1:
                return next(iter(self.connections.items()))
            if not self.connections:
                raise ConfigError(
                    "no connection is configured; add one under [connections.NAME] in crmsync.toml"
                )
            names = ", ".join(sorted(self.connections))
            raise ConfigError(
                f"several connections are configured ({names}); pick one with --connection NAME"
            )
        if name not in self.connections:
            names = ", ".join(sorted(self.connections)) or "none"
            raise ConfigError(f"no connection named {name!r} in the configuration (configured: {names})")
        return name, self.connections[name]


def config_hash(connection: SalesforceConfig | BloomerangConfig) -> str:
    """A fingerprint of a connection's configuration, secrets included, to detect edits."""
    data = connection.model_dump(mode="json", exclude=set(connection.SECRET_NAMES))
    data["_secrets"] = hashlib.sha256(json.dumps(connection.secrets(), sort_keys=True).encode()).hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _resolve_env(value: Any, path: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_env(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_env(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str) and value.startswith("env:"):
        name = value[4:]
        if name not in os.environ:
            raise ConfigError(f"{path} refers to the environment variable {name}, which is not set")
        return os.environ[name]
    return value


def parse_config(data: dict[str, Any], *, source: str = "crmsync.toml") -> Config:
    """Validate configuration data; errors name the file and the setting."""
    resolved = _resolve_env(data, "")
    try:
        return Config.model_validate(resolved)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p not in ("salesforce", "bloomerang"))
        raise ConfigError(f"{source}: {where}: {first['msg']}") from None


def load_config(path: Path | None = None) -> Config:
    """Read the configuration from ``path``, $CRMSYNC_CONFIG or ./crmsync.toml."""
    chosen = path or Path(os.environ.get(CONFIG_ENV, DEFAULT_PATH))
    if not chosen.exists():
        raise ConfigError(f"no configuration file at {chosen}; create one with `crmsync init`")
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{chosen} is not valid TOML: {exc}") from None
    return parse_config(data, source=str(chosen))
