//! Where requests go and what they carry: endpoints (all redirectable), token sources, and the
//! environment variables `InferenceClientBuilder::from_env` reads.
//!
//! Nothing here reads the environment unless the caller asked (`from_env()`).
//!
//! | variable | effect |
//! |---|---|
//! | `HF_TOKEN`, `HUGGING_FACE_HUB_TOKEN` | the token (first non-empty wins) |
//! | `HF_TOKEN_PATH` | token file; default `$HF_HOME/token`, `HF_HOME` defaulting to `$XDG_CACHE_HOME/huggingface` or `~/.cache/huggingface` |
//! | `HF_ENDPOINT` | Hub API base (provider mapping lookups), default `https://huggingface.co` |
//! | `HF_INFERENCE_ROUTER_URL` | router base, default `https://router.huggingface.co` |
//! | `HF_INFERENCE_PROVIDER_URLS` | direct provider bases, `id=url` pairs separated by `,` (e.g. `together=http://127.0.0.1:8081`); `id.host=url` targets one named host (`fal-ai.queue=…`) |
//! | `HF_INFERENCE_HOST_REDIRECTS` | any host the client talks to, including follow-up polls and file downloads: `host=url` pairs separated by `,` (e.g. `fal.media=http://127.0.0.1:8082`) |
//! | `HF_INFERENCE_PROVIDER` | default provider (`auto` or a provider id) |
//! | `HF_INFERENCE_ENDPOINTS_URL` | Inference Endpoints API base, default `https://api.endpoints.huggingface.cloud/v2` |
//! | `HF_INFERENCE_CATALOG_URL` | Inference Catalog API base, default `https://endpoints.huggingface.co/api/v1/catalog` |

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

use crate::error::{Error, Result};
use crate::providers::{Provider, ProviderSpec};

/// Default Hub API base.
pub const DEFAULT_HUB_URL: &str = "https://huggingface.co";
/// Default Inference Endpoints API base (create, inspect and manage dedicated endpoints).
pub const DEFAULT_INFERENCE_ENDPOINTS_URL: &str = "https://api.endpoints.huggingface.cloud/v2";
/// Default Inference Catalog API base (curated models with ready-made deployment recipes).
pub const DEFAULT_INFERENCE_CATALOG_URL: &str = "https://endpoints.huggingface.co/api/v1/catalog";

/// The base URLs the client talks to, each of which can be pointed elsewhere (a gateway, a test
/// server on loopback).
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub(crate) hub: Url,
    pub(crate) router: Url,
    pub(crate) inference_endpoints: Url,
    pub(crate) inference_catalog: Url,
    /// (provider, host name) → base; host name `*` stands for every host of the provider.
    pub(crate) provider_hosts: HashMap<(Provider, String), Url>,
    /// `host[:port]` → replacement origin (and path prefix), applied to every request.
    pub(crate) host_redirects: HashMap<String, Url>,
}

impl Default for Endpoints {
    fn default() -> Self {
        Self {
            hub: Url::parse(DEFAULT_HUB_URL).expect("valid default URL"),
            router: Url::parse(crate::providers::ROUTER_BASE_URL).expect("valid default URL"),
            inference_endpoints: Url::parse(DEFAULT_INFERENCE_ENDPOINTS_URL)
                .expect("valid default URL"),
            inference_catalog: Url::parse(DEFAULT_INFERENCE_CATALOG_URL)
                .expect("valid default URL"),
            provider_hosts: HashMap::new(),
            host_redirects: HashMap::new(),
        }
    }
}

impl Endpoints {
    /// The Hub API base.
    pub fn hub(&self) -> &Url {
        &self.hub
    }

    /// The router base.
    pub fn router(&self) -> &Url {
        &self.router
    }

    /// The Inference Endpoints API base.
    pub fn inference_endpoints(&self) -> &Url {
        &self.inference_endpoints
    }

    /// The Inference Catalog API base.
    pub fn inference_catalog(&self) -> &Url {
        &self.inference_catalog
    }

    /// Base URL of a provider's named host in direct mode, after overrides.
    pub(crate) fn provider_host(&self, spec: &ProviderSpec, host: &str) -> Result<Url> {
        if let Some(url) = self
            .provider_hosts
            .get(&(spec.provider, host.to_owned()))
            .or_else(|| self.provider_hosts.get(&(spec.provider, "*".to_owned())))
        {
            return Ok(url.clone());
        }
        let base = spec.host(host).ok_or_else(|| {
            Error::Config(format!(
                "provider `{}` has no host named `{host}` in the provider table",
                spec.id()
            ))
        })?;
        parse_base(base)
    }

    /// Applies the host redirects to a URL about to be requested.
    pub(crate) fn redirect(&self, url: Url) -> Url {
        if self.host_redirects.is_empty() {
            return url;
        }
        let Some(host) = url.host_str() else {
            return url;
        };
        let key_with_port = url.port().map(|p| format!("{host}:{p}"));
        let target = key_with_port
            .as_deref()
            .and_then(|k| self.host_redirects.get(k))
            .or_else(|| self.host_redirects.get(host));
        let Some(target) = target else {
            return url;
        };
        let mut out = target.clone();
        let prefix = target.path().trim_end_matches('/');
        out.set_path(&format!("{prefix}{}", url.path()));
        out.set_query(url.query());
        out
    }
}

/// Parses a base URL given by the caller or the table, naming it on error.
pub(crate) fn parse_base(text: &str) -> Result<Url> {
    let url =
        Url::parse(text).map_err(|e| Error::Config(format!("invalid base URL `{text}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Config(format!(
            "base URL `{text}` must be http or https"
        )));
    }
    Ok(url)
}

/// Joins a base URL and a route the way the reference does: `base.rstrip('/') + '/' +
/// route.lstrip('/')`, keeping the base's query string.
pub(crate) fn join_route(base: &Url, route: &str, extra_query: Option<&str>) -> Url {
    let mut url = base.clone();
    let path = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        route.trim_start_matches('/')
    );
    let (path, route_query) = match path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path, None),
    };
    url.set_path(&path);
    let query: Vec<&str> = [base.query(), route_query.as_deref(), extra_query]
        .into_iter()
        .flatten()
        .filter(|q| !q.is_empty())
        .collect();
    let joined = query.join("&");
    url.set_query(if joined.is_empty() {
        None
    } else {
        Some(&joined)
    });
    url
}

/// Reads `NAME=url` pairs separated by commas.
pub(crate) fn parse_pairs(variable: &str, text: &str) -> Result<Vec<(String, Url)>> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (name, url) = pair.split_once('=').ok_or_else(|| {
                Error::Config(format!("{variable}: expected `name=url`, found `{pair}`"))
            })?;
            Ok((name.trim().to_owned(), parse_base(url.trim())?))
        })
        .collect()
}

/// The token file the reference client uses: `HF_TOKEN_PATH`, else `$HF_HOME/token`, else
/// `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`.
pub(crate) fn token_file_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(path) = env("HF_TOKEN_PATH").filter(|s| !s.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let home = env("HF_HOME")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env("XDG_CACHE_HOME")
                .filter(|s| !s.is_empty())
                .map(|c| PathBuf::from(c).join("huggingface"))
        })
        .or_else(|| {
            env("HOME")
                .filter(|s| !s.is_empty())
                .map(|h| PathBuf::from(h).join(".cache").join("huggingface"))
        })?;
    Some(home.join("token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_route_follows_the_reference_rule() {
        let base = Url::parse("https://router.huggingface.co/together").unwrap();
        assert_eq!(
            join_route(&base, "/v1/chat/completions", None).as_str(),
            "https://router.huggingface.co/together/v1/chat/completions"
        );
        let base = Url::parse("https://router.huggingface.co/fal-ai/").unwrap();
        assert_eq!(
            join_route(&base, "/fal-ai/flux/dev", Some("_subdomain=queue")).as_str(),
            "https://router.huggingface.co/fal-ai/fal-ai/flux/dev?_subdomain=queue"
        );
    }

    #[test]
    fn redirects_keep_path_and_query() {
        let mut endpoints = Endpoints::default();
        endpoints.host_redirects.insert(
            "fal.media".into(),
            Url::parse("http://127.0.0.1:9000/fal").unwrap(),
        );
        let url = Url::parse("https://fal.media/files/a.png?x=1").unwrap();
        assert_eq!(
            endpoints.redirect(url).as_str(),
            "http://127.0.0.1:9000/fal/files/a.png?x=1"
        );
        let other = Url::parse("https://example.com/a").unwrap();
        assert_eq!(endpoints.redirect(other.clone()), other);
    }

    #[test]
    fn token_file_precedence() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(
            token_file_path(&env(&[("HF_TOKEN_PATH", "/t"), ("HF_HOME", "/h")])),
            Some(PathBuf::from("/t"))
        );
        assert_eq!(
            token_file_path(&env(&[("HF_HOME", "/h"), ("HOME", "/home/u")])),
            Some(PathBuf::from("/h/token"))
        );
        assert_eq!(
            token_file_path(&env(&[("XDG_CACHE_HOME", "/c"), ("HOME", "/home/u")])),
            Some(PathBuf::from("/c/huggingface/token"))
        );
        assert_eq!(
            token_file_path(&env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.cache/huggingface/token"))
        );
    }

    #[test]
    fn pairs_parse_and_reject_garbage() {
        let pairs = parse_pairs("V", "a=http://x:1, b.queue=https://y").unwrap();
        assert_eq!(pairs[0].0, "a");
        assert_eq!(pairs[1].0, "b.queue");
        assert!(parse_pairs("V", "nonsense").is_err());
    }
}
