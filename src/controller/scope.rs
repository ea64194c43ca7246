//! Whose policies a caller may see and touch: every operator's, or one
//! operator's (the policies whose headend belongs to it). Checked in the
//! controller task, so that a refused call changes nothing.

use super::ControllerError;
use crate::model::Topology;

/// The policies a caller may act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every policy.
    All,
    /// Policies whose headend belongs to this operator (its id).
    Operator(String),
}

impl Scope {
    /// True when the scope covers policies of headend `router` (an id). An
    /// unknown router is left to the request's own checks.
    pub fn covers(&self, t: &Topology, router: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Operator(op) => t
                .router_ix(router)
                .is_none_or(|r| t.operator(t.router(r).operator).id.as_str() == op),
        }
    }

    /// `Ok` when the scope covers headend `router`; else why not.
    pub fn permit(&self, t: &Topology, router: &str) -> Result<(), ControllerError> {
        match self {
            Scope::Operator(op) if !self.covers(t, router) => {
                Err(ControllerError::PermissionDenied(format!(
                    "headend {router} belongs to another operator than {op}"
                )))
            }
            _ => Ok(()),
        }
    }
}
