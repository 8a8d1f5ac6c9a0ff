//! Configuration: embedded defaults, a file, environment overrides, and the
//! refusal of anything unknown or malformed with its file and line.

use crate::util::TestEnv;

#[test]
fn with_no_file_droplake_runs_on_its_embedded_defaults() {
    let env = TestEnv::new();
    let run = env.run(["config"]);
    run.expect_code(0);
    let root = env.root().display().to_string();
    let width = format!("schemas = \"{root}/warehouse-schema\"").len();
    let line = |setting: String| format!("{setting:<width$}  # default\n");
    let expected = [
        "# no configuration file found; droplake runs on its embedded defaults\n".to_string(),
        line(format!("lake = \"{root}/lake\"")),
        line(format!("schemas = \"{root}/warehouse-schema\"")),
        line(format!("warehouse = \"{root}/warehouse.db\"")),
        line("ignore = []".to_string()),
        line("shutdown_timeout = \"30s\"".to_string()),
        line("detect.mode = \"auto\"".to_string()),
        line("detect.scan_interval = \"1m\"".to_string()),
        line("detect.poll_interval = \"1s\"".to_string()),
    ]
    .concat();
    assert_eq!(run.stdout, expected);
}

#[test]
fn the_file_in_the_working_directory_is_read_and_each_value_traced_to_its_line() {
    let env = TestEnv::new();
    env.write(
        "droplake.toml",
        "# comment\nwarehouse = \"data/wh.db\"\n\nignore = [\"*.bak\", \"*.old\"]\n",
    );
    let run = env.run(["config", "--json"]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["file"], "droplake.toml");
    assert_eq!(
        json["settings"]["warehouse"]["value"],
        env.display("data/wh.db")
    );
    assert_eq!(
        json["settings"]["warehouse"]["origin"],
        serde_json::json!({"kind": "file", "path": "droplake.toml", "line": 2})
    );
    assert_eq!(
        json["settings"]["ignore"]["value"],
        serde_json::json!(["*.bak", "*.old"])
    );
    assert_eq!(json["settings"]["ignore"]["origin"]["line"], 4);
    assert_eq!(
        json["settings"]["lake"],
        serde_json::json!({"value": env.display("lake"), "origin": {"kind": "default"}})
    );
}

/// A configuration with every daemon key, for the report tests.
const DAEMON_CONFIG: &str = r#"shutdown_timeout = "45s"

[detect]
mode = "poll"
poll_interval = "500ms"

[datasets.orders]
ready = "marker"
marker = "{stem}.ok"
order = "name"
duplicates = "process"
receipts = "receipts"
retain = "30d"
archive = "archive"

[datasets."eu.sales"]
table = "sales"

[[handlers]]
name = "loader"
concurrency = 4

[[handlers]]
name = "billing-sync"
datasets = ["orders"]
command = ["/usr/local/bin/billing-sync", "--object", "{path}"]
timeout = "2m"
after = ["loader"]
"#;

#[test]
fn the_daemon_settings_are_reported_with_their_lines() {
    let env = TestEnv::new();
    env.write("droplake.toml", DAEMON_CONFIG);
    let run = env.run(["config", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.expect_code(0).stdout).expect("JSON");
    let settings = &json["settings"];
    let file =
        |line: usize| serde_json::json!({"kind": "file", "path": "droplake.toml", "line": line});
    assert_eq!(
        settings["shutdown_timeout"],
        serde_json::json!({"value": "45s", "origin": file(1)})
    );
    assert_eq!(
        settings["detect.scan_interval"],
        serde_json::json!({"value": "1m", "origin": {"kind": "default"}})
    );
    assert_eq!(settings["datasets.orders.marker"]["value"], "{stem}.ok");
    assert_eq!(
        settings["datasets.orders.receipts"]["value"],
        env.display("receipts")
    );
    assert_eq!(settings["datasets.eu.sales.ready"]["value"], "settle");
    assert_eq!(
        settings["handlers.billing-sync.timeout"],
        serde_json::json!({"value": "2m", "origin": file(27)})
    );
    assert_eq!(settings["handlers.billing-sync.retries"]["value"], 5);
    assert_eq!(settings["handlers.loader.concurrency"]["value"], 4);
    assert!(settings.get("handlers.loader.command").is_none());
}

#[test]
fn the_human_form_reads_back_as_the_same_configuration() {
    let env = TestEnv::new();
    env.write("droplake.toml", DAEMON_CONFIG);
    let first = env.run(["config"]).expect_code(0).stdout.clone();
    assert!(
        first.contains("\n[[handlers]]\nname = \"loader\" "),
        "{first}"
    );
    assert!(
        first.contains("datasets.\"eu.sales\".table = \"sales\""),
        "{first}"
    );
    env.write("again.toml", &first);
    let second = env
        .run(["config", "--config", "again.toml"])
        .expect_code(0)
        .stdout
        .clone();
    let table = |text: &str| text.parse::<toml::Table>().expect("valid TOML");
    assert_eq!(table(&first), table(&second));
    assert_eq!(table(&first)["handlers"].as_array().map(Vec::len), Some(2));
}

#[test]
fn an_explicit_file_wins_and_relative_paths_in_it_are_relative_to_it() {
    let env = TestEnv::new();
    env.write("droplake.toml", "lake = \"ignored\"\n");
    env.write("etc/site.toml", "lake = \"lake-here\"\n");
    let json = |run: crate::util::Run| -> serde_json::Value {
        serde_json::from_str(&run.expect_code(0).stdout).expect("JSON")
    };

    let by_flag = json(env.run(["config", "--json", "--config", "etc/site.toml"]));
    assert_eq!(by_flag["file"], "etc/site.toml");
    assert_eq!(
        by_flag["settings"]["lake"]["value"],
        env.display("etc/lake-here")
    );

    let by_env = json(
        env.command(["config", "--json"])
            .env("DROPLAKE_CONFIG", "etc/site.toml")
            .output()
            .expect("run")
            .into(),
    );
    assert_eq!(
        by_env["settings"]["lake"]["value"],
        env.display("etc/lake-here")
    );

    let empty = json(
        env.command(["config", "--json"])
            .env("DROPLAKE_CONFIG", "")
            .output()
            .expect("run")
            .into(),
    );
    assert_eq!(
        empty["file"], "droplake.toml",
        "an empty DROPLAKE_CONFIG is as good as unset"
    );
}

#[test]
fn environment_variables_override_single_settings() {
    let env = TestEnv::new();
    env.write(
        "droplake.toml",
        "warehouse = \"from-file.db\"\nlake = \"from-file\"\n",
    );
    let output = env
        .command(["config", "--json"])
        .env("DROPLAKE_WAREHOUSE", "/srv/wh.db")
        .env("DROPLAKE_IGNORE", "[\"*.bak\", \"{a,b}.x\"]")
        .output()
        .expect("run");
    let run = crate::util::Run::from(output);
    let json: serde_json::Value = serde_json::from_str(&run.expect_code(0).stdout).expect("JSON");
    let settings = &json["settings"];
    assert_eq!(
        settings["warehouse"],
        serde_json::json!({"value": "/srv/wh.db", "origin": {"kind": "env", "var": "DROPLAKE_WAREHOUSE"}})
    );
    assert_eq!(
        settings["ignore"]["value"],
        serde_json::json!(["*.bak", "{a,b}.x"])
    );
    assert_eq!(
        settings["lake"]["value"],
        env.display("from-file"),
        "a setting not overridden keeps the file's value"
    );
}

#[test]
fn an_ignore_glob_from_the_environment_applies_to_put() {
    let env = TestEnv::new();
    env.write("x.bak", "x");
    let output = env
        .command(["put", "orders", "x.bak"])
        .env("DROPLAKE_IGNORE", "*.bak")
        .output()
        .expect("run");
    let run = crate::util::Run::from(output);
    run.expect_code(64);
    assert!(
        run.stderr.contains("matches the ignore glob '*.bak'"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_keys_and_bad_values_are_refused_with_file_line_and_key() {
    let env = TestEnv::new();
    let cases = [
        (
            "lake = \"x\"\nwarehose = \"typo.db\"\n",
            "droplake.toml:2:1: unknown key `warehose`, expected one of",
        ),
        (
            "lake = 5\n",
            "droplake.toml:1:8: `lake`: invalid type: integer `5`, expected a string",
        ),
        (
            "lake = \"\"\n",
            "droplake.toml:1:8: `lake`: must not be empty",
        ),
        (
            "ignore = [\n  \"*.bak\",\n  \"[unclosed\",\n]\n",
            "droplake.toml:3:3: `ignore`: ignore glob '[unclosed' is not valid",
        ),
        (
            "lake = \"x\"\nlake = \"y\"\n",
            "droplake.toml:2:1: duplicate key",
        ),
        ("[lake\n", "droplake.toml:1:"),
    ];
    for (text, message) in cases {
        env.write("droplake.toml", text);
        let run = env.run(["config"]);
        assert_eq!(run.code, 78, "{text:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with(&format!("droplake: {message}")),
            "{text:?}:\n{}",
            run.stderr
        );
    }
}

#[test]
fn a_missing_explicit_file_or_a_bad_environment_value_is_a_configuration_error() {
    let env = TestEnv::new();
    let run = env.run(["config", "--config", "nope.toml"]);
    run.expect_code(78);
    assert!(
        run.stderr
            .contains("nope.toml: cannot open the configuration file"),
        "{}",
        run.stderr
    );

    let output = env
        .command(["config"])
        .env("DROPLAKE_IGNORE", "[\"*.bak\"")
        .output()
        .expect("run");
    let run = crate::util::Run::from(output);
    run.expect_code(78);
    assert!(
        run.stderr.contains("environment DROPLAKE_IGNORE"),
        "{}",
        run.stderr
    );
}
