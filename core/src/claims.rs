//! The claims mfagate reads from an Entra token, parsed once, borrowing from
//! the payload where the JSON has no escapes.

use crate::jws::Refusal;
use crate::reason::Reason;
use serde::de::{self, IgnoredAny};
use serde::Deserialize;
use std::borrow::Cow;

/// The federated-MFA claim that AD FS-style identity providers emit.
pub const FEDERATED_AMR_CLAIM: &str = "http://schemas.microsoft.com/claims/authnmethodsreferences";
/// The value of [`FEDERATED_AMR_CLAIM`] that means MFA was done.
pub const FEDERATED_MFA_VALUE: &str = "http://schemas.microsoft.com/claims/multipleauthn";

/// A string that borrows from the payload when it has no escapes. (serde's
/// own `Cow` only borrows when it is the field's whole type, not inside
/// `Option` or `Vec`.)
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for V<'a> {
            type Value = BorrowedStr<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

pub(crate) fn opt_str<'de: 'a, 'a, D: de::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Option::<BorrowedStr<'a>>::deserialize(d).map(|o| o.map(|b| b.0))
}

fn opt_strs<'de: 'a, 'a, D: de::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<Cow<'a, str>>>, D::Error> {
    Option::<Vec<BorrowedStr<'a>>>::deserialize(d)
        .map(|o| o.map(|v| v.into_iter().map(|b| b.0).collect()))
}

/// A claim that may be one string or an array of strings (`aud`, `xms_cc`,
/// the federated `authnmethodsreferences`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOrMany<'a> {
    /// A single string (the common case: no allocation for a list).
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> OneOrMany<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
        .map(|c| &**c)
    }
    pub fn contains(&self, v: &str) -> bool {
        self.iter().any(|x| x == v)
    }
    fn into_owned(self) -> OneOrMany<'static> {
        match self {
            OneOrMany::One(s) => OneOrMany::One(Cow::Owned(s.into_owned())),
            OneOrMany::Many(v) => {
                OneOrMany::Many(v.into_iter().map(|c| Cow::Owned(c.into_owned())).collect())
            }
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for OneOrMany<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for V<'a> {
            type Value = OneOrMany<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(Cow::Owned(v)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(s) = seq.next_element::<BorrowedStr<'a>>()? {
                    out.push(s.0);
                }
                Ok(OneOrMany::Many(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// `_claim_names`: only whether it redirects `groups` matters.
#[derive(Debug, Clone, Default, Deserialize)]
struct ClaimNames {
    #[serde(default)]
    groups: Option<IgnoredAny>,
}

/// The claims of a token that the decision reads. Unknown claims are
/// ignored; a known claim that appears twice or has the wrong type makes the
/// whole token invalid.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Claims<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub iss: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub aud: Option<OneOrMany<'a>>,
    #[serde(default)]
    pub exp: Option<f64>,
    #[serde(default)]
    pub nbf: Option<f64>,
    #[serde(default)]
    pub iat: Option<f64>,
    #[serde(default)]
    pub auth_time: Option<f64>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub tid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub ver: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub idtyp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub scp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_strs")]
    pub roles: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default, deserialize_with = "opt_strs")]
    pub wids: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default, deserialize_with = "opt_strs")]
    pub groups: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub hasgroups: Option<bool>,
    #[serde(default, rename = "_claim_names")]
    claim_names: Option<ClaimNames>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub appid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub azp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_strs")]
    pub amr: Option<Vec<Cow<'a, str>>>,
    #[serde(
        borrow,
        default,
        rename = "http://schemas.microsoft.com/claims/authnmethodsreferences"
    )]
    pub federated_amr: Option<OneOrMany<'a>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub idp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub oid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub sub: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub upn: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub unique_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub preferred_username: Option<Cow<'a, str>>,
    #[serde(default)]
    pub aai: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub xms_cc: Option<OneOrMany<'a>>,
}

impl<'a> Claims<'a> {
    /// Parses a JWT payload (the decoded JSON bytes).
    pub fn parse(payload: &'a [u8]) -> Result<Claims<'a>, Refusal> {
        // RFC 7519 §7.2: the claims set is a JSON object (serde would also
        // accept an array for a struct).
        if payload.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Refusal::new(
                Reason::TokenMalformed,
                "the payload is not a JSON object",
            ));
        }
        serde_json::from_slice(payload).map_err(|e| {
            let reason = if e.is_data() {
                Reason::ClaimInvalid
            } else {
                Reason::TokenMalformed
            };
            Refusal::new(reason, format!("payload: {e}"))
        })
    }

    /// Parses claims that the caller has already verified (for example the
    /// claims an app validated at sign-in), given as JSON.
    pub fn from_json(json: &str) -> Result<Claims<'static>, Refusal> {
        Claims::parse(json.as_bytes()).map(Claims::into_owned)
    }

    /// True when Entra replaced the group list by an overage marker.
    pub fn groups_overage(&self) -> bool {
        self.hasgroups == Some(true)
            || self
                .claim_names
                .as_ref()
                .is_some_and(|c| c.groups.is_some())
    }

    /// The user's display identity: upn, else unique_name, else preferred_username.
    pub fn user_name(&self) -> Option<&str> {
        self.upn
            .as_deref()
            .or(self.unique_name.as_deref())
            .or(self.preferred_username.as_deref())
    }

    /// The client application: `appid` (v1) or `azp` (v2).
    pub fn app_id(&self) -> Option<&str> {
        self.appid.as_deref().or(self.azp.as_deref())
    }

    pub fn has_aai(&self) -> bool {
        self.aai.is_some()
    }

    /// Detaches the claims from the payload buffer.
    pub fn into_owned(self) -> Claims<'static> {
        fn o(c: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            c.map(|c| Cow::Owned(c.into_owned()))
        }
        fn ov(c: Option<Vec<Cow<'_, str>>>) -> Option<Vec<Cow<'static, str>>> {
            c.map(|v| v.into_iter().map(|c| Cow::Owned(c.into_owned())).collect())
        }
        Claims {
            iss: o(self.iss),
            aud: self.aud.map(OneOrMany::into_owned),
            exp: self.exp,
            nbf: self.nbf,
            iat: self.iat,
            auth_time: self.auth_time,
            tid: o(self.tid),
            ver: o(self.ver),
            idtyp: o(self.idtyp),
            scp: o(self.scp),
            roles: ov(self.roles),
            wids: ov(self.wids),
            groups: ov(self.groups),
            hasgroups: self.hasgroups,
            claim_names: self.claim_names,
            appid: o(self.appid),
            azp: o(self.azp),
            amr: ov(self.amr),
            federated_amr: self.federated_amr.map(OneOrMany::into_owned),
            idp: o(self.idp),
            oid: o(self.oid),
            sub: o(self.sub),
            upn: o(self.upn),
            unique_name: o(self.unique_name),
            preferred_username: o(self.preferred_username),
            aai: self.aai,
            xms_cc: self.xms_cc.map(OneOrMany::into_owned),
        }
    }
}

/// Converts a NumericDate to whole seconds, refusing NaN and absurd values.
pub(crate) fn seconds(name: &str, v: f64) -> Result<i64, Refusal> {
    if v.is_finite() && v.abs() < 1e15 {
        Ok(v.floor() as i64)
    } else {
        Err(Refusal::new(
            Reason::ClaimInvalid,
            format!("{name} is not a usable NumericDate"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_seed_sample() {
        let json = r#"{"aud":"https://api.partnercenter.microsoft.com","iss":"https://sts.windows.net/df845f1a-7b35-40a2-ba78-6481de91f8ae/","iat":1549088552,"nbf":1549088552,"exp":1549092452,"acr":"1","amr":["pwd","mfa"],"appid":"23ec45a3-5127-4185-9eff-c8887839e6ab","appidacr":"0","oid":"4988e250-5aee-482a-9136-6d269cb755c0","scp":"user_impersonation","tid":"df845f1a-7b35-40a2-ba78-6481de91f8ae","ver":"1.0"}"#;
        let c = Claims::from_json(json).unwrap();
        assert_eq!(c.amr.as_ref().unwrap().len(), 2);
        assert!(c
            .aud
            .unwrap()
            .contains("https://api.partnercenter.microsoft.com"));
    }

    #[test]
    fn duplicate_and_mistyped_claims_are_invalid() {
        let e = Claims::from_json(r#"{"amr":["pwd"],"amr":["mfa"]}"#).unwrap_err();
        assert_eq!(e.reason, Reason::ClaimInvalid);
        let e = Claims::from_json(r#"{"amr":"mfa"}"#).unwrap_err();
        assert_eq!(e.reason, Reason::ClaimInvalid);
        let e = Claims::from_json(r#"{"exp":"tomorrow"}"#).unwrap_err();
        assert_eq!(e.reason, Reason::ClaimInvalid);
        let e = Claims::from_json(r#"{"exp":1"#).unwrap_err();
        assert_eq!(e.reason, Reason::TokenMalformed);
    }

    #[test]
    fn strings_borrow_from_the_payload_unless_escaped() {
        let json = br#"{"iss":"abc","amr":["pwd"],"upn":"a\u0040b"}"#;
        let c = Claims::parse(json).unwrap();
        assert!(matches!(c.iss, Some(Cow::Borrowed("abc"))));
        assert!(matches!(c.amr.as_ref().unwrap()[0], Cow::Borrowed("pwd")));
        assert!(matches!(c.upn, Some(Cow::Owned(ref s)) if s == "a@b"));
    }

    #[test]
    fn overage_markers() {
        let c = Claims::from_json(r#"{"_claim_names":{"groups":"src1"}}"#).unwrap();
        assert!(c.groups_overage());
        let c = Claims::from_json(r#"{"hasgroups":true}"#).unwrap();
        assert!(c.groups_overage());
        let c = Claims::from_json(r#"{"groups":[]}"#).unwrap();
        assert!(!c.groups_overage());
    }
}
