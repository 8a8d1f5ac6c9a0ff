//! Conformance with the reference implementation: every case under
//! `tests/conformance/cases/` is validated by `frictionless validate`
//! (frictionless-py, from PyPI) and by `droplake validate`, and the sets of
//! (row, field, error type) must agree, except for the deliberate differences
//! listed, with their reasons, in `tests/conformance/differences.json`.
//!
//! Without frictionless the test is skipped with a message, except under CI
//! (`CI` set), where `.ci/run` installs it and a skip would hide a gap.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::TestEnv;

/// One reported error, as both tools can express it.
type Finding = (u64, Option<String>, String);

/// The reference report: per case, (row or null, field or null, type).
type ReferenceReport = BTreeMap<String, Vec<(Option<u64>, Option<String>, String)>>;

#[derive(serde::Deserialize)]
struct Difference {
    case: String,
    row: u64,
    field: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    /// Which tool reports it: "droplake" or "frictionless".
    only_in: String,
    why: String,
}

fn conformance_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance"))
}

/// The reference findings per case, or `None` when frictionless is missing.
fn reference() -> Option<BTreeMap<String, BTreeSet<Finding>>> {
    let output = std::process::Command::new("python3")
        .arg(conformance_dir().join("reference_report.py"))
        .arg(conformance_dir().join("cases"))
        .output();
    let output = match output {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("No module named 'frictionless'"),
                "the reference run failed:\n{stderr}"
            );
            return None;
        }
        Err(_) => return None,
    };
    let report: ReferenceReport =
        serde_json::from_slice(&output.stdout).expect("the reference report is JSON");
    Some(
        report
            .into_iter()
            .map(|(case, findings)| {
                let findings = findings
                    .into_iter()
                    .map(|(row, field, kind)| {
                        (
                            row.unwrap_or(0),
                            field.filter(|name| !name.is_empty()),
                            kind,
                        )
                    })
                    .collect();
                (case, findings)
            })
            .collect(),
    )
}

fn droplake(env: &TestEnv, case: &Path) -> BTreeSet<Finding> {
    let run = env.run([
        "validate".as_ref(),
        "--limit-errors".as_ref(),
        "0".as_ref(),
        "--json".as_ref(),
        "--schema".as_ref(),
        case.join("schema.json").as_os_str(),
        case.join("data.csv").as_os_str(),
    ]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}: exit {}\n{}",
        case.display(),
        run.code,
        run.stderr
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|error| {
            let row = error["row"].as_u64().expect("row");
            let field = error["field"].as_str().map(str::to_owned);
            let kind = error["type"].as_str().expect("type").to_owned();
            (row, field, kind)
        })
        .collect()
}

#[test]
fn droplake_reports_what_frictionless_reports_but_for_documented_differences() {
    let Some(reference) = reference() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "frictionless is missing under CI; .ci/run must install it"
        );
        eprintln!("skipped: frictionless is not installed (pip install frictionless)");
        return;
    };
    let differences: Vec<Difference> = serde_json::from_slice(
        &std::fs::read(conformance_dir().join("differences.json")).expect("differences.json"),
    )
    .expect("differences.json parses");
    let env = TestEnv::new();
    let mut problems = Vec::new();
    for (case, theirs) in &reference {
        let ours = droplake(&env, &conformance_dir().join("cases").join(case));
        let mut expected = theirs.clone();
        for difference in differences
            .iter()
            .filter(|difference| &difference.case == case)
        {
            assert!(
                !difference.why.is_empty(),
                "{case}: every difference says why"
            );
            let finding = (
                difference.row,
                difference.field.clone(),
                difference.kind.clone(),
            );
            match difference.only_in.as_str() {
                "droplake" => {
                    assert!(
                        !theirs.contains(&finding),
                        "{case}: {finding:?} is listed as droplake's alone, but frictionless reports it too"
                    );
                    expected.insert(finding);
                }
                "frictionless" => {
                    assert!(
                        theirs.contains(&finding),
                        "{case}: {finding:?} is listed as frictionless's alone, but it does not report it"
                    );
                    expected.remove(&finding);
                }
                other => panic!("{case}: only_in must be droplake or frictionless, not {other}"),
            }
        }
        if ours != expected {
            let missing: Vec<_> = expected.difference(&ours).collect();
            let extra: Vec<_> = ours.difference(&expected).collect();
            problems.push(format!(
                "{case}:\n  droplake misses {missing:?}\n  droplake adds   {extra:?}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "disagreements with frictionless:\n{}",
        problems.join("\n")
    );
}
