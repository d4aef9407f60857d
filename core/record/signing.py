"""Ed25519 keys for the promotion ledger: create, load from outside the deploy folder, sign, check.

The private key lives in a file (LEDGER_SIGNING_KEY_FILE, PEM) or an environment variable
(LEDGER_SIGNING_KEY, 64 hex digits) that must not be inside the deploy folder; the public key
(LEDGER_PUBLIC_KEY, 64 hex digits) is what readers trust. Each entry's signature covers its
hash, which covers its body, so a chain rewritten without the private key fails.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import GovernanceError, SettingsError
from core.settings import Settings

KEY_FILE_MODE = 0o600
DEFAULT_KEY_FILE = Path("~/.config/credit-gov/ledger-signing.key")


class SigningKeyError(GovernanceError):
    """The ledger signing key is missing, unreadable, malformed or inside the deploy folder."""


@dataclass(frozen=True)
class LedgerKeys:
    """The private key this process signs with (None: cannot sign) and the public key trusted."""

    private: Ed25519PrivateKey | None
    public_hex: str | None

    @property
    def can_sign(self) -> bool:
        """True when entries written now are signed."""
        return self.private is not None


def public_hex(key: Ed25519PrivateKey) -> str:
    """The raw public key of a private key, as 64 hex digits."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def sign(key: Ed25519PrivateKey, digest: str) -> str:
    """The Ed25519 signature of an entry hash, as hex."""
    return key.sign(digest.encode("ascii")).hex()


def signature_ok(public: str, digest: str, signature: str) -> bool:
    """True when signature is public's Ed25519 signature of digest."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public))
        key.verify(bytes.fromhex(signature), digest.encode("ascii"))
    except (ValueError, InvalidSignature):
        return False
    return True


def _outside_deploy(path: Path, settings: Settings, what: str) -> None:
    """Refuse a key held inside the deploy folder (whoever writes it could replace the key)."""
    deploy = settings.promotion_manifest.parent.resolve()
    if path.resolve().is_relative_to(deploy):
        raise SigningKeyError(
            f"The {what} '{path}' is inside the deploy folder '{deploy}'.",
            fix="Keep the signing key outside the deploy folder (e.g. ~/.config/credit-gov/), "
            "so whoever can write the deploy folder cannot also sign.",
        )


def _private_from_hex(raw: str, name: str) -> Ed25519PrivateKey:
    """A private key from 64 hex digits, or SigningKeyError naming the variable."""
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(raw.strip()))
    except ValueError:
        raise SigningKeyError(
            f"{name} is not an Ed25519 private key (64 hex digits).",
            fix="Create a key with `python -m core promote --init-keys`.",
        ) from None


def load_private(settings: Settings) -> Ed25519PrivateKey | None:
    """The signing key from LEDGER_SIGNING_KEY_FILE or LEDGER_SIGNING_KEY (None: none set)."""
    if settings.ledger_signing_key:
        return _private_from_hex(settings.ledger_signing_key, "LEDGER_SIGNING_KEY")
    path = settings.ledger_signing_key_file
    if path is None:
        return None
    _outside_deploy(path, settings, "signing key file")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningKeyError(
            f"Cannot read the signing key file '{path}' ({exc.strerror}).",
            fix="Point LEDGER_SIGNING_KEY_FILE at the file `promote --init-keys` wrote.",
        ) from exc
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(
            f"The signing key file '{path}' is not an unencrypted PEM private key.",
            fix="Create one with `python -m core promote --init-keys`.",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"The key in '{path}' is not an Ed25519 key.")
    return key


def ledger_keys(settings: Settings) -> LedgerKeys:
    """The keys of this process: the public key pinned in settings must match the private one."""
    private = load_private(settings)
    pinned = settings.ledger_public_key
    if private is not None and pinned and public_hex(private) != pinned:
        raise SigningKeyError(
            "LEDGER_PUBLIC_KEY is not the public key of the configured signing key.",
            fix="Set LEDGER_PUBLIC_KEY to the value `promote --init-keys` printed for this key.",
        )
    return LedgerKeys(private, pinned or (public_hex(private) if private else None))


def trusted_public_key(settings: Settings) -> str | None:
    """The public key readers check signatures with (pinned, else the signing key's own)."""
    return ledger_keys(settings).public_hex


def create_key_file(path: Path, settings: Settings) -> str:
    """Write a new Ed25519 private key to path (mode 600, never overwritten); its public key."""
    _outside_deploy(path, settings, "signing key file")
    if path.exists():
        raise SettingsError(
            f"'{path}' already exists; a signing key is never overwritten.",
            fix="Choose another file, or remove the old key yourself if you mean to replace it.",
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return public_hex(key)
