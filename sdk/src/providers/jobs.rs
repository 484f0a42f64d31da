//! Asynchronous jobs: a first request starts the work, later requests poll for it.
//!
//! Unlike the reference client, polling is always bounded: by the client's timeout when one is
//! set, else by [`DEFAULT_JOB_TIMEOUT`], and a job that does not finish in time ends with
//! [`Error::JobTimeout`] carrying its id. Dropping the call's future stops polling (nothing runs
//! in the background). Status changes can be observed with [`JobOptions::on_status`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::transport::PreparedRequest;
use crate::providers::Polling;

use super::adapter::Call;

/// How long a job may run when the client has no timeout.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(600);

/// A status report of a running job.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobStatus {
    /// The provider id.
    pub provider: &'static str,
    /// The provider's job id.
    pub job_id: String,
    /// The status as the provider spells it (`IN_QUEUE`, `processing`, `Pending`, …).
    pub status: String,
    /// Polls made so far.
    pub polls: u32,
    /// Time since the job was submitted.
    pub elapsed: Duration,
}

/// Callback receiving each [`JobStatus`].
pub type StatusCallback = Arc<dyn Fn(&JobStatus) + Send + Sync>;

/// Polling settings of one call.
#[derive(Clone, Default)]
pub struct JobOptions {
    /// Wait between polls; default: the provider's own interval (0.5 s to 5 s).
    pub poll_interval: Option<Duration>,
    /// Called on every status the provider reports.
    pub on_status: Option<StatusCallback>,
}

impl fmt::Debug for JobOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobOptions")
            .field("poll_interval", &self.poll_interval)
            .field("on_status", &self.on_status.is_some())
            .finish()
    }
}

/// What a job answer says about the job.
pub(crate) enum Phase {
    /// Still queued or running: poll again.
    Running,
    /// Finished: this answer holds the result.
    Done,
    /// Finished in failure, with the provider's reason.
    Failed(String),
}

/// The state of one job as it is followed.
pub(crate) struct Job<'a> {
    call: &'a Call<'a>,
    pub(crate) id: String,
    started: Instant,
    deadline: Duration,
    polls: u32,
    default_interval: Duration,
}

impl<'a> Job<'a> {
    pub(crate) fn new(
        call: &'a Call<'a>,
        id: impl Into<String>,
        default_interval: Duration,
    ) -> Self {
        Self {
            call,
            id: id.into(),
            started: Instant::now(),
            deadline: call.client.inner.timeout.unwrap_or(DEFAULT_JOB_TIMEOUT),
            polls: 0,
            default_interval,
        }
    }

    /// Reports a status to the caller's callback and the log.
    pub(crate) fn report(&self, status: &str) {
        tracing::debug!(job = %self.id, status, polls = self.polls, "job status");
        if let Some(callback) = &self.call.jobs.on_status {
            callback(&JobStatus {
                provider: self.call.target.provider_label(),
                job_id: self.id.clone(),
                status: status.to_owned(),
                polls: self.polls,
                elapsed: self.started.elapsed(),
            });
        }
    }

    /// Waits one interval, failing with [`Error::JobTimeout`] when the deadline would pass.
    pub(crate) async fn wait(&mut self) -> Result<()> {
        let interval = self
            .call
            .jobs
            .poll_interval
            .unwrap_or(self.default_interval);
        if self.started.elapsed() + interval > self.deadline {
            return Err(Error::JobTimeout {
                provider: self.call.target.provider_label().to_owned(),
                job_id: self.id.clone(),
                after: self.deadline,
            });
        }
        tokio::time::sleep(interval).await;
        self.polls += 1;
        Ok(())
    }

    /// The GET of `url` with the original request's headers (same host: the router, or the
    /// provider's own); credentials are dropped if the URL is on another origin.
    pub(crate) fn poll_request(&self, url: url::Url, request: &PreparedRequest) -> PreparedRequest {
        let mut poll = request.clone();
        poll.method = reqwest::Method::GET;
        poll.url = self.call.client.inner.endpoints.redirect(url);
        poll.body = None;
        poll.headers.remove(reqwest::header::CONTENT_TYPE);
        if poll.url.origin() != request.url.origin() {
            // Credentials stay with the host they were meant for.
            poll.headers.remove(reqwest::header::AUTHORIZATION);
            poll.headers.remove("x-key");
        }
        poll
    }

    /// GETs `url` as [`poll_request`](Self::poll_request) builds it, returning its JSON.
    pub(crate) async fn get_json(&self, url: url::Url, request: &PreparedRequest) -> Result<Value> {
        let (value, _) = self
            .call
            .client
            .execute_json::<Value>(&self.poll_request(url, request))
            .await?;
        Ok(value)
    }

    /// The polling loop every job protocol shares: send `poll`, report the status `classify`
    /// reads from the answer, and stop when it says the job is done (returning that answer) or
    /// failed. Each poll but an `immediate` first one comes after an interval; the deadline
    /// ends the loop with [`Error::JobTimeout`].
    pub(crate) async fn poll_until(
        &mut self,
        poll: &PreparedRequest,
        immediate: bool,
        classify: impl Fn(&Value) -> Result<(String, Phase)>,
    ) -> Result<Value> {
        let mut wait = !immediate;
        loop {
            if wait {
                self.wait().await?;
            }
            wait = true;
            let (answer, _) = self.call.client.execute_json::<Value>(poll).await?;
            let (status, phase) = classify(&answer)?;
            self.report(&status);
            match phase {
                Phase::Running => {}
                Phase::Done => return Ok(answer),
                Phase::Failed(message) => return Err(self.failed(message)),
            }
        }
    }

    /// A failed job.
    pub(crate) fn failed(&self, message: impl Into<String>) -> Error {
        Error::JobFailed {
            provider: self.call.target.provider_label().to_owned(),
            message: message.into(),
            job_id: Some(self.id.clone()),
        }
    }
}

/// Follows the job that `first` (the first answer) started, per the entry's protocol, to the
/// final JSON answer.
pub(crate) async fn follow(
    call: &Call<'_>,
    polling: Polling,
    request: &PreparedRequest,
    first: Value,
) -> Result<Value> {
    match polling {
        Polling::None | Polling::ReplicateWait => Ok(first),
        Polling::FalQueue => super::fal_ai::follow_queue(call, request, first).await,
        Polling::Wavespeed => super::wavespeed::follow(call, request, first).await,
        Polling::Zai => super::zai_org::follow(call, request, first).await,
        Polling::Bfl => super::black_forest_labs::follow(call, request, first).await,
        Polling::TogetherVideo => super::together::follow_video(call, request, first).await,
        Polling::NovitaMinimax => super::novita::follow_minimax(call, request, first).await,
    }
}
