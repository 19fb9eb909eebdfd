"""Encryption at rest for CRM credentials and tokens (Fernet, key from the environment)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from crmsync.errors import ConfigError

KEY_ENV = "CRMSYNC_SECRET_KEY"
KEY_FILE_ENV = "CRMSYNC_SECRET_KEY_FILE"


def generate_key() -> str:
    """A new random key, printable, for CRMSYNC_SECRET_KEY."""
    return Fernet.generate_key().decode("ascii")


class Vault:
    """Encrypts and decrypts JSON values with one key."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ConfigError(
                f"{KEY_ENV} is not a valid key (32 url-safe base64-encoded bytes); "
                "create one with `crmsync keygen`"
            ) from None

    def encrypt(self, value: Any) -> str:
        """Encrypt a JSON-serialisable value."""
        return self._fernet.encrypt(json.dumps(value).encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> Any:
        """Decrypt a value written by ``encrypt``."""
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except InvalidToken:
            raise ConfigError(
                "stored credentials cannot be decrypted with the current key; "
                f"restore the {KEY_ENV} they were written with, or re-enter the credentials"
            ) from None


def vault_from_environment(default_key_file: Path | None = None) -> Vault:
    """The vault keyed by $CRMSYNC_SECRET_KEY, else $CRMSYNC_SECRET_KEY_FILE, else a local key file.

    The embedded default keeps a generated key in ``default_key_file`` (mode 0600) so that a
    fresh machine works without setup; production sets the environment variable.
    """
    key = os.environ.get(KEY_ENV)
    if key:
        return Vault(key.strip())
    file_name = os.environ.get(KEY_FILE_ENV)
    path = Path(file_name) if file_name else default_key_file
    if path is None:
        raise ConfigError(f"set {KEY_ENV} (create a key with `crmsync keygen`)")
    if path.exists():
        return Vault(path.read_text(encoding="ascii").strip())
    if file_name:
        raise ConfigError(f"{KEY_FILE_ENV} names {path}, which does not exist")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate_key() + "\n", encoding="ascii")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return Vault(path.read_text(encoding="ascii").strip())
