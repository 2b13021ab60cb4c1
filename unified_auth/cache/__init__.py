"""Where fetched credentials are kept between uses.

The broker talks to a :class:`CredentialCache` on its slow path only (never per request).
Keys are ``target-name:fingerprint``; no secret is ever part of a key or of an entry. The
memory cache lives in this process. The shared backends (``file``, ``redis``) are a
:class:`SharedStore` under the memory cache (:class:`LayeredCache`), adding a
cross-process fetch lock, so N processes needing the same credentials cause one fetch.
"""

from __future__ import annotations

from unified_auth.cache.build import cache_for_settings, default_file_cache_dir
from unified_auth.cache.layered import LayeredCache
from unified_auth.cache.memory import MemoryCache
from unified_auth.cache.protocol import (
    CachedCredentials,
    CredentialCache,
    SharedStore,
    StoreUnavailable,
)

__all__ = [
    "CachedCredentials",
    "CredentialCache",
    "LayeredCache",
    "MemoryCache",
    "SharedStore",
    "StoreUnavailable",
    "cache_for_settings",
    "default_file_cache_dir",
]
