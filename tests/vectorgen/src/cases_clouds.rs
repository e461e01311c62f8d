//! National clouds (issue 9 item 4) and signing-key issuers (item 2).

use crate::fixtures::*;
use crate::mint::{sign, Keys, Sig};
use serde_json::{json, Value};

const CLOUDS: &str = "authentication-national-cloud.md; MSAL cloud metadata; Microsoft Q&A, token issuers of the sovereign clouds; partner-center-rest-urls";
const KEYS: &str = "access-tokens.md, Validate the signing key issuer; Microsoft.IdentityModel EnableAadSigningKeyIssuerValidation";
const API: &str = "/v1/customers";
const CHINA_PC: &str = "https://partner.partnercenterapi.microsoftonline.cn";
pub const MSA: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

fn cloud(name: &str) -> Value {
    pc_with("2020", json!({"token": {"cloud": name}}))
}

fn gov_v2(c: C) -> C {
    let tid =
        c.0.get("tid")
            .and_then(|t| t.as_str())
            .unwrap_or(CONTOSO)
            .to_owned();
    v2(c).with(
        "iss",
        format!("https://login.microsoftonline.us/{tid}/v2.0"),
    )
}

pub fn cloud_cases(keys: &Keys) -> Vec<Case> {
    let t = |c: C| rs256(keys, &c);
    let mfa = || app_user(CONTOSO, Some(&["pwd", "mfa"]));
    let china_v1 = || {
        mfa()
            .with("iss", format!("https://sts.chinacloudapi.cn/{CONTOSO}/"))
            .with("aud", CHINA_PC)
    };
    let mismatch = |detail: &str| and(invalid("issuer_cloud_mismatch"), json!({"detail": detail}));
    vec![
        Case::new("cloud-gov-v2", CLOUDS, "US Government policy: a v2 token from login.microsoftonline.us")
            .policy(cloud("us_government"))
            .api("GET", API, &t(gov_v2(mfa())))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("cloud-gov-v1", CLOUDS, "US Government v1 tokens carry sts.windows.net, like public ones")
            .policy(cloud("us_government"))
            .api("GET", API, &t(mfa()))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("cloud-gov-token-on-public", CLOUDS, "A US Government v2 token where the policy's cloud is public: refused, saying why")
            .api("GET", API, &t(gov_v2(mfa())))
            .expect(mismatch(&format!("iss \"https://login.microsoftonline.us/{CONTOSO}/v2.0\" comes from Microsoft Entra ID for US Government, but the policy accepts tokens of the global Microsoft Entra ID (token.cloud = \"public\")"))),
        Case::new("cloud-public-token-on-gov", CLOUDS, "A public v2 token where the policy's cloud is US Government")
            .policy(cloud("us_government"))
            .api("GET", API, &t(v2(mfa())))
            .expect(invalid("issuer_cloud_mismatch")),
        Case::new("cloud-china-v1", CLOUDS, "China: a v1 token from sts.chinacloudapi.cn for the China Partner Center API (the built-in audience follows the cloud)")
            .policy(cloud("china"))
            .api("GET", API, &t(china_v1()))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("cloud-china-v2", CLOUDS, "China: a v2 token from login.partner.microsoftonline.cn")
            .policy(cloud("china"))
            .api("GET", API, &t(v2(mfa()).with("iss", format!("https://login.partner.microsoftonline.cn/{CONTOSO}/v2.0")).with("aud", CHINA_PC)))
            .expect(allow("mfa_satisfied", "app_user", "api")),
        Case::new("cloud-china-public-audience", CLOUDS, "China: a token for the public Partner Center API is for another audience")
            .policy(cloud("china"))
            .api("GET", API, &t(china_v1().with("aud", PC_AUD)))
            .expect(invalid("audience_invalid")),
        Case::new("cloud-china-token-on-public", CLOUDS, "A China token where the policy's cloud is public")
            .api("GET", API, &t(china_v1()))
            .expect(invalid("issuer_cloud_mismatch")),
        Case::new("cloud-public-v1-on-china", CLOUDS, "A public v1 token where the policy's cloud is China")
            .policy(cloud("china"))
            .api("GET", API, &t(mfa().with("aud", CHINA_PC)))
            .expect(invalid("issuer_cloud_mismatch")),
        Case::new("cloud-china-delegated", CLOUDS, "China: a partner user in a customer tenant (idp sts.chinacloudapi.cn) is delegated admin")
            .policy(cloud("china"))
            .api("GET", API, &t(delegated(CUSTOMER, CONTOSO, Some(&["pwd"]))
                .with("iss", format!("https://sts.chinacloudapi.cn/{CUSTOMER}/"))
                .with("idp", format!("https://sts.chinacloudapi.cn/{CONTOSO}/"))
                .with("aud", CHINA_PC)))
            .expect(pc401("delegated_admin_mfa_required", "delegated_admin", "api")),
        Case::new("cloud-china-claims-challenge", CLOUDS, "China: the claims challenge points at the China authority")
            .policy(pc_with("2020", json!({"token": {"cloud": "china"}, "routes": {"api": {"challenge": "claims"}}})))
            .api("GET", API, &t(china_v1().with("amr", vec!["pwd"]).with("xms_cc", vec!["cp1"])))
            .expect(json!({"http": {"status": 401, "headers": [["WWW-Authenticate",
                "Bearer realm=\"\", authorization_uri=\"https://login.partner.microsoftonline.cn/common/oauth2/authorize\", error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYW1yIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWVzIjpbIm1mYSJdfX19\""]]}})),
        Case::new("cloud-unknown", "policy token.cloud", "An unknown cloud name does not load")
            .policy(cloud("mars"))
            .api("GET", API, &t(mfa()))
            .error("policy_invalid"),
    ]
}

/// The key set of issuers.json: the RSA test key under kids with each kind
/// of Entra `issuer`, and one without.
pub fn issuer_jwks(keys: &Keys) -> Value {
    let base = keys.jwks()["keys"][0].clone();
    let with = |kid: &str, issuer: Option<Value>| {
        let mut k = base.clone();
        k["kid"] = json!(kid);
        if let Some(i) = issuer {
            k["issuer"] = i;
        }
        k
    };
    json!({"keys": [
        with("common", Some(json!("https://login.microsoftonline.com/{tenantid}/v2.0"))),
        with("msa", Some(json!(format!("https://login.microsoftonline.com/{MSA}/v2.0")))),
        with("contoso", Some(json!(format!("https://login.microsoftonline.com/{CONTOSO}/v2.0")))),
        with("china-common", Some(json!("https://login.partner.microsoftonline.cn/{tenantid}/v2.0"))),
        with("plain", None),
        with("odd-issuer", Some(json!(42))),
    ]})
}

pub fn issuer_cases(keys: &Keys) -> Vec<Case> {
    let by = |kid: &str, c: C| {
        sign(
            &header("RS256", Some(kid)),
            &c.value(),
            Sig::Rs256(&keys.rsa),
        )
    };
    let mfa = |tid: &str| app_user(tid, Some(&["pwd", "mfa"]));
    let ok = || allow("mfa_satisfied", "app_user", "api");
    let wrong = || invalid("key_issuer_mismatch");
    vec![
        Case::new("key-issuer-template-v2", KEYS, "A key for {tenantid}: a v2 token of any tenant, its tid substituted")
            .api("GET", API, &by("common", v2(mfa(FABRIKAM))))
            .expect(ok()),
        Case::new("key-issuer-template-v1", KEYS, "The v2 keys also sign v1 tokens: the v1 issuer matches through its v2 form")
            .api("GET", API, &by("common", mfa(CONTOSO)))
            .expect(ok()),
        Case::new("key-issuer-tenant-bound", KEYS, "A key bound to one tenant signs only for it")
            .api("GET", API, &by("contoso", v2(mfa(CONTOSO))))
            .expect(ok()),
        Case::new("key-issuer-other-tenant", KEYS, "The same key for another tenant's token: refused")
            .api("GET", API, &by("contoso", v2(mfa(FABRIKAM))))
            .expect(and(wrong(), json!({"detail": format!("key \"contoso\" may sign only for issuer \"https://login.microsoftonline.com/{CONTOSO}/v2.0\"; the token's iss is \"https://login.microsoftonline.com/{FABRIKAM}/v2.0\"")}))),
        Case::new("key-issuer-msa-key", KEYS, "The personal-account key (issuer of tenant 9188040d-…) cannot sign for an organisation")
            .api("GET", API, &by("msa", v2(mfa(CONTOSO))))
            .expect(wrong()),
        Case::new("key-issuer-tid-case", "issue 9 item 2: compared exactly, as Microsoft.IdentityModel does", "A tid in another case than iss's tenant: the substituted issuer is another string")
            .api("GET", API, &by("common", v2(mfa(CONTOSO)).with("tid", CONTOSO.to_uppercase())))
            .expect(wrong()),
        Case::new("key-issuer-none", KEYS, "A key without an issuer is not restricted")
            .api("GET", API, &by("plain", v2(mfa(FABRIKAM))))
            .expect(ok()),
        Case::new("key-issuer-china", KEYS, "A China key for {tenantid} signs China v1 tokens through their v2 form")
            .policy(pc_with("2020", json!({"token": {"cloud": "china"}})))
            .api("GET", API, &by("china-common", mfa(CONTOSO).with("iss", format!("https://sts.chinacloudapi.cn/{CONTOSO}/")).with("aud", "https://partner.partnercenterapi.microsoftonline.cn")))
            .expect(ok()),
        Case::new("key-issuer-public-key-china-token", KEYS, "A public-cloud key for {tenantid} does not sign China tokens")
            .policy(pc_with("2020", json!({"token": {"cloud": "china"}})))
            .api("GET", API, &by("common", mfa(CONTOSO).with("iss", format!("https://sts.chinacloudapi.cn/{CONTOSO}/")).with("aud", "https://partner.partnercenterapi.microsoftonline.cn")))
            .expect(wrong()),
        Case::new("key-issuer-not-a-string", "fail closed", "A key whose issuer is not a string is not used")
            .api("GET", API, &by("odd-issuer", v2(mfa(CONTOSO))))
            .expect(invalid("key_unusable")),
    ]
}
