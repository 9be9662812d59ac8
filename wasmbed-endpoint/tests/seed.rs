//! The seed document's example, byte for byte (seed, "Verification", expected output).

use wasmbed_endpoint::{Endpoint, MAILBOX_DEFAULT_BASE, MemoryImage, MemoryOp};

const SEED_LINES: &str = "\
sysbus WriteDoubleWord 0x20001000 0x0000000f
sysbus WriteDoubleWord 0x20001004 0x342e3031
sysbus WriteDoubleWord 0x20001008 0x2e302e32
sysbus WriteDoubleWord 0x2000100c 0x383a3231
sysbus WriteDoubleWord 0x20001010 0x00313830
";

#[test]
fn seed_endpoint_renders_the_seed_lines_exactly() {
    let endpoint: Endpoint = "10.42.0.12:8081".parse().unwrap();
    let image = MemoryImage::encode(&endpoint).unwrap();
    let lines = image.sysbus_lines(MAILBOX_DEFAULT_BASE).unwrap();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines.to_string(), SEED_LINES);
    #[cfg(feature = "alloc")]
    {
        assert_eq!(
            image.sysbus_script(MAILBOX_DEFAULT_BASE).unwrap(),
            SEED_LINES
        );
        let read: Vec<MemoryOp> = wasmbed_endpoint::sysbus::read_writes(SEED_LINES)
            .unwrap()
            .iter()
            .map(|w| w.op)
            .collect();
        assert_eq!(read, lines.collect::<Vec<_>>());
    }
}

#[test]
fn seed_writes_and_bytes() {
    let image = MemoryImage::encode(&"10.42.0.12:8081".parse().unwrap()).unwrap();
    let writes: Vec<MemoryOp> = image.sysbus_lines(0x2000_1000).unwrap().collect();
    let dw = |address, value| MemoryOp::DoubleWord { address, value };
    assert_eq!(
        writes,
        [
            dw(0x2000_1000, 0x0000_000f),
            dw(0x2000_1004, 0x342e_3031),
            dw(0x2000_1008, 0x2e30_2e32),
            dw(0x2000_100c, 0x383a_3231),
            dw(0x2000_1010, 0x0031_3830),
        ]
    );
    assert_eq!(image.as_bytes(), b"\x0f\0\0\x0010.42.0.12:8081\0");
    assert_eq!(image.text(), "10.42.0.12:8081");
    assert_eq!(
        image.words().collect::<Vec<_>>(),
        writes
            .iter()
            .map(|w| match *w {
                MemoryOp::DoubleWord { value, .. } => value,
                MemoryOp::Zero { .. } => unreachable!("an image is written word by word"),
            })
            .collect::<Vec<_>>()
    );
}

#[test]
fn placement_errors() {
    use wasmbed_endpoint::EncodeError;
    let image = MemoryImage::encode(&"gw:1".parse().unwrap()).unwrap();
    assert_eq!(
        image.sysbus_lines(0x2000_1002).unwrap_err(),
        EncodeError::Misaligned { base: 0x2000_1002 }
    );
    assert_eq!(
        image.sysbus_lines(0xffff_fffc).unwrap_err(),
        EncodeError::AddressOverflow {
            base: 0xffff_fffc,
            len: 8
        }
    );
    // The last word may sit at the very top of the address space.
    let top: Vec<_> = image.sysbus_lines(0xffff_fff8).unwrap().collect();
    assert_eq!(top.last().unwrap().address(), 0xffff_fffc);
    assert_eq!(
        image.sysbus_lines(1).unwrap_err(),
        EncodeError::Misaligned { base: 1 }
    );
}

#[test]
fn endpoints_that_cannot_be_encoded() {
    use wasmbed_endpoint::{DnsName, EncodeError, Host};
    let zero = Endpoint::new("gw".parse().unwrap(), 0);
    assert_eq!(
        MemoryImage::encode(&zero).unwrap_err(),
        EncodeError::PortZero
    );
    let name = format!(
        "{}.{}.{}.{}",
        "a".repeat(63),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(61)
    );
    let long = Endpoint::new(Host::Dns(DnsName::parse(&name).unwrap()), 65535);
    assert_eq!(
        MemoryImage::encode(&long).unwrap_err(),
        EncodeError::TooLong { len: 259 }
    );
    let mut small = [0u8; 4];
    assert_eq!(
        "gw:8081"
            .parse::<Endpoint>()
            .unwrap()
            .encode_into(&mut small)
            .unwrap_err(),
        EncodeError::BufferTooSmall {
            needed: 7,
            available: 4
        }
    );
}
