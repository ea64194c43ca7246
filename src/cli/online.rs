//! The online commands of `cpnctl`: talk to `cpnd` over gRPC.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tokio_stream::StreamExt;
use tonic::{Code, Status};

use super::client::{Target, connect, named_leader};
use super::path::{EXIT_INFEASIBLE, PathArgs, read_input};
use super::render;
use crate::document::{self, ErrorJson};
use crate::proto::convert;
use crate::proto::v1 as pb;
use crate::proto::v1::path_service_client::PathServiceClient;
use crate::proto::v1::policy_service_client::PolicyServiceClient;
use crate::proto::v1::topology_service_client::TopologyServiceClient;
use crate::topology_file::TopologyDocument;

/// A failure with the exit status it deserves (`cpnctl` prints the message
/// on stderr, one line).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// Exit status: 1 bad input or unreachable, 2 nothing feasible or not found.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

/// Prints a policy of a reply, as JSON or for people.
fn show_policy(p: Option<pb::Policy>, json: bool) -> anyhow::Result<()> {
    let p = convert::policy_from_pb(&p.unwrap_or_default()).map_err(unreadable)?;
    if json {
        print_json(&p)?
    } else {
        print!("{}", render::policy(&p))
    }
    Ok(())
}

/// A reply the server sent that this cpnctl cannot read (a newer server?).
fn unreadable(e: crate::document::FieldError) -> anyhow::Error {
    anyhow::anyhow!(
        "the server sent a policy this cpnctl cannot read ({e}); is it a newer version?"
    )
}

fn fail(status: Status) -> anyhow::Error {
    let code = match status.code() {
        Code::NotFound | Code::FailedPrecondition => 2,
        _ => 1,
    };
    let message = match status.code() {
        Code::Unavailable => format!("the controller is unavailable: {}", status.message()),
        Code::DeadlineExceeded => "the controller did not answer in time".to_owned(),
        _ => status.message().to_owned(),
    };
    Failure { code, message }.into()
}

/// `cpnctl policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Install a policy: compute, reserve, keep it right as the network changes.
    Install {
        /// Unique name (letters, digits, '.', '_', '-').
        name: String,
        /// The path request (YAML or JSON); `-` reads standard input.
        #[arg(long)]
        request: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List policies (every page), optionally filtered.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        /// Only policies of this headend.
        #[arg(long)]
        headend: Option<String>,
        /// Only policies whose headend belongs to this operator.
        #[arg(long)]
        operator: Option<String>,
        /// Only policies placed in this data center.
        #[arg(long)]
        datacenter: Option<String>,
        /// Only policies in this state.
        #[arg(long, value_parser = ["up", "down"])]
        state: Option<String>,
        /// Only policies with this southbound state.
        #[arg(long, value_parser = ["applied", "pending", "failed", "disabled"])]
        southbound: Option<String>,
    },
    /// Show one policy.
    Show {
        /// Its name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a policy and give back its reservations.
    Remove {
        /// Its name.
        name: String,
    },
    /// Move a policy that failed over to its standby data center back:
    /// placed afresh (the best placement now, usually where it was),
    /// make-before-break.
    Failback {
        /// Its name.
        name: String,
        /// Print the policy as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stream policy changes until interrupted.
    Watch {
        /// Resume after this sequence number (from an earlier change, or
        /// a list's sequence).
        #[arg(long, default_value_t = 0, conflicts_with = "from_oldest")]
        resume_after: u64,
        /// Start with the oldest change the controller keeps.
        #[arg(long)]
        from_oldest: bool,
        /// Print one JSON object per change.
        #[arg(long)]
        json: bool,
    },
}

/// `cpnctl event`
#[derive(Debug, Args)]
pub struct EventArgs {
    /// One event in the scenario syntax, e.g. `{link_down: a-b}`; `-` reads standard input.
    #[arg(long)]
    pub file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn parse_request_file(path: &Path) -> anyhow::Result<document::RequestDoc> {
    let text = read_input(path)?;
    document::parse_request(&text).map_err(|e| {
        Failure {
            code: 1,
            message: format!("{}: {e}", path.display()),
        }
        .into()
    })
}

/// `cpnctl --server URL policy ...`
pub async fn policy(target: &Target, command: PolicyCommand) -> anyhow::Result<ExitCode> {
    let mut client = PolicyServiceClient::new(connect(target).await?)
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES);
    match command {
        PolicyCommand::Install {
            name,
            request,
            json,
        } => {
            let doc = parse_request_file(&request)?;
            let r = pb::InstallPolicyRequest {
                name,
                request: Some(convert::request_to_pb(&doc)),
                ..Default::default()
            };
            let p = match client.install_policy(r.clone()).await {
                Ok(p) => p,
                Err(s) => match named_leader(target, &s).await {
                    // The leader changed: once more, there.
                    Some(leader) => PolicyServiceClient::new(leader)
                        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES)
                        .install_policy(r)
                        .await
                        .map_err(fail)?,
                    None => return Err(fail(s)),
                },
            }
            .into_inner();
            show_policy(p.policy, json)?;
        }
        PolicyCommand::List {
            json,
            headend,
            operator,
            datacenter,
            state,
            southbound,
        } => {
            let mut request = pb::ListPoliciesRequest {
                headend: headend.unwrap_or_default(),
                operator: operator.unwrap_or_default(),
                datacenter: datacenter.unwrap_or_default(),
                state: match state.as_deref() {
                    Some("up") => pb::PolicyState::Up,
                    Some("down") => pb::PolicyState::Down,
                    _ => pb::PolicyState::Unspecified,
                }
                .into(),
                southbound: match southbound.as_deref() {
                    Some("applied") => pb::SouthboundState::Applied,
                    Some("pending") => pb::SouthboundState::Pending,
                    Some("failed") => pb::SouthboundState::Failed,
                    Some("disabled") => pb::SouthboundState::Disabled,
                    _ => pb::SouthboundState::Unspecified,
                }
                .into(),
                ..Default::default()
            };
            // Every page, in order.
            let mut list = Vec::new();
            loop {
                let page = client
                    .list_policies(request.clone())
                    .await
                    .map_err(fail)?
                    .into_inner();
                for p in &page.policies {
                    list.push(convert::policy_from_pb(p).map_err(unreadable)?);
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            if json {
                print_json(&list)?
            } else {
                print!("{}", render::policy_list(&list))
            }
        }
        PolicyCommand::Show { name, json } => {
            let p = client
                .get_policy(pb::GetPolicyRequest { name })
                .await
                .map_err(fail)?
                .into_inner();
            show_policy(p.policy, json)?;
        }
        PolicyCommand::Remove { name } => {
            let r = pb::RemovePolicyRequest {
                name: name.clone(),
                ..Default::default()
            };
            if let Err(s) = client.remove_policy(r.clone()).await {
                match named_leader(target, &s).await {
                    // The leader changed: once more, there.
                    Some(leader) => {
                        PolicyServiceClient::new(leader)
                            .remove_policy(r)
                            .await
                            .map_err(fail)?;
                    }
                    None => return Err(fail(s)),
                }
            }
            eprintln!("removed {name}");
        }
        PolicyCommand::Failback { name, json } => {
            let r = pb::FailbackPolicyRequest { name: name.clone() };
            let reply = match client.failback_policy(r.clone()).await {
                Ok(reply) => reply,
                Err(s) => match named_leader(target, &s).await {
                    Some(leader) => PolicyServiceClient::new(leader)
                        .failback_policy(r)
                        .await
                        .map_err(fail)?,
                    None => return Err(fail(s)),
                },
            }
            .into_inner();
            eprintln!("failed back {name} (change {})", reply.sequence);
            show_policy(reply.policy, json)?;
        }
        PolicyCommand::Watch {
            resume_after,
            from_oldest,
            json,
        } => {
            let mut stream = client
                .watch_policies(pb::WatchPoliciesRequest {
                    resume_after,
                    from_oldest,
                })
                .await
                .map_err(fail)?
                .into_inner();
            // The controller has registered the watch: every later change comes.
            eprintln!("watching policy changes (Ctrl-C to stop)");
            while let Some(change) = stream.next().await {
                let c = change.map_err(fail)?;
                let kind = pb::ChangeKind::try_from(c.kind).map_or("unknown", |k| k.as_str_name());
                let kind = kind.trim_start_matches("CHANGE_KIND_").to_lowercase();
                let policy = c
                    .policy
                    .as_ref()
                    .map(convert::policy_from_pb)
                    .transpose()
                    .map_err(unreadable)?;
                if json {
                    let v = serde_json::json!({"sequence": c.sequence, "kind": kind, "name": c.name, "policy": policy});
                    println!("{v}");
                } else {
                    let what = match &policy {
                        Some(p) if p.state == "up" => format!(
                            "up v{} via {} ({} segments), southbound {}",
                            p.version,
                            p.path.join(" -> "),
                            p.segments.len(),
                            p.southbound
                        ),
                        Some(p) => format!("down: {}", p.reason.clone().unwrap_or_default()),
                        None => String::new(),
                    };
                    println!("#{} {kind} {} {what}", c.sequence, c.name);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cpnctl --server URL event --file EVENT.yaml`
pub async fn event(target: &Target, args: EventArgs) -> anyhow::Result<ExitCode> {
    let text = read_input(&args.file)?;
    let doc = document::parse_event(&text).map_err(|e| Failure {
        code: 1,
        message: format!("{}: {e}", args.file.display()),
    })?;
    let mut client = TopologyServiceClient::new(connect(target).await?);
    let request = pb::ApplyEventRequest {
        event: Some(convert::event_to_pb(&doc)),
        ..Default::default()
    };
    let r = match client.apply_event(request.clone()).await {
        Ok(r) => r,
        Err(s) => match named_leader(target, &s).await {
            // The leader changed: once more, there.
            Some(leader) => TopologyServiceClient::new(leader)
                .apply_event(request)
                .await
                .map_err(fail)?,
            None => return Err(fail(s)),
        },
    }
    .into_inner();
    if args.json {
        print_json(&serde_json::json!({"affected_policies": r.affected_policies}))?;
    } else if r.affected_policies.is_empty() {
        println!("applied; no policy changed");
    } else {
        println!("applied; changed: {}", r.affected_policies.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// The live topology as the server exports it: its document, and the
/// routers that are down.
async fn export(target: &Target) -> anyhow::Result<(TopologyDocument, Vec<String>)> {
    let mut client = TopologyServiceClient::new(connect(target).await?)
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES);
    let r = client
        .export_topology(pb::ExportTopologyRequest {})
        .await
        .map_err(fail)?
        .into_inner();
    Ok((serde_yaml::from_str(&r.yaml)?, r.down_routers))
}

/// A document and its down routers as a model.
fn model_of(doc: &TopologyDocument, down: &[String]) -> anyhow::Result<crate::model::Topology> {
    let mut t = doc
        .to_builder()
        .map_err(|e| anyhow::anyhow!("{}", e[0].message))?
        .build()?;
    for id in down {
        if let Some(ix) = t.router_ix(id) {
            t.set_router_up(ix, false);
        }
    }
    Ok(t)
}

/// The live topology as a model (for pictures).
async fn live_topology(target: &Target) -> anyhow::Result<crate::model::Topology> {
    let (doc, down) = export(target).await?;
    model_of(&doc, &down)
}

/// `cpnctl --server URL topology [--json] [--sources]`: the live
/// topology, with where each router and link came from (file, BGP-LS).
pub async fn topology(target: &Target, json: bool, sources: bool) -> anyhow::Result<ExitCode> {
    let (doc, down) = export(target).await?;
    if json {
        print_json(&doc)?;
    } else {
        let t = model_of(&doc, &down)?;
        print!("{}", super::topology::show(&t));
        if !down.is_empty() {
            println!("routers down: {}", down.join(", "));
        }
        // A controller without the BGP-LS service (an older cpnd): all
        // from its file.
        let s = super::bgp_ls::sources(target)
            .await
            .unwrap_or_else(|_| super::bgp_ls::Sources {
                routers: Default::default(),
                links: Default::default(),
                enabled: false,
            });
        let each = sources || t.router_count() + t.link_count() <= 100;
        print!("\n{}", super::bgp_ls::render_sources(&t, &s, each));
    }
    Ok(ExitCode::SUCCESS)
}

/// `cpnctl --server URL path ...`
pub async fn path(target: &Target, args: PathArgs) -> anyhow::Result<ExitCode> {
    let mut client = PathServiceClient::new(connect(target).await?)
        .max_decoding_message_size(crate::grpc::MAX_MESSAGE_BYTES);
    if let Some(batch) = &args.requests {
        let text = read_input(batch)?;
        let (mut bad, mut infeasible) = (false, false);
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let doc = match document::parse_request(line) {
                Ok(d) => d,
                Err(e) => {
                    bad = true;
                    println!(
                        "{}",
                        serde_json::to_string(&ErrorJson {
                            error: format!("line {}: {e}", n + 1),
                            rejected: None
                        })?
                    );
                    continue;
                }
            };
            let r = pb::ComputePathRequest {
                request: Some(convert::request_to_pb(&doc)),
            };
            match client.compute_path(r).await {
                Ok(resp) => match resp.into_inner().outcome {
                    Some(pb::compute_path_response::Outcome::Answer(a)) => {
                        println!("{}", serde_json::to_string(&convert::answer_from_pb(&a))?)
                    }
                    Some(pb::compute_path_response::Outcome::NoPlacement(e)) => {
                        infeasible = true;
                        let e = ErrorJson {
                            error: e.error,
                            rejected: Some(convert::rejections_from_pb(&e.rejected)),
                        };
                        println!("{}", serde_json::to_string(&e)?);
                    }
                    None => anyhow::bail!("the controller sent an empty answer"),
                },
                Err(s) if s.code() == Code::InvalidArgument => {
                    bad = true;
                    println!(
                        "{}",
                        serde_json::to_string(&ErrorJson {
                            error: format!("line {}: {}", n + 1, s.message()),
                            rejected: None
                        })?
                    );
                }
                Err(s) => return Err(fail(s)),
            }
        }
        return Ok(if bad {
            ExitCode::from(1)
        } else if infeasible {
            ExitCode::from(EXIT_INFEASIBLE)
        } else {
            ExitCode::SUCCESS
        });
    }
    let file = args
        .request
        .as_ref()
        .expect("clap requires --request or --requests");
    let doc = parse_request_file(file)?;
    let r = pb::ComputePathRequest {
        request: Some(convert::request_to_pb(&doc)),
    };
    let resp = client.compute_path(r).await.map_err(|s| {
        let mut e = fail(s);
        if let Some(f) = e.downcast_mut::<Failure>() {
            f.message = format!("{}: {}", file.display(), f.message);
        }
        e
    })?;
    match resp.into_inner().outcome {
        Some(pb::compute_path_response::Outcome::Answer(a)) => {
            let a = convert::answer_from_pb(&a);
            if args.dot {
                let t = live_topology(target).await?;
                print!("{}", super::dot::dot(&t, Some(&a)));
            } else if args.json {
                print_json(&a)?
            } else {
                print!("{}", render::answer(&a, None))
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(pb::compute_path_response::Outcome::NoPlacement(e)) => {
            let e = ErrorJson {
                error: e.error,
                rejected: Some(convert::rejections_from_pb(&e.rejected)),
            };
            if args.json {
                print_json(&e)?;
            } else {
                println!("{}\n", e.error);
                print!(
                    "{}",
                    render::rejected(e.rejected.as_deref().unwrap_or_default())
                );
            }
            Ok(ExitCode::from(EXIT_INFEASIBLE))
        }
        None => anyhow::bail!("the controller sent an empty answer"),
    }
}
