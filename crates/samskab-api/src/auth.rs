//! Bearer tokens: HS256-signed JWTs. The principal's tenant comes from the token and nowhere
//! else; no request body or path chooses it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use samskab_domain::TenantId;
use serde::{Deserialize, Serialize};

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
    /// The engineer on call: projection status and lag, nothing of any municipality's data.
    Operator,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::PlatformAdmin,
        Role::Operator,
        Role::Caseworker,
        Role::Auditor,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::Operator => "operator",
            Role::Caseworker => "caseworker",
            Role::Auditor => "auditor",
        }
    }

    /// A role of the installation rather than of a municipality: only valid in a token of the
    /// platform tenant, as a municipality's roles are only valid outside it.
    pub fn is_platform_role(&self) -> bool {
        matches!(self, Role::PlatformAdmin | Role::Operator)
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
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    /// Recorded on every event the principal causes, as `user:<sub>`.
    pub actor: String,
    pub roles: Vec<Role>,
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
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

    pub fn sign(
        &self,
        tenant: &TenantId,
        sub: &str,
        roles: &[Role],
        valid_for: chrono::Duration,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            sub: sub.to_string(),
            tenant: tenant.as_str().to_string(),
            roles: roles.to_vec(),
            exp: (chrono::Utc::now() + valid_for).timestamp(),
            iss: ISSUER.into(),
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
        Ok(Principal {
            tenant,
            actor: format!("user:{}", claims.sub),
            roles: claims.roles,
        })
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
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).ok_or(
            ApiError::Unauthenticated("send Authorization: Bearer <token>"),
        )?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated(
                "send Authorization: Bearer <token>",
            ))?;
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
