//! `pigeon sim nat-check`: every NAT preset in the simulator, configured vs discovered.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use pigeon_sim::scenarios::nat_check::{NatCheckReport, NatCheckRow, nat_check};
use serde_json::json;

/// Options of `pigeon sim nat-check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seed of every random choice; the same seed prints the same table and trace hash.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the simulated traffic to this pcap file (tshark/Wireshark dissect it as STUN).
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// Print JSON on stdout instead of the table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let report = match &args.pcap {
        Some(path) => {
            let file =
                File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            let mut out = BufWriter::new(file);
            let report = nat_check(args.seed, Some(&mut out));
            out.flush()
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            report
        }
        None => nat_check(args.seed, None),
    };
    if let Some(error) = &report.pcap_error {
        return Err(format!("pcap not written: {error}"));
    }
    if args.json {
        println!("{}", report_json(&report));
    } else {
        println!("{report}");
        if let Some(path) = &args.pcap {
            println!(
                "traffic written to {} (try: tshark -r {} -d udp.port==3479,stun)",
                path.display(),
                path.display()
            );
        }
    }
    // A mismatch between configured and discovered behaviour is a failure a script should see.
    Ok(if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report_json(report: &NatCheckReport) -> serde_json::Value {
    json!({
        "seed": report.seed,
        "trace_hash": format!("{:016x}", report.trace_hash),
        "all_ok": report.all_ok(),
        "rows": report.rows.iter().map(row_json).collect::<Vec<_>>(),
    })
}

fn row_json(row: &NatCheckRow) -> serde_json::Value {
    let discovered = match &row.discovered {
        Some(Ok(r)) => json!({
            "nat_type": r.classic_name(),
            "mapped": r.mapped.to_string(),
            "mapping": r.mapping.to_string(),
            "filtering": r.filtering.to_string(),
            "hairpinning": r.hairpinning,
            "lifetime_secs": r.lifetime.map(|d| d.as_secs_f64()),
        }),
        Some(Err(e)) => json!({ "error": e.to_string() }),
        None => json!({ "error": "unfinished" }),
    };
    json!({
        "case": row.name(),
        "configured": {
            "mapping": row.expected_mapping().to_string(),
            "filtering": row.expected_filtering().to_string(),
            "hairpinning": row.expected_hairpinning(),
            "lifetime_secs": row.configured.as_ref().map(|c| c.mapping_lifetime.as_secs_f64()),
        },
        "discovered": discovered,
        "ok": row.ok(),
    })
}
