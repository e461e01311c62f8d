"""JwksCache on an OpenID configuration or an authority (discovery), and keys
that carry an issuer, against Entra-shaped documents served on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from typing import Any, Dict, List

import pytest

import mfagate
from conftest import (
    APP_ID,
    JWKS,
    OTHER_TENANT,
    ROTATED,
    ROTATED_JWKS,
    ROTATED_KID,
    TENANT,
    DocServer,
    FakeClock,
    JwksServer,
    claims,
    mint,
    tenant_claims,
)

NOW = 1_700_000_000
MULTI_V2 = "https://login.microsoftonline.com/{tenantid}/v2.0"
MULTI_V1 = "https://sts.windows.net/{tenantid}/"


def v2_configuration(jwks_uri: str, issuer: str = MULTI_V2, tenant: str = "common") -> Dict[str, Any]:
    """The shape of login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration."""
    login = f"https://login.microsoftonline.com/{tenant}"
    return {
        "token_endpoint": f"{login}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks_uri,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{login}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{login}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                             "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username",
                             "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{login}/kerberos",
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def v1_configuration(jwks_uri: str, issuer: str = MULTI_V1, tenant: str = "common") -> Dict[str, Any]:
    """The shape of login.microsoftonline.com/{tenant}/.well-known/openid-configuration."""
    login = f"https://login.microsoftonline.com/{tenant}"
    return {
        "token_endpoint": f"{login}/oauth2/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": jwks_uri,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": issuer,
        "microsoft_multi_refresh_token": True,
        "authorization_endpoint": f"{login}/oauth2/authorize",
        "device_authorization_endpoint": f"{login}/oauth2/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{login}/oauth2/logout",
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name",
                             "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "amr", "nonce", "email",
                             "given_name", "family_name", "nickname"],
        "check_session_iframe": f"{login}/oauth2/checksession",
        "userinfo_endpoint": f"{login}/openid/userinfo",
        "kerberos_endpoint": f"{login}/kerberos",
        "tenant_region_scope": None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def _reason(gate: mfagate.Gate, c: Dict[str, Any], **mint_args: Any) -> str:
    return gate.evaluate("/v1/customers", authorization="Bearer " + mint(c, **mint_args), now=NOW).reason


def _v2_token(tenant: str) -> Dict[str, Any]:
    return claims(NOW, tid=tenant, iss=f"https://login.microsoftonline.com/{tenant}/v2.0", ver="2.0",
                  appid=None, azp=APP_ID)


def test_a_multi_tenant_v2_authority_accepts_tokens_of_any_tenant(doc_server: DocServer) -> None:
    keys = doc_server.base + "/common/discovery/v2.0/keys"
    doc_server.docs["/common/v2.0/.well-known/openid-configuration"] = v2_configuration(keys)
    doc_server.docs["/common/discovery/v2.0/keys"] = JWKS
    cache = mfagate.JwksCache(doc_server.base + "/common/v2.0")
    assert (cache.jwks_url, cache.issuer) == (None, None)
    gate = mfagate.Gate("partner-center", cache)
    for tenant in (TENANT, OTHER_TENANT):
        assert _reason(gate, tenant_claims(tenant, NOW)) == "mfa_satisfied", tenant
        assert _reason(gate, _v2_token(tenant)) == "mfa_satisfied", tenant
    assert (cache.jwks_url, cache.issuer) == (keys, MULTI_V2)
    # The configuration and its key set, fetched once, as one attempt.
    assert doc_server.hits == {"/common/v2.0/.well-known/openid-configuration": 1, "/common/discovery/v2.0/keys": 1}
    assert (cache.fetches, cache.version) == (1, 1)


def test_a_multi_tenant_v1_configuration_accepts_tokens_of_any_tenant(doc_server: DocServer) -> None:
    keys = doc_server.base + "/common/discovery/keys"
    doc_server.docs["/common/.well-known/openid-configuration"] = v1_configuration(keys)
    doc_server.docs["/common/discovery/keys"] = JWKS
    cache = mfagate.JwksCache(doc_server.base + "/common/.well-known/openid-configuration")
    gate = mfagate.Gate("partner-center", cache)
    for tenant in (TENANT, OTHER_TENANT):
        assert _reason(gate, tenant_claims(tenant, NOW)) == "mfa_satisfied", tenant
    assert (cache.jwks_url, cache.issuer) == (keys, MULTI_V1)


@pytest.mark.parametrize("shape", ["v1", "v2"])
def test_a_tenant_specific_issuer_refuses_another_tenants_token(doc_server: DocServer, shape: str) -> None:
    keys = doc_server.base + f"/{TENANT}/discovery/keys"
    if shape == "v2":
        source = doc_server.base + f"/{TENANT}/v2.0"
        config_path = f"/{TENANT}/v2.0/.well-known/openid-configuration"
        config = v2_configuration(keys, f"https://login.microsoftonline.com/{TENANT}/v2.0", TENANT)
    else:
        config_path = f"/{TENANT}/.well-known/openid-configuration"
        source = doc_server.base + config_path
        config = v1_configuration(keys, f"https://sts.windows.net/{TENANT}/", TENANT)
    doc_server.docs[config_path] = config
    doc_server.docs[f"/{TENANT}/discovery/keys"] = JWKS
    gate = mfagate.Gate("partner-center", mfagate.JwksCache(source))
    assert _reason(gate, tenant_claims(TENANT, NOW)) == "mfa_satisfied"
    assert _reason(gate, _v2_token(TENANT)) == "mfa_satisfied"
    d = gate.evaluate("/v1/customers", authorization="Bearer " + mint(tenant_claims(OTHER_TENANT, NOW)), now=NOW)
    assert (d.allowed, d.reason) == (False, "issuer_invalid")
    assert _reason(gate, _v2_token(OTHER_TENANT)) == "issuer_invalid"
    # The same keys as a plain JWK Set URL carry no issuer: the other
    # tenant's token passes there (the issuer came from the configuration).
    plain = mfagate.Gate("partner-center", mfagate.JwksCache(keys))
    assert _reason(plain, tenant_claims(OTHER_TENANT, NOW)) == "mfa_satisfied"


def _with_issuer(jwks: Dict[str, Any], issuer: str) -> Dict[str, Any]:
    return {"keys": [dict(k, issuer=issuer) for k in jwks["keys"]]}


@pytest.mark.parametrize("source", ["jwks", "discovery"])
def test_keys_with_an_issuer(doc_server: DocServer, source: str) -> None:
    doc_server.docs["/common/v2.0/.well-known/openid-configuration"] = v2_configuration(
        doc_server.base + "/common/discovery/v2.0/keys")
    templated = _with_issuer(JWKS, MULTI_V2)
    bound = _with_issuer(ROTATED_JWKS, f"https://login.microsoftonline.com/{TENANT}/v2.0")
    doc_server.docs["/common/discovery/v2.0/keys"] = {"keys": templated["keys"] + bound["keys"]}
    url = doc_server.base + ("/common/v2.0" if source == "discovery" else "/common/discovery/v2.0/keys")
    cache = mfagate.JwksCache(url)
    gate = mfagate.Gate("partner-center", cache)
    # A key of the multi-tenant issuer signs for every tenant, v1 and v2 tokens.
    for tenant in (TENANT, OTHER_TENANT):
        assert _reason(gate, tenant_claims(tenant, NOW)) == "mfa_satisfied", tenant
        assert _reason(gate, _v2_token(tenant)) == "mfa_satisfied", tenant
    # A tenant-bound key signs only for its tenant.
    rotated = {"key": ROTATED, "kid": ROTATED_KID}
    assert _reason(gate, tenant_claims(TENANT, NOW), **rotated) == "mfa_satisfied"
    assert _reason(gate, tenant_claims(OTHER_TENANT, NOW), **rotated) == "key_issuer_mismatch"
    assert _reason(gate, _v2_token(OTHER_TENANT), **rotated) == "key_issuer_mismatch"
    assert cache.keys is not None and len(cache.keys) == 2


def test_keys_with_an_issuer_from_a_jwks_server(jwks_server: JwksServer) -> None:
    jwks_server.doc = _with_issuer(JWKS, f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0")
    gate = mfagate.Gate("partner-center", mfagate.JwksCache(jwks_server.url))
    assert _reason(gate, tenant_claims(OTHER_TENANT, NOW)) == "mfa_satisfied"
    assert _reason(gate, tenant_claims(TENANT, NOW)) == "key_issuer_mismatch"


def test_threads_without_keys_wait_for_the_configuration_and_its_keys(doc_server: DocServer) -> None:
    doc_server.delay = 0.2
    doc_server.docs["/common/v2.0/.well-known/openid-configuration"] = v2_configuration(
        doc_server.base + "/common/discovery/v2.0/keys")
    doc_server.docs["/common/discovery/v2.0/keys"] = JWKS
    gate = mfagate.Gate("partner-center", mfagate.JwksCache(doc_server.base + "/common/v2.0"))
    barrier = threading.Barrier(8)
    reasons: List[str] = []

    def one() -> None:
        barrier.wait()
        reasons.append(_reason(gate, claims(NOW)))

    ts = [threading.Thread(target=one) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert reasons == ["mfa_satisfied"] * 8
    assert sorted(doc_server.hits.values()) == [1, 1]


def test_rotation_rediscovers(doc_server: DocServer) -> None:
    clock = FakeClock()
    config = "/common/v2.0/.well-known/openid-configuration"
    doc_server.docs[config] = v2_configuration(doc_server.base + "/keys/1")
    doc_server.docs["/keys/1"] = JWKS
    cache = mfagate.JwksCache(doc_server.base + "/common/v2.0", clock=clock)
    gate = mfagate.Gate("partner-center", cache)
    assert _reason(gate, claims(NOW)) == "mfa_satisfied"
    # The configuration moves its keys; a token signed by a new key arrives.
    doc_server.docs[config] = v2_configuration(doc_server.base + "/keys/2")
    doc_server.docs["/keys/2"] = ROTATED_JWKS
    clock.advance(60)
    assert _reason(gate, claims(NOW), key=ROTATED, kid=ROTATED_KID) == "mfa_satisfied"
    assert cache.jwks_url == doc_server.base + "/keys/2"
    assert doc_server.hits == {config: 2, "/keys/1": 1, "/keys/2": 1} and cache.fetches == 2


@pytest.mark.parametrize("config,why", [
    (None, "answered 404"),
    (b"<html>sign in</html>", "did not answer JSON"),
    ({"issuer": MULTI_V2}, "lacks jwks_uri or issuer"),
    ({"jwks_uri": "http://127.0.0.1:1/keys"}, "lacks jwks_uri or issuer"),
    ({"issuer": MULTI_V2, "jwks_uri": "http://keys.example/keys"}, "names a jwks_uri mfagate will not fetch"),
    ({"issuer": MULTI_V2, "jwks_uri": "KEYS/missing"}, "answered 404"),
])
def test_a_bad_configuration_is_a_failed_fetch(doc_server: DocServer, caplog: pytest.LogCaptureFixture,
                                               config: Any, why: str) -> None:
    caplog.set_level(logging.WARNING, logger="mfagate")
    path = "/common/v2.0/.well-known/openid-configuration"
    if isinstance(config, dict) and config.get("jwks_uri", "").startswith("KEYS"):
        config = dict(config, jwks_uri=doc_server.base + config["jwks_uri"][4:])
    if config is not None:
        doc_server.docs[path] = config
    clock = FakeClock()
    cache = mfagate.JwksCache(doc_server.base + "/common/v2.0", clock=clock)
    gate = mfagate.Gate("partner-center", cache)
    d = gate.evaluate("/v1/customers", authorization="Bearer " + mint(claims(NOW)), now=NOW)
    assert (d.reason, d.http.status) == ("keys_unavailable", 503)
    err = cache.last_error
    assert err is not None and err.code == "jwks_fetch_failed" and why in err.message, err
    (record,) = [r for r in caplog.records if r.name == "mfagate"]
    assert record.levelno == logging.WARNING and why in record.getMessage()
    # Fixed, it is fetched again after the minimum refresh interval.
    doc_server.docs[path] = v2_configuration(doc_server.base + "/common/discovery/v2.0/keys")
    doc_server.docs["/common/discovery/v2.0/keys"] = JWKS
    assert _reason(gate, claims(NOW)) == "keys_unavailable"
    clock.advance(60)
    assert _reason(gate, claims(NOW)) == "mfa_satisfied" and cache.last_error is None


def test_source_kinds_and_url_rules() -> None:
    config = "/.well-known/openid-configuration"
    for url, want in (("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0", None),
                      ("https://login.microsoftonline.com/common/", "https://login.microsoftonline.com/common"),
                      (f"https://login.microsoftonline.us/{TENANT}/v2.0{config}", ""),
                      ("http://localhost:8080/organizations/v2.0", None)):
        # An authority stands for its configuration; the key set's URL is
        # discovered on first use.
        cache = mfagate.JwksCache(url)
        expected = url if want == "" else (want or url) + config
        assert (cache.url, cache.jwks_url) == (expected, None), url
    # On any other host, one segment is a path, not an authority.
    assert mfagate.JwksCache("http://127.0.0.1:1/common").jwks_url == "http://127.0.0.1:1/common"
    plain = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    assert mfagate.JwksCache(plain).jwks_url == plain
    for bad in ("http://login.example.com/common/v2.0",
                "http://sts.example.com/x/.well-known/openid-configuration"):
        with pytest.raises(mfagate.UsageError) as e:
            mfagate.JwksCache(bad)
        assert e.value.code == "jwks_url_invalid" and bad in e.value.message
    with pytest.raises(mfagate.UsageError) as e:
        mfagate.JwksCache(plain, ttl=0)
    assert e.value.code == "request_invalid"
    with pytest.raises(mfagate.UsageError) as e:
        mfagate.JwksCache(plain, max_keys=-1)
    assert e.value.code == "request_invalid"
