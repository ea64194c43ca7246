//! Graphviz DOT of a topology with a chosen path and its backup: routers
//! grouped by operator, data centers as boxes hanging off their gateways,
//! the primary in bold blue, the backup dashed orange, links that are down
//! dotted grey; each router that holds a segment of the primary is marked
//! with its place in the list and its behavior (`1 End`, `3 End.DT6`: the
//! list always ends with the endpoint's End.DT6). `cpnctl path ... --dot |
//! dot -Tsvg > path.svg` draws it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::document::AnswerJson;
use crate::model::{LinkKind, Topology};

/// A DOT identifier: always quoted, with quotes and backslashes escaped.
fn id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The whole picture; `answer` highlights a placement when given.
pub fn dot(t: &Topology, answer: Option<&AnswerJson>) -> String {
    let primary: BTreeSet<&str> = answer
        .map(|a| a.primary.links.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let backup: BTreeSet<&str> = answer
        .and_then(|a| a.backup.as_ref())
        .map(|b| b.links.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let headend = answer.map(|a| a.primary.headend.as_str());
    let chosen_dc = answer.and_then(|a| a.primary.datacenter.as_deref());
    let endpoint = answer.map(|a| a.primary.endpoint.as_str());
    // Router -> its segments of the primary, as "position behavior".
    let mut segments: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (k, seg) in answer
        .iter()
        .flat_map(|a| a.primary.segments.iter().enumerate())
    {
        segments
            .entry(seg.router.as_str())
            .or_default()
            .push(match seg.container {
                Some(c) => format!("{} {} [c{c}]", k + 1, seg.behavior),
                None => format!("{} {}", k + 1, seg.behavior),
            });
    }

    let mut s = String::new();
    let title = match answer {
        Some(a) => {
            format!(
                "{}: {} -> {}{}",
                t.name(),
                a.primary.headend,
                a.primary
                    .datacenter
                    .clone()
                    .unwrap_or_else(|| a.primary.endpoint.clone()),
                if a.backup.is_some() {
                    " (backup dashed)"
                } else {
                    ""
                }
            ) + &a
                .primary
                .containers
                .as_ref()
                .map(|c| {
                    let list: Vec<String> = c
                        .iter()
                        .enumerate()
                        .map(|(i, a)| format!("c{i} {a}"))
                        .collect();
                    format!(" (next-csid: {})", list.join(", "))
                })
                .unwrap_or_default()
        }
        None => t.name().to_owned(),
    };
    let _ = writeln!(s, "graph {} {{", id(t.name()));
    let _ = writeln!(
        s,
        "  graph [label={}, labelloc=t, fontname=Helvetica, overlap=false];",
        id(&title)
    );
    let _ = writeln!(s, "  node [fontname=Helvetica, shape=circle, width=0.5];");
    let _ = writeln!(s, "  edge [fontname=Helvetica, fontsize=9];");
    for (i, op) in t.operators().iter().enumerate() {
        let _ = writeln!(s, "  subgraph {} {{", id(&format!("cluster_{}", op.id)));
        let _ = writeln!(
            s,
            "    label={}; style=rounded; color=grey60;",
            id(op.id.as_str())
        );
        for (_, r) in t.routers().filter(|(_, r)| usize::from(r.operator.0) == i) {
            let mut attrs = vec![format!("tooltip={}", id(&r.locator.to_string()))];
            if Some(r.id.as_str()) == headend {
                attrs.push("shape=doublecircle".into());
                attrs.push("style=filled, fillcolor=\"#cfe2ff\"".into());
            } else if Some(r.id.as_str()) == endpoint {
                attrs.push("style=filled, fillcolor=\"#d1f0d1\"".into());
            }
            if !r.up {
                attrs.push("color=grey60, fontcolor=grey60, style=dashed".into());
            }
            if let Some(segs) = segments.get(r.id.as_str()) {
                attrs.push(format!("xlabel={}", id(&segs.join(", "))));
            }
            let _ = writeln!(s, "    {} [{}];", id(r.id.as_str()), attrs.join(", "));
        }
        let _ = writeln!(s, "  }}");
    }
    for dc in t.datacenters() {
        let pools: Vec<String> = dc
            .pools
            .iter()
            .map(|p| format!("{} {:.0}/{:.0}", p.kind, p.available_tflops(), p.tflops))
            .collect();
        let label = format!("{}\\n{}", dc.id, pools.join("\\n"));
        let fill = if Some(dc.id.as_str()) == chosen_dc {
            "#b7e4b7"
        } else {
            "#eeeeee"
        };
        let _ = writeln!(
            s,
            "  {} [shape=box3d, style=filled, fillcolor=\"{fill}\", label=\"{}\"];",
            id(dc.id.as_str()),
            label.replace('"', "\\\"")
        );
        for &g in &dc.attach {
            let style =
                if Some(dc.id.as_str()) == chosen_dc && Some(t.router(g).id.as_str()) == endpoint {
                    "color=\"#2b6cb0\", penwidth=3"
                } else {
                    "style=dotted"
                };
            let _ = writeln!(
                s,
                "  {} -- {} [{style}];",
                id(dc.id.as_str()),
                id(t.router(g).id.as_str())
            );
        }
    }
    for (ix, l) in t.links() {
        let (a, b) = t.link_ends(ix);
        let mut attrs = vec![
            format!("label=\"{}us\"", l.latency_us),
            format!("tooltip={}", id(l.id.as_str())),
        ];
        if t.link_kind(ix) == LinkKind::Peering {
            attrs.push("style=bold".into());
        }
        if !l.up {
            attrs.push("color=grey70, style=dotted".into());
        } else if primary.contains(l.id.as_str()) {
            attrs.push("color=\"#2b6cb0\", penwidth=3".into());
        } else if backup.contains(l.id.as_str()) {
            attrs.push("color=\"#dd6b20\", penwidth=3, style=dashed".into());
        }
        let _ = writeln!(
            s,
            "  {} -- {} [{}];",
            id(t.router(a).id.as_str()),
            id(t.router(b).id.as_str()),
            attrs.join(", ")
        );
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(id("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
