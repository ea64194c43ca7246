//! Whose policies a caller may see and touch: every operator's, or one
//! operator's (the policies whose headend belongs to it). Checked in the
//! controller task, so that a refused call changes nothing.

use super::ControllerError;
use crate::model::{OperatorId, Topology};

/// The policies a caller may act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every policy.
    All,
    /// Policies whose headend belongs to this operator (its id).
    Operator(String),
}

impl Scope {
    /// True when policies of operator `op` (their headend's; `None`: no
    /// operator, the headend is gone) are in the scope.
    pub fn covers_operator(&self, op: Option<&OperatorId>) -> bool {
        match self {
            Scope::All => true,
            Scope::Operator(mine) => op.is_some_and(|o| o.as_str() == mine),
        }
    }

    /// True when policies of headend `router` are in the scope; a router the
    /// topology does not have belongs to no operator.
    pub fn covers(&self, t: &Topology, router: &str) -> bool {
        let op = t
            .router_ix(router)
            .map(|r| &t.operator(t.router(r).operator).id);
        self.covers_operator(op)
    }

    /// For an existing policy of headend `router`: `Ok` when covered.
    pub fn permit(&self, t: &Topology, router: &str) -> Result<(), ControllerError> {
        if self.covers(t, router) {
            return Ok(());
        }
        let Scope::Operator(op) = self else {
            unreachable!("All covers everything")
        };
        Err(ControllerError::PermissionDenied(format!(
            "headend {router} is not operator {op}'s"
        )))
    }

    /// For a request from headend `router`: `Ok` when covered; a router the
    /// topology does not have is left to the request's own checks (which
    /// refuse it as unknown).
    pub fn permit_request(&self, t: &Topology, router: &str) -> Result<(), ControllerError> {
        if t.router_ix(router).is_none() {
            return Ok(());
        }
        self.permit(t, router)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology_file::lab;

    #[test]
    fn an_operator_covers_its_headends_only() {
        let t = lab();
        let a = Scope::Operator("op-a".into());
        assert!(a.covers(&t, "a1"));
        assert!(!a.covers(&t, "b1"));
        // A policy whose headend left the topology is nobody's.
        assert!(!a.covers(&t, "gone"));
        assert!(matches!(
            a.permit(&t, "gone"),
            Err(ControllerError::PermissionDenied(_))
        ));
        // A request from an unknown router is the request's problem.
        assert!(a.permit_request(&t, "gone").is_ok());
        assert!(a.permit_request(&t, "b1").is_err());
        assert!(Scope::All.covers(&t, "gone"));
    }
}
