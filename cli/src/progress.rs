//! Job progress on stderr, fed by the SDK's job status observer (`on_status`).
//!
//! On a terminal: an indicatif spinner with the job's status, polls and elapsed time. Elsewhere
//! (a log, a test): one plain line per status change, so the information is not lost.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_inference::providers::jobs::JobStatus;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress display of one call.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
    enabled: bool,
    /// The last status printed as a line (no spinner).
    last: Arc<Mutex<Option<String>>>,
}

impl Progress {
    /// A display on stderr (`enabled: false` shows nothing).
    pub fn new(enabled: bool) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar
        });
        Self {
            bar,
            enabled,
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// The callback to give `on_status`.
    pub fn observer(&self) -> impl Fn(&JobStatus) + Send + Sync + 'static {
        let this = self.clone();
        move |status: &JobStatus| this.update(status)
    }

    fn update(&self, status: &JobStatus) {
        let message = format!(
            "{} job {}: {} (poll {}, {:.1}s)",
            status.provider,
            status.job_id,
            status.status,
            status.polls,
            status.elapsed.as_secs_f64()
        );
        match &self.bar {
            Some(bar) => {
                bar.enable_steady_tick(Duration::from_millis(120));
                bar.set_message(message);
            }
            None if self.enabled => {
                let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
                if last.as_deref() != Some(status.status.as_str()) {
                    eprintln!("hfi: {message}");
                    *last = Some(status.status.clone());
                }
            }
            None => {}
        }
    }

    /// Removes the spinner.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
