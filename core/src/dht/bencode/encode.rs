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
            out.extend_from_slice(n.to_string().as_bytes());
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
            let mut order: Vec<usize> = (0..entries.len()).collect();
            // Stable sort: among equal keys the first entry comes first and is the one kept.
            order.sort_by(|&a, &b| entries[a].0.cmp(entries[b].0));
            out.push(b'd');
            let mut last: Option<&[u8]> = None;
            for i in order {
                let (key, item) = &entries[i];
                if last == Some(*key) {
                    continue;
                }
                last = Some(key);
                write_bytes(key, out);
                encode(item, out);
            }
            out.push(b'e');
        }
    }
}

fn write_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(bytes);
}
