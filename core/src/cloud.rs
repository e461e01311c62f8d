//! Microsoft Entra's clouds: who issues tokens in each, its sign-in
//! authority, and the Partner Center API's audience there.
//!
//! Sources (docs/policy.md, "Clouds"): the national-cloud authorities of
//! `authentication-national-cloud.md`; the v2 issuers and key locations of
//! MSAL's built-in cloud metadata; the v1 issuers per cloud of Microsoft's
//! "token issuers for the sovereign clouds" answer (US Government v1 tokens
//! come from `sts.windows.net`, like public ones; China's from
//! `sts.chinacloudapi.cn`); the Partner Center REST URLs page (US Government
//! uses the public API host; 21Vianet `partner.partnercenterapi.microsoftonline.cn`).

use serde::{Deserialize, Serialize};

/// The Entra cloud a policy accepts tokens from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cloud {
    /// Microsoft Entra ID, the global service (`login.microsoftonline.com`).
    #[default]
    Public,
    /// Microsoft Entra ID for US Government (`login.microsoftonline.us`).
    UsGovernment,
    /// Microsoft Entra operated by 21Vianet (`login.partner.microsoftonline.cn`).
    China,
}

/// The public Partner Center API's audience (and API host).
pub const PARTNER_CENTER_AUDIENCE: &str = "https://api.partnercenter.microsoft.com";

const V1_PUBLIC: &str = "https://sts.windows.net/";
const V1_CHINA: &str = "https://sts.chinacloudapi.cn/";

/// Where an issuer string comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Issuer<'a> {
    /// The tenant GUID in it, as written.
    pub tenant: &'a str,
    /// "1.0" or "2.0", by its shape.
    pub version: &'static str,
    /// The clouds whose tokens carry this issuer (public and US Government
    /// share the v1 one).
    pub clouds: &'static [Cloud],
}

impl Cloud {
    /// Every cloud, for tables and tests that must cover each one.
    pub const ALL: [Cloud; 3] = [Cloud::Public, Cloud::UsGovernment, Cloud::China];

    /// The name a policy uses for the cloud (`token.cloud`).
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Public => "public",
            Cloud::UsGovernment => "us_government",
            Cloud::China => "china",
        }
    }

    /// A name for people.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Public => "the global Microsoft Entra ID",
            Cloud::UsGovernment => "Microsoft Entra ID for US Government",
            Cloud::China => "Microsoft Entra operated by 21Vianet",
        }
    }

    /// The sign-in authority's origin.
    pub fn authority(self) -> &'static str {
        match self {
            Cloud::Public => "https://login.microsoftonline.com",
            Cloud::UsGovernment => "https://login.microsoftonline.us",
            Cloud::China => "https://login.partner.microsoftonline.cn",
        }
    }

    /// Prefix of v1 issuers (`https://sts…/{tid}/`).
    pub fn v1_issuer_prefix(self) -> &'static str {
        match self {
            Cloud::Public | Cloud::UsGovernment => V1_PUBLIC,
            Cloud::China => V1_CHINA,
        }
    }

    /// The v1 issuer of tenant `tid`.
    pub fn v1_issuer(self, tid: &str) -> String {
        format!("{}{tid}/", self.v1_issuer_prefix())
    }

    /// The v2 issuer of tenant `tid` (`{authority}/{tid}/v2.0`).
    pub fn v2_issuer(self, tid: &str) -> String {
        format!("{}/{tid}/v2.0", self.authority())
    }

    /// The Partner Center API's audience in this cloud.
    pub fn partner_center_audience(self) -> &'static str {
        match self {
            Cloud::Public | Cloud::UsGovernment => PARTNER_CENTER_AUDIENCE,
            Cloud::China => "https://partner.partnercenterapi.microsoftonline.cn",
        }
    }

    /// `authorization_uri` of a claims challenge in this cloud.
    pub fn claims_authorization_uri(self) -> String {
        format!("{}/common/oauth2/authorize", self.authority())
    }
}

/// Reads an Entra issuer (`iss`, or an `idp` that names one): its tenant,
/// version and cloud. `None` for anything else.
pub fn parse_issuer(iss: &str) -> Option<Issuer<'_>> {
    const BOTH: &[Cloud] = &[Cloud::Public, Cloud::UsGovernment];
    const PUBLIC: &[Cloud] = &[Cloud::Public];
    const GOV: &[Cloud] = &[Cloud::UsGovernment];
    const CHINA: &[Cloud] = &[Cloud::China];
    let guid = |t: &str| crate::guid::is_guid(t);
    for (prefix, clouds) in [(V1_PUBLIC, BOTH), (V1_CHINA, CHINA)] {
        if let Some(t) = iss.strip_prefix(prefix).and_then(|r| r.strip_suffix('/')) {
            return guid(t).then_some(Issuer {
                tenant: t,
                version: "1.0",
                clouds,
            });
        }
    }
    for (cloud, clouds) in [
        (Cloud::Public, PUBLIC),
        (Cloud::UsGovernment, GOV),
        (Cloud::China, CHINA),
    ] {
        let t = iss
            .strip_prefix(cloud.authority())
            .and_then(|r| r.strip_prefix('/'))
            .and_then(|r| r.strip_suffix("/v2.0"));
        if let Some(t) = t {
            return guid(t).then_some(Issuer {
                tenant: t,
                version: "2.0",
                clouds,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "df845f1a-7b35-40a2-ba78-6481de91f8ae";

    #[test]
    fn issuers_of_every_cloud() {
        for c in Cloud::ALL {
            for iss in [c.v1_issuer(T), c.v2_issuer(T)] {
                let i = parse_issuer(&iss).unwrap();
                assert_eq!(i.tenant, T, "{iss}");
                assert!(i.clouds.contains(&c), "{iss}");
            }
        }
        let v1 = Cloud::Public.v1_issuer(T);
        let v1 = parse_issuer(&v1).unwrap();
        assert_eq!(v1.clouds, &[Cloud::Public, Cloud::UsGovernment]);
        assert!(parse_issuer(&format!("https://login.microsoftonline.com/{T}/v2.0/")).is_none());
        assert!(
            parse_issuer(&format!("https://login.microsoftonline.com.evil/{T}/v2.0")).is_none()
        );
        assert!(parse_issuer("https://sts.windows.net/common/").is_none());
    }
}
