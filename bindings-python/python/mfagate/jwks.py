"""A JWK Set kept fresh over HTTP(S), with the standard library only.

Every rule (when to fetch, the rate limits, the URL rules, the limits and
defaults, what a document means, OpenID discovery, when a decision waits for
keys) is the core's, in its key feed (``mfagate._mfagate._KeyFeed``,
core/src/feed.rs and core/src/refresh.rs). This module only performs the GETs
it asks for (urllib: the timeout for the whole fetch, the size limit while
reading, no redirects), the thread idiom, and the logging.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

from ._errors import JwksError, MfagateError
from ._mfagate import KeySet, _Fetch, _KeyFeed

_log = logging.getLogger("mfagate")

# What a GET gave: (status, body), or why it got no answer.
_Answer = Union[Tuple[int, bytes], str]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None  # a 3xx answer reaches the refresher as it is


def _get(opener: urllib.request.OpenerDirector, fetch: _Fetch, headers: Mapping[str, str]) -> _Answer:
    """One GET: redirects are not followed, reading stops past
    ``fetch.max_bytes`` and at the deadline (the caller stops waiting then)."""
    deadline = time.monotonic() + fetch.timeout
    request = urllib.request.Request(fetch.url, headers=dict(headers))
    try:
        with opener.open(request, timeout=fetch.timeout) as resp:
            body = bytearray()
            while len(body) <= fetch.max_bytes:
                if time.monotonic() > deadline:
                    return f"no answer within {fetch.timeout:g} s"
                chunk = resp.read1(fetch.max_bytes + 1 - len(body))
                if not chunk:
                    break
                body += chunk
            if len(body) > fetch.max_bytes:
                return f"the document is larger than {fetch.max_bytes} bytes"
            return int(resp.status), bytes(body)
    except urllib.error.HTTPError as e:  # a status urllib does not pass on, 3xx included
        e.close()
        return int(e.code), b""
    except urllib.error.URLError as e:
        return f"GET failed: {e.reason}"
    except Exception as e:  # the network, or an answer that is not HTTP
        return f"GET failed: {e or type(e).__name__}"


class JwksCache:
    """The JWK Set of ``url``, fetched lazily and kept fresh.

    ``url`` is a JWK Set URL, an OpenID configuration URL
    (``.../.well-known/openid-configuration``) or an authority
    (``https://login.microsoftonline.com/{tenant}/v2.0``): for the last two
    the configuration gives the key set's URL and the issuer tokens must
    carry. The rules are the core's, the same in every runtime
    (docs/bindings.md, "JWKS caches"):

    * keys are kept ``ttl`` seconds; a token with an unknown ``kid`` triggers
      a refetch (key rotation);
    * at most one fetch per ``min_refresh_interval`` seconds after a failure,
      for an unknown ``kid``, and before the first good set;
    * a failed fetch (down, slower than ``timeout`` in all, a status other
      than 200, redirects included, larger than ``max_bytes``, not a JWK Set,
      more than ``max_keys`` keys or none usable) keeps the last good keys;
    * the URL is https; plain http only for 127.0.0.1, ::1 and localhost.

    A failed fetch is logged on the ``mfagate`` logger at WARNING (the URL
    and why; never key material) and kept in ``last_error``. It is safe to
    share between threads: one fetch is in flight at a time; callers without
    keys wait for it, callers with keys go on with them.

    Pass it to :class:`mfagate.Gate` in place of a JWK Set.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: Optional[float] = None,
        min_refresh_interval: Optional[float] = None,
        timeout: Optional[float] = None,
        max_bytes: Optional[int] = None,
        max_keys: Optional[int] = None,
        headers: Optional[Mapping[str, str]] = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        given: Dict[str, Any] = {
            "ttl": ttl,
            "min_refresh_interval": min_refresh_interval,
            "timeout": timeout,
            "max_bytes": max_bytes,
            "max_keys": max_keys,
        }
        # The defaults (and every check) are the core's: pass only what was given.
        self._feed = _KeyFeed(url, **{k: v for k, v in given.items() if v is not None})
        self._headers: Dict[str, str] = {"Accept": "application/json", "User-Agent": "mfagate-python"}
        self._headers.update(headers or {})
        self._clock = clock
        self._opener = urllib.request.build_opener(_NoRedirect())
        # Threads without keys wait on it for the fetch in flight to end.
        self._cond = threading.Condition()

    # -- public ---------------------------------------------------------------

    @property
    def url(self) -> str:
        """The source: a JWK Set URL, an OpenID configuration or an authority."""
        return self._feed.url

    @property
    def ttl(self) -> float:
        return float(self._feed.options["ttl"])

    @property
    def min_refresh_interval(self) -> float:
        return float(self._feed.options["min_refresh_interval"])

    @property
    def timeout(self) -> float:
        return float(self._feed.options["timeout"])

    @property
    def max_bytes(self) -> int:
        return int(self._feed.options["max_bytes"])

    @property
    def max_keys(self) -> int:
        return int(self._feed.options["max_keys"])

    @property
    def jwks_url(self) -> Optional[str]:
        """The key set's URL: ``url`` itself, or the configuration's
        ``jwks_uri`` once fetched (None before)."""
        return self._feed.jwks_url

    @property
    def issuer(self) -> Optional[str]:
        """The OpenID configuration's ``issuer`` once fetched (None for a
        JWK Set URL): tokens must carry it."""
        return self._feed.issuer

    @property
    def keys(self) -> Optional[KeySet]:
        """The current keys, or None when no fetch has succeeded yet."""
        return self._feed.keys(self._now())

    @property
    def version(self) -> int:
        """Increases by one with every successful fetch."""
        return self._feed.version

    @property
    def last_error(self) -> Optional[MfagateError]:
        """Why the last fetch failed (None after a success)."""
        return self._feed.last_error

    @property
    def fetches(self) -> int:
        """Fetches started (a configuration and its key set count as one)."""
        return self._feed.fetches

    def refresh(self) -> KeySet:
        """Fetches now, whatever the TTL says, unless a fetch was tried less
        than ``min_refresh_interval`` ago (or waits for the one in flight).
        Raises JwksError (code ``jwks_fetch_failed``) when the last fetch
        failed; the last good keys stay in use."""
        self._step(self._feed.refresh(self._now()))
        err = self._feed.last_error
        keys = self.keys
        if err is not None:
            raise err
        if keys is None:  # pragma: no cover - a finished fetch sets keys or last_error
            raise JwksError(f"no JWK Set was fetched from {self.url} yet", code="jwks_fetch_failed")
        return keys

    # -- protocol used by mfagate.Gate (bindings-python/src/gate.rs) -----------

    def _mfagate_poll(self) -> int:
        """Before a decision: the fetch the feed asks for, on this thread
        (or the wait for the one in flight, while there are no keys). The
        time to decide at, in the feed's milliseconds."""
        self._step(self._feed.poll(self._now()))
        return self._now()

    def _mfagate_more(self, step: Union[_Fetch, str]) -> int:
        """After a decision the core says fresher keys may change: perform
        the fetch, or wait for the one in flight."""
        self._step(step)
        return self._now()

    # -- the idiom ------------------------------------------------------------

    def _now(self) -> int:
        """The clock, in the feed's milliseconds."""
        return max(0, round(self._clock() * 1000))

    def _step(self, step: Union[_Fetch, str, None]) -> None:
        if isinstance(step, _Fetch):
            self._run(step)
        elif step == "wait":
            with self._cond:
                # A fetch ends within its timeout (a configuration and its
                # key set: two); the bound is only a safety net.
                self._cond.wait_for(lambda: not self._feed.fetching, timeout=self._feed.wait_bound)

    def _run(self, fetch: Optional[_Fetch]) -> None:
        """Fetches and reports, then the key set a configuration names."""
        try:
            while fetch is not None:
                answer = self._bounded_get(fetch)
                now = self._now()
                if isinstance(answer, str):
                    self._warn(self._feed.failed(fetch.id, now, answer))
                    return
                try:
                    fetch = self._feed.fetched(fetch.id, now, answer[0], answer[1])
                except MfagateError as e:
                    self._warn(e)
                    return
        finally:
            with self._cond:
                self._cond.notify_all()

    def _bounded_get(self, fetch: _Fetch) -> _Answer:
        """The GET on a worker thread, so that the whole fetch (connection,
        headers and body) takes at most ``fetch.timeout`` for the caller,
        however slowly a server answers."""
        box: List[_Answer] = []
        worker = threading.Thread(
            target=lambda: box.append(_get(self._opener, fetch, self._headers)),
            name="mfagate-jwks-fetch",
            daemon=True,
        )
        worker.start()
        worker.join(fetch.timeout)
        return box[0] if box else f"no answer within {fetch.timeout:g} s"

    def _warn(self, error: MfagateError) -> None:
        if self._feed.has_keys:
            then = "the last good keys stay in use"
        else:
            then = "no good JWK Set yet, so tokens are refused"
        _log.warning(
            "JWKS fetch failed: %s; %s; next attempt in %d s at the earliest",
            error.message,
            then,
            self._feed.retry_after(self._now()),
        )

    def __repr__(self) -> str:
        return f"JwksCache({self.url!r}, version={self.version})"
