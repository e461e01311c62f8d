//! Invalid and hostile tokens (brief §8.7 and more): every one is a 401
//! invalid_token (or 400 for a bad request), never an MFA answer.

use crate::fixtures::*;
use crate::mint::{b64, compact, sign, Keys, Sig, EC_KID, HS_KID, ROTATED_KID, RSA_KID};
use serde_json::json;

const API: &str = "/v1/customers";
const S7: &str = "brief §8.7";

fn mfa_user() -> C {
    app_user(CONTOSO, Some(&["pwd", "mfa"]))
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let h = header("RS256", Some(RSA_KID));
    let good = rs256(keys, &mfa_user());
    let (gh, gp, _) = {
        let mut p = good.split('.');
        (p.next().unwrap_or(""), p.next().unwrap_or(""), p.next())
    };
    let rs_and_hs = pc_with("2020", json!({"token": {"algorithms": ["RS256", "HS256"]}}));
    let rs_and_es = pc_with("2020", json!({"token": {"algorithms": ["RS256", "ES256"]}}));
    let t = |c: C| rs256(keys, &c);
    let case = |id: &str, desc: &str, token: &str, reason: &str| {
        Case::new(id, S7, desc)
            .api("GET", API, token)
            .expect(invalid(reason))
    };
    let unrecognized = |id: &str, desc: &str, token: &str, reason: &str| {
        Case::new(id, S7, desc)
            .api("GET", API, token)
            .expect(and(invalid(reason), json!({"token_kind": "unrecognized"})))
    };
    let mut v = vec![
        case("token-wrong-audience", "A token for another API", &t(mfa_user().with("aud", "https://graph.microsoft.com")), "audience_invalid"),
        case("token-audience-array-miss", "aud as an array without ours", &t(mfa_user().with("aud", vec!["a", "b"])), "audience_invalid"),
        case("token-expired", "exp one hour ago", &t(mfa_user().with("exp", NOW - 3600)), "token_expired"),
        case("token-expired-at-skew-edge", "exp exactly 300 s ago: expired (the skew is exclusive)", &t(mfa_user().with("exp", NOW - 300)), "token_expired"),
        case("token-not-yet-valid", "nbf ten minutes ahead, beyond the 300 s skew", &t(mfa_user().with("nbf", NOW + 600)), "token_not_yet_valid"),
        case("token-issued-in-future", "iat ten minutes ahead", &t(mfa_user().with("iat", NOW + 600)), "token_issued_in_future"),
        case("token-bad-signature", "Signed with another RSA key under kid rsa-1", &sign(&h, &mfa_user().value(), Sig::Rs256(&keys.rotated)), "signature_invalid"),
        case("token-tampered-payload", "Payload changed after signing (amr pwd → mfa)", &format!("{}.{}.{}", gh, b64(mfa_user().value().to_string().replace("\"pwd\"", "\"rsa\"").as_bytes()), good.rsplit('.').next().unwrap_or("")), "signature_invalid"),
        case("token-unknown-kid", "Signed with a key that is not in the key set", &sign(&header("RS256", Some(ROTATED_KID)), &mfa_user().value(), Sig::Rs256(&keys.rotated)), "key_not_found"),
        case("token-alg-none", "alg none, no signature", &format!("{}.{}.", b64(br#"{"typ":"JWT","alg":"none"}"#), gp), "algorithm_not_allowed"),
        case("token-alg-none-with-signature", "alg none with a signature segment", &compact(r#"{"typ":"JWT","alg":"none","kid":"rsa-1"}"#, &mfa_user().value().to_string(), Sig::Raw("c2ln")), "algorithm_not_allowed"),
        case("token-alg-lowercase", "alg names are case-sensitive", &compact(r#"{"typ":"JWT","alg":"rs256","kid":"rsa-1"}"#, &mfa_user().value().to_string(), Sig::Raw("c2ln")), "algorithm_not_allowed"),
        case("token-hs256-with-rsa-public-key", "HS256 signed with the RSA public key, RS256 pinned", &sign(&header("HS256", Some(RSA_KID)), &mfa_user().value(), Sig::Hs256(&keys.rsa_public_der())), "algorithm_not_allowed"),
        Case::new("token-hs256-key-confusion-pinned", "RFC 8725 §2.1, §3.1", "Even with HS256 pinned, an RSA key never verifies HMAC")
            .policy(rs_and_hs.clone())
            .api("GET", API, &sign(&header("HS256", Some(RSA_KID)), &mfa_user().value(), Sig::Hs256(&keys.rsa_public_der())))
            .expect(invalid("key_algorithm_mismatch")),
        Case::new("token-rs256-with-ec-kid", "RFC 8725 §3.1", "An RS256 token naming the EC key")
            .policy(rs_and_es.clone())
            .api("GET", API, &sign(&header("RS256", Some(EC_KID)), &mfa_user().value(), Sig::Rs256(&keys.rsa)))
            .expect(invalid("key_algorithm_mismatch")),
        Case::new("token-hs256-wrong-secret", "RFC 7518 §3.2", "HS256 with another secret")
            .policy(rs_and_hs.clone())
            .api("GET", API, &sign(&header("HS256", Some(HS_KID)), &mfa_user().value(), Sig::Hs256(b"an-entirely-different-32-byte-secret!")))
            .expect(invalid("signature_invalid")),
        Case::new("token-oct-key-for-rs256", "RFC 8725 §3.1", "An RS256 token naming the oct key")
            .policy(rs_and_hs)
            .api("GET", API, &sign(&header("RS256", Some(HS_KID)), &mfa_user().value(), Sig::Rs256(&keys.rsa)))
            .expect(invalid("key_algorithm_mismatch")),
        Case::new("token-jku-not-followed", "RFC 8725 §3.10; issue 2: jku/x5u are never followed", "A jku naming another key set is ignored: the configured key verifies")
            .api("GET", API, &sign(&json!({"typ": "JWT", "alg": "RS256", "kid": RSA_KID, "jku": "https://attacker.example/keys", "x5u": "https://attacker.example/cert"}), &mfa_user().value(), Sig::Rs256(&keys.rsa)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        case("token-embedded-jwk-ignored", "An attacker's key embedded in the header (jwk) and a kid we do not have", &sign(&json!({"typ": "JWT", "alg": "RS256", "kid": "attacker", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}), &mfa_user().value(), Sig::Rs256(&keys.rotated)), "key_not_found"),
        case("token-es256-not-pinned", "An ES256 token where only RS256 is pinned", &sign(&header("ES256", Some(EC_KID)), &mfa_user().value(), Sig::Es256(&keys.ec)), "algorithm_not_allowed"),
        case("token-issuer-tenant-mismatch", "iss names Fabrikam, tid says Contoso", &t(mfa_user().with("iss", format!("https://sts.windows.net/{FABRIKAM}/"))), "issuer_tenant_mismatch"),
        case("token-issuer-not-entra", "iss is someone else's", &t(mfa_user().with("iss", format!("https://evil.example/{CONTOSO}/"))), "issuer_invalid"),
        case("token-issuer-without-slash", "v1 issuer without its trailing slash", &t(mfa_user().with("iss", format!("https://sts.windows.net/{CONTOSO}"))), "issuer_invalid"),
        case("token-ver-mismatch", "ver 2.0 with a v1 issuer", &t(mfa_user().with("ver", "2.0")), "issuer_invalid"),
        case("token-tid-not-guid", "tid is not a GUID", &t(mfa_user().with("tid", "contoso").with("iss", "https://sts.windows.net/contoso/")), "claim_invalid"),
        Case::new("token-id-token-on-api", "RFC 8725 §3.12; brief §8.7", "An ID token is not an access token")
            .api("GET", API, &t(id_token(CONTOSO, Some(&["pwd", "mfa"]), &[G_ADMIN], &[]).with("aud", PC_AUD)))
            .expect(and(invalid("token_kind_not_accepted"), json!({"token_kind": "id_token", "rule": "api"}))),
        Case::new("token-no-credential", "RFC 6750 §3", "No Authorization header: 401 with a bare Bearer challenge")
            .request(json!({"method": "GET", "path": API, "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "no_credential", "rule": "api", "http": {"status": 401, "status_text": "Unauthorized", "headers": [["WWW-Authenticate", "Bearer"]]}})),
        Case::new("token-basic-scheme", "RFC 6750 §3", "Basic credentials are no bearer token")
            .request(json!({"method": "GET", "path": API, "authorization": "Basic dXNlcjpwYXNz", "now": NOW}))
            .expect(json!({"reason": "no_credential", "http": {"status": 401, "headers": [["WWW-Authenticate", "Bearer"]]}})),
        Case::new("token-bearer-empty", "RFC 6750 §2.1", "Bearer with nothing after it")
            .request(json!({"method": "GET", "path": API, "authorization": "Bearer ", "now": NOW}))
            .expect(json!({"reason": "no_credential", "http": {"status": 401}})),
        Case::new("token-bearer-lowercase-scheme", "RFC 7235 §2.1: schemes are case-insensitive", "bearer in lower case works")
            .request(json!({"method": "GET", "path": API, "authorization": format!("bearer {good}"), "now": NOW}))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("token-two-credentials", "RFC 6750 §3.1 invalid_request", "A header and a session token at once")
            .request(json!({"method": "GET", "path": API, "authorization": format!("Bearer {good}"), "token": good, "now": NOW}))
            .expect(json!({"outcome": "deny", "reason": "credential_ambiguous", "http": {"status": 400, "headers": [["WWW-Authenticate", "Bearer error=\"invalid_request\""]]}})),
        case("token-malformed-base64", "A header segment with characters outside base64url", &format!("eyJ!bGc.{gp}.c2ln"), "token_malformed"),
        case("token-padded-base64", "base64url must not be padded", &format!("{gh}=.{gp}.c2ln"), "token_malformed"),
        case("token-two-segments", "Only header and payload", &format!("{gh}.{gp}"), "token_malformed"),
        case("token-four-segments", "A JWE-like count", &format!("{good}.extra"), "token_malformed"),
        case("token-five-segments", "A JWE compact serialization", &format!("{gh}.a.b.c.d"), "token_malformed"),
        case("token-garbage", "Not a JWT at all", "hello", "token_malformed"),
        case("token-empty-signature", "The signature segment is empty", &format!("{gh}.{gp}."), "token_malformed"),
        case("token-header-not-json", "The header decodes to text", &format!("{}.{gp}.c2ln", b64(b"not json")), "token_malformed"),
        case("token-header-array", "The header is a JSON array", &format!("{}.{gp}.c2ln", b64(b"[1,2]")), "token_malformed"),
        case("token-header-no-alg", "The header has no alg", &format!("{}.{gp}.c2ln", b64(br#"{"typ":"JWT","kid":"rsa-1"}"#)), "token_malformed"),
        case("token-duplicate-header-alg", "alg appears twice in the header", &compact(r#"{"alg":"RS256","alg":"none","kid":"rsa-1"}"#, &mfa_user().value().to_string(), Sig::Raw("c2ln")), "token_malformed"),
        case("token-crit-header", "A crit extension mfagate does not understand", &sign(&json!({"alg": "RS256", "kid": RSA_KID, "crit": ["exp"]}), &mfa_user().value(), Sig::Rs256(&keys.rsa)), "token_malformed"),
        case("token-typ-jwe", "typ other than JWT", &sign(&json!({"alg": "RS256", "kid": RSA_KID, "typ": "JOSE+JSON"}), &mfa_user().value(), Sig::Rs256(&keys.rsa)), "token_type_unsupported"),
        case("token-duplicate-claim", "amr appears twice: reject rather than pick one (RFC 8725 §3.x, RFC 7519 §4)", &compact(&h.to_string(), &mfa_user().value().to_string().replacen('{', "{\"amr\":[\"pwd\"],", 1), Sig::Rs256(&keys.rsa)), "claim_invalid"),
        case("token-payload-not-json", "The payload is not JSON", &compact(&h.to_string(), "not json", Sig::Rs256(&keys.rsa)), "token_malformed"),
        case("token-payload-array", "The payload is a JSON array", &compact(&h.to_string(), "[]", Sig::Rs256(&keys.rsa)), "token_malformed"),
        case("token-exp-string", "exp as a string", &t(mfa_user().with("exp", "2099-01-01")), "claim_invalid"),
        case("token-amr-string", "amr as a string", &t(mfa_user().with("amr", "mfa")), "claim_invalid"),
        case("token-amr-numbers", "amr holds numbers", &t(mfa_user().with("amr", vec![1, 2])), "claim_invalid"),
        case("token-aud-number", "aud as a number", &t(mfa_user().with("aud", 42)), "claim_invalid"),
        case("token-scp-array", "scp as an array", &t(mfa_user().with("scp", vec!["a"])), "claim_invalid"),
        case("token-missing-exp", "No exp", &t(mfa_user().without("exp")), "claim_missing"),
        case("token-missing-tid", "No tid", &t(mfa_user().without("tid")), "claim_missing"),
        case("token-missing-iss", "No iss", &t(mfa_user().without("iss")), "claim_missing"),
        case("token-missing-aud", "No aud", &t(mfa_user().without("aud")), "claim_missing"),
        case("token-huge", "A 20 KiB token is refused before decoding", &format!("{gh}.{}.c2ln", "A".repeat(20 * 1024)), "token_too_large"),
        unrecognized("token-unrecognized-kind", "appid without scp, without user claims, and without oid = sub: no kind is proven", &t(app_only(CONTOSO).without("roles").without("sub")), "token_kind_unrecognized"),
        unrecognized("token-idtyp-app-with-scp", "idtyp app contradicts scp", &t(mfa_user().with("idtyp", "app")), "token_kind_unrecognized"),
        unrecognized("token-scp-without-app", "scp without appid/azp", &t(mfa_user().without("appid")), "token_kind_unrecognized"),
        case("token-nan-like-exp", "exp far beyond any date", &t(mfa_user().with("exp", 1e300)), "claim_invalid"),
    ];
    v.extend([
        Case::new(
            "token-expired-within-skew",
            "RFC 7519 §4.1.4 with clock skew",
            "exp 100 s ago is tolerated by the 300 s skew",
        )
        .api("GET", API, &t(mfa_user().with("exp", NOW - 100)))
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "token-nbf-within-skew",
            "RFC 7519 §4.1.5 with clock skew",
            "nbf 100 s ahead is tolerated",
        )
        .api("GET", API, &t(mfa_user().with("nbf", NOW + 100)))
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "token-skew-zero",
            "policy clock_skew",
            "With no skew, exp 100 s ago is expired",
        )
        .policy(pc_with("2020", json!({"token": {"clock_skew": 0}})))
        .api("GET", API, &t(mfa_user().with("exp", NOW - 100)))
        .expect(invalid("token_expired")),
        Case::new(
            "token-float-dates",
            "RFC 7519 §2 NumericDate",
            "NumericDate may have a fraction",
        )
        .api(
            "GET",
            API,
            &t(mfa_user().with("exp", (NOW + 3000) as f64 + 0.5)),
        )
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "token-v2-issuer",
            "brief §6: v2 issuer",
            "A v2 issuer with ver 2.0 is accepted",
        )
        .api(
            "GET",
            API,
            &t(mfa_user()
                .with(
                    "iss",
                    format!("https://login.microsoftonline.com/{CONTOSO}/v2.0"),
                )
                .with("ver", "2.0")),
        )
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "token-tenant-not-allowed",
            "policy token.tenants",
            "A tenant outside the allow-list",
        )
        .policy(pc_with("2020", json!({"token": {"tenants": [FABRIKAM]}})))
        .api("GET", API, &good)
        .expect(invalid("tenant_not_allowed")),
        Case::new(
            "token-tenant-allowed",
            "policy token.tenants",
            "A tenant in the allow-list",
        )
        .policy(pc_with("2020", json!({"token": {"tenants": [CONTOSO]}})))
        .api("GET", API, &good)
        .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new(
            "token-size-limit-configurable",
            "issue 2: size limit",
            "A smaller limit refuses an ordinary token",
        )
        .policy(pc_with("2020", json!({"token": {"max_token_bytes": 256}})))
        .api("GET", API, &good)
        .expect(invalid("token_too_large")),
        Case::new(
            "request-bad-percent-escape",
            "RFC 3986 §2.1",
            "A path that cannot be decoded is refused (400), not guessed",
        )
        .api("GET", "/v1/%zz", &good)
        .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
        Case::new(
            "request-relative-path",
            "RFC 9112 §3.2",
            "A path must start with /",
        )
        .api("GET", "v1/customers", &good)
        .expect(json!({"outcome": "deny", "reason": "request_invalid", "http": {"status": 400}})),
    ]);
    v
}
