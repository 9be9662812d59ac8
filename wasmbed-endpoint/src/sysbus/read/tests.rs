use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use crate::{Endpoint, MAILBOX_DEFAULT_BASE, MemoryImage};

use super::*;

const SEED_LINES: &str = "\
sysbus WriteDoubleWord 0x20001000 0x0000000f
sysbus WriteDoubleWord 0x20001004 0x342e3031
sysbus WriteDoubleWord 0x20001008 0x2e302e32
sysbus WriteDoubleWord 0x2000100c 0x383a3231
sysbus WriteDoubleWord 0x20001010 0x00313830
";

fn dw(line: usize, address: u64, value: u32) -> MemoryWrite {
    MemoryWrite {
        line,
        op: MemoryOp::DoubleWord { address, value },
    }
}

fn zero(line: usize, address: u64, length: u64) -> MemoryWrite {
    MemoryWrite {
        line,
        op: MemoryOp::Zero { address, length },
    }
}

fn seed_writes() -> Vec<MemoryWrite> {
    vec![
        dw(1, 0x2000_1000, 0x0000_000f),
        dw(2, 0x2000_1004, 0x342e_3031),
        dw(3, 0x2000_1008, 0x2e30_2e32),
        dw(4, 0x2000_100c, 0x383a_3231),
        dw(5, 0x2000_1010, 0x0031_3830),
    ]
}

#[test]
fn reads_the_seed_lines_from_sysbus_script() {
    let endpoint: Endpoint = "10.42.0.12:8081".parse().unwrap();
    let script = MemoryImage::encode(&endpoint)
        .unwrap()
        .sysbus_script(MAILBOX_DEFAULT_BASE)
        .unwrap();
    assert_eq!(script, SEED_LINES);
    let writes = read_writes(&script).unwrap();
    assert_eq!(writes, seed_writes());

    let mut region = [0xa5u8; 0x200];
    for write in &writes {
        write
            .apply(u64::from(MAILBOX_DEFAULT_BASE), &mut region)
            .unwrap();
    }
    assert_eq!(MemoryImage::decode(&region).unwrap(), endpoint);
}

#[test]
fn reads_the_seed_lines_with_their_trailing_comments() {
    let script = "\
sysbus WriteDoubleWord 0x20001000 0x0000000f  # Length: 15
sysbus WriteDoubleWord 0x20001004 0x342e3031  # \"10.4\" (ASCII)
sysbus WriteDoubleWord 0x20001008 0x2e302e32  # \"2.0.\"
sysbus WriteDoubleWord 0x2000100c 0x383a3231  # \"12:8\"
sysbus WriteDoubleWord 0x20001010 0x00313830  # \"081\\0\"
";
    assert_eq!(read_writes(script).unwrap(), seed_writes());
}

#[test]
fn reads_inside_macro_bodies_and_ignores_everything_else() {
    let script = r#":name: demo
:description: a script with every kind of line
using sysbus
$bin ?= @/tmp/zephyr #1.elf
mach create "dev"; machine LoadPlatformDescription @platforms/cpus/sam_e70.repl
machine LoadPlatformDescriptionFromString """
sysbus WriteDoubleWord 0x1 0x2
"""
echo "sysbus WriteDoubleWord 0x3 0x4"; echo 'sysbus ZeroRange <0 1>'
macro reset
"""
    sysbus LoadELF $bin
    sysbus ZeroRange <0x20001000 0x200>
    sysbus WriteDoubleWord 0x20001000 15; sysbus WriteDoubleWord 0x20001004 +875442225
"""
macro other """sysbus WriteDoubleWord 0x20001008 0X0 """
runMacro $reset
sysbus ReadDoubleWord 0x20001000
start
"#;
    let err = read_writes(script).unwrap_err();
    // `0X0` is not a Renode number: the macro body on line 16 is read like any command.
    assert_eq!((err.line(), err.kind()), (16, ReadErrorKind::NotANumber));

    let script = script.replace("0X0", "0x0");
    assert_eq!(
        read_writes(&script).unwrap(),
        vec![
            zero(13, 0x2000_1000, 0x200),
            dw(14, 0x2000_1000, 15),
            dw(14, 0x2000_1004, 875_442_225),
            dw(16, 0x2000_1008, 0),
        ]
    );
}

#[test]
fn numbers_as_renode_writes_them() {
    let cases: &[(&str, u64, u32)] = &[
        ("0x20001000 0x0000000F", 0x2000_1000, 0xf),
        ("0x2000100c 0xABCDEF01", 0x2000_100c, 0xabcd_ef01),
        ("536875008 4294967295", 0x2000_1000, u32::MAX),
        ("+536875008 +0", 0x2000_1000, 0),
        ("0xffffffffffffffff 0", u64::MAX, 0),
        ("00012 007", 12, 7),
    ];
    for &(operands, address, value) in cases {
        let script = format!("sysbus WriteDoubleWord {operands}");
        assert_eq!(
            read_writes(&script).unwrap(),
            vec![dw(1, address, value)],
            "{script}"
        );
    }
}

#[test]
fn zero_range_forms() {
    let cases: &[(&str, u64, u64)] = &[
        ("<0x20001000 0x200>", 0x2000_1000, 0x200),
        ("< 0x20001000   512 >", 0x2000_1000, 512),
        ("<0x20001000, 0x200011ff>", 0x2000_1000, 0x200),
        ("<0x20001000,0x20001000>", 0x2000_1000, 1),
        ("0x1a000000 0x800000", 0x1a00_0000, 0x80_0000),
        ("<0x20001000 0>", 0x2000_1000, 0),
    ];
    for &(operands, address, length) in cases {
        let script = format!("sysbus ZeroRange {operands}");
        assert_eq!(
            read_writes(&script).unwrap(),
            vec![zero(1, address, length)],
            "{script}"
        );
    }
}

#[test]
fn errors_name_the_line_and_the_reason() {
    let script = "using sysbus\n\n\n\n\n\nsysbus WriteDoubleWord 0x2000100G 0x1\n";
    let err = read_writes(script).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 7: \"sysbus WriteDoubleWord 0x2000100G 0x1\": address \"0x2000100G\" is not a \
         number (expected 0x-prefixed hex or decimal)"
    );
    assert_eq!(err.line(), 7);
    assert_eq!(err.text(), "sysbus WriteDoubleWord 0x2000100G 0x1");
    assert_eq!(err.kind(), ReadErrorKind::NotANumber);
}

#[test]
fn refused_lines() {
    use ReadErrorKind::*;
    let cases: &[(&str, ReadErrorKind, &str)] = &[
        (
            "sysbus WriteDoubleWord 0x20001000 0x100000000",
            TooLarge,
            "value 0x100000000 does not fit",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 4294967296",
            TooLarge,
            "does not fit a double word",
        ),
        (
            "sysbus WriteDoubleWord 0x10000000000000000 0",
            TooLarge,
            "address \"0x10000000000000000\" does not fit 64 bits",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000",
            MissingOperand,
            "value is missing",
        ),
        (
            "sysbus WriteDoubleWord",
            MissingOperand,
            "address is missing",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 0x1 0x2",
            ExtraOperand,
            "takes 2 operands (address, value) but has 3",
        ),
        (
            "sysbus WriteDoubleWord $mailbox 0x1",
            NotANumber,
            "address \"$mailbox\"",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 -1",
            Negative,
            "value \"-1\" is negative",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 0X1",
            NotANumber,
            "value \"0X1\" is not a number",
        ),
        (
            "sysbus WriteDoubleWord 0x 0x1",
            NotANumber,
            "address \"0x\" is not a number",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 1.5",
            NotANumber,
            "value \"1.5\"",
        ),
        (
            "sysbus WriteDoubleWord 0x20001000 \"1\"",
            NotANumber,
            "value is a quoted string",
        ),
        (
            "sysbus WriteDoubleWord <0x1 0x2> 0x1",
            NotANumber,
            "address is a range",
        ),
        (
            "sysbus ZeroRange <0x20001200, 0x20001000>",
            BadRange,
            "ends before it starts",
        ),
        (
            "sysbus ZeroRange <0x20001000>",
            BadRange,
            "is not <start size> or <first, last>",
        ),
        (
            "sysbus ZeroRange <0x20001000 0x1> 0x2",
            ExtraOperand,
            "takes one range",
        ),
        (
            "sysbus ZeroRange 0x20001000",
            MissingOperand,
            "size is missing",
        ),
        (
            "sysbus ZeroRange <0xffffffffffffffff 2>",
            TooLarge,
            "runs past the end of the 64-bit bus",
        ),
        (
            "sysbus ZeroRange <0, 0xffffffffffffffff>",
            TooLarge,
            "all 2^64 addresses",
        ),
        (
            "sysbus ZeroRange <-4 0x10>",
            Negative,
            "range start \"-4\" is negative",
        ),
        (
            "sysbus WriteWord 0x20001000 0x1",
            UnsupportedWrite,
            "`sysbus WriteWord` writes memory",
        ),
        (
            "sysbus WriteByte 0x20001000 0x1",
            UnsupportedWrite,
            "only models WriteDoubleWord and ZeroRange",
        ),
        (
            "sysbus writeDoubleWord 0x20001000 0x1",
            UnsupportedWrite,
            "`sysbus writeDoubleWord`",
        ),
        (
            "macro reset\n\"\"\"\nsysbus LoadELF $bin\n",
            Unterminated,
            "macro body opened here is never closed",
        ),
        (
            "echo \"never closed\nsysbus WriteDoubleWord 0 0\n",
            Unterminated,
            "string opened here",
        ),
        (
            "machine LoadPlatformDescriptionFromString \"\"\"\ncpu: CPU\n",
            Unterminated,
            "\"\"\" opened here",
        ),
    ];
    for &(script, kind, reason) in cases {
        let err = read_writes(script).unwrap_err();
        assert_eq!(err.kind(), kind, "{script}: {err}");
        assert_eq!(err.line(), 1, "{script}: {err}");
        assert!(err.reason().contains(reason), "{script}: {err}");
        assert!(err.to_string().starts_with("line 1: \""), "{err}");
    }
}

#[test]
fn error_text_is_bounded() {
    let operand = "9".repeat(10_000);
    let script = format!("sysbus WriteDoubleWord 0x1 {operand}");
    let err = read_writes(&script).unwrap_err();
    assert_eq!(err.kind(), ReadErrorKind::TooLarge);
    assert!(err.text().chars().count() <= MAX_ERROR_TEXT_LEN + 3);
    assert!(err.text().ends_with("..."));
    assert!(err.to_string().len() < 400, "{}", err.to_string().len());
}

#[test]
fn lines_are_counted_through_multi_line_strings() {
    let script = "echo \"a\nb\"\nmachine X \"\"\"\n\n\n\"\"\"\nsysbus WriteDoubleWord 8 9\n";
    assert_eq!(read_writes(script).unwrap(), vec![dw(7, 8, 9)]);
}

#[test]
fn display_reads_back() {
    let ops = [
        MemoryOp::DoubleWord {
            address: 0x2000_1000,
            value: 0xf,
        },
        MemoryOp::DoubleWord {
            address: u64::MAX - 3,
            value: u32::MAX,
        },
        MemoryOp::Zero {
            address: 0x2000_1000,
            length: 0x200,
        },
        MemoryOp::Zero {
            address: 0,
            length: 0,
        },
    ];
    for op in ops {
        let text = op.to_string();
        assert_eq!(
            read_writes(&text).unwrap(),
            vec![MemoryWrite { line: 1, op }],
            "{text}"
        );
    }
    assert_eq!(
        ops[0].to_string(),
        "sysbus WriteDoubleWord 0x20001000 0x0000000f"
    );
    assert_eq!(ops[2].to_string(), "sysbus ZeroRange <0x20001000 0x200>");
}

#[test]
fn apply_writes_little_endian_inside_the_region() {
    let mut region = [0u8; 16];
    dw(1, 0x104, 0x0403_0201).apply(0x100, &mut region).unwrap();
    assert_eq!(region[4..8], [1, 2, 3, 4]);
    dw(1, 0x10c, 0xdead_beef).apply(0x100, &mut region).unwrap();
    assert_eq!(region[12..], [0xef, 0xbe, 0xad, 0xde]);
    zero(2, 0x105, 2).apply(0x100, &mut region).unwrap();
    assert_eq!(region[4..8], [1, 0, 0, 4]);
    zero(3, 0x110, 0).apply(0x100, &mut region).unwrap();
}

#[test]
fn apply_refuses_any_byte_outside_and_writes_nothing() {
    let cases = [
        dw(1, 0xfc, 1),           // before the region
        dw(2, 0xfe, 1),           // straddles the start
        dw(3, 0x10e, 1),          // straddles the end
        dw(4, 0x110, 1),          // just past the end
        dw(5, u64::MAX - 1, 1),   // end overflows
        zero(6, 0x100, 17),       // one byte too long
        zero(7, 0x100, u64::MAX), // huge: compared, never allocated
        zero(8, 0xff, 0),         // empty but before the region
        zero(9, 0x111, 0),        // empty but past the end
    ];
    for write in cases {
        let mut region = [0x5au8; 16];
        let err = write.apply(0x100, &mut region).unwrap_err();
        assert_eq!(region, [0x5a; 16], "{write:?} wrote");
        assert_eq!(
            (err.line(), err.op(), err.base(), err.region_len()),
            (write.line, write.op, 0x100, 16)
        );
        assert!(err.to_string().contains("nothing was written"), "{err}");
    }
    let err = dw(3, 0x10e, 1).apply(0x100, &mut [0; 16]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3: `sysbus WriteDoubleWord 0x0000010e 0x00000001` touches 4 byte(s) from 0x10e, not \
         all inside the region 0x100..0x110 (16 bytes); nothing was written: put the write \
         inside the region or apply it to a region that covers it"
    );
}

#[test]
fn apply_at_the_top_of_the_address_space() {
    let mut region = [0u8; 4];
    dw(1, u64::MAX - 3, 0x0102_0304)
        .apply(u64::MAX - 3, &mut region)
        .unwrap();
    assert_eq!(region, [4, 3, 2, 1]);
}
