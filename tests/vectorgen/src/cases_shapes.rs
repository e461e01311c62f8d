//! A real-shape corpus (issue 9 item 6): claim sets as Microsoft and others
//! published them, re-signed with the test keys. Only the times are moved
//! to the vectors' clock, and where a published sample was scrubbed
//! inconsistently (an `iss` whose tenant is not the `tid`), the `iss` is
//! repaired; every change is named in the case's description. The policy
//! accepts each sample's own audience.

use crate::fixtures::*;
use crate::mint::Keys;
use serde_json::{json, Map, Value};

const ACCESS: &str = "https://learn.microsoft.com/entra/identity-platform/access-tokens (MicrosoftDocs/entra-docs docs/identity-platform/access-tokens.md, sample tokens)";
const ID: &str = "https://learn.microsoft.com/entra/identity-platform/id-tokens (MicrosoftDocs/entra-docs docs/identity-platform/id-tokens.md, sample tokens)";

/// A published claim set, on the vectors' clock.
fn sample(v: Value) -> C {
    let mut m: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    for k in ["iat", "nbf"] {
        if m.contains_key(k) {
            m.insert(k.into(), json!(NOW - 600));
        }
    }
    m.insert("exp".into(), json!(NOW + 3000));
    C(m)
}

/// The built-in policy accepting `aud`, with `partner` as the partner tenant.
fn accepting(aud: &str, partner: &str) -> Value {
    json!({"builtin": "partner-center-2020", "overrides": {"token": {"audiences": [aud], "partner_tenants": [partner]}}})
}

pub fn cases(keys: &Keys) -> Vec<Case> {
    let t = |c: C| rs256(keys, &c);
    let api = |c: C| json!({"method": "GET", "path": "/v1/customers", "authorization": format!("Bearer {}", t(c)), "now": NOW});
    let page = |path: &str, c: C| json!({"method": "GET", "path": path, "token": t(c), "now": NOW});

    let access_v1 = sample(
        json!({"aud":"ef1da9d4-ff77-4c3e-a005-840c3f830745","iss":"https://sts.windows.net/fa15d692-e9c7-4460-a743-29f2956fd429/","iat":1537233106,"nbf":1537233106,"exp":1537237006,"acr":"1","aio":"AXQAi/8IAAAAFm+E/QTG+gFnVxLjWdw8K+61AGrSOuMMF6ebaMj7XO3IbmD3fGmrOyD+NvZyGn2VaT/kDKXw4MIhrgGVq6Bn8wLXoT1LkIZ+FzQVkJPPLQOV4KcXqSlCVPDS/DiCDgE222TImMvWNaEMaUOTsIGvTQ==","amr":["wia"],"appid":"75dbe77f-10a3-4e59-85fd-8c127544f17c","appidacr":"0","email":"AbeLi@microsoft.com","family_name":"Lincoln","given_name":"Abe (MSFT)","idp":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd0122247/","ipaddr":"222.222.222.22","name":"abeli","oid":"02223b6b-aa1d-42d4-9ec0-1b2bb9194438","rh":"I","scp":"user_impersonation","sub":"l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA","tid":"fa15d692-e9c7-4460-a743-29f2956fd429","unique_name":"abeli@microsoft.com","uti":"FVsGxYXI30-TuikuuUoFAA","ver":"1.0"}),
    );
    let access_v2 = sample(
        json!({"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","iat":1537231048,"nbf":1537231048,"exp":1537234948,"aio":"AXQAi/8IAAAAtAaZLo3ChMif6KOnttRB7eBq4/DccQzjcJGxPYy/C3jDaNGxXd6wNIIVGRghNRnwJ1lOcAnNZcjvkoyrFxCttv33140RioOFJ4bCCGVuoCag1uOTT22222gHwLPYQ/uf79QX+0KIijdrmp69RctzmQ==","azp":"6e74172b-be56-4843-9ff4-e66a39bb12e3","azpacr":"0","name":"Abe Lincoln","oid":"690222be-ff1a-4d56-abd1-7e4f7d38e474","preferred_username":"abeli@microsoft.com","rh":"I","scp":"access_as_user","sub":"HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","uti":"fqiBqXLPj0eQa82S-IYFAA","ver":"2.0"}),
    );
    let id_v1 = sample(
        json!({"aud":"b14a7505-96e9-4927-91e8-0601d0fc9caa","iss":"https://sts.windows.net/fa15d692-e9c7-4460-a743-29f2956fd429/","iat":1536275124,"nbf":1536275124,"exp":1536279024,"aio":"AXQAi/8IAAAAqxsuB+R4D2rFQqOETO4YdXbLD9kZ8xfXadeAM0Q2NkNT5izfg3uwbWSXhuSSj6UT5hy2D6WqApB5jKA6ZgZ9k/SU27uV9cetXfLOtpNttgk5DcBtk+LLstz/Jg+gYRmv9bUU4XlphTc6C86Jmj1FCw==","amr":["rsa"],"email":"abeli@microsoft.com","family_name":"Lincoln","given_name":"Abe","idp":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/","ipaddr":"131.107.222.22","name":"abeli","nonce":"123523","oid":"05833b6b-aa1d-42d4-9ec0-1b2bb9194438","rh":"I","sub":"5_J9rSss8-jvt_Icu6ueRNL8xXb8LF4Fsg_KooC2RJQ","tid":"fa15d692-e9c7-4460-a743-29f2956fd429","unique_name":"AbeLi@microsoft.com","uti":"Lxe_46GqTkOpGSfTln4EAA","ver":"1.0"}),
    );
    let msa = "9188040d-6c67-4c5b-b112-36a304b66dad";
    let id_v2 = sample(
        json!({"ver":"2.0","iss":format!("https://login.microsoftonline.com/{msa}/v2.0"),"sub":"AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ","aud":"6cb04018-a3f5-46a7-b995-940c78f5aef3","exp":1536361411,"iat":1536274711,"nbf":1536274711,"name":"Abe Lincoln","preferred_username":"AbeLi@microsoft.com","oid":"00000000-0000-0000-66f3-3332eca7ea81","tid":msa,"nonce":"123523","aio":"Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY"}),
    );
    let pc_sample = sample(
        json!({"aud":"https://api.partnercenter.microsoft.com","iss":"https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/","iat":1549088552,"nbf":1549088552,"exp":1549092452,"acr":"1","amr":["pwd","mfa"],"appid":"23ec45a3-5127-4185-9eff-c8887839e6ab","appidacr":"0","family_name":"Adminagent","given_name":"CSP","ipaddr":"127.0.0.1","name":"Adminagent CSP","oid":"4988e250-5aee-482a-9136-6d269cb755c0","scp":"user_impersonation","tenant_region_scope":"NA","tid":"df845f1a-7b35-40a2-ba78-6481de91f8ae","unique_name":"Adminagent.csp@testtestpartner.onmicrosoft.com","upn":"Adminagent.csp@testtestpartner.onmicrosoft.com","ver":"1.0"}),
    );
    let cc_roles = sample(
        json!({"aud":"api://theapp.api","iss":"https://sts.windows.net/6b9be1b6-4f80-4ce7-8479-16c4d7726470/","iat":1579195869,"nbf":1579195869,"exp":1579199769,"aio":"42NgYNBT87n6dabGJua9Hbf/nX76DAA=","appid":"da51a2ec-058f-4025-a75a-41af428be001","appidacr":"1","idp":"https://sts.windows.net/6b9be1b6-4f80-4ce7-8479-16c4d7726470/","oid":"e3b6fc55-78eb-4dc9-9e74-dd6a1ddf11e9","roles":["Daemon"],"sub":"e3b6fc55-78eb-4dc9-9e74-dd6a1ddf11e9","tid":"6b9be1b6-4f80-4ce7-8479-16c4d7726470","uti":"s3znyXXUUkWXBssYBL09AQ","ver":"1.0"}),
    );
    let cc_plain = sample(
        json!({"aud":"api://13f5e6a0-4e2b-4c8e-9a3d-1f2e3d4c5b6a","iss":"https://sts.windows.net/6b9be1b6-4f80-4ce7-8479-16c4d7726470/","iat":1672241639,"nbf":1672241639,"exp":1672245539,"aio":"E2ZgYGjQ7Ts/ov8lcvlPX3ZmxubFAA==","appid":"13f5e6a0-4e2b-4c8e-9a3d-1f2e3d4c5b6a","appidacr":"1","idp":"https://sts.windows.net/6b9be1b6-4f80-4ce7-8479-16c4d7726470/","oid":"8d2b2f9e-7c55-4a9b-b0c1-3e4f5a6b7c8d","rh":"0.AAAA.","sub":"8d2b2f9e-7c55-4a9b-b0c1-3e4f5a6b7c8d","tenant_region_scope":"EU","tid":"6b9be1b6-4f80-4ce7-8479-16c4d7726470","uti":"fqiBqXLPj0eQa82S-IYFAA","ver":"1.0","xms_tdbr":"EU"}),
    );
    let agent = sample(
        json!({"aud":"00001111-aaaa-2222-bbbb-3333cccc4444","iss":"https://sts.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee/","iat":1753392285,"nbf":1753392285,"exp":1753421385,"aio":"Y2JgYGhn1nzmErKqi0vc4Fr6H22/C5/4FP+xZbZYpik8nRkp+gEA","appid":"11112222-bbbb-3333-cccc-4444dddd5555","appidacr":"2","idp":"https://sts.windows.net/aaaabbbb-0000-cccc-1111-dddd2222eeee/","idtyp":"app","oid":"aaaaaaaa-0000-1111-2222-bbbbbbbbbbbb","rh":"1.AAAAAQAAAAAA8Q_OAAAAAAAAADQNUfLKjbhKoLyq7E06PjYAAAAAAA.","sub":"bbbbbbbb-1111-2222-3333-cccccccccccc","tid":"aaaabbbb-0000-cccc-1111-dddd2222eeee","uti":"m5RaaRnoFUyp2TbSCAAAAA","ver":"1.0","xms_act_fct":"3 9 11","xms_ftd":"Z5DrW4HFOkR_Lz0M5qETa260d2-fO6seMZJ_tOwRNuc","xms_idrel":"7 10","xms_sub_fct":"9 3 11","xms_tnt_fct":"3 9","xms_par_app_azp":"30cf4c22-9985-4ef7-8756-91cc888176bd"}),
    );
    let mi = sample(
        json!({"aud":"https://management.azure.com/","iss":"https://sts.windows.net/f2a33211-e46a-4c92-b84d-aff06c2cd13f/","iat":1764921928,"nbf":1764921928,"exp":1765008628,"aio":"AWQAm/8aAAAA","appid":"ebdab26b-8a80-402c-821f-d5d203342fc2","appidacr":"2","idp":"https://sts.windows.net/f2a33211-e46a-4c92-b84d-aff06c2cd13f/","idtyp":"app","oid":"b0f31bfd-1a79-4a2c-ba43-fd65c3666fdb","rh":"1.AL4AETKj8mrkkky4Ta_wbCzRP0ZIf3kAutdPukPawfj2MBMjAQC-AA.","sub":"b0f31bfd-1a79-4a2c-ba43-fd65c3666fdb","tid":"f2a33211-e46a-4c92-b84d-aff06c2cd13f","uti":"sdmF4KgzXUu6N0IKMbQBAA","ver":"1.0","xms_act_fct":"3 9","xms_ftd":"mvN65wVjJwLeEvjeR4NZA-6OmW3jX5c5B8Uz5ZVwY-4BdXNlYXN0LWRzbXM","xms_idrel":"7 4","xms_mirid":"/subscriptions/662a4fee-a3ba-49b3-9caf-8c20ed04503f/resourcegroups/Default-RG/providers/Microsoft.Compute/virtualMachines/it-vm","xms_rd":"0.42LjYBJi2scoJMLBKSTwfsKTtvbDfY4LZL3VRedYlAFFOYQE3DzqKxl2Xfff5Xzr4I9vBsIA","xms_sub_fct":"9 3","xms_tcdt":1720071254}),
    );
    let guest = sample(
        json!({"aud":"api://theapp.api","iss":"https://sts.windows.net/6b9be1b6-4f80-4ce7-8479-16c4d7726470/","iat":1579196108,"nbf":1579196108,"exp":1579200008,"acr":"1","aio":"AVQAq/8OAAAA","amr":["pwd"],"appid":"b021b14e-1671-4fe6-b7cc-0a67a248543f","appidacr":"1","email":"oblomov86@gmail.com","family_name":"Tkachenko","given_name":"Maxim","idp":"live.com","ipaddr":"51.174.85.2","name":"Maxim Tkachenko","oid":"03526494-16e1-4e21-99a5-9d734186092e","scp":"Tickets UsersAndClaims","sub":"hI_OiH4kmvVkzY_NU24aOlahR06Dul7zZe5smXJHM90","tid":"6b9be1b6-4f80-4ce7-8479-16c4d7726470","unique_name":"live.com#oblomov86@gmail.com","uti":"IMYPesSovk2YXZAm5Og9AQ","ver":"1.0"}),
    );
    // #2609's sample with its placeholders replaced by GUIDs (Contoso: the
    // customer; the partner: Fabrikam), its iss given the trailing slash of
    // every v1 issuer, and aud the Partner Center API.
    let gdap = sample(
        json!({"tid": CUSTOMER, "iss": format!("https://sts.windows.net/{CUSTOMER}/"), "aud": PC_AUD,
        "appid": CLIENT_ID, "aai": format!("tenant: {FABRIKAM}, object: {USER_OID}"), "name": "Fabrikam Technician",
        "idp": format!("https://sts.windows.net/{FABRIKAM}/"), "sub": "b64-hash-of-appid-and-user", "scp": "user_impersonation",
        "unique_name": "Fabrikam Technician", "wids": [GDAP_WID, "fe930be7-5e62-47db-91af-98c3a49a38b1"], "iat": 0, "nbf": 0, "ver": "1.0"}),
    );

    vec![
        Case::new("shape-access-v1", ACCESS, "The v1 access-token sample (its iss repaired: the published tenant is scrubbed to 11 hex digits). amr wia: App+User without MFA")
            .policy(accepting("ef1da9d4-ff77-4c3e-a005-840c3f830745", "fa15d692-e9c7-4460-a743-29f2956fd429"))
            .request(api(access_v1.clone()))
            .expect(and(pc401("mfa_required", "app_user", "api"), json!({"kind_evidence": "scp is present", "mfa": {"amr": ["wia"]},
                "subject": {"tenant": "fa15d692-e9c7-4460-a743-29f2956fd429", "user": "abeli@microsoft.com", "app_id": "75dbe77f-10a3-4e59-85fd-8c127544f17c"}}))),
        Case::new("shape-access-v1-guest-idp", ACCESS, "The same sample's idp names Microsoft's tenant (a guest): with no partner tenant listed that is delegated administration, so MFA on every route")
            .policy(json!({"builtin": "partner-center-2020", "overrides": {"token": {"audiences": ["ef1da9d4-ff77-4c3e-a005-840c3f830745"]}}}))
            .request(json!({"method": "GET", "path": "/dashboard/overview", "authorization": format!("Bearer {}", t(access_v1)), "now": NOW}))
            .expect(pc401("delegated_admin_mfa_required", "delegated_admin", "default")),
        Case::new("shape-access-v2", ACCESS, "The v2 access-token sample: no amr (v1 only), so MFA cannot be proven")
            .policy(accepting("6e74172b-be56-4843-9ff4-e66a39bb12e3", "72f988bf-86f1-41af-91ab-2d7cd011db47"))
            .request(api(access_v2))
            .expect(and(pc401("mfa_amr_absent", "app_user", "api"), json!({"mfa": {"amr": null}, "subject": {"app_id": "6e74172b-be56-4843-9ff4-e66a39bb12e3"}}))),
        Case::new("shape-id-v1", ID, "The v1 ID-token sample opens Overview (amr rsa; no MFA needed there in 2020)")
            .policy(accepting("b14a7505-96e9-4927-91e8-0601d0fc9caa", "fa15d692-e9c7-4460-a743-29f2956fd429"))
            .request(page("/dashboard/overview", id_v1.clone()))
            .expect(and(allow("mfa_not_required", "id_token", "default"), json!({"mfa": {"amr": ["rsa"]}}))),
        Case::new("shape-id-v1-2026", ID, "Under the 2026 rules the same session is sent to MFA")
            .policy(json!({"builtin": "partner-center-2026", "overrides": {"token": {"audiences": ["b14a7505-96e9-4927-91e8-0601d0fc9caa"], "partner_tenants": ["fa15d692-e9c7-4460-a743-29f2956fd429"]}}}))
            .request(page("/dashboard/overview", id_v1))
            .expect(redirect("mfa_required", "dashboard", "/dashboard/overview", false)),
        Case::new("shape-id-v2-personal", ID, "The v2 ID-token sample, a personal account (its tenant repaired from the scrubbed 9122040d- to the consumer tenant 9188040d-)")
            .policy(accepting("6cb04018-a3f5-46a7-b995-940c78f5aef3", CONTOSO))
            .request(page("/commerce/customers", id_v2))
            .expect(and(forbidden("role_not_permitted", "id_token", "customers"), json!({"roles": []}))),
        Case::new("shape-partner-center-sample", "https://learn.microsoft.com/partner-center/security/partner-security-requirements-mandating-mfa (2023 text, sample token)", "Partner Center's own sample App+User token: MFA done, processed")
            .request(api(pc_sample))
            .expect(and(allow("mfa_satisfied", "app_user", "api"), json!({"subject": {"user": "Adminagent.csp@testtestpartner.onmicrosoft.com"}}))),
        Case::new("shape-client-credentials-roles", "github.com/MaximTkachenko/microservices-communication README (JWT sample for application permissions)", "A client-credentials token with an app role, no idtyp: app-only")
            .policy(accepting("api://theapp.api", "6b9be1b6-4f80-4ce7-8479-16c4d7726470"))
            .request(api(cc_roles))
            .expect(allow("app_only_exempt", "app_only", "api")),
        Case::new("shape-client-credentials-no-roles", "Q&A 'oauth token does not contain information about roles or scope' (client_credentials, v1; its placeholders filled)", "A client-credentials token of an app granted no app roles, no idtyp: app-only by oid = sub")
            .policy(accepting("api://13f5e6a0-4e2b-4c8e-9a3d-1f2e3d4c5b6a", "6b9be1b6-4f80-4ce7-8479-16c4d7726470"))
            .request(api(cc_plain))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"kind_evidence": "no scp, no roles, oid equals sub, no user claims"}))),
        Case::new("shape-agent-app-only", "https://learn.microsoft.com/entra/agent-id/identity-platform/agent-token-claims (its iss repaired: the placeholder tenant differs from tid)", "An agent's app-only token (idtyp app, its own sub): app-only")
            .policy(accepting("00001111-aaaa-2222-bbbb-3333cccc4444", CONTOSO))
            .request(api(agent))
            .expect(and(allow("app_only_exempt", "app_only", "api"), json!({"kind_evidence": "idtyp is \"app\""}))),
        Case::new("shape-managed-identity", "a published managed-identity token (CTF write-up: VM system-assigned identity for ARM)", "A managed identity's token (idtyp app, xms_mirid): app-only")
            .policy(accepting("https://management.azure.com/", CONTOSO))
            .request(api(mi))
            .expect(allow("app_only_exempt", "app_only", "api")),
        Case::new("shape-personal-guest", "github.com/MaximTkachenko/microservices-communication README (a personal account invited as a guest: idp live.com)", "A guest from a personal account (idp live.com, not an Entra issuer): App+User, MFA required")
            .policy(accepting("api://theapp.api", "6b9be1b6-4f80-4ce7-8479-16c4d7726470"))
            .request(api(guest))
            .expect(and(pc401("mfa_required", "app_user", "api"), json!({"subject": {"user": "live.com#oblomov86@gmail.com", "home_tenant": null}}))),
        Case::new("shape-gdap", "https://github.com/AzureAD/microsoft-identity-web/issues/2609 (its placeholders replaced by GUIDs)", "A GDAP token: no oid, aai names the partner user, wids holds the GDAP indicator; no amr: refused, and the subject is the partner user")
            .policy(pc_of("2020", FABRIKAM))
            .request(api(gdap))
            .expect(and(pc401("delegated_admin_mfa_required", "delegated_admin", "api"), json!({
                "kind_evidence": "idp names another tenant, aai names the partner user, wids holds the GDAP relationship indicator (GDAP)",
                "detail": "MFA check: mfa_amr_absent",
                "subject": {"tenant": CUSTOMER, "object_id": USER_OID, "home_tenant": FABRIKAM, "user": "Fabrikam Technician"}}))),
    ]
}
