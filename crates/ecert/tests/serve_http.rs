//! `ecert serve` over real HTTP: the public pages (R-6.3c, R-6.4.1, R-6.4.2, R-6.5h),
//! upload verification (R-6.3b) and the business-system API (R-5.2.1, R-7.2.2c, R-7.2.2d),
//! bad input included — each refusal a clear 4xx with an audit entry and nothing stored.
#![allow(clippy::unwrap_used)]

mod serve_support;

use std::process::{Command, Stdio};

use ecert::config::CustomerName;
use ecert::service::{MSG_DISPOSED, revised_message, supplement_message};
use serde_json::Value;
use serve_support::*;

fn sm3_hex(b: &[u8]) -> String {
    ecert_store::hex(&ecert_store::sm3(b))
}

#[test]
fn health_metrics_and_security_headers() {
    let r = get("/healthz");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ok");
    // R-7.2.2a: the time source (a demo instance seals on its local clock, and says so).
    assert_eq!(r.json()["time"]["source"], "local_clock");
    assert_eq!(r.json()["time"]["sealing_allowed"], true);
    let r = get("/");
    assert_eq!(r.status, 200);
    let csp = r.header("content-security-policy").expect("CSP");
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert!(r.text().contains("按证书编号和校验码查询"));
    assert!(!r.text().contains("<script"), "pages need no JavaScript");
    let en = get("/?lang=en");
    assert!(en.text().contains("Look up by number and check code"));
    assert!(en.text().contains("lang=\"en\""));
    let css = get("/static/app.css");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    let m = get("/metrics");
    assert_eq!(m.status, 200);
    let text = m.text();
    assert!(
        text.contains(
            "ecert_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(text.contains("ecert_time_sealing_allowed 1"), "{text}");
}

/// R-6.3c: the page the 2D code leads to, genuine and current.
#[test]
fn r_6_3c_token_page_of_a_current_certificate() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    let r = get(&format!("/v/{}", c.token));
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("JZ2024-000123"));
    assert!(html.contains("真实有效"));
    assert!(html.contains("数字多用表"));
    assert!(html.contains("示例市计量测试研究院"), "issuer");
    assert!(
        !html.contains("示例电子科技有限公司"),
        "customer name is masked"
    );
    assert!(html.contains("示例******公司"), "{html}");
    // The preview shows the name as printed: no preview while the pages mask it.
    assert!(!html.contains("page/1.png"), "{html}");
    assert!(!html.contains("<script"));
    // The same as JSON.
    let j = get_json(&format!("/v/{}", c.token)).json();
    assert_eq!(j["genuine"], true);
    assert_eq!(j["status"], "valid");
    assert_eq!(j["number"], "JZ2024-000123");
    assert_eq!(j["details"]["customer"], "示例******公司");
    assert_eq!(j["details"]["kind_code"], 7);
    assert_eq!(j["messages"], Value::Array(vec![]));
    // Upper-case token (a scanner may change case) reaches the same page.
    assert_eq!(get(&format!("/v/{}", c.token.to_uppercase())).status, 200);
    // English.
    let en = get(&format!("/v/{}?lang=en", c.token)).text();
    assert!(en.contains("Genuine and current") && en.contains("Certificate No."));
}

/// R-6.4.1: the original of a revision shows exactly "该证书作废，按照证书修改处置要求，修改后的证书号为{new}".
#[test]
fn r_6_4_1_revised_certificate_page_shows_the_exact_statement() {
    let f = fixture();
    let old = f.cert(ORIGINAL_NUMBER);
    let sentence = revised_message(REVISED_NUMBER);
    assert_eq!(
        sentence,
        "该证书作废，按照证书修改处置要求，修改后的证书号为JD2024-000789"
    );
    let html = get(&format!("/v/{}", old.token)).text();
    assert!(html.contains(&sentence), "{html}");
    assert!(html.contains("已作废"));
    let j = get_json(&format!("/v/{}", old.token)).json();
    assert_eq!(j["status"], "revised");
    assert_eq!(j["messages"][0], sentence.as_str());
    assert_eq!(j["details"]["replaced_by"], REVISED_NUMBER);
    // English keeps the normative Chinese sentence and adds a translation.
    let en = get(&format!("/v/{}?lang=en", old.token)).text();
    assert!(
        en.contains(&sentence)
            && en.contains("the number of the revised certificate is JD2024-000789")
    );
    // The revision itself is current and says what it replaces.
    let new = f.cert(REVISED_NUMBER);
    let j = get_json(&format!("/v/{}", new.token)).json();
    assert_eq!(j["status"], "valid");
    assert_eq!(j["details"]["revises"], ORIGINAL_NUMBER);
}

/// R-6.4.2: the original shows "对序号为{number}的证书/报告的补充文件" and links to the
/// supplement; the supplement's own 2D code leads to a page of its own, bound to the original,
/// whose preview and download are the supplement's file.
#[test]
fn r_6_4_2_supplement_and_its_own_code() {
    let f = fixture();
    let s = &f.supplement;
    let original = f.cert(SUPPLEMENTED_NUMBER);
    let sentence = supplement_message(SUPPLEMENTED_NUMBER);
    assert_eq!(sentence, "对序号为JZ2024-000900的证书/报告的补充文件");

    // The original's page.
    let j = get_json(&format!("/v/{}", original.token)).json();
    assert_eq!(j["status"], "supplemented");
    assert!(
        j["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == sentence.as_str()),
        "{j}"
    );
    let link = j["details"]["supplements"][0]["url"].as_str().unwrap();
    assert_eq!(j["details"]["supplements"][0]["number"], s.number.as_str());
    let html = get(&format!("/v/{}", original.token)).text();
    assert!(html.contains(&sentence) && html.contains(link), "{html}");
    let d = get(link);
    assert_eq!(d.status, 200);
    assert_eq!(d.body, s.file, "the link downloads the supplement");

    // The supplement's own page.
    let j = get_json(&format!("/v/{}", s.token)).json();
    assert_eq!(j["genuine"], true);
    assert_eq!(j["status"], "supplement");
    assert_eq!(j["number"], s.number.as_str());
    assert_eq!(j["supplement_of"], s.original.as_str());
    assert!(
        j["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == sentence.as_str())
    );
    let html = get(&format!("/v/{}", s.token)).text();
    assert!(
        html.contains("补充文件编号") && html.contains(&s.number) && html.contains(&sentence),
        "{html}"
    );
    let file = get(&format!("/v/{}/file", s.token));
    assert_eq!(file.status, 200);
    assert_eq!(
        file.body, s.file,
        "the supplement's code downloads the supplement"
    );
    assert_ne!(file.body, original.file);
    // Previews where the customer's name is public (`[public] customer_name = "full"`).
    let (full, _server) = own_server(|c| c.public.customer_name = CustomerName::Full);
    let png = request(full, "GET", &format!("/v/{}/page/1.png", s.token), &[], b"");
    assert_eq!(png.status, 200);
    assert!(png.body.starts_with(b"\x89PNG"));
    let original_png = request(
        full,
        "GET",
        &format!("/v/{}/page/1.png", original.token),
        &[],
        b"",
    );
    assert_ne!(
        png.body, original_png.body,
        "the preview is the supplement's page"
    );

    // Uploading the supplement: genuine, and a supplement of ours.
    let r = upload(&s.file);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["verdict"], "genuine_supplement");
}

/// Unknown and malformed tokens all get the same plain "未找到".
#[test]
fn unknown_tokens_give_one_identical_not_found() {
    let a = get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa");
    let b = get("/v/bbbbbbbbbbbbbbbbbbbbbbbbbb");
    let c = get("/v/short");
    let d = get("/v/%3Cscript%3E");
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, 404);
        assert!(r.text().contains("未找到"));
    }
    assert_eq!(a.body, b.body);
    assert_eq!(a.body, c.body);
    assert_eq!(a.body, d.body);
    let j = get_json("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(j.status, 404);
    assert_eq!(j.json()["error"]["code"], "not_found");
    assert_eq!(get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa/file").status, 404);
    assert_eq!(get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa/page/1.png").status, 404);
    assert_eq!(get("/no/such/page").status, 404);
}

#[test]
fn page_preview_is_a_png_rendered_once() {
    let f = fixture();
    let (addr, _server) = own_server(|c| {
        c.public.customer_name = CustomerName::Full;
        c.server.metrics_public = true;
    });
    let get = |path: &str| request(addr, "GET", path, &[], b"");
    let c = f.cert("JT2024-000077");
    let url = format!("/v/{}/page/1.png", c.token);
    let r = get(&url);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/png"));
    let decoder = png::Decoder::new(std::io::Cursor::new(r.body.clone()));
    let info = decoder.read_info().expect("a PNG").info().clone();
    assert!(info.width > 500 && info.height > info.width, "A4 portrait");
    let rendered = |m: &str| -> u64 {
        m.lines()
            .find(|l| l.starts_with("ecert_previews_rendered_total "))
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|v| v.parse().ok())
            .expect("counter")
    };
    let before = rendered(&get("/metrics").text());
    let again = get(&url);
    assert_eq!(again.body, r.body);
    assert_eq!(
        rendered(&get("/metrics").text()),
        before,
        "second view from the cache"
    );
    // On disk by file SM3, so a restart does not render again.
    let cached = std::fs::read_dir(f.dir.join("cache/previews"))
        .expect("preview cache folder")
        .count();
    assert!(cached >= 1);
    assert_eq!(get(&format!("/v/{}/page/99.png", c.token)).status, 404);
    assert_eq!(get(&format!("/v/{}/page/x.png", c.token)).status, 404);
}

/// The file can be downloaded from the page; the download is logged (R-7.2.3b).
#[test]
fn download_from_the_page_is_logged() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    let r = get(&format!("/v/{}/file", c.token));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/ofd"));
    assert!(
        r.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    assert_eq!(r.body, c.file);
    let record = f
        .block(f.instance().certificate_by_number("JZ2024-000123"))
        .unwrap()
        .unwrap();
    let log = f.block(store().downloads_of(&record.id)).unwrap();
    assert!(
        log.iter()
            .any(|d| d.channel == "verify-page" && d.who == "public")
    );
}

/// Lookup by number + check code: the same page; wrong codes are "未找到" like unknown tokens.
#[test]
fn lookup_by_number_and_check_code() {
    let f = fixture();
    let c = f.cert("JT2024-000077");
    let r = get(&format!(
        "/lookup?number={}&code={}",
        c.number, c.check_code
    ));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("JT2024-000077") && r.text().contains("真实有效"));
    // Typed by hand: lower case, no dash.
    let typed = c.check_code.replace('-', "").to_lowercase();
    let j = get_json(&format!("/lookup?number={}&code={typed}", c.number)).json();
    assert_eq!(j["status"], "valid");
    assert!(
        j["details"].get("preview_url").is_none(),
        "masked: no preview"
    );
    let (full, _server) = own_server(|c| c.public.customer_name = CustomerName::Full);
    let j = request(
        full,
        "GET",
        &format!("/lookup?number={}&code={typed}", c.number),
        &[("Accept", "application/json")],
        b"",
    )
    .json();
    let preview = j["details"]["preview_url"].as_str().unwrap().to_owned();
    assert!(preview.starts_with("/lookup/page/1.png?number="));
    assert_eq!(request(full, "GET", &preview, &[], b"").status, 200);
    let wrong = get(&format!("/lookup?number={}&code=2345-6789", c.number));
    assert_eq!(wrong.status, 404);
    assert_eq!(wrong.body, get("/v/aaaaaaaaaaaaaaaaaaaaaaaaaa").body);
    assert_eq!(get("/lookup?number=&code=").status, 400);
    // The revised original through the lookup shows the statement too.
    let old = f.cert(ORIGINAL_NUMBER);
    let r = get(&format!(
        "/lookup?number={}&code={}",
        old.number, old.check_code
    ));
    assert!(r.text().contains(&revised_message(REVISED_NUMBER)));
}

fn upload(bytes: &[u8]) -> Resp {
    request(
        fixture().addr,
        "POST",
        "/verify",
        &[
            ("Content-Type", "application/ofd"),
            ("Accept", "application/json"),
        ],
        bytes,
    )
}

/// R-6.3b: an uploaded genuine file — full report plus our records.
#[test]
fn r_6_3b_upload_of_genuine_files() {
    let f = fixture();
    let c = f.cert("JZ2024-000123");
    let r = upload(&c.file);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["verdict"], "genuine_current");
    assert_eq!(
        j["report"]["indication"], "PASSED",
        "the trial root is trusted"
    );
    assert_eq!(j["claimed"]["number"], "JZ2024-000123");
    assert!(
        j["claimed"]["identifier"]
            .as_str()
            .unwrap()
            .contains("JZ2024-000123")
    );
    assert_eq!(j["record"]["number"], "JZ2024-000123");
    assert_eq!(j["file_sm3"], sm3_hex(&c.file));
    assert!(
        j["report"]["signatures"][0]["checks"]
            .as_array()
            .unwrap()
            .len()
            >= 10
    );
    // The void original.
    let old = f.cert(ORIGINAL_NUMBER);
    let j = upload(&old.file).json();
    assert_eq!(j["verdict"], "genuine_void");
    assert_eq!(j["messages"][0], revised_message(REVISED_NUMBER).as_str());
    // Through the start page's form (multipart), as HTML.
    let boundary = "----ecertboundary7MA4YWxkTrZu0gW";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.ofd\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&c.file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let r = request(f.addr, "POST", "/verify", &[("Content-Type", &ct)], &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let html = r.text();
    assert!(html.contains("真实：与本机构签发的证书完全一致"), "{html}");
    assert!(
        html.contains("签章人签名"),
        "the checks by their Chinese names: {html}"
    );
}

/// R-6.3b: an altered file that claims to be ours, and a file that is not ours.
#[test]
fn r_6_3b_upload_of_altered_and_foreign_files() {
    let f = fixture();
    let c = f.cert("JT2024-000077");
    let mut pkg = ofd::package::Package::from_zip(&c.file, &ofd::Limits::default()).unwrap();
    let path = pkg
        .paths()
        .find(|p| p.contains("Content.xml"))
        .unwrap()
        .to_owned();
    let mut content = pkg.get(&path).unwrap().to_vec();
    let at = content.iter().position(|b| b.is_ascii_digit()).unwrap();
    content[at] = if content[at] == b'9' {
        b'8'
    } else {
        content[at] + 1
    };
    pkg.insert(&path, content).unwrap();
    let altered = pkg.to_zip().unwrap();
    let j = upload(&altered).json();
    assert_eq!(j["verdict"], "altered", "{j}");
    assert_eq!(j["report"]["indication"], "FAILED");
    assert_eq!(j["record"]["number"], "JT2024-000077");
    assert!(!j["mismatches"].as_array().unwrap().is_empty());

    let j = upload(&unsigned_ofd()).json();
    assert_eq!(j["verdict"], "not_issued_by_us", "{j}");
}

fn zip_bomb() -> Vec<u8> {
    let mut p = ofd::package::Package::new();
    // 80 MiB of zeros: over the reader's 64 MiB entry limit, compressed ~1000:1.
    p.insert("OFD.xml", vec![0u8; 80 << 20]).unwrap();
    p.to_zip().unwrap()
}

/// Bad uploads: each a clear 4xx, an audit entry, nothing stored.
#[test]
fn bad_uploads_are_refused_and_audited() {
    let _serial = serial();
    let f = fixture();
    let certs = f.certificate_count();
    let blobs = f.blob_count();
    let seq = audit_seq();

    let r = upload(b"this is not an OFD file at all");
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["error"]["code"], "not_ofd");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("OFD")
    );

    let bomb = zip_bomb();
    assert!(bomb.len() < 2 << 20, "a bomb: {} bytes", bomb.len());
    let r = upload(&bomb);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "not_ofd");

    // A ZIP that is not an OFD document.
    let mut p = ofd::package::Package::new();
    p.insert("readme.txt", b"hello".to_vec()).unwrap();
    let r = upload(&p.to_zip().unwrap());
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "not_ofd");

    // Declared too large: refused before the body is read.
    let big = vec![0u8; 1 << 20];
    let r = request(
        f.addr,
        "POST",
        "/verify",
        &[
            ("Content-Type", "application/ofd"),
            ("Accept", "application/json"),
            ("Content-Length", "22020096"),
        ],
        &big,
    );
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "too_large");
    // Streamed without a length (chunked): cut off at the limit.
    let mut chunked = Vec::new();
    let piece = vec![b'x'; 1 << 20];
    for _ in 0..21 {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(&piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = request(
        f.addr,
        "POST",
        "/verify",
        &[
            ("Content-Type", "application/ofd"),
            ("Accept", "application/json"),
            ("Transfer-Encoding", "chunked"),
        ],
        &chunked,
    );
    assert_eq!(r.status, 413, "{}", r.text());

    let r = upload(b"");
    assert_eq!(r.status, 400);

    let refused = audit_after(seq, "\"refused\"");
    let codes: Vec<String> = refused.iter().map(|e| e.details.clone()).collect();
    for code in ["not_ofd", "too_large", "empty"] {
        assert!(
            codes.iter().any(|d| d.contains(code)),
            "audit entry for {code}: {codes:?}"
        );
    }
    assert!(refused.iter().all(|e| e.action == "verify.upload"));
    assert_eq!(f.certificate_count(), certs, "nothing stored");
    assert_eq!(f.blob_count(), blobs, "no file stored");
}

/// The OpenAPI document is served and each documented signed route exists (an unsigned call
/// is refused with 401, not 404).
#[test]
fn openapi_document_is_served_and_matches_the_routes() {
    let r = get("/api/v1/openapi.json");
    assert_eq!(r.status, 200);
    let doc = r.json();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path.ends_with("openapi.json") {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let concrete = path.replace("{number}", "X-1");
            let r = request(fixture().addr, &method.to_uppercase(), &concrete, &[], b"");
            assert_eq!(r.status, 401, "{method} {path}: {}", r.text());
            assert_eq!(r.json()["error"]["code"], "missing_signature");
            seen += 1;
        }
    }
    assert_eq!(seen, ecert::web::api::ROUTES.len());
}

fn new_content(number: &str) -> String {
    let mut v: Value = serde_json::from_str(CALIBRATION).unwrap();
    v["certificateNo"] = number.into();
    v.to_string()
}

/// R-5.2.1: issue through the API; a retried request with the same Idempotency-Key issues once.
#[test]
fn r_5_2_1_api_issue_status_download_list_idempotent() {
    let _serial = serial();
    let f = fixture();
    let before = f.certificate_count();
    let body = new_content("JZ-API-0001");
    let key = [("Idempotency-Key", "order-4711")];
    let r = api("POST", "/api/v1/certificates", body.as_bytes(), &key);
    assert_eq!(r.status, 201, "{}", r.text());
    let first = r.json();
    assert_eq!(first["number"], "JZ-API-0001");
    assert_eq!(first["status"], "valid");
    let url = first["verify_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:8080/v/"));
    // Retried (new nonce and signature, same key and body): same answer, nothing issued.
    let again = api("POST", "/api/v1/certificates", body.as_bytes(), &key);
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.json(), first);
    assert_eq!(f.certificate_count(), before + 1);
    // The same key for another body is refused.
    let other = api(
        "POST",
        "/api/v1/certificates",
        new_content("JZ-API-0002").as_bytes(),
        &key,
    );
    assert_eq!(other.status, 422);
    assert_eq!(other.json()["error"]["code"], "idempotency_mismatch");
    // Without a key, the duplicate number is refused by the service.
    let dup = api("POST", "/api/v1/certificates", body.as_bytes(), &[]);
    assert_eq!(dup.status, 409, "{}", dup.text());

    let s = api("GET", "/api/v1/certificates/JZ-API-0001", b"", &[]);
    assert_eq!(s.status, 200);
    assert_eq!(s.json()["customer_name"], "示例电子科技有限公司");
    let file = api("GET", "/api/v1/certificates/JZ-API-0001/file", b"", &[]);
    assert_eq!(file.status, 200);
    assert_eq!(sm3_hex(&file.body), first["file_sm3"].as_str().unwrap());
    let list = api(
        "GET",
        "/api/v1/certificates?number_prefix=JZ-API-",
        b"",
        &[],
    );
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|i| i["number"] == "JZ-API-0001"));
    let by_customer = api(
        "GET",
        "/api/v1/certificates?customer=%E7%A4%BA%E4%BE%8B%E7%94%B5%E5%AD%90%E7%A7%91%E6%8A%80%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8&from=2000-01-01&limit=2",
        b"",
        &[],
    );
    assert_eq!(by_customer.status, 200, "{}", by_customer.text());
    assert_eq!(by_customer.json()["items"].as_array().unwrap().len(), 2);
    assert!(by_customer.json()["next"].is_object());
    let bad = api("GET", "/api/v1/certificates?from=yesterday", b"", &[]);
    assert_eq!(bad.status, 400);
    assert_eq!(
        api("GET", "/api/v1/certificates/NO-SUCH", b"", &[]).status,
        404
    );
    // The new certificate's public page.
    let token = url.rsplit('/').next().unwrap();
    assert_eq!(get(&format!("/v/{token}")).status, 200);
    // Every exchange was logged with its response.
    let logged = audit_after(0, "order-4711");
    assert!(logged.len() >= 3, "{logged:?}");
    assert!(logged.iter().all(|e| e.actor == "api:lims-test"));
    assert!(
        logged
            .iter()
            .any(|e| e.details.contains("\"replayed_response\":true"))
    );
}

/// Service refusals reach the API as their variant's status and code (docs/serve.md), with
/// the message and, for content, the problems by JSON pointer; nothing is stored.
#[test]
fn api_errors_carry_the_service_error_s_status_and_code() {
    let _serial = serial();
    let f = fixture();
    let certs = f.certificate_count();
    let code = |r: &Resp| {
        r.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // A number already issued.
    let r = api(
        "POST",
        "/api/v1/certificates",
        new_content("JZ2024-000123").as_bytes(),
        &[],
    );
    assert_eq!(
        (r.status, code(&r)),
        (409, "duplicate".to_owned()),
        "{}",
        r.text()
    );
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JZ2024-000123")
    );
    // An unknown certificate.
    let r = api(
        "POST",
        "/api/v1/certificates/NO-SUCH-1/revisions",
        new_content("JZ-ERR-0001").as_bytes(),
        &[],
    );
    assert_eq!(
        (r.status, code(&r)),
        (404, "not_found".to_owned()),
        "{}",
        r.text()
    );
    // A void original: neither revised again nor supplemented; the answer names its revision.
    let path = format!("/api/v1/certificates/{ORIGINAL_NUMBER}/revisions");
    let r = api("POST", &path, new_content("JZ-ERR-0002").as_bytes(), &[]);
    assert_eq!(
        (r.status, code(&r)),
        (409, "already_revised".to_owned()),
        "{}",
        r.text()
    );
    assert!(r.text().contains(REVISED_NUMBER), "{}", r.text());
    let path = format!("/api/v1/certificates/{ORIGINAL_NUMBER}/supplements");
    let r = api("POST", &path, SUPPLEMENT.as_bytes(), &[]);
    assert_eq!(
        (r.status, code(&r)),
        (409, "already_revised".to_owned()),
        "{}",
        r.text()
    );
    // Content problems by pointer.
    let mut bad: Value = serde_json::from_str(&new_content("JZ-ERR-0003")).unwrap();
    bad["instrument"]["serialNo"] = "".into();
    let r = api(
        "POST",
        "/api/v1/certificates",
        bad.to_string().as_bytes(),
        &[],
    );
    assert_eq!(
        (r.status, code(&r)),
        (422, "invalid_content".to_owned()),
        "{}",
        r.text()
    );
    assert!(
        r.json()["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pointer"] == "/instrument/serialNo"),
        "{}",
        r.text()
    );
    // A page error is JSON when asked for, an HTML page otherwise, in the page's language.
    let j = get_json("/lookup?number=&code=&lang=en");
    assert_eq!((j.status, code(&j)), (400, "missing_fields".to_owned()));
    assert_eq!(j.json()["error"]["message_zh"], "请输入证书编号和校验码");
    assert_eq!(
        j.json()["error"]["message"],
        "Enter the certificate number and the check code"
    );
    let h = get("/lookup?number=&code=&lang=en");
    assert_eq!(h.status, 400);
    assert!(h.header("content-type").unwrap().starts_with("text/html"));
    assert!(h.text().contains("Enter the certificate number") && h.text().contains("lang=\"en\""));
    assert_eq!(f.certificate_count(), certs, "nothing stored");
}

/// R-6.4.1 through the API; the public page of the original changes at once (cache cleared).
#[test]
fn r_6_4_1_api_revision_updates_the_page_at_once() {
    let _serial = serial();
    let r = api(
        "POST",
        "/api/v1/certificates",
        new_content("JZ-API-R0").as_bytes(),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["verify_url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    // Viewed (and cached) before the revision.
    let j = get_json(&format!("/v/{token}")).json();
    assert_eq!(j["status"], "valid");
    let r = api(
        "POST",
        "/api/v1/certificates/JZ-API-R0/revisions",
        new_content("JZ-API-R1").as_bytes(),
        &[("Idempotency-Key", "rev-JZ-API-R0")],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["revision"], 1);
    let j = get_json(&format!("/v/{token}")).json();
    assert_eq!(j["status"], "revised");
    assert_eq!(j["messages"][0], revised_message("JZ-API-R1").as_str());
    // Revising the void original again is refused.
    let r = api(
        "POST",
        "/api/v1/certificates/JZ-API-R0/revisions",
        new_content("JZ-API-R2").as_bytes(),
        &[],
    );
    assert_eq!(r.status, 409, "{}", r.text());
    let s = api("GET", "/api/v1/certificates/JZ-API-R0", b"", &[]).json();
    assert_eq!(s["messages"][0], revised_message("JZ-API-R1").as_str());

    // R-6.4.2 through the API: a supplement to the current certificate, retried once.
    let sup = |number: &str, key: &str| {
        api(
            "POST",
            &format!("/api/v1/certificates/{number}/supplements"),
            SUPPLEMENT.as_bytes(),
            &[("Idempotency-Key", key)],
        )
    };
    let r = sup("JZ-API-R1", "sup-JZ-API-R1");
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    assert_eq!(j["number"], "JZ-API-R1-BC1");
    assert_eq!(j["supplements"], "JZ-API-R1");
    assert_eq!(j["message"], supplement_message("JZ-API-R1").as_str());
    let again = sup("JZ-API-R1", "sup-JZ-API-R1");
    assert_eq!(again.status, 201);
    assert_eq!(
        again.json()["number"],
        "JZ-API-R1-BC1",
        "replayed, not issued twice"
    );
    let s = api("GET", "/api/v1/certificates/JZ-API-R1", b"", &[]).json();
    assert_eq!(s["supplements"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s["messages"][0], supplement_message("JZ-API-R1").as_str());
    // Its own code leads to its own page.
    let url = j["verify_url"].as_str().unwrap();
    let t = url.rsplit('/').next().unwrap();
    let page = get_json(&format!("/v/{t}")).json();
    assert_eq!(page["status"], "supplement");
    assert_eq!(page["supplement_of"], "JZ-API-R1");
    // A void original cannot be supplemented; bad content is a 422 with its pointer.
    let r = sup("JZ-API-R0", "sup-JZ-API-R0");
    assert_eq!(r.status, 409, "{}", r.text());
    let r = api(
        "POST",
        "/api/v1/certificates/JZ-API-R1/supplements",
        br#"{"items":[]}"#,
        &[],
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("/reason"), "{}", r.text());
}

/// R-7.2.2c/d: unsigned, wrongly signed, stale, replayed, malformed and oversized requests:
/// each a clear 4xx, each in the audit log, nothing stored.
#[test]
fn r_7_2_2_bad_api_requests_are_refused_and_audited() {
    let _serial = serial();
    let f = fixture();
    let certs = f.certificate_count();
    let blobs = f.blob_count();
    let path = "/api/v1/certificates";
    let body = new_content("JZ-API-BAD").into_bytes();

    // Malformed JSON (signed correctly).
    let n = nonce();
    let h = signed_headers(SECRET, "POST", path, b"{not json", now(), &n);
    let r = send_with("POST", path, b"{not json", &h, &[]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"]["code"], "malformed_json");
    assert!(!audit_after(0, &n).is_empty(), "malformed JSON audited");

    // Valid JSON, invalid content: every problem by JSON pointer.
    let r = api("POST", path, br#"{"typeCode": 99}"#, &[]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "invalid_content");
    assert!(!r.json()["error"]["problems"].as_array().unwrap().is_empty());

    // Wrong secret.
    let n = nonce();
    let h = signed_headers(
        "ecs_wrong_secret_wrong_secret_wrong",
        "POST",
        path,
        &body,
        now(),
        &n,
    );
    let r = send_with("POST", path, &body, &h, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "bad_signature");
    let e = audit_after(0, &n);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].action, "api.refused");
    assert!(e[0].details.contains("bad_signature"));

    // Body changed after signing.
    let n = nonce();
    let h = signed_headers(SECRET, "POST", path, &body, now(), &n);
    let r = send_with("POST", path, b"{}", &h, &[]);
    assert_eq!(r.status, 401);

    // Stale timestamp.
    let n = nonce();
    let h = signed_headers(SECRET, "GET", path, b"", now() - 600, &n);
    let r = send_with("GET", path, b"", &h, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "stale_request");
    assert!(!audit_after(0, &n).is_empty());

    // Replay: the very same signed request twice.
    let n = nonce();
    let h = signed_headers(SECRET, "GET", path, b"", now(), &n);
    assert_eq!(send_with("GET", path, b"", &h, &[]).status, 200);
    let r = send_with("GET", path, b"", &h, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "replayed_request");
    let e = audit_after(0, &n);
    assert_eq!(e.len(), 2, "both the exchange and the replay are logged");

    // Unknown client.
    let n = nonce();
    let mut h = signed_headers(SECRET, "GET", path, b"", now(), &n);
    h[0].1 = "nobody".into();
    assert_eq!(send_with("GET", path, b"", &h, &[]).status, 401);

    // Oversized body.
    let big = vec![b' '; 9 << 20];
    let n = nonce();
    let h = signed_headers(SECRET, "POST", path, &big, now(), &n);
    let r = send_with("POST", path, &big, &h, &[]);
    assert_eq!(r.status, 413);
    assert_eq!(r.json()["error"]["code"], "too_large");

    assert_eq!(f.certificate_count(), certs, "nothing issued");
    assert_eq!(f.blob_count(), blobs, "no file stored");
    let report = f.block(f.instance().verify_audit()).unwrap();
    assert!(report.is_ok(), "audit chain intact: {:?}", report.fault);
}

/// The disposed state (R-6.5h) as the public page shows it: only the statement, no details,
/// no file, no preview.
#[test]
fn r_6_5h_disposed_certificate_offers_no_verification() {
    let _serial = serial();
    let f = fixture();
    let r = api(
        "POST",
        "/api/v1/certificates",
        new_content("JZ-API-OLD").as_bytes(),
        &[],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let url = r.json()["verify_url"].as_str().unwrap().to_owned();
    let token = url.rsplit('/').next().unwrap().to_owned();
    let id = r.json()["id"].as_str().unwrap().to_owned();
    f.block(store().mark_disposed(&id, "test", &Value::Null))
        .unwrap();
    f.app.invalidate();
    let html = get(&format!("/v/{token}")).text();
    assert!(html.contains(MSG_DISPOSED));
    assert!(!html.contains("数字多用表"), "no details");
    let j = get_json(&format!("/v/{token}")).json();
    assert_eq!(j["messages"][0], MSG_DISPOSED);
    assert!(j.get("genuine").is_none() && j.get("details").is_none());
    assert_eq!(get(&format!("/v/{token}/file")).status, 404);
    assert_eq!(get(&format!("/v/{token}/page/1.png")).status, 404);
}

fn ecert_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ecert"))
}

/// `ecert api-client add` prints a secret that signs requests; `ecert serve` runs, answers,
/// and stops cleanly on SIGTERM; plain HTTP off loopback is refused.
#[test]
fn cli_api_client_and_serve_binary() {
    // `ecert serve` resolves at start-up every pending idempotency key it does not own (one
    // node per store): it must not start while another test's keyed request is in flight.
    let _serial = serial();
    let f = fixture();
    let out = ecert_bin()
        .arg("--dir")
        .arg(&f.dir)
        .args(["api-client", "add", "lims-cli"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let secret = stdout
        .lines()
        .find(|l| l.starts_with("ecs_"))
        .expect("secret printed")
        .trim()
        .to_owned();
    let path = "/api/v1/certificates?limit=1";
    let n = nonce();
    let mut h = signed_headers(&secret, "GET", path, b"", now(), &n);
    h[0].1 = "lims-cli".into();
    assert_eq!(send_with("GET", path, b"", &h, &[]).status, 200);

    // A client can be listed, disabled (refused at once) and enabled again.
    let cli = |args: &[&str]| {
        let out = ecert_bin()
            .arg("--dir")
            .arg(&f.dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let signed = |client: &str| {
        let mut h = signed_headers(&secret, "GET", path, b"", now(), &nonce());
        h[0].1 = client.into();
        send_with("GET", path, b"", &h, &[]).status
    };
    assert!(cli(&["api-client", "list"]).contains("lims-cli  启用 (enabled)"));
    cli(&["api-client", "disable", "lims-cli", "--by", "ops"]);
    assert!(cli(&["api-client", "list"]).contains("lims-cli  停用 (disabled)"));
    assert_eq!(signed("lims-cli"), 401, "a disabled client is refused");
    cli(&["api-client", "enable", "lims-cli", "--by", "ops"]);
    assert_eq!(signed("lims-cli"), 200);
    let unknown = ecert_bin()
        .arg("--dir")
        .arg(&f.dir)
        .args(["api-client", "disable", "no-such-client", "--by", "ops"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no such API client"));

    let refused = ecert_bin()
        .arg("--dir")
        .arg(&f.dir)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("明文 HTTP 仅允许"));

    let mut child = ecert_bin()
        .arg("--dir")
        .arg(&f.dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr: std::net::SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("address printed")
        .parse()
        .unwrap();
    let r = request(addr, "GET", "/healthz", &[], b"");
    assert_eq!(r.status, 200);
    let c = f.cert("JZ2024-000123");
    assert_eq!(
        request(addr, "GET", &format!("/v/{}", c.token), &[], b"").status,
        200
    );
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill (procps) to send SIGTERM");
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
}

/// Lookups and uploads are rate limited per address.
#[test]
fn lookups_are_rate_limited() {
    let f = fixture();
    let (addr, _guard) = own_server(|c| c.server.lookup_per_minute = 2);
    let c = f.cert("JZ2024-000123");
    let path = format!("/lookup?number={}&code={}", c.number, c.check_code);
    assert_eq!(request(addr, "GET", &path, &[], b"").status, 200);
    assert_eq!(request(addr, "GET", &path, &[], b"").status, 200);
    let r = request(addr, "GET", &path, &[], b"");
    assert!(
        r.status == 429 || r.status == 200,
        "third lookup in the minute: {}",
        r.status
    );
    let r4 = request(addr, "GET", &path, &[], b"");
    // At most one of the two could have crossed a minute boundary.
    assert!(r.status == 429 || r4.status == 429, "rate limit never hit");
}

/// HTTPS from configured PEM files (rustls): curl with the certificate as its only trust
/// anchor reaches the page; plain HTTP on that port gets nothing.
#[test]
fn tls_from_pem_files() {
    let f = fixture();
    let tls = f.dir.join("tls");
    std::fs::create_dir_all(&tls).unwrap();
    let (cert, key) = (tls.join("cert.pem"), tls.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (Debian package openssl) makes the test certificate");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let addr = f.block(async {
        let instance = ecert::service::Instance::open(&f.dir).await.unwrap();
        let app = ecert::web::App::new(instance).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cert, key) = (cert.clone(), key.clone());
        tokio::spawn(async move {
            ecert::web::serve_tls(app, listener, &cert, &key, std::future::pending())
                .await
                .unwrap();
        });
        addr
    });
    let c = f.cert("JZ2024-000123");
    let out = Command::new("curl")
        .args(["-sS", "-i", "--cacert"])
        .arg(&cert)
        .arg(format!("https://127.0.0.1:{}/v/{}", addr.port(), c.token))
        .output()
        .expect("curl (Debian package curl)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.to_lowercase().contains("strict-transport-security"));
    assert!(text.contains("JZ2024-000123"));
    // Plain HTTP to the TLS port is not answered with a page.
    let plain = Command::new("curl")
        .args(["-sS", "--max-time", "5"])
        .arg(format!("http://127.0.0.1:{}/healthz", addr.port()))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\"ok\""));
}

/// A one-page A4 OFD as a business system makes it: its own text in an embedded font, no
/// notice, no code, no seal.
fn business_ofd(number: &str) -> Vec<u8> {
    use ofd::write::{DocumentWriter, TextStyle};
    let font = ofd::FontSource::from_path(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/fonts/ECertSansSC-Regular.ttf"
        ),
        0,
    )
    .unwrap();
    let mut doc = DocumentWriter::new(ofd::DocInfo {
        doc_id: "00112233445566778899aabbccddeeff".into(),
        ..Default::default()
    })
    .unwrap();
    let f = doc.add_font(font).unwrap();
    {
        let mut page = doc.add_page();
        let mut l = page.body();
        l.text(&TextStyle::new(f, 8.0), 70.0, 40.0, "校 准 证 书")
            .unwrap();
        l.text(
            &TextStyle::new(f, 3.7),
            25.0,
            70.0,
            &format!("证书编号：{number}"),
        )
        .unwrap();
    }
    doc.finish().unwrap().to_zip().unwrap()
}

/// R-5.2.1 over the API: the business system's own OFD, base64 in a `HandedOver` body, comes
/// back sealed with the notice, the code and the identifier; a file that breaks a rule is a
/// 422 `file_refused` naming the clause, bad base64 a 400; nothing is stored for either.
#[test]
fn r_5_2_1_api_seals_a_handed_over_ofd() {
    use base64::Engine as _;
    let _serial = serial();
    let f = fixture();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let meta = |number: &str| {
        serde_json::json!({
            "typeCode": 7,
            "certificateNo": number,
            "customer": {"name": "示例电子科技有限公司"},
            "instrument": {"name": "数字多用表", "model": "87V", "serialNo": "12345678"},
            "performedDate": "2024-03-06",
            "issueDate": "2024-03-08"
        })
    };
    let body = serde_json::json!({
        "content": meta("JZ-HO-0001"),
        "ofd": b64(&business_ofd("JZ-HO-0001")),
    })
    .to_string();
    let before = f.certificate_count();
    let r = api("POST", "/api/v1/handed-over", body.as_bytes(), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let issued = r.json();
    assert_eq!(issued["number"], "JZ-HO-0001");
    assert_eq!(f.certificate_count(), before + 1);
    let file = api("GET", "/api/v1/certificates/JZ-HO-0001/file", b"", &[]);
    assert_eq!(file.status, 200);
    assert_eq!(sm3_hex(&file.body), issued["file_sm3"].as_str().unwrap());
    let read = ofd::OfdFile::read(&file.body).unwrap();
    let text: String = read
        .page_text(0, 0)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert!(
        text.contains("证书编号：JZ-HO-0001"),
        "the original text: {text}"
    );
    assert!(
        text.contains("本证书为电子证书，请到发证机构官网验证"),
        "{text}"
    );
    let check = issued["check_code"].as_str().unwrap();
    assert!(text.contains(&format!("校验码{check}")), "{text}");
    let report = ses::verify::verify_bytes(&file.body, &Default::default()).unwrap();
    assert!(
        report.failed_checks().is_empty(),
        "{:?}",
        report.failed_checks()
    );
    // Its page answers like any certificate's.
    let token = issued["verify_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let page = get_json(&format!("/v/{token}"));
    assert_eq!(page.status, 200);
    assert_eq!(page.json()["number"], "JZ-HO-0001");

    // A file that is already signed: refused, naming the clause; nothing stored.
    let signed = api("GET", "/api/v1/certificates/JZ-HO-0001/file", b"", &[]).body;
    let body = serde_json::json!({"content": meta("JZ-HO-0002"), "ofd": b64(&signed)}).to_string();
    let r = api("POST", "/api/v1/handed-over", body.as_bytes(), &[]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "file_refused");
    assert!(r.text().contains("R-4.1.3"), "{}", r.text());
    // Not an OFD at all, and bad base64.
    let body =
        serde_json::json!({"content": meta("JZ-HO-0002"), "ofd": b64(b"%PDF-1.7")}).to_string();
    let r = api("POST", "/api/v1/handed-over", body.as_bytes(), &[]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("R-4.1.1"), "{}", r.text());
    let body =
        serde_json::json!({"content": meta("JZ-HO-0002"), "ofd": "*not base64*"}).to_string();
    let r = api("POST", "/api/v1/handed-over", body.as_bytes(), &[]);
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "malformed_ofd");
    assert_eq!(
        f.certificate_count(),
        before + 1,
        "nothing stored for the refusals"
    );
}

/// The API's replay and idempotency tables do not grow for ever: `ecert serve` forgets a nonce
/// once a replay would be refused by its timestamp anyway (twice the allowed skew), releases a
/// key left pending by a request that died (15 minutes), and forgets keys after 24 hours — and
/// nothing sooner.
#[test]
fn housekeeping_forgets_what_replay_and_idempotency_no_longer_need() {
    use ecert_store::IdempotencyState::{Completed, InProgress, New};
    let _serial = serial();
    let f = fixture();
    f.block(async {
        let instance = ecert::service::Instance::open(&f.dir).await.unwrap();
        let skew_ms = i64::try_from(instance.config.server.api_max_skew_secs).unwrap() * 1000;
        let store = store();
        let app = ecert::web::App::new(instance).unwrap();
        let client = store.api_client_by_name(CLIENT).await.unwrap().unwrap().id;
        let now = || serve_support::now() * 1000;
        let req = ecert_store::sm3(b"{\"housekeeping\":1}");
        let begin = || async {
            store
                .idempotency_begin(&client, "hk-key", &req)
                .await
                .unwrap()
        };

        // A fresh nonce stays a replay while its request could still be accepted.
        assert!(store.record_nonce(&client, "hk-nonce-0001").await.unwrap());
        app.housekeeping_at(now() + 2 * skew_ms - 60_000)
            .await
            .unwrap();
        assert!(!store.record_nonce(&client, "hk-nonce-0001").await.unwrap());
        let done = app
            .housekeeping_at(now() + 2 * skew_ms + 1000)
            .await
            .unwrap();
        assert!(done.nonces >= 1, "{done:?}");
        assert!(store.record_nonce(&client, "hk-nonce-0001").await.unwrap());

        // A pending key: "in progress" until it is 15 minutes old, then released.
        assert_eq!(begin().await, New);
        let soon = app.housekeeping_at(now() + 14 * 60_000).await.unwrap();
        assert_eq!(soon.stale_pending, 0, "{soon:?}");
        assert_eq!(begin().await, InProgress);
        let late = app.housekeeping_at(now() + 16 * 60_000).await.unwrap();
        assert!(late.stale_pending >= 1, "{late:?}");
        assert_eq!(begin().await, New);

        // A completed key answers retries for 24 hours, then is forgotten.
        store
            .idempotency_complete(&client, "hk-key", 201, b"{}")
            .await
            .unwrap();
        app.housekeeping_at(now() + 23 * 3_600_000).await.unwrap();
        assert!(matches!(begin().await, Completed { status: 201, .. }));
        let day = app.housekeeping_at(now() + 25 * 3_600_000).await.unwrap();
        assert!(day.expired_keys >= 1, "{day:?}");
        assert_eq!(begin().await, New);
        store.idempotency_abandon(&client, "hk-key").await.unwrap();
    });
}

/// A signed API request to the server at `addr` (not the shared fixture's).
fn api_to(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Resp {
    let h = signed_headers(SECRET, method, path, body, now(), &nonce());
    let mut all: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    all.extend_from_slice(extra);
    all.push(("Content-Type", "application/json"));
    request(addr, method, path, &all, body)
}

/// Waits until `/metrics` at `addr` shows `line`; fails if `running` (the request that should
/// keep it so) ended first.
fn wait_for_metric(
    addr: std::net::SocketAddr,
    line: &str,
    running: &std::thread::JoinHandle<Resp>,
) {
    let start = std::time::Instant::now();
    loop {
        let text = request(addr, "GET", "/metrics", &[], b"").text();
        if text.lines().any(|l| l == line) {
            return;
        }
        assert!(
            !running.is_finished(),
            "the first request ended before the metrics showed {line:?}"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "never saw {line:?}:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Issuing through the API is bounded: `issue_workers` calls run, `issue_queue` wait, and one
/// more is answered 503 `busy` with Retry-After, stores nothing and frees its Idempotency-Key.
#[test]
fn api_issuing_beyond_workers_and_queue_is_busy_and_stores_nothing() {
    let _serial = serial();
    let f = fixture();
    let (addr, _server) = own_server(|c| {
        c.server.issue_workers = 1;
        c.server.issue_queue = 1;
        c.server.metrics_public = true;
    });
    let before = f.certificate_count();
    // A long certificate (sixty result tables) keeps the one worker busy.
    let mut long: Value = serde_json::from_str(&new_content("BUSY-A")).unwrap();
    let table = long["results"][0].clone();
    long["results"] = Value::Array(vec![table; 60]);
    let long = long.to_string();
    let a = std::thread::spawn(move || {
        api_to(addr, "POST", "/api/v1/certificates", long.as_bytes(), &[])
    });
    wait_for_metric(addr, "ecert_api_issuing_running 1", &a);
    let b = std::thread::spawn(move || {
        api_to(
            addr,
            "POST",
            "/api/v1/certificates",
            new_content("BUSY-B").as_bytes(),
            &[],
        )
    });
    wait_for_metric(addr, "ecert_api_issuing_waiting 1", &a);

    let c_body = new_content("BUSY-C");
    let key = [("Idempotency-Key", "busy-c")];
    let c = api_to(
        addr,
        "POST",
        "/api/v1/certificates",
        c_body.as_bytes(),
        &key,
    );
    assert_eq!(c.status, 503, "{}", c.text());
    assert_eq!(c.json()["error"]["code"], "busy");
    assert_eq!(c.header("retry-after"), Some("2"));

    let a = a.join().unwrap();
    assert_eq!(a.status, 201, "{}", a.text());
    let b = b.join().unwrap();
    assert_eq!(
        b.status,
        201,
        "the waiting call ran in its turn: {}",
        b.text()
    );
    assert_eq!(
        f.certificate_count(),
        before + 2,
        "the refused call stored nothing"
    );

    // The refusal was audited, and its key is free: the retry issues (it is no replay).
    let refused = audit_after(0, "busy-c");
    assert!(
        refused.iter().any(|e| e.details.contains("\"status\":503")),
        "{refused:?}"
    );
    let retry = api_to(
        addr,
        "POST",
        "/api/v1/certificates",
        c_body.as_bytes(),
        &key,
    );
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.header("idempotency-replayed"), None);
    let m = request(addr, "GET", "/metrics", &[], b"").text();
    for line in [
        "ecert_api_issuing_running 0",
        "ecert_api_issuing_waiting 0",
        "ecert_api_issuing_workers 1",
    ] {
        assert!(m.lines().any(|l| l == line), "{line}:\n{m}");
    }
}

/// A client that hangs up while its certificate is being issued does not cut the work short:
/// the certificate is stored and the Idempotency-Key completed, so the retry gets the answer.
#[test]
fn api_request_runs_to_the_end_when_the_client_hangs_up() {
    use std::io::Write as _;
    let _serial = serial();
    // A server of its own, so that its gauge shows this request alone.
    let (addr, _server) = own_server(|c| c.server.metrics_public = true);
    // A long certificate (sixty result tables), so that the hang-up comes while it is issued.
    let mut long: Value = serde_json::from_str(&new_content("JZ-API-HANGUP")).unwrap();
    let table = long["results"][0].clone();
    long["results"] = Value::Array(vec![table; 60]);
    let body = long.to_string();
    let path = "/api/v1/certificates";
    let h = signed_headers(SECRET, "POST", path, body.as_bytes(), now(), &nonce());
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nIdempotency-Key: hangup-1\r\n",
        body.len()
    );
    for (k, v) in &h {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    // Hang up once the certificate is being issued, without waiting for the answer.
    let start = std::time::Instant::now();
    s.set_nonblocking(true).unwrap();
    loop {
        let metrics = request(addr, "GET", "/metrics", &[], b"").text();
        if metrics.lines().any(|l| l == "ecert_api_issuing_running 1") {
            break;
        }
        let mut b = [0u8; 1];
        assert!(
            s.peek(&mut b).is_err(),
            "answered before the test could hang up"
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "never saw the request being issued:\n{metrics}"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    s.shutdown(std::net::Shutdown::Both).unwrap();
    drop(s);

    // The abandoned request goes on: its certificate is stored…
    while api_to(addr, "GET", "/api/v1/certificates/JZ-API-HANGUP", b"", &[]).status != 200 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "the abandoned request stored nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // …and the retry with the same key gets its answer (`in_progress` until it is recorded).
    let key = [("Idempotency-Key", "hangup-1")];
    let retry = loop {
        let r = api_to(addr, "POST", path, body.as_bytes(), &key);
        if r.status != 409 {
            break r;
        }
        assert_eq!(r.json()["error"]["code"], "in_progress", "{}", r.text());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "the abandoned request never completed its key"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(retry.status, 201, "{}", retry.text());
    assert_eq!(retry.header("idempotency-replayed"), Some("true"));
    assert_eq!(retry.json()["number"], "JZ-API-HANGUP");
}

/// R-7.2.2c: a client can sign requests with its own SM2 key instead of a shared secret. It is
/// registered with its public key alone (`ecert api-client add --sm2-public-key`); a signature
/// made by OpenSSL is accepted, one over anything else or in the shared-secret form is not,
/// and a key that is not SM2 is refused at registration.
#[test]
fn r_7_2_2c_clients_sign_with_their_own_sm2_key() {
    use base64::Engine as _;
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let openssl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .current_dir(w)
            .output()
            .expect("openssl");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    openssl(&["genpkey", "-algorithm", "SM2", "-out", "key.pem"]);
    openssl(&["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]);
    let add = |name: &str, key: &str| {
        ecert_bin()
            .args(["--dir", f.dir.to_str().unwrap(), "api-client", "add", name])
            .arg("--sm2-public-key")
            .arg(w.join(key))
            .output()
            .unwrap()
    };
    let out = add("lims-sm2", "pub.pem");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ECERT-SM2-SM3"));

    // Signed by OpenSSL (SM3, the default user ID), sent as base64.
    let signed = |path: &str, ts: &str, n: &str| {
        let text = ecert::web::auth::string_to_sign_sm2("GET", path, ts, n, b"");
        std::fs::write(w.join("msg"), text).unwrap();
        openssl(&[
            "dgst",
            "-sm3",
            "-sign",
            "key.pem",
            "-sigopt",
            "distid:1234567812345678",
            "-out",
            "sig",
            "msg",
        ]);
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(w.join("sig")).unwrap())
    };
    let send = |path: &str, ts: &str, n: &str, sig: &str| {
        request(
            f.addr,
            "GET",
            path,
            &[
                ("X-Ecert-Client", "lims-sm2"),
                ("X-Ecert-Timestamp", ts),
                ("X-Ecert-Nonce", n),
                ("X-Ecert-Signature", sig),
            ],
            b"",
        )
    };
    let path = "/api/v1/certificates/JZ2024-000123";
    let (ts, n) = (now().to_string(), nonce());
    let sig = signed(path, &ts, &n);
    let ok = send(path, &ts, &n, &sig);
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["number"], "JZ2024-000123");
    let logged = audit_after(0, &n);
    assert!(
        logged.iter().any(|e| e.actor == "api:lims-sm2"),
        "{logged:?}"
    );

    // The same signature for another path, and a shared-secret signature: refused.
    let n2 = nonce();
    let other = send(
        "/api/v1/certificates/NO-SUCH",
        &ts,
        &n2,
        &signed(path, &ts, &n2),
    );
    assert_eq!(other.status, 401);
    assert_eq!(other.json()["error"]["code"], "bad_signature");
    let n3 = nonce();
    let hmac = ecert::web::auth::sign(SECRET.as_bytes(), "GET", path, &ts, &n3, b"");
    let r = send(path, &ts, &n3, &hmac);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "bad_signature");

    // A Rust client signs the same way (`auth::sign_sm2`).
    let key = ses::sm::Sm2KeyPair::generate().unwrap();
    f.block(async {
        f.instance()
            .add_api_client(
                "lims-sm2-rust",
                ecert_store::ClientCredential::PublicKey(&key.public_key_der().unwrap()),
                &ecert::service::Actor::local("test"),
            )
            .await
            .unwrap();
    });
    let (ts, n4) = (now().to_string(), nonce());
    let sig = ecert::web::auth::sign_sm2(&key, "GET", path, &ts, &n4, b"").unwrap();
    let r = request(
        f.addr,
        "GET",
        path,
        &[
            ("X-Ecert-Client", "lims-sm2-rust"),
            ("X-Ecert-Timestamp", &ts),
            ("X-Ecert-Nonce", &n4),
            ("X-Ecert-Signature", &sig),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // A P-256 key is not an SM2 key.
    openssl(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        "p256.pem",
    ]);
    openssl(&["pkey", "-in", "p256.pem", "-pubout", "-out", "p256pub.pem"]);
    let out = add("lims-p256", "p256pub.pem");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("不是 SM2 公钥"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// R-7.2.2d: a flood of unauthenticated requests with large bodies records at most
/// `refusals_logged_per_address` compact entries from one address (no body in any), and one
/// summary entry counts the rest: the audit log grows by a bounded amount, not with the flood.
#[test]
fn a_flood_of_unauthenticated_requests_grows_the_audit_log_boundedly() {
    let f = fixture();
    let marker = format!("flood-{}", nonce());
    let (addr, app) = f.block(async {
        let instance = ecert::service::Instance::open(&f.dir).await.expect("open");
        // (the defaults: 10 an address, 60 in all, a minute)
        let app = ecert::web::App::new(instance).expect("app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(ecert::web::serve(
            app.clone(),
            listener,
            std::future::pending(),
        ));
        (addr, app)
    });
    let before = audit_seq();
    let body = vec![b'x'; 60 * 1024];
    let path = format!("/api/v1/certificates?{marker}");
    for _ in 0..300 {
        let r = request(
            addr,
            "POST",
            &path,
            &[("content-type", "application/json")],
            &body,
        );
        assert_eq!(r.status, 401, "{}", r.text());
    }
    // The minute ends (here: at once).
    assert!(f.block(app.flush_refusals(0, true)), "a summary is written");
    let entries = f
        .block(store().audit_entries(before + 1, i64::MAX))
        .expect("entries");
    let mine: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "api.refused" && e.details.contains(&marker))
        .collect();
    assert_eq!(mine.len(), 10, "one address: ten compact entries a minute");
    for e in &mine {
        assert!(e.details.len() < 1024, "compact: {}", e.details);
        let d: serde_json::Value = serde_json::from_str(&e.details).unwrap();
        assert_eq!(d["size"], 60 * 1024);
        assert!(
            d["request_sm3"].is_string() && d["request"].is_null(),
            "{d}"
        );
    }
    let summaries: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "api.refused_flood")
        .collect();
    assert_eq!(summaries.len(), 1);
    let s: serde_json::Value = serde_json::from_str(&summaries[0].details).unwrap();
    assert_eq!(s["count"], 290, "{s}");
    assert_eq!(s["addresses"]["127.0.0.1"], 290, "{s}");
    assert!(summaries[0].details.len() < 4096);
    let grown: usize =
        mine.iter().map(|e| e.details.len()).sum::<usize>() + summaries[0].details.len();
    assert!(
        grown < 16 * 1024,
        "300 × 60 KiB sent, {grown} bytes of audit details kept"
    );
}

/// Methods no route serves answer 405 everywhere, the API included (before authentication).
#[test]
fn unknown_methods_are_405_on_pages_and_api() {
    let f = fixture();
    for path in [
        "/",
        "/api/v1/certificates",
        "/api/v1/openapi.json",
        "/healthz",
    ] {
        for method in ["TRACE", "PUT", "PATCH", "DELETE"] {
            let r = request(f.addr, method, path, &[], b"");
            assert_eq!(r.status, 405, "{method} {path}: {}", r.text());
        }
    }
}

/// R-6.5g: `ecert serve` scrubs when `[storage] scrub_every_hours` says one is due (here: never
/// scrubbed), one node at a time (the node holding the `scrub` lease), not again until then,
/// and `/metrics` reports the last scrub.
#[test]
fn r_6_5g_serve_scrubs_when_due_and_reports_it() {
    let f = fixture();
    // Another node is scrubbing: this one leaves it to that one.
    assert!(
        f.block(store().take_lease("scrub", "other-node", 60_000))
            .unwrap(),
        "{:?}",
        f.block(store().setting("lease:scrub"))
    );
    assert!(
        f.block(f.instance().scrub_if_due("this-node"))
            .unwrap()
            .is_none(),
        "due, but another node holds the lease"
    );
    f.block(store().release_lease("scrub", "other-node"))
        .unwrap();
    let report = f
        .block(f.instance().scrub_if_due("this-node"))
        .unwrap()
        .expect("never scrubbed: due");
    assert!(report.checked >= 8, "every copy of every file: {report:?}");
    assert!(report.problems.is_empty(), "{report:?}");
    // The lease was given up: another node could take it (and finds nothing due).
    assert!(
        f.block(store().take_lease("scrub", "other-node", 60_000))
            .unwrap()
    );
    f.block(store().release_lease("scrub", "other-node"))
        .unwrap();
    assert!(
        f.block(f.instance().scrub_if_due("this-node"))
            .unwrap()
            .is_none(),
        "not due again for a week"
    );
    let m = get("/metrics").text();
    assert!(m.contains("ecert_scrub_last_problems 0"), "{m}");
    assert!(m.contains("ecert_scrub_last_seconds "), "{m}");
    assert!(
        !audit_after(0, "\"repair\":true").is_empty(),
        "the scrub is in the audit log"
    );
}
