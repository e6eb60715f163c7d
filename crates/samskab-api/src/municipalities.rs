//! Which tenants are registered municipalities. A token is signed for a tenant by whoever holds
//! the signing secret (one day the municipalities' identity provider); the API still refuses a
//! municipal token whose tenant was never registered (`POST /municipalities`), so a typo in a
//! token's tenant cannot start a shadow municipality with data of its own.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use samskab_domain::{Decider, Municipality, TenantId};
use samskab_eventlog::{EntityRef, EventLog};

use crate::problem::ApiError;

/// The registered municipalities this process has seen, asked of the log the first time each
/// is named (a municipality is never deleted, so a yes is kept; a no is asked again).
#[derive(Clone, Default)]
pub struct Municipalities {
    known: Arc<RwLock<HashSet<String>>>,
}

impl Municipalities {
    pub async fn is_registered(&self, log: &EventLog, tenant: &TenantId) -> Result<bool, ApiError> {
        if self
            .known
            .read()
            .is_ok_and(|known| known.contains(tenant.as_str()))
        {
            return Ok(true);
        }
        // A municipality is the entity whose id is its own tenant (`create_tenant`).
        let entity = EntityRef::new(
            tenant.as_str(),
            Municipality::KIND.as_str(),
            tenant.as_str(),
        )
        .map_err(|e| ApiError::Internal(e.into()))?;
        let registered = log
            .has_events(&entity)
            .await
            .map_err(|_| ApiError::Unavailable("the event log is unavailable".into()))?;
        if registered && let Ok(mut known) = self.known.write() {
            known.insert(tenant.as_str().to_string());
        }
        Ok(registered)
    }
}
