"""设置 — settings from the environment (prefix JXC_), validated at start."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All settings; every one is documented in docs/configuration.md (kept true by a test)."""

    model_config = SettingsConfigDict(env_prefix="JXC_", extra="ignore")

    data_dir: Path = Field(Path("./jxc-data"), description="Folder for the SQLite database and files.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; unset means SQLite at <data_dir>/jxc.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db")
    timezone: str = Field("Asia/Shanghai", description="Business time zone for dates people type and read.")
    host: str = Field("127.0.0.1", description="Address `jxc serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `jxc serve` listens on.")
    db_pool_size: int = Field(10, ge=1, le=200, description="Connections per process (PostgreSQL).")
    session_ttl_s: int = Field(43200, ge=60, le=2592000, description="Web login session lifetime, seconds.")
    login_max_failures: int = Field(5, ge=1, le=100, description="Failed logins per user name (4x per client "
                                    "address) within the lockout window before the lockout.")
    login_lockout_s: int = Field(900, ge=1, le=86400, description="Failure-counting window and lockout, seconds.")
    worker_in_process: bool = Field(True, description="`jxc serve` runs the outbox worker in-process; "
                                    "set false when `jxc worker` runs separately.")
    worker_poll_s: float = Field(0.5, gt=0, le=60, description="Outbox worker idle poll interval, seconds.")
    webhook_max_attempts: int = Field(8, ge=1, le=50, description="Webhook attempts before a delivery becomes "
                                      "a dead letter.")
    webhook_lease_s: float = Field(60.0, gt=0, le=3600, description="How long a worker holds a webhook delivery "
                                   "it is sending; a crashed worker's deliveries are sent again after it.")
    webhook_timeout_s: float = Field(5.0, gt=0, le=60, description="Timeout of one webhook HTTP request, seconds.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, v: str | None) -> str | None:
        if v is not None and not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError(
                "JXC_DATABASE_URL 只支持 sqlite 或 postgresql+psycopg / only sqlite:// or "
                "postgresql+psycopg:// URLs are supported")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"JXC_TIMEZONE 未知时区 / unknown time zone: {v}") from exc
        return v

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'jxc.db').as_posix()}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
