//! `zonal report` and `zonal check --expiring-within`; the HTML report
//! opened in a real browser (headless Chromium, Debian's `chromium`, which
//! `.ci/run` installs): the DOM has the matrix, a device section and the
//! findings, a screenshot is not blank, and the page fetches nothing.
//! Without `chromium` these tests fail with the reason; they never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use zonal_tests::{Run, repo_root as repo, temp_dir};

fn zonal(args: &[&str], cwd: &Path) -> Run {
    zonal_tests::run_zonal(env!("CARGO_BIN_EXE_zonal"), args, cwd)
}

/// The example with a change that breaks two invariants: findings to show.
const WITH_FINDINGS: &str = "policies/review/riverbend-guest-to-pra.zonal";

/// Runs headless Chromium on `page` with `extra` arguments; returns stdout
/// and the NetLog (every network request the browser made).
fn chromium(dir: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = dir.join(format!("profile-{}", extra.len()));
    let netlog = dir.join(format!("netlog-{}.json", extra.len()));
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .args(["--disable-background-networking", "--disable-component-update"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs Debian's `chromium` (`apt-get install chromium`, as .ci/run does): {e}")
        });
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(&netlog).unwrap_or_else(|e| panic!("no NetLog: {e}"));
    (String::from_utf8_lossy(&out.stdout).into_owned(), log)
}

/// Requests a page made: the browser's own background requests carry no
/// origin, a page's requests carry the page's (`null` for a file).
fn page_requests(netlog: &str) -> usize {
    netlog
        .match_indices("\"initiator\":\"")
        .filter(|(i, m)| !netlog[i + m.len()..].starts_with("not an origin\""))
        .count()
}

/// The standard deviation of the screenshot's grey levels.
fn pixel_spread(png_file: &Path) -> f64 {
    let file = std::fs::File::open(png_file).unwrap_or_else(|e| panic!("no screenshot: {e}"));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder
        .read_info()
        .unwrap_or_else(|e| panic!("not a PNG: {e}"));
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("bad PNG: {e}"));
    let channels = info.color_type.samples();
    let greys: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|px| px.iter().take(3).map(|&v| f64::from(v)).sum::<f64>() / 3.0)
        .collect();
    let n = greys.len() as f64;
    let mean = greys.iter().sum::<f64>() / n;
    (greys.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n).sqrt()
}

fn report(dir: &Path) -> PathBuf {
    let file = dir.join("report.html");
    let r = zonal(
        &["report", WITH_FINDINGS, "-o", &file.to_string_lossy()],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    file
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let dir = temp_dir("report-browser");
    let page = report(&dir);
    let (dom, netlog) = chromium(&dir, &page, &["--dump-dom"]);
    // The DOM as the browser built it.
    assert!(dom.contains("<table id=\"matrix\">"), "no matrix");
    assert!(
        dom.contains("<td class=\"allow\"><code>tcp 53,443, udp 53</code><br><a href=\"#rule-allow-guest-wifi-to-internet-https\">"),
        "no guest-wifi -> internet cell"
    );
    assert!(
        dom.contains("<section class=\"device\" id=\"device-nm-1\">"),
        "no device section"
    );
    let findings = dom
        .split("<section id=\"findings\">")
        .nth(1)
        .unwrap_or_default();
    assert!(
        findings.contains("<code>L0305</code>"),
        "no finding in the findings section"
    );
    assert!(findings.contains("<pre>"), "no source snippet");
    // The new chain guest-wifi -> pra-1 -> a modality is multi-hop reach into us-2.
    let us2 = dom.split("id=\"device-us-2\"").nth(1).unwrap_or_default();
    let us2 = us2.split("</section>").next().unwrap_or_default();
    assert!(
        us2.contains("from <code>guest-wifi</code>, 2 hops"),
        "{us2}"
    );
    // The zone graph, inline SVG.
    let graph = dom
        .split("<section id=\"graph\">")
        .nth(1)
        .unwrap_or_default();
    assert!(
        graph.contains("<svg") && graph.contains("guest-wifi"),
        "no inline graph"
    );
    assert_eq!(page_requests(&netlog), 0, "the report fetched something");
    // A screenshot that is not blank.
    let shot = dir.join("shot.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let _ = chromium(&dir, &page, &[&shot_arg, "--window-size=1200,900"]);
    let spread = pixel_spread(&shot);
    assert!(
        spread > 10.0,
        "the screenshot is blank (grey-level spread {spread:.2})"
    );
}

#[test]
fn the_network_check_sees_a_page_that_fetches() {
    // The control for the check above: a page with a remote image is caught.
    let dir = temp_dir("report-browser-control");
    let page = dir.join("leaky.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><img src=\"http://127.0.0.1:9/x.png\"></body></html>",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (_, netlog) = chromium(&dir, &page, &["--dump-dom"]);
    assert!(page_requests(&netlog) > 0);
    // And a blank page has no spread.
    std::fs::write(&page, "<!DOCTYPE html><html><body></body></html>")
        .unwrap_or_else(|e| panic!("{e}"));
    let shot = dir.join("blank.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let _ = chromium(&dir, &page, &[&shot_arg, "--window-size=400,300"]);
    assert!(pixel_spread(&shot) < 1.0);
}

#[test]
fn csv_and_errors() {
    let r = zonal(&["report", WITH_FINDINGS, "--format", "csv"], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("kind,from,from_zone,to,to_zone,services,rules\r\n")
    );
    assert!(
        r.stdout
            .contains("place,\"guest-wifi\",\"guest-wifi\",\"pra-1\",\"vendor-dmz\",\"tcp 443\"")
    );
    let r = zonal(&["report", "policies/invalid/unknown-zone.zonal"], &repo());
    assert_eq!(r.code, 2);
    let r = zonal(
        &["report", WITH_FINDINGS, "--expiring-within", "soon"],
        &repo(),
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a number of days"), "{}", r.stderr);
}

#[test]
fn check_lists_expiring_rules() {
    let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args([
            "check",
            "policies/examples/riverbend-radiology.zonal",
            "--expiring-within",
            "30d",
        ])
        .current_dir(repo())
        .env("ZONAL_TODAY", "2027-06-10")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("3 rule(s) expire within 30 day(s) of 2027-06-10"),
        "{stdout}"
    );
    assert!(
        stdout.contains("riverbend-radiology.zonal:354:1: `allow-pra-1-to-us-1-vnc` until 2027-06-30 (in 20 day(s))"),
        "{stdout}"
    );
}

// ------------------------------------------------------------ zonal graph

const EXAMPLE: &str = "policies/examples/riverbend-radiology.zonal";

/// Runs Graphviz's `dot -Tsvg` on `text`; fails loudly without Graphviz.
fn graphviz(text: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("this test needs Graphviz's `dot` (`apt-get install graphviz`, as .ci/run does): {e}")
        });
    child
        .stdin
        .take()
        .unwrap_or_else(|| panic!("no stdin"))
        .write_all(text.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot rejected the graph: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn dot_output_is_accepted_by_graphviz() {
    for extra in [
        &[][..],
        &["--devices"],
        &["--focus", "modalities"],
        &["--focus", "nm-1"],
    ] {
        let mut args = vec!["graph", EXAMPLE, "--format", "dot"];
        args.extend_from_slice(extra);
        let r = zonal(&args, &repo());
        assert_eq!(r.code, 0, "{extra:?}: {}", r.stderr);
        let svg = graphviz(&r.stdout);
        assert!(svg.contains("<svg"), "{extra:?}");
    }
    // The zone graph: every zone a node, trust colours, the guest edge.
    let r = zonal(&["graph", EXAMPLE], &repo());
    let svg = graphviz(&r.stdout);
    for zone in ["guest-wifi", "modalities", "internet", "vendor-dmz"] {
        let shown = zone.replace('-', "&#45;");
        assert!(svg.contains(&format!(">{shown}</text>")), "{zone}");
    }
    assert!(
        r.stdout.contains("fillcolor=\"#f4cccc\""),
        "untrusted colour"
    );
    assert!(
        r.stdout.contains("[label=\"tcp 53,443, udp 53\"]"),
        "{}",
        r.stdout
    );
    // Devices: an end-of-support device is marked.
    let r = zonal(&["graph", EXAMPLE, "--devices"], &repo());
    assert!(
        r.stdout
            .contains("[label=\"nm-1\\nin modalities, nm, END OF SUPPORT\""),
        "{}",
        r.stdout
    );
    // A focus keeps the neighbours only: nm-1 talks to dc-1, pacs-1, siem-1.
    let r = zonal(&["graph", EXAMPLE, "--focus", "nm-1"], &repo());
    assert_eq!(r.stdout.matches(" -> ").count(), 3, "{}", r.stdout);
    assert!(!r.stdout.contains("guest-wifi"), "{}", r.stdout);
    let r = zonal(&["graph", EXAMPLE, "--focus", "nowhere"], &repo());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("`nowhere` is not a zone or device"),
        "{}",
        r.stderr
    );
}

#[test]
fn mermaid_and_svg_without_graphviz() {
    let r = zonal(&["graph", EXAMPLE, "--format", "mermaid"], &repo());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("flowchart LR"));
    assert!(
        r.stdout
            .contains("[\"guest-wifi<br/><small>trust untrusted, guest</small>\"]")
    );
    assert!(
        r.stdout.contains(" -->|\"tcp 53,443, udp 53\"| "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  class "), "trust classes");
    // Every edge line names two declared nodes.
    let nodes: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.trim().split_once("[\"").map(|(id, _)| id))
        .collect();
    for l in r.stdout.lines().filter(|l| l.contains(" -->|")) {
        let ids: Vec<&str> = l.split_whitespace().collect();
        assert!(
            nodes.contains(&ids[0]) && nodes.contains(&ids[ids.len() - 1]),
            "{l}"
        );
    }
    // SVG laid out in Rust, shown by a browser: every zone named, not blank.
    let dir = temp_dir("graph-svg");
    let file = dir.join("zones.svg");
    let r = zonal(
        &[
            "graph",
            EXAMPLE,
            "--format",
            "svg",
            "-o",
            &file.to_string_lossy(),
        ],
        &repo(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}"));
    assert!(svg.contains("<svg"));
    for zone in ["guest-wifi", "modalities", "hospital-core"] {
        assert!(svg.contains(zone), "{zone}");
    }
    let (dom, netlog) = chromium(&dir, &file, &["--dump-dom"]);
    assert!(
        dom.contains("guest-wifi"),
        "the browser did not read the SVG"
    );
    assert_eq!(page_requests(&netlog), 0);
    let shot = dir.join("svg.png");
    let shot_arg = format!("--screenshot={}", shot.display());
    let _ = chromium(&dir, &file, &[&shot_arg, "--window-size=1600,900"]);
    assert!(pixel_spread(&shot) > 5.0);
}
