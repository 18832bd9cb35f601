//! What fmsd counts, for Prometheus: every series' name in one place, and one small function
//! per thing recorded, so the rest of the code says *what* happened and never spells a name.
//!
//! The functions record through the `metrics` facade. Until [`install`] puts the Prometheus
//! recorder in place (only when `[metrics] listen` is set) they cost next to nothing and record
//! nothing. The recorder is process-wide: every `App` in one process (the tests run many)
//! records into the same series, and each serves all of them at its `/metrics`.
//!
//! Gauges that are cheaper to ask for than to keep up to date (open upload sessions, outbox
//! backlogs) are read when `/metrics` is scraped, through [`Gauges`]; the consumer lag is set
//! by each consumer after it commits, where it knows its position and the end of the log.
//!
//! **Invariant:** this module knows no service, no adapter and no HTTP; the services and
//! adapters call its functions, the gateway serves [`Recorder::render`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by `method`, matched `route` template and `status`.
pub const HTTP_REQUESTS: &str = "fms_http_requests_total";
/// How long requests took to answer (to the response head), by `method`, `route` and `status`.
pub const HTTP_REQUEST_DURATION: &str = "fms_http_request_duration_seconds";
/// Bytes of upload parts received by fmsd itself (the embedded blob store's part URLs).
pub const UPLOADED_BYTES: &str = "fms_uploaded_bytes_total";
/// Bytes of files served by fmsd itself (the embedded blob store's download URLs).
pub const DOWNLOADED_BYTES: &str = "fms_downloaded_bytes_total";
/// Upload sessions open (created, neither completed, aborted nor swept).
pub const UPLOADS_IN_PROGRESS: &str = "fms_uploads_in_progress";
/// Events in a service's outbox not yet published, by `service`.
pub const OUTBOX_BACKLOG: &str = "fms_outbox_backlog_events";
/// Events on a topic a consumer group has not yet handled, by `group` and `topic`.
pub const CONSUMER_LAG: &str = "fms_consumer_lag_events";
/// Events a consumer gave up on and sent to `<topic>.dlq`, by `group` and `topic`.
pub const DEAD_LETTERED: &str = "fms_dead_lettered_events_total";
/// Mails the mailer accepted.
pub const MAILS_SENT: &str = "fms_mails_sent_total";
/// Mails the mailer refused or could not send.
pub const MAILS_FAILED: &str = "fms_mails_failed_total";
/// Logins refused for a wrong e-mail address or password.
pub const LOGINS_FAILED: &str = "fms_logins_failed_total";
/// Logins refused because a guessing limit was used up (429).
pub const LOGINS_RATE_LIMITED: &str = "fms_logins_rate_limited_total";

/// Upper bounds of the request-duration buckets, in seconds: a cheap JSON call takes a
/// millisecond, a large part upload tens of seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The process's Prometheus recorder, once installed.
static RECORDER: Mutex<Option<Recorder>> = Mutex::new(None);

/// Whether [`install`] ran, so that what costs a query to measure is measured only then.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// The Prometheus recorder: renders every series in the text exposition format.
#[derive(Clone)]
pub struct Recorder {
    /// The exporter's handle on the process-wide registry.
    handle: PrometheusHandle,
}

impl Recorder {
    /// Every series now, as Prometheus scrapes it.
    pub fn render(&self) -> String {
        // Histograms gather samples in buckets that upkeep folds in; a scrape is when it matters.
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Installs the Prometheus recorder for the whole process, or hands back the one installed
/// before (a second `App` in the same process, as in the tests).
pub fn install() -> anyhow::Result<Recorder> {
    // Held while installing, so two apps starting at once install one recorder.
    let mut installed = RECORDER
        .lock()
        .map_err(|_| anyhow::anyhow!("the metrics recorder's lock is poisoned"))?;
    if let Some(recorder) = installed.as_ref() {
        return Ok(recorder.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HTTP_REQUEST_DURATION.into()),
            DURATION_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|error| anyhow::anyhow!("failed to install the metrics recorder: {error}"))?;
    describe();
    start_at_zero();
    let recorder = Recorder { handle };
    *installed = Some(recorder.clone());
    ENABLED.store(true, Ordering::Relaxed);
    Ok(recorder)
}

/// Whether anything is recorded: a measure that costs a query (the consumer lag) is skipped
/// when nobody will see it.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "time to answer an HTTP request, by route template and status"
    );
    describe_counter!(UPLOADED_BYTES, Unit::Bytes, "upload part bytes received");
    describe_counter!(DOWNLOADED_BYTES, Unit::Bytes, "file bytes served");
    describe_gauge!(UPLOADS_IN_PROGRESS, "upload sessions open");
    describe_gauge!(OUTBOX_BACKLOG, "outbox events not yet published");
    describe_gauge!(CONSUMER_LAG, "events a consumer group has not yet handled");
    describe_counter!(DEAD_LETTERED, "events sent to a dead-letter topic");
    describe_counter!(MAILS_SENT, "mails sent");
    describe_counter!(MAILS_FAILED, "mails that failed to send");
    describe_counter!(
        LOGINS_FAILED,
        "logins with a wrong e-mail address or password"
    );
    describe_counter!(LOGINS_RATE_LIMITED, "logins refused by a guessing limit");
}

/// The counters without labels, shown at 0 from the start: a series that appears only with its
/// first event hides a rate that is really zero, and an alert on it would stay silent.
fn start_at_zero() {
    for name in [
        UPLOADED_BYTES,
        DOWNLOADED_BYTES,
        MAILS_SENT,
        MAILS_FAILED,
        LOGINS_FAILED,
        LOGINS_RATE_LIMITED,
    ] {
        metrics::counter!(name).absolute(0);
    }
}

/// Gauges read at scrape time rather than kept up to date.
#[async_trait]
pub trait Gauges: Send + Sync {
    /// Sets them to what the stores hold now; a store that does not answer keeps its last value.
    async fn refresh(&self);
}

/// One request answered.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, &labels).record(took.as_secs_f64());
}

/// `n_bytes` of an upload part received.
pub fn bytes_uploaded(n_bytes: usize) {
    metrics::counter!(UPLOADED_BYTES).increment(n_bytes as u64);
}

/// `n_bytes` of a file served.
pub fn bytes_downloaded(n_bytes: usize) {
    metrics::counter!(DOWNLOADED_BYTES).increment(n_bytes as u64);
}

/// `n_sessions` upload sessions are open.
pub fn uploads_in_progress(n_sessions: u64) {
    metrics::gauge!(UPLOADS_IN_PROGRESS).set(n_sessions as f64);
}

/// `n_events` wait in `service`'s outbox.
pub fn outbox_backlog(service: &'static str, n_events: u64) {
    metrics::gauge!(OUTBOX_BACKLOG, "service" => service).set(n_events as f64);
}

/// `group` has `n_events` of `topic` left to handle.
pub fn consumer_lag(group: &str, topic: &str, n_events: u64) {
    metrics::gauge!(CONSUMER_LAG, "group" => group.to_owned(), "topic" => topic.to_owned())
        .set(n_events as f64);
}

/// `group` dead-lettered an event of `topic`.
pub fn dead_lettered(group: &str, topic: &str) {
    metrics::counter!(DEAD_LETTERED, "group" => group.to_owned(), "topic" => topic.to_owned())
        .increment(1);
}

/// A mail went out (`sent`) or did not.
pub fn mail(sent: bool) {
    let name = if sent { MAILS_SENT } else { MAILS_FAILED };
    metrics::counter!(name).increment(1);
}

/// A login was refused for bad credentials.
pub fn login_failed() {
    metrics::counter!(LOGINS_FAILED).increment(1);
}

/// A login was refused by a guessing limit.
pub fn login_rate_limited() {
    metrics::counter!(LOGINS_RATE_LIMITED).increment(1);
}
