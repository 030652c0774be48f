//! The bencode writer.

use super::Value;

/// Appends the bencoding of `value` to `out`.
///
/// BEP 3: dictionary keys are written as raw strings sorted by their bytes, so entries built
/// in any order come out canonical. Repeated keys are written once (the first entry wins),
/// keeping the output decodable by a strict reader.
pub fn encode(value: &Value<'_>, out: &mut Vec<u8>) {
    match value {
        Value::Int(n) => {
            out.push(b'i');
            if *n < 0 {
                out.push(b'-');
            }
            write_decimal(n.unsigned_abs(), out);
            out.push(b'e');
        }
        Value::Bytes(b) => write_bytes(b, out),
        Value::List(items) => {
            out.push(b'l');
            for item in items {
                encode(item, out);
            }
            out.push(b'e');
        }
        Value::Dict(entries) => {
            out.push(b'd');
            // Every KRPC message is a small dictionary: its order is sorted on the stack.
            if entries.len() <= SMALL_DICT {
                let mut order: [usize; SMALL_DICT] = core::array::from_fn(|i| i);
                write_entries(entries, &mut order[..entries.len()], out);
            } else {
                let mut order: Vec<usize> = (0..entries.len()).collect();
                write_entries(entries, &mut order, out);
            }
            out.push(b'e');
        }
    }
}

/// Dictionaries up to this many entries sort their key order without allocating.
const SMALL_DICT: usize = 16;

/// Writes `entries` in key order; `order` holds their indexes, in any order.
fn write_entries(entries: &[(&[u8], Value<'_>)], order: &mut [usize], out: &mut Vec<u8>) {
    // Stable sort: among equal keys the first entry comes first and is the one kept.
    order.sort_by(|&a, &b| entries[a].0.cmp(entries[b].0));
    let mut last: Option<&[u8]> = None;
    for &i in order.iter() {
        let (key, item) = &entries[i];
        if last == Some(*key) {
            continue;
        }
        last = Some(key);
        write_bytes(key, out);
        encode(item, out);
    }
}

fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    write_decimal(bytes.len() as u64, out);
    out.push(b':');
    out.extend_from_slice(bytes);
}

/// Appends `n` in decimal without allocating (lengths and integers of every message).
fn write_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}
