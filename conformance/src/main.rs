//! `sessionlab-conformance`: drives a real or emulated device through its documented
//! session behaviour. This is the command's skeleton; scenarios, drivers and reports
//! arrive with the conformance harness.

use clap::Parser;

/// Checks devices, real or emulated, against their documented session behaviour.
///
/// Scenario running (`run`), scenario validation (`check`) and client hygiene checks
/// (`hygiene`) are not built yet; this release only prints this help.
#[derive(Parser, Debug)]
#[command(name = "sessionlab-conformance", version, about, long_about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    eprintln!("sessionlab-conformance: no scenarios can be run yet; see --help");
    std::process::exit(2);
}
