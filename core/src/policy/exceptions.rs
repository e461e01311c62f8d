//! Technical exceptions: which reasons each edition of the rules accepts, and
//! Microsoft's own answer for those it does not.

use super::doc::{ExceptionDoc, RulesVersion};
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The reasons Microsoft's MFA pages discuss, by stable code.
pub const REASONS: &[&str] = &[
    "third_party_mfa_not_recognized",
    "exchange_online_powershell",
    "needs_more_time",
    "users_without_delegated_privileges",
    "service_accounts",
    "cannot_use_authenticator_app",
    "legacy_authentication_protocols",
];

/// `Ok(())` when `reason` is valid under `rules`, else Microsoft's answer.
pub fn check_reason(reason: &str, rules: RulesVersion) -> Result<(), String> {
    use RulesVersion::*;
    let v2019 = rules == V2019;
    match reason {
        "third_party_mfa_not_recognized" => Ok(()),
        "exchange_online_powershell" if v2019 => Ok(()),
        "exchange_online_powershell" => Err(
            "The 2020 rules no longer list Exchange Online PowerShell as a reason for a technical exception: only third-party MFA that Azure AD does not recognise remains."
                .into(),
        ),
        "needs_more_time" if v2019 => Err("Réponse : non. Le partenaire doit faire en sorte de mettre en œuvre l’authentification MFA pour ses utilisateurs afin d’éviter toute interruption.".into()),
        "needs_more_time" => Err("Answer: No. Partner needs to make plans to implement MFA for their users to avoid disruption.".into()),
        "users_without_delegated_privileges" | "service_accounts" if v2019 => Err("Réponse : non. Étant donné que ces comptes d’utilisateur n’utilisent pas de privilèges d’administration déléguée de partenaire pour gérer les ressources client, ils n’ont pas besoin de se connecter au locataire client. Ils ne seront pas affectés par les Azure AD nécessitant une vérification MFA lors de la connexion au locataire client.".into()),
        "users_without_delegated_privileges" | "service_accounts" => Err("Answer: No. Since these user accounts are not using Partner Delegated Administration Privileges to manage customer resources, they will not be required to sign in to customer tenant. They will not be affected by Azure AD requiring MFA verification during sign-in to customer tenant.".into()),
        "cannot_use_authenticator_app" if v2019 => Err("Réponse : non, il ne s’agit pas d’une raison valable pour une exception technique. Le partenaire doit prendre en compte les alternatives suivantes, afin que ses employés puissent toujours effectuer la vérification de l’authentification multifacteur lors de l’accès à l’espace partenaires.".into()),
        "cannot_use_authenticator_app" => Err("Answer: No, this isn't a valid reason for technical exception. The partner should consider following alternatives, so that their employees can still complete MFA verification when accessing Partner Center: Partner can also sign up for Azure AD Premium or third-party MFA solutions (compatible with Azure AD) which can provide additional verification methods.".into()),
        "legacy_authentication_protocols" if v2019 => Err("Réponse : non, il ne s’agit pas d’une raison valable pour une exception technique. Les partenaires sont vivement encouragés à quitter l’utilisation des protocoles d’authentification hérités en raison des implications potentielles de la sécurité, car ces protocoles ne peuvent pas être protégés par la vérification MFA et sont bien plus vulnérables à la compromission des informations d’identification.".into()),
        "legacy_authentication_protocols" => Err("Answer: No, this isn't a valid reason for technical exception. Partners are strongly encouraged to move away from the use of legacy authentication protocols because of potential security implications since these protocols cannot be protected with MFA verification and are much more susceptible to credential compromise.".into()),
        other => Err(format!(
            "{other:?} is not a reason the Partner Center rules discuss; known reasons: {}",
            REASONS.join(", ")
        )),
    }
}

/// A granted exception, ready to match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Exception {
    /// The partner tenant it was granted to, lower-case.
    pub tenant: String,
    /// The one user it covers (object ID or UPN); `None`: every user of the
    /// tenant.
    pub user: Option<String>,
    /// Why it was granted, a code valid under the policy's rules.
    pub reason: String,
    /// When it stops applying, Unix seconds.
    pub expires: i64,
    /// Microsoft's service request number, for the audit trail.
    pub reference: Option<String>,
}

/// Exceptions by lower-case tenant ID.
#[derive(Debug, Default)]
pub(crate) struct ExceptionTable {
    by_tenant: HashMap<String, Vec<Arc<Exception>>>,
}

/// What the table says about a caller.
pub(crate) enum ExceptionMatch<'a> {
    None,
    Valid(&'a Arc<Exception>),
    Expired(&'a Arc<Exception>),
}

impl ExceptionTable {
    pub(crate) fn build(
        docs: &[ExceptionDoc],
        rules: RulesVersion,
    ) -> Result<ExceptionTable, Vec<Error>> {
        let mut t = ExceptionTable::default();
        let mut errs = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let n = i + 1;
            match Self::one(n, d, rules) {
                Ok(e) => t
                    .by_tenant
                    .entry(e.tenant.clone())
                    .or_default()
                    .push(Arc::new(e)),
                Err(e) => errs.push(e),
            }
        }
        if errs.is_empty() {
            Ok(t)
        } else {
            Err(errs)
        }
    }

    fn one(n: usize, d: &ExceptionDoc, rules: RulesVersion) -> Result<Exception> {
        {
            check_reason(&d.reason, rules).map_err(|answer| {
                Error::new(
                    ErrorCode::ExceptionReasonInvalid,
                    format!(
                        "exception #{n} (tenant {}): {:?} is not a valid reason under the {} rules. {answer}",
                        d.tenant,
                        d.reason,
                        rules.as_str()
                    ),
                    "remove this exception; only third_party_mfa_not_recognized (and, under the 2019 rules, exchange_online_powershell) can be granted",
                )
            })?;
            if !crate::guid::is_guid(&d.tenant) {
                return Err(Error::new(
                    ErrorCode::PolicyInvalid,
                    format!("exception #{n}: tenant {:?} is not a GUID", d.tenant),
                    "use the partner tenant ID (tid), like df845f1a-7b35-40a2-ba78-6481de91f8ae",
                ));
            }
            let expires = crate::time::parse_rfc3339(&d.expires).ok_or_else(|| {
                Error::new(
                    ErrorCode::PolicyInvalid,
                    format!(
                        "exception #{n}: expires {:?} is not an RFC 3339 date",
                        d.expires
                    ),
                    "write it as 2026-12-31 or 2026-12-31T00:00:00Z, in quotes",
                )
            })?;
            Ok(Exception {
                tenant: d.tenant.to_ascii_lowercase(),
                user: d.user.clone(),
                reason: d.reason.clone(),
                expires,
                reference: d.reference.clone(),
            })
        }
    }

    /// Finds the exception for a tenant and user (object ID or name) at `now`.
    /// A valid one wins over an expired one.
    pub(crate) fn find(&self, tenant: &str, users: &[&str], now: i64) -> ExceptionMatch<'_> {
        let Some(list) = self.by_tenant.get(&tenant.to_ascii_lowercase()) else {
            return ExceptionMatch::None;
        };
        let mut expired = None;
        for e in list {
            let user_ok = e
                .user
                .as_deref()
                .is_none_or(|u| users.iter().any(|x| x.eq_ignore_ascii_case(u)));
            if !user_ok {
                continue;
            }
            if now < e.expires {
                return ExceptionMatch::Valid(e);
            }
            expired = Some(e);
        }
        expired.map_or(ExceptionMatch::None, ExceptionMatch::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powershell_is_valid_only_in_2019() {
        assert!(check_reason("exchange_online_powershell", RulesVersion::V2019).is_ok());
        assert!(check_reason("exchange_online_powershell", RulesVersion::V2020).is_err());
        for r in REASONS.iter().skip(2) {
            assert!(check_reason(r, RulesVersion::V2019).is_err(), "{r}");
            assert!(check_reason(r, RulesVersion::V2025).is_err(), "{r}");
        }
        assert!(check_reason("third_party_mfa_not_recognized", RulesVersion::V2025).is_ok());
    }
}
