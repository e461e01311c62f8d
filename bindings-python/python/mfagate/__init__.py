"""mfagate: Partner Center MFA enforcement, one decision engine for every runtime.

>>> import mfagate
>>> gate = mfagate.Gate("partner-center")
>>> d = gate.evaluate("/v1/customers", now=1_700_000_000)
>>> (d.outcome, d.reason, d.http.status)
('deny', 'no_credential', 401)
"""

from ._errors import JwksError, MfagateError, PolicyError, UsageError
from ._mfagate import (
    BUILTIN_NAMES,
    Decision,
    Gate,
    HttpAnswer,
    KeySet,
    Message,
    MfaReport,
    Redirect,
    Subject,
    TechnicalException,
    TokenCache,
    __version__,
    session_cookie,
    validate_mfa_header,
)
from .jwks import JwksCache

__all__ = [
    "BUILTIN_NAMES",
    "Decision",
    "Gate",
    "HttpAnswer",
    "JwksCache",
    "JwksError",
    "KeySet",
    "Message",
    "MfaReport",
    "MfagateError",
    "PolicyError",
    "Redirect",
    "Subject",
    "TechnicalException",
    "TokenCache",
    "UsageError",
    "__version__",
    "session_cookie",
    "validate_mfa_header",
]
