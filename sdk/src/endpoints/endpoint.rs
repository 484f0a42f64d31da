//! [`InferenceEndpoint`]: one endpoint, its lifecycle calls, and [`wait`](InferenceEndpoint::wait).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::InferenceClient;
use crate::config::{join_route, parse_base};
use crate::error::{Error, Result};

use super::{EndpointDetails, EndpointState, InferenceEndpoints, UpdateEndpoint};

/// Default time between two refreshes in [`InferenceEndpoint::wait`] (as `huggingface_hub`).
pub const DEFAULT_WAIT_INTERVAL: Duration = Duration::from_secs(5);
/// Default bound of [`InferenceEndpoint::wait`]: large models can take a while to deploy.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Bound of one health probe inside `wait` when the client has no timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// One Inference Endpoint: what the service last said about it, and the client it was read
/// with (token, settings, connection pool), which its methods and [`client`](Self::client) use.
///
/// Lifecycle calls ([`refresh`](Self::refresh), [`pause`](Self::pause),
/// [`resume`](Self::resume), [`scale_to_zero`](Self::scale_to_zero)) replace what the value holds
/// with the service's answer.
#[derive(Clone)]
pub struct InferenceEndpoint {
    api: InferenceEndpoints,
    namespace: String,
    details: EndpointDetails,
    raw: Value,
}

impl fmt::Debug for InferenceEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InferenceEndpoint")
            .field("name", &self.details.name)
            .field("namespace", &self.namespace)
            .field("repository", &self.details.model.repository)
            .field("state", &self.details.status.state)
            .field("url", &self.details.status.url)
            .field("health_route", &self.details.health_route)
            .finish_non_exhaustive()
    }
}

impl InferenceEndpoint {
    /// Reads a service answer; the namespace is the one of the request (the answer has none).
    pub(crate) fn from_value(
        api: InferenceEndpoints,
        namespace: String,
        raw: Value,
    ) -> Result<Self> {
        let details = parse_details(&raw)?;
        Ok(Self {
            api,
            namespace,
            details,
            raw,
        })
    }

    /// The endpoint name.
    pub fn name(&self) -> &str {
        &self.details.name
    }

    /// Its namespace (user or organization).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Its state when last read.
    pub fn state(&self) -> &EndpointState {
        &self.details.status.state
    }

    /// The URL to call, once deployed.
    pub fn url(&self) -> Option<&str> {
        self.details.status.url.as_deref()
    }

    /// The Hub repository it serves.
    pub fn repository(&self) -> Option<&str> {
        self.details.model.repository.as_deref()
    }

    /// Everything the service said, typed.
    pub fn details(&self) -> &EndpointDetails {
        &self.details
    }

    /// Everything the service said, as it said it.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The API handle it was read with.
    pub fn api(&self) -> &InferenceEndpoints {
        &self.api
    }

    fn replace(&mut self, fresh: InferenceEndpoint) {
        self.details = fresh.details;
        self.raw = fresh.raw;
    }

    /// Reads it again from the service.
    pub async fn refresh(&mut self) -> Result<()> {
        let fresh = self.scoped().get(self.name()).await?;
        self.replace(fresh);
        Ok(())
    }

    /// Pauses it (see [`InferenceEndpoints::pause`]).
    pub async fn pause(&mut self) -> Result<()> {
        let fresh = self.scoped().pause(self.name()).await?;
        self.replace(fresh);
        Ok(())
    }

    /// Resumes it (see [`InferenceEndpoints::resume`]); then [`wait`](Self::wait) for it.
    pub async fn resume(&mut self) -> Result<()> {
        let fresh = self.scoped().resume(self.name()).await?;
        self.replace(fresh);
        Ok(())
    }

    /// Scales it to zero (see [`InferenceEndpoints::scale_to_zero`]).
    pub async fn scale_to_zero(&mut self) -> Result<()> {
        let fresh = self.scoped().scale_to_zero(self.name()).await?;
        self.replace(fresh);
        Ok(())
    }

    /// Starts an update of it; [`send`](UpdateEndpoint::send) returns the updated endpoint.
    pub fn update(&self) -> UpdateEndpoint {
        self.scoped().update(self.name())
    }

    /// Deletes it, for good.
    pub async fn delete(self) -> Result<()> {
        self.scoped().delete(self.name()).await
    }

    /// The API handle pinned to this endpoint's namespace.
    fn scoped(&self) -> InferenceEndpoints {
        self.api.clone().namespace(self.namespace.clone())
    }

    /// A client bound to the endpoint's URL, with the same token and settings (and the same
    /// connection pool). Chat calls go to `{url}/v1/chat/completions`, other tasks to `{url}`.
    ///
    /// Fails when the endpoint has no URL yet: [`wait`](Self::wait) for it first. A
    /// scaled-to-zero endpoint keeps its URL, and its first request wakes it up.
    pub fn client(&self) -> Result<InferenceClient> {
        let url = self.url().ok_or_else(|| Error::InvalidInput {
            field: "endpoint".into(),
            message: format!(
                "inference endpoint `{}` has no URL yet (state `{}`): wait until it runs",
                self.name(),
                self.state()
            ),
        })?;
        Ok(self.api.client().with_base_url(parse_base(url)?))
    }

    /// Waits until the endpoint runs and answers on its health route: refreshes every
    /// [`interval`](Wait::interval) (default [`DEFAULT_WAIT_INTERVAL`]) for at most
    /// [`timeout`](Wait::timeout) (default [`DEFAULT_WAIT_TIMEOUT`]).
    ///
    /// Ends with [`Error::EndpointFailed`] in `failed` or `updateFailed`, and with
    /// [`Error::EndpointTimeout`] (carrying the last state) when time runs out; a paused or
    /// scaled-to-zero endpoint does not start by itself, so waiting on one ends in a timeout.
    /// A health route that does not answer yet (connection refused, not 200) counts as "not
    /// ready". Dropping the future stops it: nothing runs in the background.
    ///
    /// ```no_run
    /// # async fn demo(mut endpoint: hf_inference::endpoints::InferenceEndpoint) -> hf_inference::Result<()> {
    /// use std::time::Duration;
    /// endpoint
    ///     .wait()
    ///     .interval(Duration::from_secs(10))
    ///     .timeout(Duration::from_secs(900))
    ///     .on_progress(|p| if p.changed() { eprintln!("{} is {}", p.name, p.state) })
    ///     .await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&mut self) -> Wait<'_> {
        Wait {
            endpoint: self,
            interval: DEFAULT_WAIT_INTERVAL,
            timeout: DEFAULT_WAIT_TIMEOUT,
            on_progress: None,
        }
    }
}

fn parse_details(raw: &Value) -> Result<EndpointDetails> {
    use serde::Deserialize as _;
    EndpointDetails::deserialize(raw)
        .map_err(|e| Error::decode::<EndpointDetails>(e, raw.to_string().as_bytes()))
}

/// What [`InferenceEndpoint::wait`] reports after each look at the endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// The endpoint name.
    pub name: String,
    /// Its state now.
    pub state: EndpointState,
    /// Its state at the previous look (`None` at the first).
    pub previous: Option<EndpointState>,
    /// The service's status message.
    pub message: Option<String>,
    /// Refreshes made so far.
    pub polls: u32,
    /// Time since waiting started.
    pub elapsed: Duration,
}

impl WaitProgress {
    /// Whether the state differs from the previous look (always true at the first).
    pub fn changed(&self) -> bool {
        self.previous.as_ref() != Some(&self.state)
    }
}

/// Callback receiving each [`WaitProgress`].
pub type ProgressCallback = Arc<dyn Fn(&WaitProgress) + Send + Sync>;

/// A wait being set up; `.await` it. See [`InferenceEndpoint::wait`].
#[must_use = "a wait does nothing until awaited"]
pub struct Wait<'a> {
    endpoint: &'a mut InferenceEndpoint,
    interval: Duration,
    timeout: Duration,
    on_progress: Option<ProgressCallback>,
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("endpoint", &self.endpoint.name())
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("on_progress", &self.on_progress.is_some())
            .finish()
    }
}

impl Wait<'_> {
    /// Time between two refreshes (default [`DEFAULT_WAIT_INTERVAL`]).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The most time to wait (default [`DEFAULT_WAIT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Called after each look at the endpoint (the first one before any refresh), for a
    /// progress display; [`WaitProgress::changed`] tells state changes apart.
    pub fn on_progress(mut self, callback: impl Fn(&WaitProgress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(callback));
        self
    }

    async fn run(self) -> Result<()> {
        let Wait {
            endpoint,
            interval,
            timeout,
            on_progress,
        } = self;
        if interval.is_zero() {
            return Err(Error::InvalidInput {
                field: "interval".into(),
                message: "the wait interval must be positive".into(),
            });
        }
        let started = Instant::now();
        let mut polls = 0;
        let mut previous: Option<EndpointState> = None;
        loop {
            let state = endpoint.state().clone();
            let progress = WaitProgress {
                name: endpoint.name().to_owned(),
                state: state.clone(),
                previous: previous.replace(state.clone()),
                message: endpoint.details.status.message.clone(),
                polls,
                elapsed: started.elapsed(),
            };
            tracing::debug!(endpoint = %progress.name, state = %progress.state, polls, "endpoint state");
            if let Some(callback) = &on_progress {
                callback(&progress);
            }
            if state.is_failure() {
                return Err(Error::EndpointFailed {
                    name: progress.name,
                    state,
                    message: progress.message,
                });
            }
            if state == EndpointState::Running
                && let Some(url) = endpoint.url()
                && is_healthy(endpoint, url).await
            {
                return Ok(());
            }
            let elapsed = started.elapsed();
            if elapsed >= timeout {
                return Err(Error::EndpointTimeout {
                    name: progress.name,
                    state,
                    after: timeout,
                });
            }
            // The last refresh lands on the deadline, so the state reported is the latest.
            tokio::time::sleep(interval.min(timeout - elapsed)).await;
            endpoint.refresh().await?;
            polls += 1;
        }
    }
}

impl<'a> IntoFuture for Wait<'a> {
    type Output = Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// Whether the running endpoint answers 200 on its health route. Not answering (yet) is not an
/// error: a fresh endpoint's DNS name or load balancer may lag its state.
async fn is_healthy(endpoint: &InferenceEndpoint, url: &str) -> bool {
    let route = endpoint
        .details
        .health_route
        .as_deref()
        .unwrap_or("/health");
    let Ok(base) = parse_base(url) else {
        return false;
    };
    let probe_url = join_route(&base, route, None);
    let client = endpoint.api.client();
    let limit = client.inner.timeout.unwrap_or(PROBE_TIMEOUT);
    match super::server::probe(client, probe_url, Some(limit)).await {
        Ok(status) => {
            tracing::debug!(endpoint = endpoint.name(), status, "health probe");
            status == 200
        }
        Err(error) => {
            tracing::debug!(endpoint = endpoint.name(), %error, "health probe failed");
            false
        }
    }
}
