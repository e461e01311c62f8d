"""A JWK Set fetched over HTTP(S) and cached, with the standard library only."""

from __future__ import annotations

import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Mapping, Optional, Tuple

from ._errors import JwksError, MfagateError, UsageError
from ._mfagate import KeySet

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_EMPTY = '{"keys":[]}'
_log = logging.getLogger("mfagate")
# A JSON parser's message may quote the string it choked on: that string
# may be key material, which must not reach an error message or a log.
_QUOTED_STRING = re.compile(r'string "(?:[^"\\]|\\.)*"')


def _redact(message: str) -> str:
    return _QUOTED_STRING.sub('string "<redacted>"', message)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


def _why_status(status: int) -> str:
    if 300 <= status < 400:
        return " (redirects are not followed: configure the final https URL)"
    return ""


def _fetch_error(message: str) -> JwksError:
    return JwksError(
        message,
        code="jwks_fetch_failed",
        hint="the last good keys stay in use; check the jwks_uri, the network and the timeout",
    )


class JwksCache:
    """The JWK Set at ``url``, fetched lazily and kept for ``ttl`` seconds.

    * a token with an unknown ``kid`` triggers a refresh, at most once per
      ``min_refresh_interval`` seconds (key rotation);
    * a failed fetch (down, slow, garbage, too large, no usable key) keeps the
      last good keys and is retried at most once per ``min_refresh_interval``;
    * one fetch takes at most ``timeout`` seconds in all;
    * the document may hold at most ``max_bytes`` bytes and ``max_keys`` keys;
    * redirects are never followed (a 3xx answer is a failed fetch);
    * the URL is https; plain http only for 127.0.0.1, ::1 and localhost;
    * a failed fetch is logged on the ``mfagate`` logger at WARNING (the URL
      and why; never key material) and kept in ``last_error``;
    * it is safe to share between threads: one thread fetches, the others keep
      using the keys they have (or wait when there are none yet).

    Pass it to :class:`mfagate.Gate` in place of a JWK Set.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600.0,
        min_refresh_interval: float = 60.0,
        timeout: float = 5.0,
        max_bytes: int = 262144,
        max_keys: int = 64,
        headers: Optional[Mapping[str, str]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        loopback = parsed.scheme == "http" and (parsed.hostname or "") in _LOOPBACK
        if not (parsed.scheme == "https" and parsed.hostname) and not loopback:
            raise UsageError(
                f"the JWKS URL {url!r} is not an https URL"
                " (plain http is accepted only for 127.0.0.1, ::1 and localhost)",
                code="jwks_url_invalid",
                hint="use the https jwks_uri of your tenant, e.g."
                " https://login.microsoftonline.com/<tenant>/discovery/v2.0/keys",
            )
        if ttl <= 0 or min_refresh_interval < 0 or timeout <= 0 or max_bytes <= 0 or max_keys <= 0:
            raise UsageError(
                "ttl, timeout, max_bytes and max_keys must be positive and min_refresh_interval not negative",
                code="request_invalid",
                hint="the defaults are ttl=3600, min_refresh_interval=60, timeout=5",
            )
        self.url = url
        self.ttl = float(ttl)
        self.min_refresh_interval = float(min_refresh_interval)
        self.timeout = float(timeout)
        self.max_bytes = int(max_bytes)
        self.max_keys = int(max_keys)
        self._headers = {"Accept": "application/json", "User-Agent": "mfagate-python"}
        self._headers.update(headers or {})
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect())
        self._lock = threading.Lock()
        # (version, json text, key set, monotonic time of the good fetch); swapped whole.
        self._state: Tuple[int, str, Optional[KeySet], Optional[float]] = (0, _EMPTY, None, None)
        self._last_attempt: Optional[float] = None
        self._last_error: Optional[MfagateError] = None
        self.fetches = 0

    # -- public ---------------------------------------------------------------

    @property
    def keys(self) -> Optional[KeySet]:
        """The current keys, or None when no fetch has succeeded yet."""
        return self._state[2]

    @property
    def version(self) -> int:
        """Increases by one with every successful fetch."""
        return self._state[0]

    @property
    def last_error(self) -> Optional[MfagateError]:
        """Why the last fetch failed (None after a success)."""
        return self._last_error

    def refresh(self) -> KeySet:
        """Fetches now, whatever the TTL says. Raises JwksError (code
        ``jwks_fetch_failed``) on failure; the last good
        keys stay in use."""
        with self._lock:
            self._fetch_locked()
            err = self._last_error
        if err is not None:
            raise err
        keys = self._state[2]
        if keys is None:  # pragma: no cover - a success always sets keys
            raise _fetch_error("no keys after a successful fetch")
        return keys

    # -- protocol used by mfagate.Gate ---------------------------------------

    def _mfagate_snapshot(self) -> Tuple[int, Optional[str], str, int]:
        """(version, JWK Set text or None when no good set was ever fetched,
        why not, seconds until the next fetch may be tried)."""
        version, text, keys, fetched_at = self._state
        if keys is not None and fetched_at is not None and self._clock() - fetched_at < self.ttl:
            return version, text, "", 0
        if keys is not None:
            # Stale keys: one thread refetches (rate-limited); the others do
            # not wait and keep using the keys they have.
            if self._may_attempt(self._clock()) and self._lock.acquire(blocking=False):
                try:
                    if self._stale() and self._may_attempt(self._clock()):
                        self._fetch_locked()
                finally:
                    self._lock.release()
            return self._state[0], self._state[1], "", 0
        # No keys yet: wait for a fetch in flight, or fetch.
        if self._lock.acquire(timeout=self.timeout + 1):
            try:
                if self._state[2] is None and self._may_attempt(self._clock()):
                    self._fetch_locked()
            finally:
                self._lock.release()
        if self._state[2] is not None:
            return self._state[0], self._state[1], "", 0
        err = self._last_error
        why = err.message if err is not None else f"no JWK Set was fetched from {self.url} yet"
        return self._state[0], None, why, self._retry_after()

    def _retry_after(self) -> int:
        """Whole seconds until the next fetch may be tried (at least 1)."""
        last = self._last_attempt
        if last is None:
            return 1
        left = self.min_refresh_interval - (self._clock() - last)
        return max(1, int(left + 0.999))

    def _mfagate_key_not_found(self, version: int) -> bool:
        """A token named a kid that the keys of ``version`` lack: refetch
        (rate-limited). True when newer keys are there (fetched here or by
        another thread meanwhile)."""
        before = version
        if not self._lock.acquire(timeout=self.timeout + 1):
            return False
        try:
            if self._state[0] == before and self._may_attempt(self._clock()):
                self._fetch_locked()
        finally:
            self._lock.release()
        return self._state[0] != before

    # -- internals ------------------------------------------------------------

    def _stale(self) -> bool:
        _, _, keys, fetched_at = self._state
        return keys is None or fetched_at is None or self._clock() - fetched_at >= self.ttl

    def _may_attempt(self, now: float) -> bool:
        last = self._last_attempt
        return last is None or now - last >= self.min_refresh_interval

    def _fetch_locked(self) -> None:
        start = self._clock()
        self._last_attempt = start
        self.fetches += 1
        try:
            text = self._download()
            try:
                keys = KeySet(text)
            except MfagateError as e:  # garbage: a failed fetch, like any other
                raise _fetch_error(
                    f"GET {self.url} did not answer a usable JWK Set: {_redact(e.message)}"
                ) from None
            if len(keys) == 0:
                why = f" ({_redact('; '.join(keys.skipped))})" if keys.skipped else ""
                raise _fetch_error(f"GET {self.url}: the JWK Set has no usable signing key{why}")
            if len(keys) > self.max_keys:
                raise _fetch_error(
                    f"GET {self.url}: the JWK Set has {len(keys)} keys, more than max_keys={self.max_keys}"
                )
        except MfagateError as e:
            self._last_error = e
            if self._state[2] is not None:
                then = "the last good keys stay in use"
            else:
                then = "no good JWK Set yet, so tokens are refused"
            _log.warning(
                "JWKS fetch failed: %s; %s; next attempt in %g s at the earliest",
                e.message,
                then,
                self.min_refresh_interval,
            )
            return
        version = self._state[0] + 1
        self._state = (version, text, keys, self._clock())
        self._last_error = None

    def _download(self) -> str:
        deadline = time.monotonic() + self.timeout
        req = urllib.request.Request(self.url, headers=self._headers)
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status = getattr(resp, "status", 200)
                if status != 200:
                    raise _fetch_error(f"GET {self.url} answered {status}{_why_status(status)}")
                chunks = []
                size = 0
                while True:
                    if time.monotonic() > deadline:
                        raise _fetch_error(f"GET {self.url} took longer than {self.timeout} s")
                    chunk = resp.read(65536)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _fetch_error(f"GET {self.url}: the JWK Set is larger than max_bytes={self.max_bytes}")
                    chunks.append(chunk)
        except urllib.error.HTTPError as e:
            raise _fetch_error(f"GET {self.url} answered {e.code}{_why_status(e.code)}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise _fetch_error(f"GET {self.url} failed: {e}") from None
        if time.monotonic() > deadline:
            raise _fetch_error(f"GET {self.url} took longer than {self.timeout} s")
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            raise _fetch_error(f"GET {self.url}: the JWK Set is not UTF-8 text") from None

    def __repr__(self) -> str:
        return f"JwksCache({self.url!r}, version={self.version})"
