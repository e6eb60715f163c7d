//! Bearer tokens: HS256-signed JWTs. The principal's tenant comes from the token and nowhere
//! else; no request body or path chooses it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use samskab_domain::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::problem::ApiError;
use crate::state::AppState;

/// What a principal may do. Which routes each role may call is one table, `access::ACCESS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operates the shared installation: registers municipalities (tenants).
    PlatformAdmin,
    /// Municipal staff: registers and maintains organisations and volunteers.
    Caseworker,
    /// Reads everything of its municipality, changes nothing, sees no personal data of volunteers.
    Auditor,
    /// A member of the committee (udvalg) that decides grants: decides, approves as second
    /// approver, reads the grant cases.
    CommitteeMember,
    /// Sets up the municipality's grant pools: creates them, sets their budgets, opens rounds.
    PoolAdministrator,
    /// The engineer on call: projection status and lag, nothing of any municipality's data.
    Operator,
    /// One volunteer (the token's `acts_for`): their own profile, consents, export,
    /// suggestions, their "I'm interested", their side of their matches and their hours.
    Volunteer,
    /// One organisation (the token's `acts_for`): its own needs, their candidates (with what
    /// each volunteer consented to share) and matches.
    Organisation,
    /// One umbrella organisation or district (the token's `acts_for`), of the installation
    /// (the platform tenant): its members' figures across the municipalities that share them
    /// with it, suppressed; nothing of any one person or municipality beyond that.
    Umbrella,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::PlatformAdmin,
        Role::Operator,
        Role::Caseworker,
        Role::Auditor,
        Role::CommitteeMember,
        Role::PoolAdministrator,
        Role::Volunteer,
        Role::Organisation,
        Role::Umbrella,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::Operator => "operator",
            Role::Caseworker => "caseworker",
            Role::Auditor => "auditor",
            Role::CommitteeMember => "committee_member",
            Role::PoolAdministrator => "pool_administrator",
            Role::Volunteer => "volunteer",
            Role::Organisation => "organisation",
            Role::Umbrella => "umbrella",
        }
    }

    /// A role of the installation rather than of a municipality: only valid in a token of the
    /// platform tenant, as a municipality's roles are only valid outside it.
    pub fn is_platform_role(&self) -> bool {
        matches!(self, Role::PlatformAdmin | Role::Operator | Role::Umbrella)
    }

    /// A role that speaks for one party of the municipality, named by the token's `acts_for`,
    /// and reaches only what is that party's own (see `ownership.rs`).
    pub fn is_party_role(&self) -> bool {
        matches!(self, Role::Volunteer | Role::Organisation | Role::Umbrella)
    }
}

/// The one volunteer or organisation a party token speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Volunteer(Uuid),
    Organisation(Uuid),
    /// An umbrella organisation of the installation: a party of the platform tenant.
    Umbrella(Uuid),
}

impl Party {
    pub fn role(&self) -> Role {
        match self {
            Party::Volunteer(_) => Role::Volunteer,
            Party::Organisation(_) => Role::Organisation,
            Party::Umbrella(_) => Role::Umbrella,
        }
    }

    pub fn id(&self) -> Uuid {
        match self {
            Party::Volunteer(id) | Party::Organisation(id) | Party::Umbrella(id) => *id,
        }
    }
}

/// The JWT claims we issue and accept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The actor id (a user id at the municipality's identity provider).
    pub sub: String,
    pub tenant: String,
    pub roles: Vec<Role>,
    pub exp: i64,
    pub iss: String,
    /// For the party roles only: the id of the volunteer or organisation the token speaks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acts_for: Option<Uuid>,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    /// Recorded on every event the principal causes, as `user:<sub>`.
    pub actor: String,
    pub roles: Vec<Role>,
    /// The volunteer or organisation a party token speaks for; `None` for staff.
    pub party: Option<Party>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The volunteer this principal speaks for, if it is a volunteer's token.
    pub fn volunteer(&self) -> Option<Uuid> {
        match self.party {
            Some(Party::Volunteer(id)) => Some(id),
            _ => None,
        }
    }

    /// The umbrella organisation this principal speaks for, if it is an umbrella's token.
    pub fn umbrella(&self) -> Option<Uuid> {
        match self.party {
            Some(Party::Umbrella(id)) => Some(id),
            _ => None,
        }
    }

    /// The organisation this principal speaks for, if it is an organisation's token.
    pub fn organisation(&self) -> Option<Uuid> {
        match self.party {
            Some(Party::Organisation(id)) => Some(id),
            _ => None,
        }
    }
}

pub const ISSUER: &str = "samskab";

/// The tenant of platform administrators' tokens; no municipality may take this slug.
pub const PLATFORM_TENANT: &str = "platform";

/// Signs and checks tokens with one shared secret (HS256). Production puts an identity
/// provider's asymmetric keys here; the shape of `Principal` stays.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    /// A staff token (any roles but the party roles, which need [`TokenKeys::sign_party`]).
    pub fn sign(
        &self,
        tenant: &TenantId,
        sub: &str,
        roles: &[Role],
        valid_for: chrono::Duration,
    ) -> anyhow::Result<String> {
        self.sign_claims(tenant, sub, roles, None, valid_for)
    }

    /// A token that speaks for one volunteer or organisation of `tenant`.
    pub fn sign_party(
        &self,
        tenant: &TenantId,
        sub: &str,
        party: Party,
        valid_for: chrono::Duration,
    ) -> anyhow::Result<String> {
        self.sign_claims(tenant, sub, &[party.role()], Some(party.id()), valid_for)
    }

    fn sign_claims(
        &self,
        tenant: &TenantId,
        sub: &str,
        roles: &[Role],
        acts_for: Option<Uuid>,
        valid_for: chrono::Duration,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: sub.to_string(),
            tenant: tenant.as_str().to_string(),
            roles: roles.to_vec(),
            exp: (chrono::Utc::now() + valid_for).timestamp(),
            iss: ISSUER.into(),
            acts_for,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<Principal, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::Unauthenticated("the bearer token is invalid or expired"))?;
        let claims = data.claims;
        let tenant = TenantId::parse(&claims.tenant)
            .map_err(|_| ApiError::Unauthenticated("the token names no valid municipality"))?;
        if claims.sub.is_empty()
            || claims.sub.len() > 200
            || claims.sub.chars().any(char::is_control)
        {
            return Err(ApiError::Unauthenticated(
                "the token's subject is not a valid actor id",
            ));
        }
        let platform = tenant.as_str() == PLATFORM_TENANT;
        if claims
            .roles
            .iter()
            .any(|r| r.is_platform_role() != platform)
        {
            return Err(ApiError::Unauthenticated(
                "platform roles belong to the platform tenant, municipal roles to a municipality",
            ));
        }
        let party = party_of(&claims.roles, claims.acts_for)?;
        Ok(Principal {
            tenant,
            actor: format!("user:{}", claims.sub),
            roles: claims.roles,
            party,
        })
    }
}

/// A party role comes alone and with the id it speaks for; `acts_for` comes only with one. So
/// a token is either staff (roles of the municipality or the platform) or one party's.
fn party_of(roles: &[Role], acts_for: Option<Uuid>) -> Result<Option<Party>, ApiError> {
    let party_roles: Vec<Role> = roles.iter().copied().filter(Role::is_party_role).collect();
    match (party_roles.as_slice(), acts_for) {
        ([], None) => Ok(None),
        ([role], Some(id)) if roles.len() == 1 => Ok(Some(match role {
            Role::Volunteer => Party::Volunteer(id),
            Role::Umbrella => Party::Umbrella(id),
            _ => Party::Organisation(id),
        })),
        _ => Err(ApiError::Unauthenticated(
            "a volunteer's or organisation's token has that one role and the id it acts for",
        )),
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // `access::enforce` verified the token already and left the principal here.
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let token = match parts.headers.get(axum::http::header::AUTHORIZATION) {
            Some(header) => header
                .to_str()
                .ok()
                .and_then(|h| h.strip_prefix("Bearer "))
                .ok_or(ApiError::Unauthenticated(
                    "send Authorization: Bearer <token>",
                ))?,
            None => dashboard_cookie(parts).ok_or(ApiError::Unauthenticated(
                "send Authorization: Bearer <token>",
            ))?,
        };
        Principal::from_token(state, token).await
    }
}

impl Principal {
    /// The principal a token names: signed by us, unexpired, and of a registered municipality
    /// (or the platform).
    pub async fn from_token(state: &AppState, token: &str) -> Result<Principal, ApiError> {
        let principal = state.tokens.verify(token.trim())?;
        if principal.tenant.as_str() != PLATFORM_TENANT
            && !state
                .municipalities
                .is_registered(&state.log, &principal.tenant)
                .await?
        {
            return Err(ApiError::Unauthenticated(
                "the token's municipality is not registered",
            ));
        }
        Ok(principal)
    }
}

/// The cookie the dashboards' sign-in sets (`samskab-dashboard`), holding the same token.
pub const DASHBOARD_COOKIE: &str = "samskab_dashboard";

/// The token in the dashboards' cookie, taken only on a GET of a dashboard page: a cookie is
/// sent by the browser on its own, so it must never carry a command (no cross-site request
/// can change anything with it), and the API's own routes keep to the header.
fn dashboard_cookie(parts: &Parts) -> Option<&str> {
    let path = parts.uri.path();
    let page = path == "/dashboard" || path.starts_with("/dashboard/");
    if !page
        || !(parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD)
    {
        return None;
    }
    dashboard_cookie_in(&parts.headers)
}

/// The dashboards' cookie among `headers`' cookies, if one is set and not empty.
pub fn dashboard_cookie_in(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            pair.trim()
                .strip_prefix(DASHBOARD_COOKIE)
                .and_then(|rest| rest.strip_prefix('='))
        })
        .filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_token_has_its_one_role_and_the_id_it_acts_for_and_a_staff_token_neither() {
        let id = Uuid::from_u128(7);
        assert_eq!(
            party_of(&[Role::Volunteer], Some(id)).ok(),
            Some(Some(Party::Volunteer(id)))
        );
        assert_eq!(
            party_of(&[Role::Organisation], Some(id)).ok(),
            Some(Some(Party::Organisation(id)))
        );
        assert_eq!(party_of(&[Role::Caseworker], None).ok(), Some(None));
        for (roles, acts_for) in [
            (vec![Role::Volunteer], None),
            (vec![Role::Volunteer, Role::Caseworker], Some(id)),
            (vec![Role::Volunteer, Role::Organisation], Some(id)),
            (vec![Role::Caseworker], Some(id)),
            (vec![], Some(id)),
        ] {
            assert!(
                party_of(&roles, acts_for).is_err(),
                "{roles:?} acting for {acts_for:?}"
            );
        }
    }

    #[test]
    fn a_signed_party_token_verifies_as_that_party() {
        let keys = TokenKeys::from_secret(b"a test secret that is long enough for hs256");
        let tenant = TenantId::parse("rodovre").expect("tenant");
        let party = Party::Organisation(Uuid::from_u128(9));
        let token = keys
            .sign_party(&tenant, "lene", party, chrono::Duration::hours(1))
            .expect("sign");
        let principal = keys.verify(&token).expect("verify");
        assert_eq!(principal.party, Some(party));
        assert_eq!(principal.roles, vec![Role::Organisation]);
        assert_eq!(principal.organisation(), Some(party.id()));
        assert_eq!(principal.volunteer(), None);
    }
}
