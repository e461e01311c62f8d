//! Messages shown to people, in the three languages of Microsoft's MFA pages: English, French
//! and Brazilian Portuguese. One text per reason code.

use crate::reason::Reason;
use serde::Serialize;

/// A message in every supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Message {
    /// English, the fallback for any language not listed here.
    pub en: &'static str,
    /// French.
    pub fr: &'static str,
    /// Brazilian Portuguese (`pt-BR` in JSON), also used for plain `pt`.
    #[serde(rename = "pt-BR")]
    pub pt_br: &'static str,
}

impl Message {
    /// The text for a language tag (`en`, `fr`, `pt-BR`; `pt` falls back to
    /// pt-BR, anything else to English).
    pub fn get(&self, lang: &str) -> &'static str {
        let primary = lang.split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("fr") {
            self.fr
        } else if primary.eq_ignore_ascii_case("pt") {
            self.pt_br
        } else {
            self.en
        }
    }
}

const fn m(en: &'static str, fr: &'static str, pt_br: &'static str) -> Message {
    Message { en, fr, pt_br }
}

/// The message for a reason. `register_first` selects the variant that tells
/// the user to register an MFA method before verifying (example 3 of Microsoft's MFA page).
pub fn message(reason: Reason, register_first: bool) -> Message {
    use Reason::*;
    match reason {
        MfaNotRequired => m(
            "Access granted: this page does not require multi-factor authentication.",
            "Accès autorisé : cette page n’exige pas l’authentification multifacteur.",
            "Acesso permitido: esta página não exige autenticação multifator.",
        ),
        MfaSatisfied => m(
            "Access granted: multi-factor authentication was completed at sign-in.",
            "Accès autorisé : l’authentification multifacteur a été effectuée lors de la connexion.",
            "Acesso permitido: a autenticação multifator foi concluída na entrada.",
        ),
        AppOnlyExempt => m(
            "Access granted: app-only authentication does not require multi-factor authentication.",
            "Accès autorisé : l’authentification d’application uniquement n’exige pas l’authentification multifacteur.",
            "Acesso permitido: a autenticação somente de aplicativo não exige autenticação multifator.",
        ),
        ExceptionApplied => m(
            "Access granted under a technical exception that suppresses the MFA check for your tenant.",
            "Accès autorisé grâce à une exception technique qui supprime la vérification MFA pour votre locataire.",
            "Acesso permitido por uma exceção técnica que suprime a verificação de MFA para o seu locatário.",
        ),
        PublicRoute => m(
            "Access granted: this page is public.",
            "Accès autorisé : cette page est publique.",
            "Acesso permitido: esta página é pública.",
        ),
        KeyIssuerMismatch => m(
            "The access token is signed with a key that may not sign for its issuer. Sign in again to obtain a new one.",
            "Le jeton d’accès est signé avec une clé qui ne peut pas signer pour son émetteur. Reconnectez-vous pour en obtenir un nouveau.",
            "O token de acesso foi assinado com uma chave que não pode assinar pelo seu emissor. Entre novamente para obter um novo.",
        ),
        IssuerCloudMismatch => m(
            "The access token comes from another Microsoft cloud than this service accepts. Sign in with an account of the right cloud.",
            "Le jeton d’accès provient d’un autre cloud Microsoft que celui accepté par ce service. Connectez-vous avec un compte du bon cloud.",
            "O token de acesso vem de outra nuvem da Microsoft que não a aceita por este serviço. Entre com uma conta da nuvem certa.",
        ),
        KeyUnusable => m(
            "The access token is signed with a key this service cannot use. Sign in again to obtain a new one.",
            "Le jeton d’accès est signé avec une clé que ce service ne peut pas utiliser. Reconnectez-vous pour en obtenir un nouveau.",
            "O token de acesso foi assinado com uma chave que este serviço não pode usar. Entre novamente para obter um novo.",
        ),
        KeysUnavailable => m(
            "Sign-ins cannot be checked right now. Try again in a few minutes; you do not need to sign in again.",
            "Les connexions ne peuvent pas être vérifiées pour le moment. Réessayez dans quelques minutes ; vous n’avez pas besoin de vous reconnecter.",
            "Não é possível verificar as entradas no momento. Tente novamente em alguns minutos; você não precisa entrar novamente.",
        ),
        PartnerTenantNotConfigured => m(
            "This page is not available: the service's Partner Center settings are incomplete. Contact its administrator.",
            "Cette page n’est pas disponible : les paramètres Espace partenaires du service sont incomplets. Contactez son administrateur.",
            "Esta página não está disponível: as configurações do Partner Center do serviço estão incompletas. Entre em contato com o administrador.",
        ),
        NoCredential => m(
            "Sign-in required: the request carries no bearer token.",
            "Connexion requise : la demande ne contient aucun jeton du porteur.",
            "Entrada necessária: a solicitação não contém um token de portador.",
        ),
        CredentialAmbiguous => m(
            "The request carries two credentials; send only one.",
            "La demande contient deux informations d’identification ; n’en envoyez qu’une.",
            "A solicitação contém duas credenciais; envie apenas uma.",
        ),
        TokenTooLarge => m(
            "The access token is too large to be accepted.",
            "Le jeton d’accès est trop volumineux pour être accepté.",
            "O token de acesso é grande demais para ser aceito.",
        ),
        TokenMalformed => m(
            "The access token is malformed. Sign in again to obtain a new one.",
            "Le jeton d’accès est mal formé. Reconnectez-vous pour en obtenir un nouveau.",
            "O token de acesso está malformado. Entre novamente para obter um novo.",
        ),
        TokenTypeUnsupported => m(
            "The token is not a JWT access token.",
            "Le jeton n’est pas un jeton d’accès JWT.",
            "O token não é um token de acesso JWT.",
        ),
        AlgorithmNotAllowed => m(
            "The token is signed with an algorithm this service does not accept.",
            "Le jeton est signé avec un algorithme que ce service n’accepte pas.",
            "O token foi assinado com um algoritmo que este serviço não aceita.",
        ),
        KeyNotFound => m(
            "The token is signed with an unknown key. Sign in again to obtain a new token.",
            "Le jeton est signé avec une clé inconnue. Reconnectez-vous pour obtenir un nouveau jeton.",
            "O token foi assinado com uma chave desconhecida. Entre novamente para obter um novo token.",
        ),
        KeyAlgorithmMismatch => m(
            "The token's signing key cannot be used with its algorithm.",
            "La clé de signature du jeton ne peut pas être utilisée avec son algorithme.",
            "A chave de assinatura do token não pode ser usada com o algoritmo dele.",
        ),
        SignatureInvalid => m(
            "The token's signature is not valid.",
            "La signature du jeton n’est pas valide.",
            "A assinatura do token não é válida.",
        ),
        VerificationUnavailable => m(
            "The service cannot verify this token's signature right now.",
            "Le service ne peut pas vérifier la signature de ce jeton pour le moment.",
            "O serviço não pode verificar a assinatura deste token no momento.",
        ),
        ClaimMissing => m(
            "The token lacks a required claim.",
            "Il manque une revendication obligatoire dans le jeton.",
            "O token não tem uma declaração obrigatória.",
        ),
        ClaimInvalid => m(
            "The token has a claim of the wrong type or a repeated claim.",
            "Le jeton contient une revendication de type incorrect ou répétée.",
            "O token tem uma declaração do tipo errado ou repetida.",
        ),
        TokenExpired => m(
            "The token has expired. Sign in again.",
            "Le jeton a expiré. Reconnectez-vous.",
            "O token expirou. Entre novamente.",
        ),
        TokenNotYetValid => m(
            "The token is not valid yet. Check the clocks and try again.",
            "Le jeton n’est pas encore valide. Vérifiez les horloges et réessayez.",
            "O token ainda não é válido. Verifique os relógios e tente novamente.",
        ),
        TokenIssuedInFuture => m(
            "The token claims to be issued in the future. Check the clocks and try again.",
            "Le jeton prétend avoir été émis dans le futur. Vérifiez les horloges et réessayez.",
            "O token afirma ter sido emitido no futuro. Verifique os relógios e tente novamente.",
        ),
        AudienceInvalid => m(
            "The token was issued for another service (wrong audience).",
            "Le jeton a été émis pour un autre service (audience incorrecte).",
            "O token foi emitido para outro serviço (público incorreto).",
        ),
        IssuerInvalid => m(
            "The token was not issued by Microsoft Entra ID.",
            "Le jeton n’a pas été émis par Microsoft Entra ID.",
            "O token não foi emitido pelo Microsoft Entra ID.",
        ),
        IssuerTenantMismatch => m(
            "The token's issuer names another tenant than its tid claim.",
            "L’émetteur du jeton désigne un autre locataire que sa revendication tid.",
            "O emissor do token indica um locatário diferente da declaração tid.",
        ),
        TenantNotAllowed => m(
            "Your tenant is not allowed to use this service.",
            "Votre locataire n’est pas autorisé à utiliser ce service.",
            "Seu locatário não tem permissão para usar este serviço.",
        ),
        TokenKindUnrecognized => m(
            "The token is neither an app-only, an app+user nor an ID token.",
            "Le jeton n’est ni un jeton d’application uniquement, ni d’application + utilisateur, ni un jeton d’ID.",
            "O token não é um token somente de aplicativo, de aplicativo+usuário nem um token de ID.",
        ),
        TokenKindNotAccepted => m(
            "This kind of token is not accepted here.",
            "Ce type de jeton n’est pas accepté ici.",
            "Este tipo de token não é aceito aqui.",
        ),
        RoleNotPermitted => m(
            "Your roles do not allow access to this page or API.",
            "Vos rôles ne permettent pas d’accéder à cette page ou à cette API.",
            "Suas funções não permitem o acesso a esta página ou API.",
        ),
        RolesUnavailable => m(
            "Your group memberships could not be read from the token (too many groups), so access cannot be granted.",
            "Vos appartenances aux groupes n’ont pas pu être lues dans le jeton (trop de groupes) ; l’accès ne peut pas être accordé.",
            "Não foi possível ler as associações de grupo no token (grupos demais); o acesso não pode ser concedido.",
        ),
        MfaRequired | MfaAmrAbsent if register_first => m(
            "Multi-factor authentication is required. Register an MFA method first, then complete MFA verification.",
            "L’authentification multifacteur est requise. Inscrivez d’abord une méthode MFA, puis effectuez la vérification MFA.",
            "A autenticação multifator é obrigatória. Registre primeiro um método de MFA e depois conclua a verificação de MFA.",
        ),
        MfaRequired => m(
            "Multi-factor authentication is required. Sign in again and complete MFA verification.",
            "L’authentification multifacteur est requise. Reconnectez-vous et effectuez la vérification MFA.",
            "A autenticação multifator é obrigatória. Entre novamente e conclua a verificação de MFA.",
        ),
        MfaAmrAbsent => m(
            "Multi-factor authentication cannot be verified: the token has no amr claim (is the API configured for v2 tokens?).",
            "L’authentification multifacteur ne peut pas être vérifiée : le jeton n’a pas de revendication amr (l’API est-elle configurée pour des jetons v2 ?).",
            "Não é possível verificar a autenticação multifator: o token não tem a declaração amr (a API está configurada para tokens v2?).",
        ),
        MfaStale => m(
            "Your multi-factor authentication is too old for this page. Sign in again with MFA.",
            "Votre authentification multifacteur est trop ancienne pour cette page. Reconnectez-vous avec MFA.",
            "Sua autenticação multifator é antiga demais para esta página. Entre novamente com MFA.",
        ),
        MfaAuthTimeAbsent => m(
            "This page requires a recent multi-factor authentication, but the token does not say when you signed in.",
            "Cette page exige une authentification multifacteur récente, mais le jeton n’indique pas quand vous vous êtes connecté.",
            "Esta página exige uma autenticação multifator recente, mas o token não informa quando você entrou.",
        ),
        DelegatedAdminMfaRequired => m(
            "Delegated administration always requires MFA. Sign in to the customer tenant interactively and complete MFA; non-interactive flows such as the password flow cannot satisfy MFA.",
            "L’administration déléguée exige toujours l’authentification MFA. Connectez-vous de manière interactive au locataire client et effectuez la vérification MFA ; les flux non interactifs comme le flux de mot de passe ne peuvent pas satisfaire l’authentification MFA.",
            "A administração delegada sempre exige MFA. Entre no locatário do cliente de forma interativa e conclua a MFA; fluxos não interativos, como o fluxo de senha, não podem satisfazer a MFA.",
        ),
        RequestInvalid => m(
            "The request could not be understood.",
            "La demande n’a pas pu être comprise.",
            "Não foi possível entender a solicitação.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_three_distinct_texts() {
        for &r in Reason::ALL {
            for rf in [false, true] {
                let msg = message(r, rf);
                assert!(!msg.en.is_empty() && !msg.fr.is_empty() && !msg.pt_br.is_empty());
                assert_ne!(msg.en, msg.fr, "{r}");
                assert_ne!(msg.en, msg.pt_br, "{r}");
            }
        }
    }

    #[test]
    fn language_tags_pick_the_right_text() {
        let msg = message(Reason::MfaRequired, false);
        assert_eq!(msg.get("fr-FR"), msg.fr);
        assert_eq!(msg.get("pt-BR"), msg.pt_br);
        assert_eq!(msg.get("de"), msg.en);
    }
}
