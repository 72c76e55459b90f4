//! `sessionlab-conformance`: drives a real or emulated device through its documented
//! session behaviour, and checks that clients log out.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use conformance::hygiene;
use conformance::runner::{self, Progress, RunOptions};
use conformance::scenario::{self, DurationBase, Scenario};
use conformance::target::{TargetOptions, TargetSpec};

/// Checks devices, real or emulated, against their documented session behaviour.
///
/// `run` drives a device through scenario files (scenarios/) and reports PASS, FAIL,
/// WARN or NOT-TESTED for each; `check` validates scenario files; `hygiene` runs a
/// client's command against an emulated device and fails if it left sessions open.
#[derive(Parser, Debug)]
#[command(name = "sessionlab-conformance", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run scenarios against a target and report the verdict of each.
    ///
    /// Exit status: 0 when nothing failed, 1 on any FAIL (including an `expected_fail`
    /// scenario that passed), 2 on unusable scenario files or target options, 130 when
    /// interrupted. The last line of the report is `N passed, N failed, N skipped`.
    Run(RunArgs),
    /// Validate scenario files and say what is wrong, with file, line and column.
    Check {
        /// Scenario files or folders (searched for *.toml).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// List scenarios: name, what they apply to, whether destructive, their evidence.
    List {
        /// Scenario files or folders (searched for *.toml).
        #[arg(default_value = "scenarios")]
        paths: Vec<PathBuf>,
    },
    /// Run a client's command against an emulated device and report the sessions it
    /// left open.
    ///
    /// The command gets SESSIONLAB_URL, SESSIONLAB_SCHEME, SESSIONLAB_HOST,
    /// SESSIONLAB_PORT, SESSIONLAB_USER, SESSIONLAB_PASSWORD, SESSIONLAB_CONTROL_URL and
    /// SESSIONLAB_DEVICE in its environment; its output is passed through. Exit status:
    /// 0 when it logged out everything (within --allow-leaks) and never hit the session
    /// limit, 1 otherwise (or when the command failed), 2 when the check could not run.
    Hygiene(HygieneArgs),
    /// Probe a device and write the profile that emulates it.
    ///
    /// Reads what the device's API states (service root, firmware, idle timeout and
    /// lifetime, the login answer, a dead token's answer, ONE bad-password answer); with
    /// --allow-destructive also measures the session limit and the refusal, whether HTTP
    /// Basic holds a slot, whether a password change ends sessions (on an account it
    /// creates and deletes) and the idle timeout, printing each step before it runs and
    /// undoing it afterwards. Exit status: 0 written, 1 the device refused or could not
    /// be probed, 2 unusable options, 130 interrupted (after cleanup).
    Calibrate(CalibrateArgs),
}

#[derive(Args, Debug)]
struct CalibrateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The profile file to write (e.g. my-device.toml).
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// Overwrite the output file if it exists.
    #[arg(long)]
    force: bool,
    /// Start from this embedded profile (or profile file) instead of the nearest one.
    #[arg(long)]
    base: Option<String>,
    /// Name of the written profile (default: the base profile's, so the scenarios
    /// written for that model apply to it).
    #[arg(long)]
    name: Option<String>,
    /// Run the behaviour probes: fill the session table, create and delete an account,
    /// shorten the idle timeout. Each is announced before it runs and undone afterwards.
    #[arg(long, env = "SESSIONLAB_ALLOW_DESTRUCTIVE", value_parser = emulator::flags::boolish)]
    allow_destructive: bool,
    /// Longest real waiting the idle-timeout probe may do on a device without a
    /// virtual clock (e.g. 90s, 10m); it shortens the timeout through the API to fit.
    #[arg(long, env = "SESSIONLAB_MAX_WAIT", default_value = "0s", value_parser = parse_wait)]
    max_wait: Duration,
    /// Most logins the session-limit probe tries.
    #[arg(long, env = "SESSIONLAB_FILL_LIMIT", default_value_t = 256)]
    fill_limit: usize,
    /// Also capture the resource tree into this (new or empty) directory, as a mockup
    /// the written profile serves (Redfish family).
    #[arg(long)]
    capture: Option<PathBuf>,
    /// No progress lines on standard error (destructive steps are still announced).
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct TargetArgs {
    /// `emulated:PROFILE` (a device started in-process with a virtual clock; a profile
    /// name or file), or a device URL such as https://10.0.0.5:443.
    #[arg(long, env = "SESSIONLAB_TARGET")]
    target: String,
    /// Vendor protocol of a device URL. Not needed with --control.
    #[arg(long, env = "SESSIONLAB_VENDOR", value_parser = clap::builder::PossibleValuesParser::new(conformance::driver::VENDORS))]
    vendor: Option<String>,
    /// Profile a device URL is expected to follow (gives `table_size`).
    #[arg(long, env = "SESSIONLAB_TARGET_PROFILE")]
    profile: Option<String>,
    /// User to log in as (default on emulators: the profile's first account).
    #[arg(long, env = "SESSIONLAB_USER")]
    user: Option<String>,
    /// That user's password.
    #[arg(long, env = "SESSIONLAB_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Accept the device's TLS certificate even if it is invalid or self-signed.
    #[arg(long, env = "SESSIONLAB_INSECURE", value_parser = emulator::flags::boolish)]
    insecure: bool,
    /// Control API of an emulator running as a separate process (e.g.
    /// http://127.0.0.1:7780): waits then move its virtual clock.
    #[arg(long, env = "SESSIONLAB_CONTROL_URL")]
    control: Option<String>,
    /// Device name in that emulator (default: the one serving --target).
    #[arg(long, env = "SESSIONLAB_DEVICE")]
    device: Option<String>,
    /// Seed that makes the tokens and ids of emulated devices reproducible.
    #[arg(long, env = "SESSIONLAB_SEED")]
    seed: Option<u64>,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Scenario files or folders (searched for *.toml).
    #[arg(default_value = "scenarios")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    target: TargetArgs,
    /// Run destructive scenarios (filling the session table, restarting) against a
    /// real device too. Emulated targets always run them.
    #[arg(long, env = "SESSIONLAB_ALLOW_DESTRUCTIVE", value_parser = emulator::flags::boolish)]
    allow_destructive: bool,
    /// Longest real waiting one scenario may do on a device without a virtual clock
    /// (e.g. 90s, 10m); longer scenarios are NOT-TESTED with the reason.
    #[arg(long, env = "SESSIONLAB_MAX_WAIT", default_value = "0s", value_parser = parse_wait)]
    max_wait: Duration,
    /// Scenarios run at once on emulated targets (each gets its own device).
    #[arg(long, env = "SESSIONLAB_JOBS", default_value_t = 8)]
    jobs: usize,
    /// Most logins a `fill` step tries when the device's table size is not known.
    #[arg(long, env = "SESSIONLAB_FILL_LIMIT", default_value_t = 256)]
    fill_limit: usize,
    /// How long a real device may take to answer again after a restart (e.g. 10m).
    #[arg(long, env = "SESSIONLAB_RESTART_TIMEOUT", default_value = "10m", value_parser = parse_wait)]
    restart_timeout: Duration,
    /// Only scenarios whose id (group/name) contains this text; repeatable.
    #[arg(long)]
    filter: Vec<String>,
    /// Also write the report as JSON to this file.
    #[arg(long, env = "SESSIONLAB_JSON")]
    json: Option<PathBuf>,
    /// Also write the report as JUnit XML to this file (for CI test reports).
    #[arg(long, env = "SESSIONLAB_JUNIT")]
    junit: Option<PathBuf>,
    /// No progress lines on standard error.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct HygieneArgs {
    /// Start an emulated device of this profile (name or file) for the command. Wins
    /// over --target and --control.
    #[arg(long, env = "SESSIONLAB_HYGIENE_PROFILE", required_unless_present_any = ["target", "control"])]
    profile: Option<String>,
    /// Shrink the device's session table to N sessions, to reproduce exhaustion fast.
    #[arg(long, env = "SESSIONLAB_MAX_SESSIONS", requires = "profile")]
    max_sessions: Option<usize>,
    /// Serve the device started for --profile over HTTPS, with a self-signed certificate
    /// made at start (clients must accept it, e.g. verify=False).
    #[arg(long, env = "SESSIONLAB_HYGIENE_TLS", requires = "profile", value_parser = emulator::flags::boolish)]
    tls: bool,
    /// Port of the device started for --profile, on 127.0.0.1 (default: any free port);
    /// e.g. --tls --port 443 for a client that talks to an iLO only on 443.
    #[arg(long, env = "SESSIONLAB_HYGIENE_PORT", requires = "profile")]
    port: Option<u16>,
    /// Use this device of an emulator that is already running (with --control).
    #[arg(long, env = "SESSIONLAB_TARGET")]
    target: Option<String>,
    /// Control API of the running emulator.
    #[arg(long, env = "SESSIONLAB_CONTROL_URL", default_value = "http://127.0.0.1:7780")]
    control: Option<String>,
    /// Device name in the running emulator (default: the one serving --target).
    #[arg(long, env = "SESSIONLAB_DEVICE")]
    device: Option<String>,
    /// User handed to the command (default: the profile's first account), e.g. a
    /// read-only account to see what a client does on 403.
    #[arg(long)]
    user: Option<String>,
    /// Password handed to the command.
    #[arg(long)]
    password: Option<String>,
    /// Leaked sessions tolerated before failing.
    #[arg(long, env = "SESSIONLAB_ALLOW_LEAKS", default_value_t = 0)]
    allow_leaks: usize,
    /// Seed that makes tokens and ids reproducible.
    #[arg(long, env = "SESSIONLAB_SEED")]
    seed: Option<u64>,
    /// Also write the report as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also write the report as JUnit XML to this file: one test per session left open.
    #[arg(long, env = "SESSIONLAB_HYGIENE_JUNIT")]
    junit: Option<PathBuf>,
    /// The client's command and its arguments, after `--`. Without one, report the
    /// sessions open right now (with --target).
    #[arg(last = true)]
    command: Vec<String>,
}

fn parse_wait(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    let d = scenario::parse_duration(text)?;
    if d.base != DurationBase::Fixed {
        return Err("give a fixed duration such as 90s or 10m".to_string());
    }
    d.resolve(None, None)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { paths } => check(&paths),
        Command::List { paths } => list(&paths),
        Command::Run(args) => runtime().block_on(run(args)),
        Command::Hygiene(args) => runtime().block_on(hygiene(args)),
        Command::Calibrate(args) => runtime().block_on(calibrate(args)),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap_or_else(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        std::process::exit(2)
    })
}

fn load(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    scenario::load(paths).map_err(|errors| {
        for e in &errors {
            eprintln!("error: {e}");
        }
        eprintln!("{} scenario file(s) cannot be used", errors.len());
        ExitCode::from(2)
    })
}

fn check(paths: &[PathBuf]) -> ExitCode {
    match load(paths) {
        Ok(scenarios) => {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            println!("ok: {} scenarios in {}", scenarios.len(), shown.join(", "));
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn list(paths: &[PathBuf]) -> ExitCode {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut out = String::new();
    for s in &scenarios {
        let mut applies: Vec<String> = s.vendors.iter().map(|v| format!("vendor {v}")).collect();
        applies.extend(s.profiles.iter().map(|p| format!("profile {p}")));
        let flags = match (s.destructive, &s.expected_fail) {
            (true, Some(_)) => " [destructive, expected to fail]",
            (true, None) => " [destructive]",
            (false, Some(_)) => " [expected to fail]",
            (false, None) => "",
        };
        out.push_str(&format!("{}{flags}\n", s.id()));
        out.push_str(&format!("    {}\n", s.description));
        out.push_str(&format!("    applies to: {}\n", applies.join(", ")));
        out.push_str(&format!("    source: {}\n", s.source));
    }
    emit(&out);
    ExitCode::SUCCESS
}

/// Writes a report to standard output; a closed pipe (`| head`) is not an error.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

async fn run(args: RunArgs) -> ExitCode {
    let mut scenarios = match load(&args.paths) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if !args.filter.is_empty() {
        scenarios.retain(|s| args.filter.iter().any(|f| s.id().contains(f.as_str())));
        if scenarios.is_empty() {
            // As pytest and nextest do: a filter that selects nothing is a mistake, not a pass.
            eprintln!(
                "error: no scenario id contains {} (`sessionlab-conformance list` shows them)",
                args.filter.iter().map(|f| format!("{f:?}")).collect::<Vec<_>>().join(" or ")
            );
            return ExitCode::from(2);
        }
    }
    let t = args.target;
    let opts = TargetOptions {
        target: t.target,
        vendor: t.vendor,
        profile: t.profile,
        user: t.user,
        password: t.password,
        insecure: t.insecure,
        control: t.control,
        device: t.device,
        seed: t.seed,
        restart_timeout: args.restart_timeout,
    };
    let spec = match TargetSpec::resolve(&opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let run_opts = RunOptions {
        allow_destructive: args.allow_destructive,
        max_wait: args.max_wait,
        jobs: args.jobs,
        fill_limit: args.fill_limit,
    };
    let progress = if args.quiet { Progress::Quiet } else { Progress::Stderr };
    progress.line(&format!("{} scenarios against {}", scenarios.len(), spec.label()));
    // The first Ctrl-C stops the run and cleans up; the cleanup runs to its end unless a
    // second Ctrl-C abandons it (the report then says what was left on the device). The
    // first listener is registered here, before the run touches the device. Made inside
    // the future the runner polls, it registered only when polled, and in CI a Ctrl-C
    // once found no handler there (the process ended by SIGINT itself, its sessions
    // open). The second listener is made only when first polled, after the first Ctrl-C.
    let ctrl_c = || async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    let interrupt = async move {
        match sigint.as_mut() {
            Ok(listener) => {
                listener.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    let report =
        runner::run_interruptible(&spec, &scenarios, &run_opts, progress, interrupt, ctrl_c())
            .await;
    let mut code = if report.interrupted {
        ExitCode::from(130)
    } else if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, report.json()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            code = ExitCode::from(2);
        }
    }
    if let Some(path) = &args.junit {
        let written = report.junit().and_then(|xml| {
            std::fs::write(path, xml).map_err(|e| format!("cannot write {}: {e}", path.display()))
        });
        if let Err(e) = written {
            eprintln!("error: {e}");
            code = ExitCode::from(2);
        }
    }
    emit(&report.text());
    code
}

fn target_options(t: TargetArgs) -> TargetOptions {
    TargetOptions {
        target: t.target,
        vendor: t.vendor,
        profile: t.profile,
        user: t.user,
        password: t.password,
        insecure: t.insecure,
        control: t.control,
        device: t.device,
        seed: t.seed,
        restart_timeout: Duration::from_secs(600),
    }
}

async fn calibrate(args: CalibrateArgs) -> ExitCode {
    use conformance::calibrate::{self, CalibrateError, CalibrateOptions};
    let opts = CalibrateOptions {
        target: target_options(args.target),
        base: args.base,
        name: args.name,
        allow_destructive: args.allow_destructive,
        max_wait: args.max_wait,
        fill_limit: args.fill_limit,
        capture: args.capture,
        output: args.output,
        force: args.force,
        date: calibrate::today(),
    };
    let quiet = args.quiet;
    let say = move |line: &str| {
        if !quiet || line.starts_with("about to") {
            eprintln!("sessionlab-conformance: {line}");
        }
    };
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match calibrate::calibrate(&opts, &say, ctrl_c).await {
        Ok(c) => {
            emit(&c.summary(&opts.output));
            ExitCode::SUCCESS
        }
        Err(e @ CalibrateError::Usage(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e @ CalibrateError::Interrupted(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn hygiene(args: HygieneArgs) -> ExitCode {
    let source = match (&args.profile, &args.control) {
        (Some(name), _) => hygiene::Source::Profile {
            name: name.clone(),
            max_sessions: args.max_sessions,
            seed: args.seed,
            tls: args.tls,
            port: args.port.unwrap_or(0),
            user: args.user.clone(),
            password: args.password.clone(),
        },
        (None, Some(control)) => hygiene::Source::Running {
            target: args.target.clone(),
            control: control.clone(),
            device: args.device.clone(),
            user: args.user.clone(),
            password: args.password.clone(),
        },
        (None, None) => {
            eprintln!("error: give --profile NAME, or --target URL with --control URL");
            return ExitCode::from(2);
        }
    };
    if args.command.is_empty() && matches!(source, hygiene::Source::Profile { .. }) {
        eprintln!("error: give the client's command after `--`, e.g. hygiene --profile redfish -- ./my-tests.sh");
        return ExitCode::from(2);
    }
    let opts = hygiene::Options { source, allow_leaks: args.allow_leaks, command: args.command };
    let report = match hygiene::run(&opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, report.json()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, report.junit()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    emit(&report.text());
    if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
