//! The claims mfagate reads from an Entra token, parsed once, borrowing from
//! the payload where the JSON has no escapes.

use crate::reason::Reason;
use crate::reason::Refusal;
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

/// What a value is, for error messages ("claim upn"), written only when an
/// error is (never on the happy path).
#[derive(Clone, Copy)]
enum Label {
    Value,
    Claim(&'static str),
    EachOf(&'static str),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Label::Value => f.write_str("a value"),
            Label::Claim(n) => write!(f, "claim {n}"),
            Label::EachOf(n) => write!(f, "each value of claim {n}"),
        }
    }
}

/// Visits one JSON string; `what` names it in the error ("claim upn").
struct StrVisitor<'a> {
    what: Label,
    _p: std::marker::PhantomData<&'a ()>,
}

impl<'a> StrVisitor<'a> {
    fn new(what: Label) -> Self {
        StrVisitor {
            what,
            _p: std::marker::PhantomData,
        }
    }
}

impl<'de: 'a, 'a> de::Visitor<'de> for StrVisitor<'a> {
    type Value = Cow<'a, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} to be a string", self.what)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor::new(Label::Value))
            .map(BorrowedStr)
    }
}

pub(crate) fn opt_str<'de: 'a, 'a, D: de::Deserializer<'de>>(
    d: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Option::<BorrowedStr<'a>>::deserialize(d).map(|o| o.map(|b| b.0))
}

/// Seeds that read one claim's value with its one accepted type; the
/// claim's name goes into every type error, so a refusal says which claim
/// was wrong.
struct StrSeed<'a>(&'static str, std::marker::PhantomData<&'a ()>);
struct StrsSeed<'a>(&'static str, std::marker::PhantomData<&'a ()>);
struct OneOrManySeed<'a>(&'static str, std::marker::PhantomData<&'a ()>);
struct NumberSeed(&'static str);
struct ClaimNamesSeed(&'static str);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for StrSeed<'a> {
    type Value = Cow<'a, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor::new(Label::Claim(self.0)))
    }
}

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for StrsSeed<'a> {
    type Value = Vec<Cow<'a, str>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let v = d.deserialize_seq(SeqVisitor {
            what: Label::Claim(self.0),
            one: false,
            _p: std::marker::PhantomData,
        })?;
        Ok(match v {
            OneOrMany::Many(v) => v,
            OneOrMany::One(s) => vec![s],
        })
    }
}

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for OneOrManySeed<'a> {
    type Value = OneOrMany<'a>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(SeqVisitor {
            what: Label::Claim(self.0),
            one: true,
            _p: std::marker::PhantomData,
        })
    }
}

impl<'de> de::DeserializeSeed<'de> for NumberSeed {
    type Value = f64;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        d.deserialize_any(NumberVisitor(Label::Claim(self.0)))
    }
}

/// `aai`: its text when it is a string; any other value is only present.
struct AaiSeed<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for AaiSeed<'a> {
    type Value = Option<Cow<'a, str>>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for V<'a> {
            type Value = Option<Cow<'a, str>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<'de> de::DeserializeSeed<'de> for ClaimNamesSeed {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_map(ClaimNamesVisitor(Label::Claim(self.0)))
    }
}

/// An array of strings, or (with `one`) a single string as well.
struct SeqVisitor<'a> {
    what: Label,
    one: bool,
    _p: std::marker::PhantomData<&'a ()>,
}

impl<'de: 'a, 'a> de::Visitor<'de> for SeqVisitor<'a> {
    type Value = OneOrMany<'a>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        if self.one {
            write!(f, "{} to be a string or an array of strings", self.what)
        } else {
            write!(f, "{} to be an array of strings", self.what)
        }
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        if self.one {
            Ok(OneOrMany::One(Cow::Borrowed(v)))
        } else {
            Err(E::invalid_type(de::Unexpected::Str(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.one {
            Ok(OneOrMany::One(Cow::Owned(v.to_owned())))
        } else {
            Err(E::invalid_type(de::Unexpected::Str(v), &self))
        }
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(2).min(64));
        let elem = match self.what {
            Label::Claim(n) => Label::EachOf(n),
            other => other,
        };
        while let Some(s) = seq.next_element_seed(ElemSeed(elem, std::marker::PhantomData))? {
            out.push(s);
        }
        Ok(OneOrMany::Many(out))
    }
}

struct ElemSeed<'a>(Label, std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::DeserializeSeed<'de> for ElemSeed<'a> {
    type Value = Cow<'a, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(StrVisitor::new(self.0))
    }
}

/// A JSON number (integer or not): NumericDate, RFC 7519 §2.
struct NumberVisitor(Label);

impl<'de> de::Visitor<'de> for NumberVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} to be a number (seconds since 1970)", self.0)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
}

/// `_claim_names`: true when it names `groups` (a distributed groups claim).
struct ClaimNamesVisitor(Label);

impl<'de> de::Visitor<'de> for ClaimNamesVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} to be an object", self.0)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut groups = false;
        while let Some(k) = map.next_key::<BorrowedStr<'_>>()? {
            groups |= k.0 == "groups";
            map.next_value::<IgnoredAny>()?;
        }
        Ok(groups)
    }
}

/// A claim that may be one string or an array of strings (`aud`, `xms_cc`,
/// the federated `authnmethodsreferences`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneOrMany<'a> {
    /// A single string (the common case: no allocation for a list).
    One(Cow<'a, str>),
    /// An array of strings, as written.
    Many(Vec<Cow<'a, str>>),
}

impl<'a> OneOrMany<'a> {
    /// Every value in order, one or many alike, so callers need not match.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        match self {
            OneOrMany::One(s) => std::slice::from_ref(s).iter(),
            OneOrMany::Many(v) => v.iter(),
        }
        .map(|c| &**c)
    }
    /// Whether any value is exactly `v` (claim values are case-sensitive).
    pub fn contains(&self, v: &str) -> bool {
        self.iter().any(|x| x == v)
    }
    /// Whether any value is `v` in any ASCII case: for capability names,
    /// which Entra and Microsoft's samples spell `CP1` and docs `cp1`.
    pub fn contains_ignore_ascii_case(&self, v: &str) -> bool {
        self.iter().any(|x| x.eq_ignore_ascii_case(v))
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

/// Claims that only say "a person is behind this token" (read for their
/// presence, whatever their type): Entra's app-only tokens carry none of them.
/// Access-token claims reference: "many human-specific claims will be
/// missing, such as name or upn".
const PRESENCE_MARKERS: [&str; 4] = ["name", "given_name", "family_name", "email"];

/// The claims of a token that the decision reads, each with the one JSON
/// type it may have (docs/policy.md, "Claims the engine reads"). A read
/// claim of another type, or one that appears twice (also under another
/// spelling of its name), makes the token `claim_invalid` with a detail that
/// names the claim. Claims the engine does not read are ignored, whatever
/// their type.
///
/// Each field is named after its claim. Entra describes them in the
/// [access-token claims reference][at] (cited below as "access-token
/// claims") and the [optional claims reference][opt] ("optional claims");
/// `iss`, `aud`, `exp`, `nbf`, `iat` and `sub` are RFC 7519's registered
/// claims. Times are NumericDates (seconds since the Unix epoch).
///
/// [at]: https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
/// [opt]: https://learn.microsoft.com/en-us/entra/identity-platform/optional-claims-reference
#[derive(Debug, Clone, Default)]
pub struct Claims<'a> {
    /// `iss`: the token service that issued the token, tenant included;
    /// must be an Entra issuer of the policy's cloud, for the token's `tid`
    /// (access-token claims).
    pub iss: Option<Cow<'a, str>>,
    /// `aud`: whom the token is for; must be one of the policy's audiences,
    /// so a token minted for another API is refused (access-token claims).
    pub aud: Option<OneOrMany<'a>>,
    /// `exp`: the token is refused after this time, beyond the clock skew.
    pub exp: Option<f64>,
    /// `nbf`: the token is refused before this time, beyond the clock skew.
    pub nbf: Option<f64>,
    /// `iat`: when the token was issued; one issued in the future is refused.
    pub iat: Option<f64>,
    /// `auth_time`: when the user last authenticated, which MFA freshness
    /// (`max_age`) is measured from (optional claims).
    pub auth_time: Option<f64>,
    /// `tid`: the tenant the token was issued in; roles are read only when
    /// it is a partner tenant (access-token claims).
    pub tid: Option<Cow<'a, str>>,
    /// `ver`: the token format, "1.0" or "2.0"; `iss` must have that
    /// version's shape (access-token claims).
    pub ver: Option<Cow<'a, str>>,
    /// `idtyp`: "app" or "user", Microsoft's own word on whether a person is
    /// behind the token; present only when the API asks for it (optional
    /// claims).
    pub idtyp: Option<Cow<'a, str>>,
    /// `scp`: the delegated scopes; only a token obtained for a user carries
    /// it, so it marks an App+User token (access-token claims).
    pub scp: Option<Cow<'a, str>>,
    /// `roles`: the app roles granted to the app or user, which
    /// `roles.app_roles` maps to Partner Center roles (access-token claims).
    pub roles: Option<Vec<Cow<'a, str>>>,
    /// `wids`: the user's directory-role template IDs, which
    /// `roles.directory` maps to admin roles (access-token claims).
    pub wids: Option<Vec<Cow<'a, str>>>,
    /// `groups`: the user's security-group object IDs, which `roles.groups`
    /// maps to agent roles (access-token claims).
    pub groups: Option<Vec<Cow<'a, str>>>,
    /// `hasgroups` is present (documented as `true`; seen as `"true"` too):
    /// any value means the groups did not fit in the token.
    pub hasgroups: bool,
    /// `_claim_names` redirects `groups` to a claim source (overage).
    claim_names_groups: bool,
    /// `appid` (v1 tokens): the client application; with `scp` absent, its
    /// presence is what makes a token an app's rather than an ID token
    /// (access-token claims).
    pub appid: Option<Cow<'a, str>>,
    /// `azp` (v2 tokens): the client application, in place of `appid`
    /// (access-token claims).
    pub azp: Option<Cow<'a, str>>,
    /// `amr`: how the user authenticated (`pwd`, `mfa`...); an accepted
    /// value here (Partner Center: exactly "mfa") proves MFA
    /// (access-token claims).
    pub amr: Option<Vec<Cow<'a, str>>>,
    /// The [`FEDERATED_AMR_CLAIM`]: AD FS-style identity providers put
    /// [`FEDERATED_MFA_VALUE`] here instead of `mfa` in `amr`; it counts only
    /// when the policy sets `mfa.accept_federated`.
    pub federated_amr: Option<OneOrMany<'a>>,
    /// `idp`: the identity provider that authenticated the user, when it is
    /// not the token's tenant; a partner tenant here marks delegated admin
    /// (DAP or GDAP) (access-token claims).
    pub idp: Option<Cow<'a, str>>,
    /// `oid`: the user's or service principal's object ID, the same for every
    /// app; an exception for one user names it (or the user's name)
    /// (access-token claims).
    pub oid: Option<Cow<'a, str>>,
    /// `sub`: the subject, unique per user and app; it equals `oid` in an
    /// app-only token, Microsoft's test when `idtyp` is absent
    /// (access-token claims).
    pub sub: Option<Cow<'a, str>>,
    /// `upn`: the user principal name, the first choice for the user's name
    /// in a decision; also marks a token as a user's (optional claims).
    pub upn: Option<Cow<'a, str>>,
    /// `unique_name` (v1 tokens): the user's name when `upn` is absent
    /// (access-token claims).
    pub unique_name: Option<Cow<'a, str>>,
    /// `preferred_username` (v2 tokens): the user's sign-in name when neither
    /// `upn` nor `unique_name` is present (access-token claims).
    pub preferred_username: Option<Cow<'a, str>>,
    /// `aai` is present (GDAP: names the partner user).
    pub aai: bool,
    /// `aai` when it is a string.
    aai_text: Option<Cow<'a, str>>,
    /// `xms_cc`: the client's capabilities; `cp1` says it can answer a
    /// claims challenge, so the `claims` style sends it one (optional claims).
    pub xms_cc: Option<OneOrMany<'a>>,
    /// `acrs`: the Conditional Access authentication contexts the user
    /// satisfied (`["c1"]`); with `mfa.auth_context` set, containing it proves
    /// the step-up the claims challenge asked for (Microsoft identity
    /// platform, "Developer guide to Conditional Access authentication
    /// context"; access-token claims).
    pub acrs: Option<OneOrMany<'a>>,
    /// Which of [`PRESENCE_MARKERS`] are present (bit i for marker i).
    markers: u8,
}

/// Sets `slot` once; a second value for the same claim (also under
/// another spelling of its name) is an error.
fn once<T, E: de::Error>(slot: &mut Option<T>, v: T, name: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::custom(format!("claim {name} appears twice")));
    }
    *slot = Some(v);
    Ok(())
}

/// Marks a claim read for its presence; a repeat is as ambiguous as any.
fn present<E: de::Error>(flag: &mut bool, name: &str) -> Result<(), E> {
    if *flag {
        return Err(E::custom(format!("claim {name} appears twice")));
    }
    *flag = true;
    Ok(())
}

struct ClaimsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> de::Visitor<'de> for ClaimsVisitor<'a> {
    type Value = Claims<'a>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Claims<'a>, A::Error> {
        use std::marker::PhantomData as P;
        let mut c = Claims::default();
        let mut claim_names = false;
        let mut markers = [false; PRESENCE_MARKERS.len()];
        macro_rules! str_claim {
            ($field:ident, $name:literal) => {
                once::<_, A::Error>(
                    &mut c.$field,
                    map.next_value_seed(StrSeed($name, P))?,
                    $name,
                )?
            };
        }
        macro_rules! strs_claim {
            ($field:ident, $name:literal) => {
                once::<_, A::Error>(
                    &mut c.$field,
                    map.next_value_seed(StrsSeed($name, P))?,
                    $name,
                )?
            };
        }
        macro_rules! num_claim {
            ($field:ident, $name:literal) => {
                once::<_, A::Error>(
                    &mut c.$field,
                    map.next_value_seed(NumberSeed($name))?,
                    $name,
                )?
            };
        }
        macro_rules! one_or_many_claim {
            ($field:ident, $name:expr) => {
                once::<_, A::Error>(
                    &mut c.$field,
                    map.next_value_seed(OneOrManySeed($name, P))?,
                    $name,
                )?
            };
        }
        while let Some(key) = map.next_key::<BorrowedStr<'de>>()? {
            match &*key.0 {
                "iss" => str_claim!(iss, "iss"),
                "aud" => one_or_many_claim!(aud, "aud"),
                "exp" => num_claim!(exp, "exp"),
                "nbf" => num_claim!(nbf, "nbf"),
                "iat" => num_claim!(iat, "iat"),
                "auth_time" => num_claim!(auth_time, "auth_time"),
                "tid" => str_claim!(tid, "tid"),
                "ver" => str_claim!(ver, "ver"),
                "idtyp" => str_claim!(idtyp, "idtyp"),
                "scp" => str_claim!(scp, "scp"),
                "roles" => strs_claim!(roles, "roles"),
                "wids" => strs_claim!(wids, "wids"),
                "groups" => strs_claim!(groups, "groups"),
                "appid" => str_claim!(appid, "appid"),
                "azp" => str_claim!(azp, "azp"),
                "amr" => strs_claim!(amr, "amr"),
                "idp" => str_claim!(idp, "idp"),
                "oid" => str_claim!(oid, "oid"),
                "sub" => str_claim!(sub, "sub"),
                "upn" => str_claim!(upn, "upn"),
                "unique_name" => str_claim!(unique_name, "unique_name"),
                "preferred_username" => str_claim!(preferred_username, "preferred_username"),
                "xms_cc" => one_or_many_claim!(xms_cc, "xms_cc"),
                "acrs" => one_or_many_claim!(acrs, "acrs"),
                FEDERATED_AMR_CLAIM => one_or_many_claim!(federated_amr, FEDERATED_AMR_CLAIM),
                "hasgroups" => {
                    map.next_value::<IgnoredAny>()?;
                    present::<A::Error>(&mut c.hasgroups, "hasgroups")?;
                }
                "aai" => {
                    // Read as text when it is one ("tenant: …, object: …"),
                    // else for its presence.
                    c.aai_text = map.next_value_seed(AaiSeed(P))?;
                    present::<A::Error>(&mut c.aai, "aai")?;
                }
                "_claim_names" => {
                    c.claim_names_groups = map.next_value_seed(ClaimNamesSeed("_claim_names"))?;
                    present::<A::Error>(&mut claim_names, "_claim_names")?;
                }
                other => {
                    map.next_value::<IgnoredAny>()?;
                    if let Some((i, (seen, name))) = markers
                        .iter_mut()
                        .zip(PRESENCE_MARKERS)
                        .enumerate()
                        .find(|(_, (_, m))| *m == other)
                    {
                        present::<A::Error>(seen, name)?;
                        c.markers |= 1 << i;
                    }
                }
            }
        }
        Ok(c)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Claims<'a> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ClaimsVisitor(std::marker::PhantomData))
    }
}

impl<'a> Claims<'a> {
    /// Parses a JWT payload (the decoded JSON bytes).
    pub fn parse(payload: &'a [u8]) -> Result<Claims<'a>, Refusal> {
        // RFC 7519 §7.2: the claims set is a JSON object.
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
        self.hasgroups || self.claim_names_groups
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

    pub(crate) fn has_aai(&self) -> bool {
        self.aai
    }

    /// The partner user a GDAP token names in `aai`: `(tenant, object)`,
    /// from `"tenant: {partner tid}, object: {user oid}"`
    /// (AzureAD/microsoft-identity-web#2609). `None` when `aai` is absent
    /// or has another shape.
    pub fn aai_user(&self) -> Option<(&str, &str)> {
        let text = self.aai_text.as_deref()?;
        let (mut tenant, mut object) = (None, None);
        for part in text.split(',') {
            let (k, v) = part.split_once(':')?;
            let v = v.trim();
            match k.trim() {
                k if k.eq_ignore_ascii_case("tenant") && tenant.is_none() => tenant = Some(v),
                k if k.eq_ignore_ascii_case("object") && object.is_none() => object = Some(v),
                _ => return None,
            }
        }
        match (tenant, object) {
            (Some(t), Some(o)) if crate::guid::is_guid(t) && crate::guid::is_guid(o) => {
                Some((t, o))
            }
            _ => None,
        }
    }

    /// The first claim that names a person, if any: `upn`, `unique_name`,
    /// `preferred_username`, `amr`, `name`, `given_name`, `family_name`,
    /// `email` (present, whatever their value).
    pub fn user_claim(&self) -> Option<&'static str> {
        if self.upn.is_some() {
            return Some("upn");
        }
        if self.unique_name.is_some() {
            return Some("unique_name");
        }
        if self.preferred_username.is_some() {
            return Some("preferred_username");
        }
        if self.amr.is_some() {
            return Some("amr");
        }
        PRESENCE_MARKERS
            .iter()
            .enumerate()
            .find(|(i, _)| self.markers & (1 << i) != 0)
            .map(|(_, m)| *m)
    }

    /// As [`Claims::user_claim`], or a `sub` that differs from `oid` (without
    /// `idtyp`, an app's token has `sub` = `oid`, its service principal).
    pub fn user_marker(&self) -> Option<&'static str> {
        self.user_claim()
            .or(match (self.oid.as_deref(), self.sub.as_deref()) {
                (Some(o), Some(s)) if o != s => Some("sub differs from oid"),
                _ => None,
            })
    }

    /// `oid` and `sub` both present, not empty, and equal: Microsoft's
    /// documented test for an app-only token when `idtyp` is absent.
    pub fn oid_is_sub(&self) -> bool {
        matches!((self.oid.as_deref(), self.sub.as_deref()), (Some(o), Some(s)) if !o.is_empty() && o == s)
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
            claim_names_groups: self.claim_names_groups,
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
            aai_text: o(self.aai_text),
            xms_cc: self.xms_cc.map(OneOrMany::into_owned),
            acrs: self.acrs.map(OneOrMany::into_owned),
            markers: self.markers,
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
        // Seen in tokens from public repositories: any value means overage.
        for v in [r#""true""#, "false", "1", "null", "{}"] {
            let c = Claims::from_json(&format!(r#"{{"hasgroups":{v}}}"#)).unwrap();
            assert!(c.groups_overage(), "{v}");
        }
    }

    #[test]
    fn a_refusal_names_the_claim() {
        for (json, claim) in [
            (r#"{"upn":5}"#, "claim upn"),
            (r#"{"amr":"mfa"}"#, "claim amr"),
            (r#"{"amr":["pwd",1]}"#, "claim amr"),
            (r#"{"exp":"2099-01-01"}"#, "claim exp"),
            (r#"{"aud":{"a":1}}"#, "claim aud"),
            (r#"{"_claim_names":"groups"}"#, "claim _claim_names"),
            (r#"{"tid":"a","tid":"b"}"#, "claim tid appears twice"),
            (
                r#"{"amr":["mfa"],"am\u0072":["pwd"]}"#,
                "claim amr appears twice",
            ),
            (
                r#"{"hasgroups":true,"hasgroups":true}"#,
                "claim hasgroups appears twice",
            ),
            (r#"{"name":"a","name":2}"#, "claim name appears twice"),
        ] {
            let e = Claims::from_json(json).unwrap_err();
            assert_eq!(e.reason, Reason::ClaimInvalid, "{json}");
            assert!(e.detail.contains(claim), "{json}: {}", e.detail);
        }
    }

    #[test]
    fn claims_the_engine_does_not_read_are_ignored_whatever_their_type() {
        let c = Claims::from_json(
            r#"{"acr":1,"appidacr":["x"],"aio":null,"rh":{"a":[1]},"uti":false,"xms_tcdt":"1","acr":2}"#,
        )
        .unwrap();
        assert!(c.user_marker().is_none());
        // Exponent notation is a JSON number like any other.
        let c = Claims::from_json(r#"{"exp":1.7672256e9}"#).unwrap();
        assert_eq!(c.exp, Some(1_767_225_600.0));
    }

    #[test]
    fn user_markers() {
        let none = Claims::from_json(r#"{"oid":"a","sub":"a","appid":"x"}"#).unwrap();
        assert_eq!(none.user_marker(), None);
        assert!(none.oid_is_sub());
        for (json, m) in [
            (r#"{"upn":"u"}"#, "upn"),
            (r#"{"unique_name":"u"}"#, "unique_name"),
            (r#"{"preferred_username":"u"}"#, "preferred_username"),
            (r#"{"amr":[]}"#, "amr"),
            (r#"{"name":null}"#, "name"),
            (r#"{"email":1}"#, "email"),
            (r#"{"oid":"a","sub":"b"}"#, "sub differs from oid"),
        ] {
            assert_eq!(
                Claims::from_json(json).unwrap().user_marker(),
                Some(m),
                "{json}"
            );
        }
        assert!(!Claims::from_json(r#"{"oid":"","sub":""}"#)
            .unwrap()
            .oid_is_sub());
        assert!(!Claims::from_json(r#"{"oid":"a"}"#).unwrap().oid_is_sub());
    }
}
