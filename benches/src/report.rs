//! Where benchmark results live, and writing them.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The file, in `<criterion dir>/echo/`, where the echo benchmark writes per-round-trip
/// percentiles: a JSON object from `echo/<size>/<target>` to a
/// [`Summary`](crate::latency::Summary).
pub const ECHO_LATENCY_FILE: &str = "latency.json";

/// Criterion's output directory, found as criterion finds it: `$CRITERION_HOME`, else
/// `$CARGO_TARGET_DIR/criterion`, else `criterion/` in this workspace's `target/`.
pub fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            workspace.canonicalize().unwrap_or(workspace).join("target")
        });
    target.join("criterion")
}

/// Writes `value` as pretty JSON to `path`, creating its directory.
///
/// # Errors
///
/// The I/O or serialization error.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    std::fs::write(path, json)
}

/// The targets file shipped with this crate (`benches/targets.toml`).
pub const TARGETS_TOML: &str = include_str!("../targets.toml");

/// `benches/targets.toml`: the seed's claims, the targets, and where each measurement is.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Result files by name, relative to the results directory.
    pub files: BTreeMap<String, PathBuf>,
    /// The figures, in table order.
    pub figure: Vec<Figure>,
}

/// One row of the table.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// Short key.
    pub id: String,
    /// Label.
    pub name: String,
    /// What the seed claimed, as text.
    pub seed: String,
    /// What the best peers do, as text.
    pub anchor: String,
    /// The target, in `unit`.
    pub target: f64,
    /// Unit of `target` and of the measured value.
    pub unit: String,
    /// Whether the target is a maximum or a minimum.
    pub better: Better,
    /// The command that produces the measurement.
    pub how: String,
    /// Where the measured value comes from.
    pub source: Source,
}

/// Which side of the target is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// The target is a maximum.
    Lower,
    /// The target is a minimum.
    Higher,
}

/// Where a measured value comes from (see the comments in `targets.toml`).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub enum Source {
    /// A criterion estimate.
    Criterion {
        /// Benchmark id, e.g. `bulk/1MiB/gateway_tls`.
        criterion: String,
        /// Which estimate.
        #[serde(default)]
        statistic: Statistic,
        /// Multiplies nanoseconds per iteration.
        scale: Option<f64>,
        /// Makes the value a throughput in GB/s.
        bytes_per_iteration: Option<f64>,
    },
    /// A number in a JSON result file.
    File {
        /// Name in `[files]`.
        file: String,
        /// RFC 6901 JSON pointer to the number.
        pointer: String,
        /// A pointer to a number subtracted from it.
        minus: Option<String>,
        /// Multiplies the result.
        scale: Option<f64>,
    },
}

/// A criterion estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// `median.point_estimate`.
    #[default]
    Median,
    /// `mean.point_estimate`.
    Mean,
}

impl Targets {
    /// Parses and checks a targets file: unique ids, sources naming known files, finite
    /// targets.
    ///
    /// # Errors
    ///
    /// A message naming the figure or the TOML error.
    pub fn parse(text: &str) -> Result<Targets, String> {
        let targets: Targets = toml::from_str(text).map_err(|e| format!("targets file: {e}"))?;
        let mut ids = std::collections::BTreeSet::new();
        for figure in &targets.figure {
            if !ids.insert(&figure.id) {
                return Err(format!("figure {:?} appears twice", figure.id));
            }
            if !figure.target.is_finite() {
                return Err(format!("figure {:?}: target must be a number", figure.id));
            }
            if let Source::File { file, .. } = &figure.source
                && !targets.files.contains_key(file)
            {
                return Err(format!(
                    "figure {:?} reads file {file:?}, which [files] does not name",
                    figure.id
                ));
            }
        }
        Ok(targets)
    }
}

/// Where `bench-report` looks for results.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Criterion's output directory ([`criterion_dir`]).
    pub criterion_dir: PathBuf,
    /// The directory `[files]` paths are relative to.
    pub results_dir: PathBuf,
    /// Result files given by name on the command line.
    pub overrides: BTreeMap<String, PathBuf>,
}

impl Inputs {
    /// The defaults: [`criterion_dir`] and the cargo target directory.
    pub fn defaults() -> Inputs {
        let criterion_dir = criterion_dir();
        let results_dir = criterion_dir
            .parent()
            .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
        Inputs {
            criterion_dir,
            results_dir,
            overrides: BTreeMap::new(),
        }
    }
}

/// How a figure came out.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Measured and on the right side of the target.
    Met(f64),
    /// Measured and on the wrong side.
    Missed(f64),
    /// Not measured: why, and how to measure it.
    Missing(String),
}

impl Verdict {
    /// Whether the target was met.
    pub fn is_met(&self) -> bool {
        matches!(self, Verdict::Met(_))
    }
}

/// Evaluates every figure.
pub fn evaluate<'a>(targets: &'a Targets, inputs: &Inputs) -> Vec<(&'a Figure, Verdict)> {
    targets
        .figure
        .iter()
        .map(|figure| {
            let verdict = match measure(targets, figure, inputs) {
                Err(why) => Verdict::Missing(format!("{why} (to measure: {})", figure.how)),
                Ok(value) => {
                    let met = match figure.better {
                        Better::Lower => value <= figure.target,
                        Better::Higher => value >= figure.target,
                    };
                    if met {
                        Verdict::Met(value)
                    } else {
                        Verdict::Missed(value)
                    }
                }
            };
            (figure, verdict)
        })
        .collect()
}

fn measure(targets: &Targets, figure: &Figure, inputs: &Inputs) -> Result<f64, String> {
    match &figure.source {
        Source::Criterion {
            criterion,
            statistic,
            scale,
            bytes_per_iteration,
        } => {
            let path = inputs
                .criterion_dir
                .join(criterion)
                .join("new/estimates.json");
            let json = read_json(&path)?;
            let key = match statistic {
                Statistic::Median => "/median/point_estimate",
                Statistic::Mean => "/mean/point_estimate",
            };
            let nanos = number(&json, key, &path)?;
            Ok(match bytes_per_iteration {
                // bytes per nanosecond is GB/s.
                Some(bytes) => bytes / nanos,
                None => nanos * scale.unwrap_or(1.0),
            })
        }
        Source::File {
            file,
            pointer,
            minus,
            scale,
        } => {
            let path = match inputs.overrides.get(file) {
                Some(path) => path.clone(),
                None => inputs.results_dir.join(&targets.files[file]),
            };
            let json = read_json(&path)?;
            let mut value = number(&json, pointer, &path)?;
            if let Some(minus) = minus {
                value -= number(&json, minus, &path)?;
            }
            Ok(value * scale.unwrap_or(1.0))
        }
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

fn number(json: &serde_json::Value, pointer: &str, path: &Path) -> Result<f64, String> {
    json.pointer(pointer)
        .and_then(serde_json::Value::as_f64)
        .ok_or_else(|| format!("{} has no number at {pointer}", path.display()))
}

/// A number with three significant digits (more for large whole numbers).
fn format_number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// The table as Markdown: figure, seed claim, target, measured, ratio (measured / target),
/// met; then one line per missing value saying why.
pub fn render(rows: &[(&Figure, Verdict)]) -> String {
    let mut out = String::from(
        "| figure | seed claim | target | measured | ratio | met |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let mut missing = String::new();
    for (figure, verdict) in rows {
        let bound = match figure.better {
            Better::Lower => "<=",
            Better::Higher => ">=",
        };
        let target = format!("{bound} {} {}", format_number(figure.target), figure.unit);
        let (measured, ratio, met) = match verdict {
            Verdict::Met(v) | Verdict::Missed(v) => (
                format!("{} {}", format_number(*v), figure.unit),
                format!("{:.2}", v / figure.target),
                if verdict.is_met() { "yes" } else { "no" },
            ),
            Verdict::Missing(why) => {
                missing.push_str(&format!("- {}: missing: {why}\n", figure.id));
                ("missing".into(), "-".into(), "no")
            }
        };
        out.push_str(&format!(
            "| {} | {} | {target} | {measured} | {ratio} | {met} |\n",
            figure.name, figure.seed
        ));
    }
    if !missing.is_empty() {
        out.push('\n');
        out.push_str(&missing);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_targets_parse() {
        let targets = Targets::parse(TARGETS_TOML).unwrap();
        assert!(targets.figure.len() >= 10);
        assert!(targets.figure.iter().any(|f| f.id == "memory_per_session"));
    }

    #[test]
    fn bad_targets_are_refused_with_the_figure_named() {
        let figure = |id: &str, file: &str| {
            format!(
                "[[figure]]\nid = \"{id}\"\nname = \"n\"\nseed = \"-\"\nanchor = \"-\"\ntarget = 1.0\nunit = \"µs\"\nbetter = \"lower\"\nhow = \"h\"\nsource = {{ file = \"{file}\", pointer = \"/x\" }}\n"
            )
        };
        let twice = format!(
            "[files]\na = \"a.json\"\n{}{}",
            figure("x", "a"),
            figure("x", "a")
        );
        assert!(
            Targets::parse(&twice)
                .unwrap_err()
                .contains("\"x\" appears twice")
        );
        let unknown = format!("[files]\na = \"a.json\"\n{}", figure("y", "b"));
        assert!(
            Targets::parse(&unknown)
                .unwrap_err()
                .contains("does not name")
        );
        let typo = "[files]\n[[figure]]\nid = \"z\"\nbogus = 1\n";
        assert!(Targets::parse(typo).is_err());
    }

    #[test]
    fn figures_are_met_missed_or_missing() {
        let dir = tempfile::tempdir().unwrap();
        let criterion = dir.path().join("criterion");
        let bulk = criterion.join("bulk/1MiB/gateway_tls/new");
        std::fs::create_dir_all(&bulk).unwrap();
        // 1 MiB in 0.5 ms: 2.1 GB/s.
        std::fs::write(
            bulk.join("estimates.json"),
            r#"{"median":{"point_estimate":500000.0},"mean":{"point_estimate":600000.0}}"#,
        )
        .unwrap();
        write_json(
            &dir.path().join("criterion/echo/latency.json"),
            &serde_json::json!({"64": {"gateway_tls": {"p50_us": 40.0, "p99_us": 90.0},
                                       "plain_tcp": {"p50_us": 32.0, "p99_us": 50.0}}}),
        )
        .unwrap();
        let idle = dir.path().join("elsewhere.json");
        write_json(
            &idle,
            &serde_json::json!({"sessions": {"open_after_ramp": 19000},
                                "server": {"rss_per_session_bytes": 20480.0}}),
        )
        .unwrap();
        let inputs = Inputs {
            criterion_dir: criterion,
            results_dir: dir.path().to_path_buf(),
            overrides: [("idle-sessions".to_owned(), idle)].into(),
        };
        let targets = Targets::parse(TARGETS_TOML).unwrap();
        let rows = evaluate(&targets, &inputs);
        let verdict = |id: &str| rows.iter().find(|(f, _)| f.id == id).unwrap().1.clone();
        let Verdict::Met(gbps) = verdict("bulk_throughput") else {
            panic!("{:?}", verdict("bulk_throughput"))
        };
        assert!((gbps - 1048576.0 / 500000.0).abs() < 1e-9);
        assert_eq!(verdict("echo_tls_added_p50"), Verdict::Met(8.0));
        assert_eq!(verdict("echo_tls_added_p99"), Verdict::Missed(40.0));
        assert_eq!(verdict("idle_sessions"), Verdict::Met(19000.0));
        assert_eq!(verdict("memory_per_session"), Verdict::Missed(20.0));
        let Verdict::Missing(why) = verdict("cpu_full_handshake") else {
            panic!("no full-handshakes file was written")
        };
        assert!(
            why.contains("full-handshakes.json") && why.contains("to measure: wasmbed-loadgen"),
            "{why}"
        );

        let table = render(&rows);
        assert!(table.contains("| one-stream bulk throughput through the gateway | 50-100 MB/s | >= 1.00 GB/s | 2.10 GB/s | 2.10 | yes |"), "{table}");
        assert!(
            table.contains(
                "| gateway memory per idle session | - | <= 10.0 KiB | 20.0 KiB | 2.00 | no |"
            ),
            "{table}"
        );
        assert!(
            table.contains("- cpu_full_handshake: missing: cannot read"),
            "{table}"
        );
    }
}
