//! Who may call what. Bearer tokens, stored as SHA-256 hashes in the access
//! file, map to roles:
//!
//! | role | may |
//! |---|---|
//! | `admin` | everything |
//! | `operator:<id>` | read the topology; path queries, installs, removals, reads and watches of policies whose headend belongs to operator `<id>` |
//! | `viewer` | read the topology, the policies and path answers; change nothing |
//! | `datacenter:<id>` | report the pools of data center `<id>` (ComputeService); read the topology |
//!
//! No token, or one not in the file: `UNAUTHENTICATED`. Out of the role's
//! scope: `PERMISSION_DENIED`, and nothing changes. Without an access file
//! the API is open (every caller is `anonymous`, an admin). Each token is
//! held to a call rate; every state-changing call is written to the audit
//! log (who, what, result).
//!
//! ```yaml
//! tokens:
//!   - {name: oss-op-a, sha256: 5e88...d1, role: "operator:op-a"}
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use tonic::{Request, Status};
use tracing::info;

use crate::controller::Scope;
use crate::model::Topology;

/// What a caller may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Everything.
    Admin,
    /// One operator's policies (its id).
    Operator(String),
    /// Reading only.
    Viewer,
    /// One data center's reporter (its id).
    Datacenter(String),
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::Operator(op) => write!(f, "operator:{op}"),
            Role::Viewer => f.write_str("viewer"),
            Role::Datacenter(dc) => write!(f, "datacenter:{dc}"),
        }
    }
}

/// What a call does, for the permission check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Reads the topology.
    ReadTopology,
    /// Reads policies or path answers (scoped for operators).
    ReadPolicies,
    /// Installs or removes policies (scoped for operators).
    ChangePolicies,
    /// Changes the network for everyone (events, a new topology).
    ChangeNetwork,
    /// Reports a data center's pools (for one data center: see
    /// [`Caller::may_report_for`]).
    ReportCompute,
}

/// The authenticated caller of one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's name (`anonymous` on an open API).
    pub name: String,
    /// Its role.
    pub role: Role,
}

impl Caller {
    /// The policies it may act on.
    pub fn scope(&self) -> Scope {
        match &self.role {
            Role::Operator(op) => Scope::Operator(op.clone()),
            Role::Admin | Role::Viewer | Role::Datacenter(_) => Scope::All,
        }
    }

    /// The caller of an open API.
    pub fn anonymous() -> Caller {
        Caller {
            name: "anonymous".into(),
            role: Role::Admin,
        }
    }

    /// Whether its role allows `action` (rate limits aside).
    pub fn may(&self, action: Action) -> bool {
        match (&self.role, action) {
            (Role::Admin, _) => true,
            (Role::Operator(_), a) => !matches!(a, Action::ChangeNetwork | Action::ReportCompute),
            (Role::Viewer, a) => matches!(a, Action::ReadTopology | Action::ReadPolicies),
            (Role::Datacenter(_), a) => matches!(a, Action::ReadTopology | Action::ReportCompute),
        }
    }

    /// Whether it may report for data center `dc`: admins for any, a
    /// data center's reporter for its own.
    pub fn may_report_for(&self, dc: &str) -> bool {
        match &self.role {
            Role::Admin => true,
            Role::Datacenter(own) => own == dc,
            _ => false,
        }
    }
}

/// Why a call is refused, in no transport's terms (`From<Denied>` gives
/// the gRPC status; the console maps it to HTTP).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// No token, a malformed one, or one not in the access file.
    #[error("{0}")]
    Unauthenticated(String),
    /// The role does not allow the call.
    #[error("{0}")]
    PermissionDenied(String),
    /// The token is over its call rate.
    #[error("{0}")]
    RateLimited(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccessDoc {
    tokens: Vec<TokenDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenDoc {
    name: String,
    sha256: String,
    role: String,
}

/// One token's call budget (a token bucket: `rate` calls a second, bursts
/// of up to one second's worth).
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The access rules of a running `cpnd`.
pub struct Access {
    /// Token hash -> caller; `None`: open.
    tokens: Option<HashMap<[u8; 32], Caller>>,
    /// Calls a second per token; `None`: unlimited.
    rate: Option<f64>,
    buckets: Mutex<HashMap<String, Bucket>>,
    audit: Option<Mutex<std::fs::File>>,
}

fn parse_role(s: &str, t: &Topology) -> Result<Role, String> {
    match s {
        "admin" => Ok(Role::Admin),
        "viewer" => Ok(Role::Viewer),
        _ => {
            if let Some(dc) = s.strip_prefix("datacenter:") {
                return match t.datacenter_ix(dc) {
                    Some(_) => Ok(Role::Datacenter(dc.to_owned())),
                    None => Err(format!("unknown data center `{dc}`")),
                };
            }
            match s.strip_prefix("operator:") {
                Some(op) if t.operator_ix(op).is_some() => Ok(Role::Operator(op.to_owned())),
                Some(op) => Err(format!("unknown operator `{op}`")),
                None => Err(format!(
                    "role `{s}`: expected admin, viewer, operator:<operator id> or \
                     datacenter:<data center id>"
                )),
            }
        }
    }
}

fn parse_hash(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The SHA-256 of a token, in hex (what the access file holds).
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the hashes.
        f.debug_struct("Access")
            .field("tokens", &self.tokens.as_ref().map(HashMap::len))
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Access {
    /// An open API: every caller is an admin named `anonymous`.
    pub fn open() -> Access {
        Access {
            tokens: None,
            rate: None,
            buckets: Mutex::new(HashMap::new()),
            audit: None,
        }
    }

    /// The rules of access file `path`; roles are checked against `t`.
    /// Errors name the file and the line, or the token.
    pub fn load(path: &Path, t: &Topology) -> Result<Access, String> {
        let name = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        crate::topology_file::guard::check_flow_depth(&text)
            .map_err(|(line, m)| format!("{name}:{line}: {m}"))?;
        let doc: AccessDoc = serde_yaml::from_str(&text).map_err(|e| match e.location() {
            Some(l) => format!("{name}:{}:{}: {e}", l.line(), l.column()),
            None => format!("{name}: {e}"),
        })?;
        let mut tokens = HashMap::new();
        for (i, tok) in doc.tokens.iter().enumerate() {
            let at = format!("{name}: tokens[{i}] ({})", tok.name);
            let hash = parse_hash(&tok.sha256.to_ascii_lowercase())
                .ok_or_else(|| format!("{at}: sha256 must be 64 hex digits"))?;
            let role = parse_role(&tok.role, t).map_err(|e| format!("{at}: {e}"))?;
            let caller = Caller {
                name: tok.name.clone(),
                role,
            };
            if tokens.insert(hash, caller).is_some() {
                return Err(format!("{at}: the same token is listed twice"));
            }
        }
        Ok(Access {
            tokens: Some(tokens),
            ..Access::open()
        })
    }

    /// Holds every token to `rate` calls a second.
    pub fn with_rate(mut self, rate: Option<f64>) -> Access {
        self.rate = rate.filter(|r| *r > 0.0);
        self
    }

    /// Appends the audit log to `path` (JSON lines) as well as logging it.
    pub fn with_audit_file(mut self, path: &Path) -> std::io::Result<Access> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        self.audit = Some(Mutex::new(f));
        Ok(self)
    }

    /// True without an access file.
    pub fn is_open(&self) -> bool {
        self.tokens.is_none()
    }

    /// The caller a bearer token stands for (an admin named `anonymous`
    /// on an open API, whatever the token).
    pub fn authenticate_token(&self, token: &str) -> Result<Caller, Denied> {
        let Some(tokens) = &self.tokens else {
            return Ok(Caller::anonymous());
        };
        let hash = parse_hash(&token_hash(token)).expect("a digest is 32 bytes");
        tokens
            .get(&hash)
            .cloned()
            .ok_or_else(|| Denied::Unauthenticated("unknown token".into()))
    }

    /// The caller of an `authorization` header value (`Bearer <token>`),
    /// whatever the transport: gRPC metadata or an HTTP header.
    pub fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, Denied> {
        if self.tokens.is_none() {
            return Ok(Caller::anonymous());
        }
        let header = authorization.ok_or_else(|| {
            Denied::Unauthenticated(
                "a bearer token is required (cpnctl --token, or CPN_TOKEN)".into(),
            )
        })?;
        let token = header.strip_prefix("Bearer ").ok_or_else(|| {
            Denied::Unauthenticated("authorization must be `Bearer <token>`".into())
        })?;
        self.authenticate_token(token)
    }

    fn spend(&self, caller: &Caller) -> Result<(), Denied> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        // A bucket holds at least one call, so that rates below one a
        // second still let calls through.
        let burst = rate.max(1.0);
        let b = buckets.entry(caller.name.clone()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens < 1.0 {
            return Err(Denied::RateLimited(format!(
                "token {} is over its rate limit of {rate} calls a second",
                caller.name
            )));
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// Holds an authenticated caller to its token's rate and checks that
    /// its role allows `action` (`method` names the call in the refusal).
    pub fn admit(&self, caller: &Caller, action: Action, method: &str) -> Result<(), Denied> {
        self.spend(caller)?;
        if !caller.may(action) {
            return Err(Denied::PermissionDenied(format!(
                "{method}: role {} may not do this",
                caller.role
            )));
        }
        Ok(())
    }

    /// Authenticates a gRPC call, holds it to its token's rate, and checks
    /// that the role allows `action`. Returns who called (when the token
    /// is known: even a refused caller is named in the audit log) and
    /// whether the call may go on.
    pub fn check<T>(
        &self,
        request: &Request<T>,
        action: Action,
        method: &str,
    ) -> (Option<Caller>, Result<(), Status>) {
        let header = request.metadata().get("authorization");
        // A header that is not text is no bearer token.
        let header = header.map(|h| h.to_str().unwrap_or(""));
        let caller = match self.authenticate(header) {
            Ok(c) => c,
            Err(e) => return (None, Err(e.into())),
        };
        let allowed = self.admit(&caller, action, method).map_err(Status::from);
        (Some(caller), allowed)
    }

    /// Writes one state-changing call to the audit log.
    pub fn audit<T>(
        &self,
        caller: Option<&Caller>,
        method: &str,
        target: &str,
        result: &Result<T, Status>,
    ) {
        let (who, role) = caller.map_or(("?".to_owned(), "?".to_owned()), |c| {
            (c.name.clone(), c.role.to_string())
        });
        let outcome = match result {
            Ok(_) => "ok".to_owned(),
            Err(s) => format!("{:?}: {}", s.code(), s.message()),
        };
        info!(target: "audit", %who, %role, method, target, result = %outcome, "audit");
        if let Some(file) = &self.audit {
            let line = serde_json::json!({
                "unix_ms": SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64),
                "who": who,
                "role": role,
                "method": method,
                "target": target,
                "result": outcome,
            });
            let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(e) = writeln!(f, "{line}") {
                tracing::error!(error = %e, %who, method, target, "cannot write the audit log");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::topology_file::lab;

    fn access(yaml: &str) -> Result<Access, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("access.yaml");
        std::fs::write(&path, yaml).unwrap();
        Access::load(&path, &lab())
    }

    fn call(token: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        if let Some(t) = token {
            r.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        r
    }

    /// The caller, when the call may go on.
    fn may<T>(a: &Access, r: &Request<T>, action: Action, method: &str) -> Result<Caller, Status> {
        match a.check(r, action, method) {
            (Some(c), Ok(())) => Ok(c),
            (_, Err(e)) => Err(e),
            (None, Ok(())) => panic!("allowed without a caller"),
        }
    }

    #[test]
    fn tokens_map_to_roles_by_their_hash() {
        // sha256("secret-a"), from coreutils' sha256sum.
        assert_eq!(
            token_hash("secret-a"),
            "8766b9cb08e6040b704f1e3ee1e186efccf2635b1d2634d6525333007e6aeae1"
        );
        let yaml = format!(
            "tokens:\n  - {{name: op-a-oss, sha256: {}, role: 'operator:op-a'}}\n  - {{name: noc, sha256: {}, role: viewer}}\n",
            token_hash("secret-a"),
            token_hash("secret-v")
        );
        let a = access(&yaml).unwrap();
        let op = may(&a, &call(Some("secret-a")), Action::ChangePolicies, "m").unwrap();
        assert_eq!(op.role, Role::Operator("op-a".into()));
        assert_eq!(op.scope(), Scope::Operator("op-a".into()));
        let e = may(&a, &call(Some("secret-a")), Action::ChangeNetwork, "m").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        // A refused caller is still named (for the audit log).
        let (who, _) = a.check(&call(Some("secret-a")), Action::ChangeNetwork, "m");
        assert_eq!(who.unwrap().name, "op-a-oss");
        let e = may(&a, &call(Some("secret-v")), Action::ChangePolicies, "m").unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
        assert!(may(&a, &call(Some("secret-v")), Action::ReadPolicies, "m").is_ok());
        for t in [None, Some("wrong")] {
            let e = may(&a, &call(t), Action::ReadTopology, "m").unwrap_err();
            assert_eq!(e.code(), tonic::Code::Unauthenticated);
        }
    }

    #[test]
    fn the_file_is_checked() {
        let bad_role = format!(
            "tokens: [{{name: x, sha256: {}, role: 'operator:op-z'}}]",
            token_hash("t")
        );
        assert!(
            access(&bad_role)
                .unwrap_err()
                .contains("unknown operator `op-z`")
        );
        let e = access("tokens: [{name: x, sha256: abc, role: admin}]").unwrap_err();
        assert!(
            e.contains("tokens[0] (x): sha256 must be 64 hex digits"),
            "{e}"
        );
        let e = access("tokens: [{name: x, sha: abc, role: admin}]").unwrap_err();
        assert!(e.contains(":1:") && e.contains("unknown field"), "{e}");
    }

    #[test]
    fn a_token_over_its_rate_is_refused() {
        let a = access(&format!(
            "tokens: [{{name: x, sha256: {}, role: admin}}]",
            token_hash("t")
        ))
        .unwrap()
        .with_rate(Some(3.0));
        let ok = (0..10)
            .filter(|_| may(&a, &call(Some("t")), Action::ReadTopology, "m").is_ok())
            .count();
        // A burst of one second's worth; refilling within the loop adds at
        // most a fraction of a call.
        assert_eq!(ok, 3);
        let e = may(&a, &call(Some("t")), Action::ReadTopology, "m").unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
    }
}
