//! A replica in an S3-compatible bucket (R-6.5b: copies on more than one kind of medium).
//!
//! `object_store`'s S3 client, with two parts of our own so that the build needs no C
//! compiler for cryptography: SigV4 signing through `ring` (the same as the TLS of `ecert
//! serve`), and HTTP through hyper with rustls on `ring` and the system's root certificates.
//! The guarantees are those of every replica ([`crate::Replica`]): a file is written before its
//! record commits and never overwritten (`PutMode::Create`, sent as `If-None-Match: *`), its
//! SM3 is checked at every read, scrub repairs it from another replica, disposal deletes it.
//! Credentials come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`), never from the configuration file.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector as TcpConnector;
use hyper_util::rt::TokioExecutor;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::client::{
    ClientOptions, HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest,
    HttpRequestBody, HttpResponse, HttpResponseBody, HttpService,
};
use object_store::prefix::PrefixStore;

use crate::blobs::Replica;
use crate::error::{Result, StoreError};

/// Where a bucket replica is (`[[storage.s3]]` in `ecert.toml`).
#[derive(Clone)]
pub struct S3Location {
    /// The replica's name in messages and reports.
    pub name: String,
    /// The service's address (`https://s3.example.cn`, `http://127.0.0.1:9000`); `None`: AWS
    /// itself for `region`.
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The region (`us-east-1` when the service has none).
    pub region: String,
    /// A folder inside the bucket that holds the files (`None`: the bucket's top).
    pub prefix: Option<String>,
    /// Address the bucket as `endpoint/bucket/key` (most self-hosted services) rather than
    /// `bucket.endpoint/key`.
    pub path_style: bool,
    /// Allow a plain `http://` endpoint (a loopback test server; never over a network).
    pub allow_http: bool,
    /// The access key id and secret; `None` (what the configuration gives): from the
    /// environment.
    pub credentials: Option<(String, zeroize::Zeroizing<String>)>,
}

impl std::fmt::Debug for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Location")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .field("credentials", &self.credentials.as_ref().map(|(id, _)| id))
            .finish()
    }
}

/// Longest time one request to the bucket may take before it is given up (and the write or
/// read fails, naming the replica).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl Replica {
    /// A replica in the bucket `location` names, credentials from the environment.
    pub fn s3(location: &S3Location) -> Result<Replica> {
        let fail = |source: object_store::Error| StoreError::Replica {
            replica: location.name.clone(),
            source: Box::new(source),
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_virtual_hosted_style_request(!location.path_style)
            .with_allow_http(location.allow_http)
            .with_http_connector(HyperConnector);
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        if let Some((id, secret)) = &location.credentials {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret.as_str());
        }
        let s3 = builder.build().map_err(fail)?;
        let store: Arc<dyn ObjectStore> = match location.prefix.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Arc::new(PrefixStore::new(s3, p)),
            _ => Arc::new(s3),
        };
        Ok(Replica::new(location.name.clone(), store))
    }
}

/// Makes [`HyperService`] clients for `object_store`.
#[derive(Debug, Clone, Copy)]
struct HyperConnector;

impl HttpConnector for HyperConnector {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: format!("the system's root certificates cannot be read: {e}").into(),
            })?
            .https_or_http()
            .enable_http1()
            .wrap_connector({
                let mut tcp = TcpConnector::new();
                tcp.enforce_http(false);
                tcp.set_connect_timeout(Some(Duration::from_secs(10)));
                tcp.set_nodelay(true);
                tcp
            });
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(HttpClient::new(HyperService { client }))
    }
}

type HyperClient = Client<hyper_rustls::HttpsConnector<TcpConnector>, HttpRequestBody>;

/// One pooled hyper client that sends `object_store`'s requests.
#[derive(Debug, Clone)]
struct HyperService {
    client: HyperClient,
}

#[async_trait::async_trait]
impl HttpService for HyperService {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let sent = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(req)).await;
        let response = match sent {
            Err(elapsed) => return Err(HttpError::new(HttpErrorKind::Timeout, elapsed)),
            Ok(Err(e)) => {
                let kind = if e.is_connect() {
                    HttpErrorKind::Connect
                } else {
                    HttpErrorKind::Request
                };
                return Err(HttpError::new(kind, e));
            }
            Ok(Ok(r)) => r,
        };
        let (parts, body) = response.into_parts();
        let body =
            HttpResponseBody::new(body.map_err(|e| HttpError::new(HttpErrorKind::Interrupted, e)));
        Ok(HttpResponse::from_parts(parts, body))
    }
}
