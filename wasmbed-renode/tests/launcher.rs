//! The Renode launcher. Most tests run a stand-in `renode` (a shell script printing what the
//! real one prints) to exercise log capture, early failure and stopping; `real_renode` runs
//! the real Renode where one is installed and is reported as ignored elsewhere.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wasmbed_renode::LaunchError;
use wasmbed_renode::launcher::{Launcher, LogEvent};

/// Writes an executable stand-in for `renode` running `body` (POSIX sh).
fn fake_renode(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("renode");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Prints its arguments and a start line, then waits for `quit` on standard input.
const MONITOR_LIKE: &str = r#"
echo "args: $*"
echo "12:00:00.0001 [INFO] DEVICE_ID: Machine started."
while read -r line; do
  [ "$line" = quit ] && { echo "Renode is quitting"; exit 0; }
done
"#;

#[test]
fn missing_binary_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let err = Launcher::new(dir.path().join("x.resc"), dir.path().join("renode.log"))
        .program(dir.path().join("no-renode-here"))
        .spawn()
        .unwrap_err();
    assert!(matches!(err, LaunchError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("install Renode"), "{err}");
}

#[test]
fn captures_the_log_and_stops_with_quit() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("renode.log");
    let mut renode = Launcher::new("/srv/dev.resc", &log)
        .program(fake_renode(dir.path(), MONITOR_LIKE))
        .command("sysbus ReadDoubleWord 0x20001000")
        .spawn()
        .unwrap();
    renode
        .wait_for("Machine started", Duration::from_secs(10))
        .unwrap();
    let status = renode.stop(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status}");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(
            "args: --disable-xwt --plain --console /srv/dev.resc -e sysbus ReadDoubleWord 0x20001000"
        ),
        "{text}"
    );
    assert!(
        text.contains("Renode is quitting"),
        "quit reached the monitor: {text}"
    );
}

#[test]
fn dummy_mode_tap_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "echo '12:00:00.0002 [WARNING] host.tap: No TUN device found, running in dummy mode.'\n{MONITOR_LIKE}"
    );
    let mut renode = Launcher::new("/srv/dev.resc", dir.path().join("renode.log"))
        .program(fake_renode(dir.path(), &body))
        .spawn()
        .unwrap();
    let started = Instant::now();
    let err = renode
        .wait_for("never printed", Duration::from_secs(30))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "not a hang");
    assert!(matches!(err, LaunchError::TapDummyMode { .. }), "{err}");
    assert!(err.to_string().contains("/dev/net/tun"), "{err}");
    assert_eq!(renode.events()[0].0, LogEvent::TapDummyMode);
    renode.stop(Duration::from_secs(10)).unwrap();
}

#[test]
fn script_error_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "echo \"There was an error executing command 'sysbus LoadELF @/nope.elf'\"\n{MONITOR_LIKE}"
    );
    let mut renode = Launcher::new("/srv/dev.resc", dir.path().join("renode.log"))
        .program(fake_renode(dir.path(), &body))
        .spawn()
        .unwrap();
    let err = renode
        .wait_for("Machine started", Duration::from_secs(30))
        .unwrap_err();
    assert!(
        matches!(&err, LaunchError::ScriptError { line } if line.contains("LoadELF")),
        "{err}"
    );
}

#[test]
fn early_exit_and_timeout_are_reported_with_the_log_tail() {
    let dir = tempfile::tempdir().unwrap();
    let mut renode = Launcher::new("/srv/dev.resc", dir.path().join("exit.log"))
        .program(fake_renode(
            dir.path(),
            "echo 'could not load platform'; exit 3",
        ))
        .spawn()
        .unwrap();
    let err = renode
        .wait_for("Machine started", Duration::from_secs(30))
        .unwrap_err();
    match &err {
        LaunchError::Exited { status, tail, .. } => {
            assert_eq!(status.code(), Some(3));
            assert!(tail.contains("could not load platform"), "{tail}");
        }
        other => panic!("expected an exit, got {other}"),
    }

    let mut renode = Launcher::new("/srv/dev.resc", dir.path().join("slow.log"))
        .program(fake_renode(dir.path(), MONITOR_LIKE))
        .spawn()
        .unwrap();
    let err = renode
        .wait_for("never printed", Duration::from_millis(300))
        .unwrap_err();
    assert!(matches!(err, LaunchError::Timeout { .. }), "{err}");
    assert!(
        err.to_string().contains("Machine started"),
        "tail shown: {err}"
    );
}

#[test]
fn a_renode_that_ignores_quit_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let body = "echo started; trap '' TERM; while :; do sleep 1; done";
    let mut renode = Launcher::new("/srv/dev.resc", dir.path().join("renode.log"))
        .program(fake_renode(dir.path(), body))
        .spawn()
        .unwrap();
    renode.wait_for("started", Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let status = renode.stop(Duration::from_millis(300)).unwrap();
    assert!(!status.success());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// Boots the generated script in the real Renode with a minimal Cortex-M image, then checks
/// through the monitor that the mailbox holds the endpoint, and that after a write clobbering
/// it and a machine reset the reset macro has rewritten it. Values are compared by digits
/// only (`0x00313830`, the last word of `10.42.0.12:8081`), whatever case Renode prints hex in.
#[test]
#[cfg_attr(
    not(has_renode),
    ignore = "needs renode on PATH (or WASMBED_RENODE) when the crate was built"
)]
fn real_renode() {
    use wasmbed_renode::{Board, Mailbox, ScriptBuilder, render};

    let dir = tempfile::tempdir().unwrap();
    let elf = dir.path().join("spin.elf");
    std::fs::write(&elf, spin_elf()).unwrap();
    let board = Board::SAM_E70_XPLAINED;
    let mailbox = Mailbox::place(board.mailbox, &"10.42.0.12:8081".parse().unwrap()).unwrap();
    let script = ScriptBuilder::new(board)
        .machine("real-renode-test")
        .unwrap()
        .with_elf(&elf)
        .unwrap()
        .with_mailbox(mailbox)
        .build()
        .unwrap();
    let resc = dir.path().join("renode_prewrite_real-renode-test.resc");
    std::fs::write(&resc, render(&script)).unwrap();
    let program = std::env::var_os("WASMBED_RENODE").unwrap_or_else(|| "renode".into());
    let mut renode = Launcher::new(&resc, dir.path().join("renode.log"))
        .program(program)
        .command("sysbus ReadDoubleWord 0x20001010")
        .command("sysbus WriteDoubleWord 0x20001010 0x11111111")
        .command("sysbus ReadDoubleWord 0x20001010")
        .command("machine Reset")
        .command("sysbus ReadDoubleWord 0x20001010")
        .spawn()
        .unwrap();
    renode
        .wait_for("0x11111111", Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let log = loop {
        let log = std::fs::read_to_string(renode.log_path()).unwrap();
        let clobbered = log.find("0x11111111").expect("seen above");
        if log[clobbered..].contains("0x00313830") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    renode.poll().unwrap_or_else(|e| panic!("{e}"));
    renode.stop(Duration::from_secs(20)).unwrap();
    let clobbered = log.find("0x11111111").unwrap();
    assert!(
        log[..clobbered].contains("0x00313830"),
        "written at start:\n{log}"
    );
    assert!(
        log[clobbered..].contains("0x00313830"),
        "rewritten by the reset macro:\n{log}"
    );
}

/// A minimal ARMv7-M executable for the SAM E70's flash at 0x00400000: a vector table (initial
/// stack pointer in SRAM, reset vector) and a `b .` loop. 32-bit little-endian ELF, one
/// PT_LOAD segment.
fn spin_elf() -> Vec<u8> {
    const BASE: u32 = 0x0040_0000;
    let code: [u8; 10] = {
        let mut c = [0u8; 10];
        c[..4].copy_from_slice(&0x2040_1000u32.to_le_bytes()); // initial SP
        c[4..8].copy_from_slice(&(BASE + 8 + 1).to_le_bytes()); // reset, Thumb bit set
        c[8..].copy_from_slice(&[0xfe, 0xe7]); // b .
        c
    };
    let mut elf = Vec::new();
    elf.extend_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let half = |v: u16, e: &mut Vec<u8>| e.extend_from_slice(&v.to_le_bytes());
    let word = |v: u32, e: &mut Vec<u8>| e.extend_from_slice(&v.to_le_bytes());
    half(2, &mut elf); // ET_EXEC
    half(40, &mut elf); // EM_ARM
    word(1, &mut elf); // EV_CURRENT
    word(BASE + 9, &mut elf); // entry
    word(52, &mut elf); // e_phoff
    word(0, &mut elf); // e_shoff
    word(0x0500_0000, &mut elf); // EABI version 5
    half(52, &mut elf); // e_ehsize
    half(32, &mut elf); // e_phentsize
    half(1, &mut elf); // e_phnum
    half(40, &mut elf); // e_shentsize
    half(0, &mut elf); // e_shnum
    half(0, &mut elf); // e_shstrndx
    word(1, &mut elf); // PT_LOAD
    word(84, &mut elf); // p_offset
    word(BASE, &mut elf); // p_vaddr
    word(BASE, &mut elf); // p_paddr
    word(code.len() as u32, &mut elf); // p_filesz
    word(code.len() as u32, &mut elf); // p_memsz
    word(5, &mut elf); // PF_R | PF_X
    word(4, &mut elf); // p_align
    elf.extend_from_slice(&code);
    elf
}

#[test]
fn the_spin_elf_is_well_formed() {
    // Checked here because `real_renode` rarely runs: object must read it as one ARM segment.
    use object::{Object, ObjectSegment};
    let bytes = spin_elf();
    let file = object::File::parse(&*bytes).unwrap();
    assert_eq!(file.architecture(), object::Architecture::Arm);
    assert_eq!(file.entry(), 0x0040_0009);
    let segments: Vec<_> = file.segments().collect();
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].address(), 0x0040_0000);
    assert_eq!(segments[0].data().unwrap().len(), 10);
}
