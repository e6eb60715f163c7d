//! Bearer tokens: HS256-signed JWTs. The principal's tenant comes from the token and nowhere
//! else; no request body or path chooses it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use samskab_domain::TenantId;
use serde::{Deserialize, Serialize};

use crate::problem::ApiError;
use crate::state::AppState;

/// What a principal may do. Kept small and explicit; each route says which roles it admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Operates the shared installation: registers municipalities (tenants).
    PlatformAdmin,
    /// Municipal staff: registers and maintains organisations and volunteers.
    Caseworker,
    /// Reads everything of its municipality, changes nothing, sees no personal data of volunteers.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::PlatformAdmin, Role::Caseworker, Role::Auditor];
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::PlatformAdmin => "platform_admin",
            Role::Caseworker => "caseworker",
            Role::Auditor => "auditor",
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
    pub fn require(&self, allowed: &[Role]) -> Result<(), ApiError> {
        if self.roles.iter().any(|r| allowed.contains(r)) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("your role may not do this"))
        }
    }
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
        state.tokens.verify(token.trim())
    }
}
