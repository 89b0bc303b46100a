//! SMS (R-6.2a): Alibaba Cloud SMS (短信服务) `SendSms` of the dysmsapi API, version
//! 2017-05-25, signed as its public documentation describes for RPC-style APIs ("RPC 风格的签名
//! 机制", signature version 1.0, HMAC-SHA1):
//!
//! 1. the request parameters — the common ones (`AccessKeyId`, `Action`, `Format`, `RegionId`,
//!    `SignatureMethod` = `HMAC-SHA1`, `SignatureNonce` (unique per request), `SignatureVersion`
//!    = `1.0`, `Timestamp` (ISO 8601, UTC, `yyyy-MM-ddTHH:mm:ssZ`), `Version`) and the API's
//!    (`PhoneNumbers`, `SignName`, `TemplateCode`, `TemplateParam` as JSON) — without
//!    `Signature`, sorted by name in byte order;
//! 2. each name and value percent-encoded in UTF-8 (RFC 3986: `A–Z a–z 0–9 - _ . ~` unchanged,
//!    everything else `%XY` in upper-case hex, so a space is `%20`, `*` is `%2A`), joined as
//!    `name=value` with `&`: the canonicalised query string;
//! 3. StringToSign = `HTTPMethod & percentEncode("/") & percentEncode(canonicalised)`;
//! 4. Signature = Base64(HMAC-SHA1(key = AccessKeySecret + "&", StringToSign)).
//!
//! The request is a `POST` of the parameters plus `Signature` as a form
//! (`application/x-www-form-urlencoded`), so that mobile numbers stay out of URLs and proxy
//! logs; the answer is JSON whose `Code` is `OK` on success. The endpoint is configurable (a
//! test points it at a receiver on loopback that recomputes the signature independently).
//!
//! [`ConsoleSms`] is for demo instances only: it writes the code to the log, labelled 演示.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use hmac::{KeyInit, Mac};

use super::{NotifyError, Purpose, SmsGateway, read_secret};
use crate::config::SmsConfig;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The API version the parameters follow.
pub const ALIYUN_API_VERSION: &str = "2017-05-25";

/// Percent-encoding of the Alibaba Cloud RPC signature (RFC 3986 unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The string to sign for `method` and `params` (without `Signature`), steps 1–3 of this
/// module's documentation.
pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    // A BTreeMap of Strings iterates in byte order of the names.
    let canonical = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical)
    )
}

/// The `Signature` of `params` sent with `method` under `secret` (step 4).
pub fn rpc_signature(method: &str, params: &BTreeMap<String, String>, secret: &str) -> String {
    let key = format!("{secret}&");
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = match <HmacSha1 as KeyInit>::new_from_slice(key.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(string_to_sign(method, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `yyyy-MM-ddTHH:mm:ssZ` of a Unix time.
fn iso8601_utc(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = crate::domain::dates::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Alibaba Cloud SMS.
pub struct AliyunSms {
    endpoint: String,
    region_id: String,
    access_key_id: String,
    secret: String,
    sign_name: String,
    templates: BTreeMap<String, String>,
    code_param: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for AliyunSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AliyunSms")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("sign_name", &self.sign_name)
            .finish_non_exhaustive()
    }
}

impl AliyunSms {
    /// The gateway of `[notify.sms]` (provider `aliyun`); `dir` is the configuration's folder
    /// (for `access_key_secret_file`).
    pub fn from_config(cfg: &SmsConfig, dir: &Path) -> Result<AliyunSms, NotifyError> {
        let missing =
            |key: &str| NotifyError::Config(format!("[notify.sms] 缺少 {key} ({key} is required)"));
        if cfg.access_key_id.trim().is_empty() {
            return Err(missing("access_key_id"));
        }
        if cfg.sign_name.trim().is_empty() {
            return Err(missing("sign_name"));
        }
        if cfg.templates.is_empty() {
            return Err(missing("templates"));
        }
        for key in cfg.templates.keys() {
            if key != "default" && !Purpose::ALL.iter().any(|p| p.key() == key) {
                return Err(NotifyError::Config(format!(
                    "[notify.sms.templates] 未知的用途 {key:?} (unknown purpose; use register, login, recover, download, org_activate, invite or default)"
                )));
            }
        }
        if !(cfg.endpoint.starts_with("https://") || cfg.endpoint.starts_with("http://")) {
            return Err(NotifyError::Config(format!(
                "[notify.sms] endpoint = {:?} 应为 http(s) 地址 (must be an http(s) URL)",
                cfg.endpoint
            )));
        }
        let secret = read_secret(
            dir,
            cfg.access_key_secret_file.as_ref(),
            cfg.access_key_secret_env.as_ref(),
            "notify.sms.access_key_secret_file / access_key_secret_env",
        )?
        .ok_or_else(|| missing("access_key_secret_file / access_key_secret_env"))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(cfg.timeout_secs.max(1))))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(AliyunSms {
            endpoint: cfg.endpoint.clone(),
            region_id: cfg.region_id.clone(),
            access_key_id: cfg.access_key_id.trim().to_owned(),
            secret,
            sign_name: cfg.sign_name.trim().to_owned(),
            templates: cfg.templates.clone(),
            code_param: cfg.code_param.clone(),
            agent,
        })
    }

    fn template(&self, purpose: Purpose) -> Result<&str, NotifyError> {
        self.templates
            .get(purpose.key())
            .or_else(|| self.templates.get("default"))
            .map(String::as_str)
            .ok_or_else(|| {
                NotifyError::Config(format!(
                    "[notify.sms.templates] 没有用途 {} 的模板，也没有 default (no template for {}, and no default)",
                    purpose.key(),
                    purpose.key()
                ))
            })
    }

    /// The parameters of one `SendSms` request, signed (the `Signature` included).
    pub fn signed_params(
        &self,
        mobile: &str,
        code: &str,
        purpose: Purpose,
        unix_secs: i64,
        nonce: &str,
    ) -> Result<BTreeMap<String, String>, NotifyError> {
        let template_param = serde_json::json!({ self.code_param.as_str(): code }).to_string();
        let mut params: BTreeMap<String, String> = [
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("RegionId", self.region_id.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("Version", ALIYUN_API_VERSION),
            ("PhoneNumbers", mobile),
            ("SignName", self.sign_name.as_str()),
            ("TemplateCode", self.template(purpose)?),
            ("TemplateParam", template_param.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        params.insert("Timestamp".into(), iso8601_utc(unix_secs));
        let signature = rpc_signature("POST", &params, &self.secret);
        params.insert("Signature".into(), signature);
        Ok(params)
    }
}

impl SmsGateway for AliyunSms {
    fn send_code(&self, mobile: &str, code: &str, purpose: Purpose) -> Result<(), NotifyError> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| NotifyError::Sms(e.to_string()))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let params = self.signed_params(mobile, code, purpose, now, &ecert_store::hex(&nonce))?;
        let mut response = self
            .agent
            .post(&self.endpoint)
            .send_form(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|e| NotifyError::Sms(format!("aliyun {}: {e}", self.endpoint)))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|e| NotifyError::Sms(format!("aliyun: HTTP {status}: {e}")))?;
        let answer: serde_json::Value = serde_json::from_str(&body).map_err(|_| {
            NotifyError::Sms(format!(
                "aliyun: HTTP {status}, 回答不是 JSON (the answer is not JSON): {}",
                body.chars().take(200).collect::<String>()
            ))
        })?;
        match answer.get("Code").and_then(|c| c.as_str()) {
            Some("OK") if status == 200 => Ok(()),
            code => Err(NotifyError::Sms(format!(
                "aliyun: HTTP {status}, Code {}: {}",
                code.unwrap_or("?"),
                answer
                    .get("Message")
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
            ))),
        }
    }

    fn name(&self) -> &str {
        "aliyun"
    }

    fn is_demo(&self) -> bool {
        false
    }
}

/// Demo instances only: writes the code to the log, labelled 演示 (demo); nothing is sent.
#[derive(Debug)]
pub struct ConsoleSms(());

impl ConsoleSms {
    /// Refused unless `demo` (R-6.2a: a production instance must really send).
    pub fn new(demo: bool) -> Result<ConsoleSms, NotifyError> {
        if demo {
            Ok(ConsoleSms(()))
        } else {
            Err(NotifyError::DemoOnly)
        }
    }
}

impl SmsGateway for ConsoleSms {
    fn send_code(&self, mobile: &str, code: &str, purpose: Purpose) -> Result<(), NotifyError> {
        tracing::warn!(
            target: "ecert::demo",
            mobile,
            code,
            purpose = purpose.key(),
            "演示：短信未发出，验证码 {code}（{}）(demo: no SMS sent)",
            purpose.zh()
        );
        Ok(())
    }

    fn name(&self) -> &str {
        "console"
    }

    fn is_demo(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_6_2a_percent_encoding_follows_rfc_3986() {
        assert_eq!(percent_encode("aZ09-_.~"), "aZ09-_.~");
        assert_eq!(percent_encode("a b*c/"), "a%20b%2Ac%2F");
        assert_eq!(percent_encode("计量"), "%E8%AE%A1%E9%87%8F");
        assert_eq!(
            percent_encode("{\"code\":\"1\"}"),
            "%7B%22code%22%3A%221%22%7D"
        );
    }

    #[test]
    fn r_6_2a_timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00Z");
        // 2026-12-06 08:30:05 UTC
        assert_eq!(iso8601_utc(1_796_545_805), "2026-12-06T08:30:05Z");
    }

    #[test]
    fn r_6_2a_string_to_sign_sorts_and_encodes_twice() {
        let params: BTreeMap<String, String> = [("b", "x y"), ("A", "1"), ("a", "*")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(
            string_to_sign("POST", &params),
            "POST&%2F&A%3D1%26a%3D%252A%26b%3Dx%2520y"
        );
    }
}
