//! The durability order of a put, seen in its system calls, and what a
//! concurrent reader of the lake can observe while puts run.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::util::{TestEnv, today_partition};

#[test]
fn put_fsyncs_the_file_before_the_rename_and_the_directory_after_it() {
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        eprintln!("skipped: strace is not installed (apt-get install strace); .ci/run installs it");
        return;
    }
    let env = TestEnv::new();
    env.write("x.csv", "id\n1\n");
    let trace = env.root().join("trace.txt");
    let status = std::process::Command::new("strace")
        .args([
            "-f",
            "-y",
            "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
            "-o",
        ])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_droplake"))
        .args(["put", "orders", "x.csv"])
        .current_dir(env.root())
        .output()
        .expect("run strace");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let trace = std::fs::read_to_string(trace).expect("read trace");
    let calls: Vec<&str> = trace
        .lines()
        .filter(|line| !line.contains("resumed") && line.contains('('))
        .collect();

    let position = |what: &str, matches: &dyn Fn(&str) -> bool| {
        calls
            .iter()
            .position(|line| matches(line))
            .unwrap_or_else(|| panic!("no {what} in trace:\n{trace}"))
    };
    let file_sync = position("fsync of the temporary file", &|line| {
        line.contains("fsync(") && line.contains(".droplake-")
    });
    let rename = position("rename into place", &|line| {
        line.contains("rename") && line.contains("x.csv")
    });
    let partition = format!("{}>", today_partition("orders"));
    let dir_sync = position("fsync of the partition directory", &|line| {
        line.contains("fsync(") && line.contains(&partition)
    });
    assert!(
        file_sync < rename,
        "the file is synced before it is renamed:\n{trace}"
    );
    assert!(
        rename < dir_sync,
        "the directory is synced after the rename:\n{trace}"
    );
}

#[test]
fn a_reader_listing_the_lake_never_sees_a_temporary_or_partial_object() {
    const PUTS: usize = 200;
    const SIZE: usize = 1 << 20;
    let env = Arc::new(TestEnv::new());
    for index in 0..PUTS {
        env.write(
            format!("src/{index:03}.bin"),
            vec![b'a' + (index % 26) as u8; SIZE],
        );
    }
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (env, done) = (Arc::clone(&env), Arc::clone(&done));
        std::thread::spawn(move || {
            let filter = droplake::lake::ObjectFilter::new(&[]).expect("filter");
            let (mut listings, mut seen) = (0usize, 0usize);
            while !done.load(Ordering::Acquire) {
                for relative in crate::util::walk(&env.lake()).files {
                    if !filter.is_object(Path::new(&relative)) {
                        continue;
                    }
                    seen += 1;
                    match std::fs::metadata(env.lake().join(&relative)) {
                        Ok(metadata) => {
                            assert_eq!(metadata.len(), SIZE as u64, "{relative} was seen partial")
                        }
                        Err(error) => {
                            panic!("{relative} was listed as an object and then vanished: {error}")
                        }
                    }
                }
                listings += 1;
            }
            (listings, seen)
        })
    };

    // Four producers at a time, each putting its share of the files.
    let producers: Vec<_> = (0..4)
        .map(|producer| {
            let env = Arc::clone(&env);
            std::thread::spawn(move || {
                for index in (producer..PUTS).step_by(4) {
                    env.run(["put", "orders", &format!("src/{index:03}.bin")])
                        .expect_code(0);
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().expect("producer");
    }
    done.store(true, Ordering::Release);
    let (listings, seen) = reader.join().expect("the reader saw only whole objects");
    assert!(
        listings > 1 && seen > 0,
        "the reader ran alongside the puts ({listings} listings)"
    );

    let files = env.lake_files();
    assert_eq!(
        files.len(),
        PUTS,
        "exactly the objects, no temporary files: {files:?}"
    );
    assert!(
        files
            .iter()
            .all(|file| file.starts_with(&today_partition("orders"))),
        "{files:?}"
    );
}
