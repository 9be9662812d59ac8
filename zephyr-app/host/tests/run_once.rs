//! `device::run` starts the firmware once per process: a second call is an error, not a
//! second firmware writing the same globals (issue 12, item 8).

use wasmbed_zephyr_host::device::{Options, StartError, run};

#[test]
fn a_second_run_is_refused() {
    // An empty mailbox: the firmware logs that it has no endpoint and its main() returns.
    let status = run(&Options::default()).expect("the first run starts the firmware");
    assert_ne!(status, 0, "main() gives up without an endpoint");

    assert_eq!(run(&Options::default()), Err(StartError::AlreadyStarted));
    let text = StartError::AlreadyStarted.to_string();
    assert!(text.contains("already started"), "{text}");
}

#[test]
fn a_bad_option_does_not_use_up_the_run() {
    let mut options = Options::default();
    options.mailbox_size = Some(0);
    let err = run(&options).unwrap_err();
    assert!(
        matches!(&err, StartError::Invalid(message) if message.contains("mailbox size 0")),
        "{err:?}"
    );
}
