//! Command-line arguments. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use zonal_backend::Target;

/// Zonal compiles a segmentation policy for a hospital imaging network into
/// checked, deterministic firewall configurations.
#[derive(Parser, Debug)]
#[command(name = "zonal", version, about, long_about = None, after_help = EXAMPLES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Colour diagnostics: `auto` on a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
}

/// When to colour diagnostics.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always (e.g. for a pager that shows colour).
    Always,
    /// Never.
    Never,
}

const EXAMPLES: &str = "\
Examples:
  zonal check policies/examples/riverbend-radiology.zonal
  zonal build policies/examples/riverbend-radiology.zonal --target all -o out/
  zonal fmt --check policies/
  zonal explain E0104";

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Parse, resolve and lint a policy; print every finding.
    #[command(
        after_help = "Examples:\n  zonal check policies/examples/riverbend-radiology.zonal\n  zonal check --format sarif policy/ > zonal.sarif\n  zonal check --fail-on medium policy.zonal"
    )]
    Check(CheckArgs),
    /// Rewrite policy files in the canonical layout (comments are kept).
    #[command(
        after_help = "Examples:\n  zonal fmt policy.zonal\n  zonal fmt --check policies/examples/\n  zonal fmt - < policy.zonal      # stdin to stdout, for an editor's format-on-save"
    )]
    Fmt(FmtArgs),
    /// Check a policy, then render firewall configurations (refuses while error-level findings remain).
    #[command(after_help = build_help())]
    Build(BuildArgs),
    /// Print the documentation of a diagnostic code or lint.
    #[command(after_help = "Examples:\n  zonal explain E0104\n  zonal explain --list")]
    Explain(ExplainArgs),
    /// Ask what the policy decides for a flow, and by which rule; `--path` shows the chain of flows.
    #[command(
        after_help = "X and Y are a zone, a device, a group, an IP address, a prefix (10.20.0.0/16) or `any`.\nWithout a service or protocol, prints everything allowed from X to Y (per device and zone).\nExit 0: allowed (or a path exists, or something is allowed); 1: denied (or no path, or nothing);\n2: usage or input error.\n\nExamples:\n  zonal query policies/examples/riverbend-radiology.zonal --from ct-1 --to pacs-1 --service dicom\n  zonal query policy/ --from 10.20.110.11 --to pacs-1 --proto tcp --port 104\n  zonal query policy/ --from guest-wifi --to ct-1 --service rdp --path\n  zonal query policy/ --from vendor-dmz --to modalities"
    )]
    Query(QueryArgs),
    /// Prove the rendered nftables or iptables rules in a real Linux kernel (needs root).
    #[command(
        after_help = "Builds one network namespace per zone and device and a router namespace, loads the rendered\nrules into the router, sends real TCP, UDP, ICMP and raw IP probes, and compares each with the\npolicy. Exit 0: every probe matches; 1: a mismatch (or the rules do not load); 2: cannot run.\nSee docs/verify.md.\n\nExamples:\n  sudo zonal verify policies/examples/riverbend-radiology.zonal --target nftables\n  sudo zonal verify policy/ --target iptables --deploy deploy.yaml --quiet"
    )]
    Verify(VerifyArgs),
    /// Review a change: what it does to rules, reachability, paths into legacy and modality
    /// zones, findings and rendered lines (computed from the two models, not the text).
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// Write an offline HTML report (zone matrix, per-device reach, findings, expiring rules) or CSV.
    #[command(
        after_help = "The HTML page is one self-contained file: no script, no font, no image, nothing loaded\nfrom the network. CSV rows: `zone-pair` (the matrix) and `place` (every device and the rest\nof each zone), with the services and the allowing rules.\n\nExamples:\n  zonal report policies/examples/riverbend-radiology.zonal -o report.html\n  zonal report policy/ --format csv -o reach.csv\n  zonal report policy/ --expiring-within 60d -o report.html"
    )]
    Report(ReportArgs),
    /// Draw the zones (or devices) and the permitted flows: Graphviz DOT, Mermaid or SVG.
    #[command(
        after_help = "Nodes are coloured by trust (untrusted red, low orange, medium yellow, high green);\nlegacy zones and end-of-support devices have a thick red border, external zones a dashed one;\nedges carry the permitted services. SVG is laid out in Rust: Graphviz is not needed.\n\nExamples:\n  zonal graph policies/examples/riverbend-radiology.zonal --format svg -o zones.svg\n  zonal graph policy/ --format dot | dot -Tpng -o zones.png\n  zonal graph policy/ --format mermaid --focus modalities\n  zonal graph policy/ --devices --focus nm-1"
    )]
    Graph(GraphArgs),
    /// Start a policy directory: a commented policy, a `zonal.toml` and a deployment binding.
    #[command(
        after_help = "Writes DIR/policy.zonal, DIR/zonal.toml and DIR/deploy.yaml (creating DIR); refuses to\noverwrite any of them. `zonal check DIR` accepts the result.\n\nExample:\n  zonal init my-hospital && zonal check my-hospital"
    )]
    Init(InitArgs),
    /// Turn an asset-inventory export (CSV, JSON, YAML) into zone and device declarations.
    #[command(after_help = IMPORT_HELP)]
    Import(ImportArgs),
    /// Print the manual page (roff) generated from the command-line definitions.
    #[command(after_help = "Example:\n  zonal man > /usr/local/share/man/man1/zonal.1")]
    Man,
    /// Judge observed traffic (Zeek, conntrack, CSV) with the policy: what would it block?
    #[command(
        after_help = "Every record is judged by the policy's decision function (initiator side only). Denied flows\nare aggregated by source, destination and service, with a suggested `allow` line each; allowed\nflows are counted per rule, and rules no traffic used are listed. See docs/observe.md.\nExit 0: done; 1: --fail-on-denied and something would be denied; 2: usage, input or I/O error.\n\nExamples:\n  zonal replay policies/examples/riverbend-radiology.zonal --flows policies/examples/traffic/riverbend.conn.log\n  zonal replay policy/ --flows conn.log conntrack.txt --report markdown > change-note.md\n  zonal replay policy/ --flows export.csv --fail-on-denied"
    )]
    Replay(ReplayArgs),
    /// Draft a policy from observed traffic (Zeek, conntrack, CSV), for review.
    #[command(
        after_help = "Zones come from --inventory (its zones, devices, services, groups and invariants; not its\nflows) or from the observed subnets. Rules are aggregated by destination and services, with the\nobserved counts in each justification and marked REVIEW; never `any`, never a port range.\nFlows that look like a threat are not drafted: they are listed, commented out, at the end.\nSee docs/observe.md.\n\nExamples:\n  zonal learn --flows policies/examples/traffic/riverbend.conn.log --inventory policies/examples/riverbend-radiology.zonal -o draft.zonal\n  zonal learn --flows conn.log --name new-site > draft.zonal"
    )]
    Learn(LearnArgs),
    /// Compare a device's ruleset with what the policy renders now: hand edits, by rule and by packet.
    #[command(
        after_help = "nftables: the live ruleset (`nft -j list ruleset`) or a saved one (--ruleset, JSON or text);\nboth sides are normalised by loading them into scratch network namespaces (root needed), and the\ndevice's table is probed with the kernel proof. iptables: the live `iptables-save` and
`ip6tables-save` output, or saved (--ruleset, --ruleset6); Zonal's chains are compared the same way.
Vendor targets: a saved configuration (--ruleset),\nread by Zonal's configuration readers. Tables and lines that are not Zonal's are listed as foreign.\nExit 0: no drift; 1: drift; 2: error. See docs/observe.md.\n\nExamples:\n  sudo zonal drift policies/examples/riverbend-radiology.zonal --target nftables\n  sudo zonal drift policy/ --target iptables --ruleset saved-v4.txt --ruleset6 saved-v6.txt\n  zonal drift policy/ --target srx --ruleset fw1-running.set"
    )]
    Drift(DriftArgs),
    /// Print a shell completion script.
    #[command(after_help = "Example:\n  zonal completions bash > /etc/bash_completion.d/zonal")]
    Completions(CompletionsArgs),
}

/// Options shared by the commands that load a policy.
#[derive(Args, Debug, Clone)]
pub(crate) struct PolicyArgs {
    /// The date that `until` expiry is judged against (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE", env = "ZONAL_TODAY")]
    pub(crate) today: Option<String>,
    /// Let `include` read files outside the policy's directory (the directory given, or the
    /// given file's directory). Off by default: a policy directory many people can write to
    /// must not make Zonal read, and quote, files elsewhere.
    #[arg(long)]
    pub(crate) allow_include_outside: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CheckArgs {
    /// Policy files or directories (every `*.zonal` file in a directory forms one policy).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub(crate) format: Format,
    /// The lowest finding severity that makes the exit code 1.
    #[arg(long, value_name = "LEVEL", default_value = "high")]
    pub(crate) fail_on: String,
    /// Also list the rules whose `until` is at most this far away (`30d`, `4w`), expired ones
    /// included (human and short formats; the exit code is unchanged).
    #[arg(long, value_name = "DAYS")]
    pub(crate) expiring_within: Option<String>,
    /// Accept every current lint finding: write them to the baseline file named in `zonal.toml`
    /// (default `zonal-baseline.json` beside the policy); later runs report only new findings.
    #[arg(long)]
    pub(crate) write_baseline: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// Output format of findings.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Source snippets like rustc.
    Human,
    /// One line per finding: `path:line:col: severity[CODE]: message`.
    Short,
    /// A JSON array on stdout.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

#[derive(Args, Debug)]
pub(crate) struct FmtArgs {
    /// Files or directories to format; `-` formats stdin to stdout.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Do not write; print the diff that formatting would apply and exit 1 if a file is not
    /// formatted.
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// A diagnostic code such as `E0104`, or a lint code or name.
    #[arg(required_unless_present = "list")]
    pub(crate) code: Option<String>,
    /// List every documented code.
    #[arg(long)]
    pub(crate) list: bool,
}

#[derive(Args, Debug)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub(crate) struct VerifyArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH", required_unless_present = "cleanup")]
    pub(crate) path: Option<PathBuf>,
    /// Which rendered rules to prove.
    #[arg(long, value_enum, required_unless_present = "cleanup")]
    pub(crate) target: Option<VerifyTarget>,
    /// Only delete the network namespaces an interrupted or killed run left
    /// behind (`zv<pid>x…` of processes that are gone), then exit.
    #[arg(long, conflicts_with_all = ["path", "target"])]
    pub(crate) cleanup: bool,
    /// A deployment binding (YAML): the router's interfaces are named after it.
    #[arg(long, value_name = "FILE")]
    pub(crate) deploy: Option<PathBuf>,
    /// The firewall of the binding to prove (default: the first with the target).
    #[arg(long, value_name = "NAME", requires = "deploy")]
    pub(crate) firewall: Option<String>,
    /// Template overrides, as for `zonal build` (`DIR/<target>/<file>`).
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
    /// Seed of the sampled probes (pairs and ports the policy does not name).
    #[arg(long, default_value_t = 2026)]
    pub(crate) seed: u64,
    /// How many sampled probes to add to those the policy names.
    #[arg(long, default_value_t = 64)]
    pub(crate) samples: usize,
    /// Print only mismatches and the summary, not the whole probe matrix.
    #[arg(long)]
    pub(crate) quiet: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// The targets `zonal verify` can prove in a Linux kernel.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VerifyTarget {
    /// nftables (`nft -f`).
    Nftables,
    /// iptables-restore and ip6tables-restore.
    Iptables,
}

/// `zonal build --help`'s epilogue: the targets (from the target table)
/// and examples.
fn build_help() -> String {
    let mut out = String::from("Targets:\n");
    for t in Target::ALL {
        out.push_str(&format!("  {:<10} {}\n", t.name(), t.description()));
    }
    out.push_str(&format!(
        "  {:<10} {}\n",
        "all", "every target above, one file each, into the -o directory"
    ));
    out.push_str("Several targets: `--target nftables,iptables` (one file each, into -o).\n");
    out.push('\n');
    out.push_str(BUILD_HELP_TAIL);
    out
}

const BUILD_HELP_TAIL: &str = "\
Without -o, a single target is printed on stdout. With `--target all` or a
binding file, -o names a directory and one file per firewall and target is
written there (`<firewall>.<extension>`). Files are written atomically, and
only when every output rendered. See docs/targets/ and docs/deploy-binding.md.

Examples:
  zonal build policies/examples/riverbend-radiology.zonal --target nftables
  zonal build policies/examples/riverbend-radiology.zonal --target all -o out/
  zonal build policy/ --deploy policies/deploy/riverbend.yaml -o out/
  zonal build policy/ --target nftables --templates my-templates/ -o fw.nft";

/// `--target`'s possible values: every target of the table, then `all`.
fn target_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        Target::ALL
            .into_iter()
            .map(Target::name)
            .chain(std::iter::once("all")),
    )
}

#[derive(Args, Debug)]
pub(crate) struct BuildArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// The target to render, `all`, or several separated by commas.
    #[arg(long, value_name = "TARGET", value_parser = target_values(), value_delimiter = ',')]
    pub(crate) target: Vec<String>,
    /// A deployment binding (YAML): one output per firewall it lists.
    #[arg(long, value_name = "FILE")]
    pub(crate) deploy: Option<PathBuf>,
    /// Output file (one target) or directory (`all`, a binding, or several files).
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
    /// Override templates: `DIR/<target>/<file>` replaces the embedded file of that name.
    #[arg(long, value_name = "DIR")]
    pub(crate) templates: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct QueryArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// The initiator: a zone, a device, a group or an IP address.
    #[arg(long, value_name = "X")]
    pub(crate) from: String,
    /// The listener: a zone, a device, a group or an IP address.
    #[arg(long, value_name = "Y")]
    pub(crate) to: String,
    /// A named service, e.g. `dicom`; on a device that listens on it, its listener port is used.
    #[arg(long, value_name = "SERVICE", conflicts_with = "proto")]
    pub(crate) service: Option<String>,
    /// An IP protocol: tcp, udp, icmp, icmpv6 or a number.
    #[arg(long, value_name = "PROTO")]
    pub(crate) proto: Option<String>,
    /// The destination port (tcp, udp) or ICMP type.
    #[arg(long, value_name = "N", requires = "proto")]
    pub(crate) port: Option<u16>,
    /// Print the shortest chain of permitted flows from X to Y, hop by hop.
    #[arg(long = "path")]
    pub(crate) show_path: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

const DIFF_HELP: &str = "\
OLD and NEW are policy files or directories. With `--git REV`, give one PATH: the policy there
is compared with the same path at the git revision REV (read through git; nothing is checked
out). A pure reformat or reordering is reported as \"no semantic change\".

Exit 0: reviewed (whatever changed); 1: `--fail-on-new LEVEL` and the change introduces a
finding at or above LEVEL; 2: usage or input error (either side invalid).

Examples:
  zonal diff old.zonal policies/examples/riverbend-radiology.zonal
  zonal diff policies/examples/riverbend-radiology.zonal --git HEAD~1
  zonal diff policy/ --git origin/main --format markdown --fail-on-new high > review.md";

/// Output format of `zonal diff`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiffFormat {
    /// For a terminal (coloured as `--color` says).
    Human,
    /// A pull-request comment: a collapsible section per rendered file.
    Markdown,
    /// One JSON object.
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// OLD NEW, or one PATH with `--git REV`.
    #[arg(required = true, num_args = 1..=2, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Compare PATH with the same path at this git revision (a branch, tag or commit).
    #[arg(long, value_name = "REV")]
    pub(crate) git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub(crate) format: DiffFormat,
    /// Exit 1 when the change introduces a finding at or above this severity
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "LEVEL")]
    pub(crate) fail_on_new: Option<String>,
    /// A deployment binding (YAML): compare the rendered files of its firewalls instead of
    /// one file per target.
    #[arg(long, value_name = "FILE")]
    pub(crate) deploy: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// Output format of `zonal report`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    /// One self-contained HTML page.
    Html,
    /// The matrix and per-place reach, for spreadsheets.
    Csv,
}

#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub(crate) format: ReportFormat,
    /// Write to this file (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// List the rules whose `until` is at most this far away (`30d`, `4w`).
    #[arg(long, value_name = "DAYS", default_value = "30d")]
    pub(crate) expiring_within: String,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// Output format of `zonal graph`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GraphFormat {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (GitHub and GitLab render it in Markdown).
    Mermaid,
    /// SVG, laid out without Graphviz.
    Svg,
}

#[derive(Args, Debug)]
pub(crate) struct GraphArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub(crate) format: GraphFormat,
    /// One node per device (and per zone's other addresses) instead of one per zone.
    #[arg(long)]
    pub(crate) devices: bool,
    /// Only this zone or device and its neighbours.
    #[arg(long, value_name = "NAME")]
    pub(crate) focus: Option<String>,
    /// Write to this file (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct InitArgs {
    /// The directory to create or fill.
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
}

const IMPORT_HELP: &str = "\
Fields: name, ip, kind, vendor, model, os, vlan, subnet, end-of-support, ae, dicom-port, zone,
ignore. Presets: `generic` (common CMDB column names: Hostname, IP Address, Device Type,
Manufacturer, Operating System, VLAN, Subnet, AE Title, DICOM Port, ...) and `armis` (Armis
device records: name, ipAddress, type, manufacturer, model, operatingSystem). Zones come from the
zone column, else the subnet, else the VLAN, else `--prefix-len`. Rows that cannot be used are
reported with their row numbers and nothing is written (exit 2). See docs/import.md.

Examples:
  zonal import assets.csv -o policy/inventory.zonal
  zonal import export.json --preset armis --prefix-len 24 -o inventory.zonal
  zonal import cmdb.csv --map \"Asset Tag=name\" --map \"Segment=zone\" -o inventory.zonal";

#[derive(Args, Debug)]
pub(crate) struct ImportArgs {
    /// The export: `*.csv`, `*.json`, `*.yaml` / `*.yml`.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The column names to expect: `generic` or `armis`.
    #[arg(long, value_name = "PRESET", default_value = "generic")]
    pub(crate) preset: String,
    /// Map a column to a field, e.g. `--map "Asset Tag=name"` (repeatable).
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub(crate) maps: Vec<String>,
    /// Rows with no zone, subnet or VLAN go to the zone of their address's prefix of this length.
    #[arg(long, value_name = "N")]
    pub(crate) prefix_len: Option<u8>,
    /// The policy's name (default: the file's name).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Write to this file (atomically; refuses to overwrite) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// The date end-of-support dates are judged against (YYYY-MM-DD); default today.
    #[arg(long, value_name = "DATE", env = "ZONAL_TODAY")]
    pub(crate) today: Option<String>,
}

/// Format of flow-record files.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlowFormat {
    /// Tell each file's format from its first record.
    Auto,
    /// Zeek `conn.log`, tab-separated with its `#fields` header.
    Zeek,
    /// Zeek `conn.log` as JSON, one object a line.
    ZeekJson,
    /// `conntrack -L` (or `conntrack -E`) output.
    Conntrack,
    /// `/proc/net/nf_conntrack`.
    NfConntrack,
    /// `src,dst,proto,dport[,count,first_seen,last_seen]`.
    Csv,
}

/// Output format of `zonal replay`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplayReport {
    /// Plain text.
    Human,
    /// Markdown, for a change-board note or a pull request.
    Markdown,
    /// JSON.
    Json,
    /// CSV, one row per denied group, used rule and unused rule.
    Csv,
}

#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// Flow-record files (`-` reads standard input).
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub(crate) flows: Vec<PathBuf>,
    /// The records' format.
    #[arg(long, value_enum, default_value_t = FlowFormat::Auto)]
    pub(crate) format: FlowFormat,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ReplayReport::Human)]
    pub(crate) report: ReplayReport,
    /// Exit 1 when any observed connection would be denied (for CI).
    #[arg(long)]
    pub(crate) fail_on_denied: bool,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct LearnArgs {
    /// Flow-record files (`-` reads standard input).
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub(crate) flows: Vec<PathBuf>,
    /// A policy whose zones, devices, services, groups and invariants the draft uses.
    #[arg(long, value_name = "POLICY")]
    pub(crate) inventory: Option<PathBuf>,
    /// Write the draft to this file (atomically) instead of standard output.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// The draft policy's name (without --inventory).
    #[arg(long, value_name = "NAME", default_value = "observed-draft")]
    pub(crate) name: String,
    /// The records' format.
    #[arg(long, value_enum, default_value_t = FlowFormat::Auto)]
    pub(crate) format: FlowFormat,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}

/// Output format of `zonal drift`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DriftReport {
    /// Plain text.
    Human,
    /// JSON.
    Json,
}

#[derive(Args, Debug)]
pub(crate) struct DriftArgs {
    /// The policy file or directory.
    #[arg(value_name = "PATH")]
    pub(crate) path: PathBuf,
    /// The target the device runs: nftables, iptables, pf, ios, asa, srx, panos, fortigate.
    #[arg(long, value_name = "TARGET")]
    pub(crate) target: String,
    /// The device's saved ruleset or configuration (default for nftables: `nft -j list ruleset`; iptables: `iptables-save` and `ip6tables-save`).
    #[arg(long, value_name = "FILE")]
    pub(crate) ruleset: Option<PathBuf>,
    /// iptables: the device's saved `ip6tables-save` output, when `--ruleset` holds only `iptables-save`'s.
    #[arg(long, value_name = "FILE", requires = "ruleset")]
    pub(crate) ruleset6: Option<PathBuf>,
    /// Count configuration that is not Zonal's (other tables, other lines) as drift.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Compare the rules only; skip the packet-level consequences.
    #[arg(long)]
    pub(crate) no_probe: bool,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = DriftReport::Human)]
    pub(crate) report: DriftReport,
    /// The deployment binding the device's configuration was rendered with.
    #[arg(long, value_name = "FILE")]
    pub(crate) deploy: Option<PathBuf>,
    /// The firewall of the binding (default: the first with the target).
    #[arg(long, value_name = "NAME", requires = "deploy")]
    pub(crate) firewall: Option<String>,
    #[command(flatten)]
    pub(crate) policy: PolicyArgs,
}
