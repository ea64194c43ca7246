//! Reading a Prometheus text-format endpoint (a GPU exporter, a node
//! exporter, a scheduler's metrics): one HTTP GET, the samples parsed, and
//! a selector that picks and aggregates the samples a figure comes from.

use std::collections::BTreeMap;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use serde::Deserialize;

/// One sample: a metric name, its labels, its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// Parses the text exposition format (comments and blank lines skipped; a
/// timestamp after the value ignored). The error names the line.
pub fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: &str| format!("line {}: {m}: {line}", n + 1);
        let (name, labels, rest) = match line.find('{') {
            Some(open) => {
                let close = line[open..]
                    .rfind('}')
                    .map(|c| open + c)
                    .ok_or_else(|| at("unclosed `{`"))?;
                let labels = labels(&line[open + 1..close]).map_err(|m| at(&m))?;
                (&line[..open], labels, &line[close + 1..])
            }
            None => {
                let end = line
                    .find(char::is_whitespace)
                    .ok_or_else(|| at("no value"))?;
                (&line[..end], BTreeMap::new(), &line[end..])
            }
        };
        let value = rest
            .split_whitespace()
            .next()
            .ok_or_else(|| at("no value"))?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v
                .parse()
                .map_err(|_| at(&format!("`{v}` is not a number")))?,
        };
        out.push(Sample {
            name: name.trim().to_owned(),
            labels,
            value,
        });
    }
    Ok(out)
}

/// `a="x",b="y"` (quotes escaped with backslashes).
fn labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if chars.next() != Some('"') {
            return Err(format!("label `{}` has no quoted value", name.trim()));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c) => value.push(c),
                    None => return Err("unfinished escape".into()),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => return Err(format!("label `{}` is not closed", name.trim())),
            }
        }
        out.insert(name.trim().to_owned(), value);
    }
}

/// How samples are combined into one figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// Their sum (the default: e.g. free memory over every node).
    #[default]
    Sum,
    /// Their mean (e.g. utilisation over every GPU).
    Mean,
    /// The smallest.
    Min,
    /// The largest.
    Max,
}

/// Which samples a figure comes from, and how.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// The metric name.
    pub metric: String,
    /// Labels the samples must carry (all of them, with these values).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How to combine them.
    #[serde(default)]
    pub aggregate: Aggregate,
    /// Multiplies the result (e.g. 1e-9 from bytes to GB).
    #[serde(default = "one")]
    pub factor: f64,
}

fn one() -> f64 {
    1.0
}

impl Selector {
    /// The figure from `samples`; an error when no sample matches.
    pub fn pick(&self, samples: &[Sample]) -> Result<f64, String> {
        let values: Vec<f64> = samples
            .iter()
            .filter(|s| s.name == self.metric)
            .filter(|s| self.labels.iter().all(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| s.value)
            .collect();
        if values.is_empty() {
            return Err(format!(
                "no sample of `{}` with labels {:?}",
                self.metric, self.labels
            ));
        }
        let v = match self.aggregate {
            Aggregate::Sum => values.iter().sum(),
            Aggregate::Mean => values.iter().sum::<f64>() / values.len() as f64,
            Aggregate::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
            Aggregate::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        };
        Ok(v * self.factor)
    }
}

/// Fetches `url` (plain `http://`, as exporters serve) and parses it.
pub async fn scrape(url: &str) -> Result<Vec<Sample>, String> {
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url}: only http:// endpoints are supported"));
    }
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("{url}: {e}"))?;
    tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, host)
        .header(hyper::header::ACCEPT, "text/plain")
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("{url}: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .to_bytes();
    parse(&String::from_utf8_lossy(&body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",pool="ai"} 40
DCGM_FI_DEV_GPU_UTIL{gpu="1",pool="ai"} 60 1700000000000
DCGM_FI_DEV_GPU_UTIL{gpu="2",pool="hpc"} 100
node_memory_MemAvailable_bytes 2.5e+11
weird{path="a\"b,c"} +Inf
"#;

    #[test]
    fn the_text_format_parses_with_labels_escapes_and_timestamps() {
        let s = parse(TEXT).unwrap();
        assert_eq!(s.len(), 5);
        assert_eq!(s[1].labels["gpu"], "1");
        assert_eq!(s[1].value, 60.0);
        assert_eq!(s[3].name, "node_memory_MemAvailable_bytes");
        assert_eq!(s[3].value, 2.5e11);
        assert_eq!(s[4].labels["path"], "a\"b,c");
        assert!(s[4].value.is_infinite());
        let bad = parse("ok 1\nbroken{a=\"x\"} nope\n").unwrap_err();
        assert!(bad.starts_with("line 2:"), "{bad}");
    }

    #[test]
    fn selectors_filter_by_labels_and_aggregate() {
        let s = parse(TEXT).unwrap();
        let sel = |aggregate, pool: &str| Selector {
            metric: "DCGM_FI_DEV_GPU_UTIL".into(),
            labels: BTreeMap::from([("pool".to_owned(), pool.to_owned())]),
            aggregate,
            factor: 1.0,
        };
        assert_eq!(sel(Aggregate::Mean, "ai").pick(&s), Ok(50.0));
        assert_eq!(sel(Aggregate::Sum, "ai").pick(&s), Ok(100.0));
        assert_eq!(sel(Aggregate::Max, "ai").pick(&s), Ok(60.0));
        assert_eq!(sel(Aggregate::Min, "hpc").pick(&s), Ok(100.0));
        assert!(sel(Aggregate::Sum, "general").pick(&s).is_err());
        let memory = Selector {
            metric: "node_memory_MemAvailable_bytes".into(),
            labels: BTreeMap::new(),
            aggregate: Aggregate::Sum,
            factor: 1e-9,
        };
        assert!((memory.pick(&s).unwrap() - 250.0).abs() < 1e-9);
    }
}
