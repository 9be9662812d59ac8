//! The seed's example device, end to end: provisioning from a loopback gateway address with
//! the pod IP in the environment, the committed golden artefacts, the seed's five lines after
//! `LoadELF` inside the reset macro, the two log lines, and the firmware's C reader giving
//! back `10.42.0.12:8081`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use wasmbed_renode::reader::read_writes;
use wasmbed_renode::{
    Board, DeviceId, Locator, Network, Provisioning, ScriptBuilder, Uart, provision,
    provision::Provisioned,
};

const SEED_LINES: [&str; 5] = [
    "sysbus WriteDoubleWord 0x20001000 0x0000000f",
    "sysbus WriteDoubleWord 0x20001004 0x342e3031",
    "sysbus WriteDoubleWord 0x20001008 0x2e302e32",
    "sysbus WriteDoubleWord 0x2000100c 0x383a3231",
    "sysbus WriteDoubleWord 0x20001010 0x00313830",
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Log output captured from `tracing`.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Provisions the seed's device into `dir`, returning what was done and what was logged.
fn provision_seed_device(dir: &Path) -> (Provisioned, String) {
    let board = Board::SAM_E70_XPLAINED;
    let script = ScriptBuilder::new(board)
        .uart(Uart::socket(3456))
        .unwrap()
        .network(Some(Network::tap("tap0").unwrap()))
        .with_elf("/opt/wasmbed/zephyr.elf")
        .unwrap();
    let p = Provisioning::new(
        DeviceId::new("DEVICE_ID").unwrap(),
        "http://127.0.0.1:8080",
        script,
    )
    .with_tls_port(8081)
    .with_locators(vec![Locator::PodIpEnv("POD_IP".to_owned())])
    .with_region(board.mailbox)
    .with_dir(dir);
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let provisioned = tracing::subscriber::with_default(subscriber, || {
        provision(&p, |var| (var == "POD_IP").then(|| "10.42.0.12".to_owned()))
    })
    .unwrap();
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (provisioned, log)
}

#[test]
fn artefacts_equal_the_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let (provisioned, _) = provision_seed_device(dir.path());
    for (written, name) in [
        (
            &provisioned.artefacts.script,
            "renode_prewrite_DEVICE_ID.resc",
        ),
        (
            &provisioned.artefacts.memory,
            "gateway_endpoint_memory_DEVICE_ID.txt",
        ),
    ] {
        assert_eq!(written, &dir.path().join(name));
        let golden = std::fs::read_to_string(golden_dir().join(name)).unwrap();
        let actual = std::fs::read_to_string(written).unwrap();
        assert_eq!(
            actual, golden,
            "{name} differs from tests/golden; if the change is intended, run \
             `cargo test -p wasmbed-renode --test golden -- --ignored regenerate`"
        );
    }
    // Only the two artefacts: the temporary files were renamed away.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn seed_lines_follow_load_elf_inside_the_reset_macro() {
    let dir = tempfile::tempdir().unwrap();
    let (provisioned, _) = provision_seed_device(dir.path());
    let lines: Vec<&str> = provisioned.script.lines().collect();
    let open = lines
        .windows(2)
        .position(|w| w == ["macro reset", "\"\"\""])
        .expect("a reset macro")
        + 1;
    let close = open
        + 1
        + lines[open + 1..]
            .iter()
            .position(|l| *l == "\"\"\"")
            .expect("the macro ends");
    let body = &lines[open + 1..close];
    let load = body
        .iter()
        .position(|l| *l == "sysbus LoadELF $bin")
        .expect("LoadELF in the macro");
    let first = body
        .iter()
        .position(|l| *l == SEED_LINES[0])
        .expect("the seed's first line in the macro");
    assert!(load < first, "LoadELF comes first");
    assert_eq!(
        &body[first..first + 5],
        SEED_LINES,
        "the five lines, in order, exactly"
    );
    // Nothing after the macro writes memory, and the macro runs before start.
    assert_eq!(&lines[close + 1..], ["runMacro $reset", "", "start"]);
    assert!(!lines[..open].iter().any(|l| l.contains("WriteDoubleWord")));
}

#[test]
fn the_firmware_reads_the_seed_endpoint_from_both_artefacts() {
    let dir = tempfile::tempdir().unwrap();
    let (provisioned, _) = provision_seed_device(dir.path());
    let region = provisioned.mailbox.region();
    for path in [&provisioned.artefacts.script, &provisioned.artefacts.memory] {
        let text = std::fs::read_to_string(path).unwrap();
        let mut ram = vec![0xffu8; region.size() as usize];
        for write in read_writes(&text).unwrap() {
            write.apply(u64::from(region.base()), &mut ram).unwrap();
        }
        let endpoint = wasmbed_zephyr_host::mailbox_read(&ram).unwrap();
        assert_eq!(endpoint.text, b"10.42.0.12:8081", "{}", path.display());
        assert_eq!(endpoint.host, b"10.42.0.12");
        assert_eq!(endpoint.port, 8081);
    }
}

#[test]
fn logs_the_seed_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (_, log) = provision_seed_device(dir.path());
    let resolved = log
        .find("Resolved gateway endpoint for device DEVICE_ID: 10.42.0.12:8081")
        .unwrap_or_else(|| panic!("{log}"));
    let writing = log
        .find("Writing gateway endpoint to memory for device DEVICE_ID: 10.42.0.12:8081")
        .unwrap_or_else(|| panic!("{log}"));
    assert!(resolved < writing, "{log}");
    assert!(log.contains("located_by=pod IP from $POD_IP"), "{log}");
}

#[test]
#[ignore = "rewrites tests/golden from the current output; run only to accept a change"]
fn regenerate() {
    let dir = tempfile::tempdir().unwrap();
    let (provisioned, _) = provision_seed_device(dir.path());
    for path in [&provisioned.artefacts.script, &provisioned.artefacts.memory] {
        std::fs::copy(path, golden_dir().join(path.file_name().unwrap())).unwrap();
    }
}
