//! The southbound file (`cpnd --southbound FILE`): which headends are reached
//! through which BGP speaker instead of their own agent.
//!
//! ```yaml
//! bgp:
//!   - speaker: "127.0.0.1:50061"   # the GoBGP gRPC API
//!     next_hop: "::"               # optional; "::" lets the speaker put its own
//!     headends:                    # router id: its BGP Identifier (route target)
//!       a1: 10.0.0.11
//!       b1: 10.0.0.21
//! ```
//!
//! Headends not listed are pushed to through their `mgmt` agent.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::Deserialize;

use super::bgp::Speaker;
use crate::model::Topology;
use crate::topology_file::guard::check_flow_depth;

/// The file as written.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SouthboundDoc {
    /// BGP speakers, each with its headends.
    #[serde(default)]
    pub bgp: Vec<SpeakerDoc>,
}

/// `bgp[]`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeakerDoc {
    /// The speaker's gRPC API, `host:port`.
    pub speaker: String,
    /// Next hop of the routes.
    #[serde(default)]
    pub next_hop: Option<IpAddr>,
    /// Headend router id -> its BGP Identifier.
    pub headends: BTreeMap<String, Ipv4Addr>,
}

/// Reads and checks a southbound file against the topology; errors name the
/// file and the line (syntax), or the speaker and the router (meaning).
pub fn load(path: &Path, t: &Topology) -> Result<Vec<Speaker>, String> {
    let name = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
    check_flow_depth(&text).map_err(|(line, m)| format!("{name}:{line}: {m}"))?;
    let doc: SouthboundDoc = serde_yaml::from_str(&text).map_err(|e| match e.location() {
        Some(l) => format!("{name}:{}:{}: {e}", l.line(), l.column()),
        None => format!("{name}: {e}"),
    })?;
    check(&doc, t).map_err(|e| format!("{name}: {e}"))
}

/// The speakers of a document, checked: every headend a router of `t`, at
/// most one speaker per headend, one router per BGP Identifier and speaker.
pub fn check(doc: &SouthboundDoc, t: &Topology) -> Result<Vec<Speaker>, String> {
    let mut speaker_of: HashMap<&str, usize> = HashMap::new();
    let mut speakers = Vec::new();
    for (i, s) in doc.bgp.iter().enumerate() {
        let at = format!("bgp[{i}] (speaker {})", s.speaker);
        if s.speaker
            .rsplit_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_err())
            || tonic::transport::Endpoint::from_shared(format!("http://{}", s.speaker)).is_err()
        {
            return Err(format!("{at}: speaker must be host:port"));
        }
        if s.headends.is_empty() {
            return Err(format!("{at}: headends: at least one is needed"));
        }
        let mut ids: HashMap<Ipv4Addr, &str> = HashMap::new();
        for (router, id) in &s.headends {
            if t.router_ix(router).is_none() {
                return Err(format!("{at}: headends: unknown router `{router}`"));
            }
            if let Some(j) = speaker_of.insert(router, i) {
                return Err(format!(
                    "{at}: headends: router `{router}` is reached through bgp[{j}] already"
                ));
            }
            if let Some(other) = ids.insert(*id, router) {
                return Err(format!(
                    "{at}: headends: `{router}` and `{other}` have the same BGP Identifier {id}"
                ));
            }
        }
        speakers.push(Speaker {
            api: s.speaker.clone(),
            next_hop: s
                .next_hop
                .map_or_else(|| "::".to_owned(), |a| a.to_string()),
            headends: s.headends.clone(),
        });
    }
    Ok(speakers)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::topology_file::lab;

    fn parse(yaml: &str) -> Result<Vec<Speaker>, String> {
        let doc: SouthboundDoc = serde_yaml::from_str(yaml).map_err(|e| e.to_string())?;
        check(&doc, &lab())
    }

    #[test]
    fn a_speaker_and_its_headends() {
        let s = parse("bgp: [{speaker: '127.0.0.1:50061', headends: {a1: 10.0.0.11}}]").unwrap();
        assert_eq!(s[0].api, "127.0.0.1:50061");
        assert_eq!(s[0].next_hop, "::");
        assert_eq!(
            s[0].headends["a1"],
            "10.0.0.11".parse::<Ipv4Addr>().unwrap()
        );
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("bgp: [{speaker: 'x:1', headends: {zz: 10.0.0.1}}]").unwrap_err();
        assert!(e.contains("unknown router `zz`"), "{e}");
        let e = parse(
            "bgp: [{speaker: 'x:1', headends: {a1: 10.0.0.1}}, {speaker: 'y:2', headends: {a1: 10.0.0.2}}]",
        )
        .unwrap_err();
        assert!(e.contains("bgp[1]") && e.contains("through bgp[0]"), "{e}");
        let e =
            parse("bgp: [{speaker: 'x:1', headends: {a1: 10.0.0.1, a2: 10.0.0.1}}]").unwrap_err();
        assert!(e.contains("same BGP Identifier"), "{e}");
        let e = parse("bgp: [{speaker: 'nowhere', headends: {a1: 10.0.0.1}}]").unwrap_err();
        assert!(e.contains("host:port"), "{e}");
        let e = parse("bgp: [{speaker: 'x:1', headends: {a1: 10.0.0.1}, colour: 3}]").unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sb.yaml");
        std::fs::write(
            &path,
            "bgp:\n  - speaker: 'x:1'\n    headends: {a1: not-an-ip}\n",
        )
        .unwrap();
        let e = load(&path, &lab()).unwrap_err();
        assert!(e.starts_with(&format!("{}:3:", path.display())), "{e}");
    }
}
