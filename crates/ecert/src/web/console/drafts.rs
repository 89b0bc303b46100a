//! A look before sealing: the content an operator uploads or types
//! for an issue, a revision or a supplement is laid out and shown page by page, marked
//! "预览 未盖章 DRAFT", with nothing sealed or stored; one more click seals and stores it.
//!
//! The draft page carries the content back in the confirming form (base64, so that the
//! browser's newline rules cannot change a byte), with a keyed tag of this session's secret,
//! the purpose, the number and the content: what is sealed is exactly what was shown to this
//! person, and nothing is kept on the server between the two steps (any node can take the
//! second; docs/architecture.md).

use base64::Engine as _;

use super::*;

/// Pages shown in a draft at most (a longer one shows its first pages and says so).
const MAX_DRAFT_PAGES: usize = 20;
/// Resolution of the draft's pages.
const DRAFT_DPI: f64 = 96.0;
/// Largest confirming form: the content in base64, percent-encoded.
pub(super) const MAX_CONFIRM: usize = 4 * MAX_UPLOAD;

/// What a draft is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// A new certificate.
    Issue,
    /// The revision of a certificate.
    Revise,
    /// A supplement to a certificate.
    Supplement,
}

impl Purpose {
    fn name(self) -> &'static str {
        match self {
            Purpose::Issue => "issue",
            Purpose::Revise => "revise",
            Purpose::Supplement => "supplement",
        }
    }
    fn parse(s: &str) -> Option<Purpose> {
        [Purpose::Issue, Purpose::Revise, Purpose::Supplement]
            .into_iter()
            .find(|p| p.name() == s)
    }
}

fn tag_input(secret: &[u8], purpose: Purpose, number: &str, content: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(secret.len() + number.len() + content.len() + 16);
    for part in [secret, purpose.name().as_bytes(), number.as_bytes()] {
        m.extend_from_slice(&(part.len() as u64).to_be_bytes());
        m.extend_from_slice(part);
    }
    m.extend_from_slice(content);
    m
}

fn draft_tag(app: &App, secret: &[u8], purpose: Purpose, number: &str, content: &[u8]) -> String {
    ecert_store::hex(&app.instance().portal_keys().tag(
        "console draft",
        &tag_input(secret, purpose, number, content),
    ))
}

/// Lays out `content` for `purpose` and answers the draft page, or the refusal (content
/// problems, a number taken, no active seal, a void original) on the page it came from.
pub(super) async fn draft_answer(
    app: &App,
    v: &Visit,
    actor: &Actor,
    secret: &[u8],
    purpose: Purpose,
    number: &str,
    content: String,
) -> Result<Response, Error> {
    let inst = app.instance();
    let draft = match purpose {
        Purpose::Issue => inst.draft_issue(&content, actor).await,
        Purpose::Revise => inst.draft_revision(number, &content, actor).await,
        Purpose::Supplement => inst.draft_supplement(number, &content, actor).await,
    };
    let (title, title_en) = match purpose {
        Purpose::Issue => ("签发预览", "Preview of the certificate"),
        Purpose::Revise => ("修改预览", "Preview of the revision"),
        Purpose::Supplement => ("补充文件预览", "Preview of the supplement"),
    };
    let mut p = staff_page_of(app, v, actor, secret, title, title_en);
    if purpose == Purpose::Issue {
        p.blocks.push(issue_form(v, &token(app, secret)));
    }
    let mut draft = match draft {
        Ok(d) => d,
        Err(e) => return outcome_page(v, p, PortalError::Service(e)),
    };
    p.blocks.clear();
    let shown = draft.pages.min(MAX_DRAFT_PAGES);
    let file = std::mem::take(&mut draft.file);
    let pictures = tokio::task::spawn_blocking(move || {
        (1..=shown)
            .map(|n| {
                crate::preview::render_page_png_marked(
                    &file,
                    n,
                    DRAFT_DPI,
                    Some(crate::preview::Mark::Draft),
                )
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await
    .map_err(|e| Error::internal("预览 (preview)", &e.to_string()))?
    .map_err(|e| Error::internal_from("预览 (preview)", &e))?;
    p.notice = Some(
        v.t(
            "这是预览：尚未盖章，也未保存。核对每一页后，点击页面下方的“确认盖章并签发”。",
            "This is a preview: nothing is sealed or stored yet. Check every page, then press \
             “Seal and issue” below.",
        )
        .into(),
    );
    let mut rows = vec![
        (v.t("编号", "Number").into(), draft.number.clone()),
        (
            v.t(
                if purpose == Purpose::Supplement {
                    "原证书标识"
                } else {
                    "标识"
                },
                if purpose == Purpose::Supplement {
                    "Original's identifier"
                } else {
                    "Identifier"
                },
            )
            .into(),
            draft.identifier.clone(),
        ),
        (v.t("页数", "Pages").into(), draft.pages.to_string()),
    ];
    if purpose != Purpose::Issue {
        rows.insert(
            0,
            (
                v.t(
                    if purpose == Purpose::Revise {
                        "修改的证书"
                    } else {
                        "补充的证书"
                    },
                    if purpose == Purpose::Revise {
                        "Certificate revised"
                    } else {
                        "Certificate supplemented"
                    },
                )
                .into(),
                number.to_owned(),
            ),
        );
    }
    p.blocks.push(Block::Rows(rows));
    if shown < draft.pages {
        p.blocks.push(Block::Small(match v.lang() {
            Lang::Zh => format!("只显示前 {shown} 页，共 {} 页。", draft.pages),
            Lang::En => format!("The first {shown} of {} pages are shown.", draft.pages),
        }));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    for (i, png) in pictures.iter().enumerate() {
        p.blocks.push(Block::Image(
            format!("data:image/png;base64,{}", b64.encode(png)),
            match v.lang() {
                Lang::Zh => format!("第 {} 页（预览，未盖章）", i + 1),
                Lang::En => format!("Page {} (preview, not sealed)", i + 1),
            },
        ));
    }
    let csrf = token(app, secret);
    p.blocks.push(Block::Form(
        Form::post(
            "confirm",
            v.at("/console/confirm"),
            v.t("确认", "Confirm"),
            &csrf,
        )
        .hidden("purpose", purpose.name())
        .hidden("number", number)
        .hidden("content", b64.encode(content.as_bytes()))
        .hidden(
            "draft",
            draft_tag(app, secret, purpose, number, content.as_bytes()),
        )
        .submit(v.t("确认盖章并签发", "Seal and issue"))
        .note(v.t(
            "盖章时重新排版同一内容；二维码中的验证网址在盖章时生成。",
            "Sealing lays out the same content again; the verification URL in the code is made \
             when it is sealed.",
        )),
    ));
    let mut r = respond(StatusCode::OK, &p, None);
    // The pages are in the page itself (data: pictures), so that nothing of a draft is kept
    // on the server.
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(super::super::security::CSP_DATA_IMAGES),
    );
    Ok(r)
}

/// `POST /console/confirm`: seals and stores exactly the content of a draft shown to this
/// session.
pub(super) async fn confirm_post(
    State(app): State<App>,
    v: Visit,
    body: Bytes,
) -> Result<Response, Error> {
    let f = Fields::parse(&body).map_err(super::super::portal::portal_error)?;
    let Some((_, actor, secret)) = posted(&app, &v, f.get("csrf")).await? else {
        return Ok(to_login(&v));
    };
    let mut p = staff_page_of(&app, &v, &actor, &secret, "签发", "Issue");
    // The role first, so that a refusal is a refusal (403, audited) whatever the form holds.
    if let Err(e) = app
        .instance()
        .authorize(&actor, &[StaffRole::Operator], "签发 (issue)")
        .await
    {
        return outcome_page(&v, p, PortalError::Service(e));
    }
    let purpose = Purpose::parse(f.get("purpose"));
    let number = f.get("number");
    let content = base64::engine::general_purpose::STANDARD
        .decode(f.get("content"))
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let given = ecert_store::parse_hex(f.get("draft"));
    let (Some(purpose), Some(content), Some(given)) = (purpose, content, given) else {
        p.error = Some(
            v.t(
                "确认表单不完整，请重新上传内容并预览",
                "The confirming form is incomplete; upload the content and preview it again",
            )
            .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    };
    let shown = app.instance().portal_keys().check_tag(
        "console draft",
        &tag_input(&secret, purpose, number, content.as_bytes()),
        &given,
    );
    if !shown {
        p.error = Some(
            v.t(
                "内容与预览的不一致（或预览来自另一次登录），未盖章；请重新预览",
                "The content is not the one previewed (or the preview is from another login); \
                 nothing was sealed — preview it again",
            )
            .into(),
        );
        return Ok(respond(StatusCode::UNPROCESSABLE_ENTITY, &p, None));
    }
    let inst = app.instance();
    match purpose {
        Purpose::Issue | Purpose::Revise => {
            let issued = if purpose == Purpose::Issue {
                inst.issue(&content, &actor).await
            } else {
                inst.revise(number, &content, &actor).await
            };
            match issued {
                Ok(i) => {
                    app.invalidate();
                    Ok(respond(
                        StatusCode::OK,
                        &issued_page(&app, &v, &actor, &secret, &i),
                        None,
                    ))
                }
                Err(e) => outcome_page(&v, p, PortalError::Service(e)),
            }
        }
        Purpose::Supplement => match inst.supplement(number, &content, &actor).await {
            Ok(s) => {
                app.invalidate();
                Ok(respond(
                    StatusCode::OK,
                    &supplemented_page(&app, &v, &actor, &secret, &s),
                    None,
                ))
            }
            Err(e) => outcome_page(&v, p, PortalError::Service(e)),
        },
    }
}

/// The content of a supplement typed into the certificate page's form: the reason, one item
/// per line, and signatories as "角色 姓名" per line; `None` when no reason was typed.
pub(super) fn supplement_from_form(
    fields: &std::collections::HashMap<String, String>,
) -> Option<String> {
    let get = |k: &str| fields.get(k).map_or("", |s| s.trim());
    let reason = get("reason");
    if reason.is_empty() {
        return None;
    }
    let items: Vec<serde_json::Value> = get("items")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::json!({ "text": l }))
        .collect();
    let signatories: Vec<serde_json::Value> = get("signatories")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(char::is_whitespace) {
            Some((role, name)) => serde_json::json!({ "role": role, "name": name.trim() }),
            None => serde_json::json!({ "name": l }),
        })
        .collect();
    let mut v = serde_json::json!({ "reason": reason });
    if !items.is_empty() {
        v["items"] = items.into();
    }
    if !signatories.is_empty() {
        v["signatories"] = signatories.into();
    }
    Some(v.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn r_6_4_2_a_typed_supplement_becomes_its_content_json() {
        let mut f = std::collections::HashMap::new();
        assert_eq!(supplement_from_form(&f), None);
        f.insert("reason".to_owned(), " 补充判定依据 ".to_owned());
        f.insert("items".to_owned(), "第一条\r\n\r\n 第二条 ".to_owned());
        f.insert(
            "signatories".to_owned(),
            "检定员 孙八\n核验员  周九".to_owned(),
        );
        let json = supplement_from_form(&f).unwrap();
        let c = crate::domain::SupplementContent::parse_valid(&json).unwrap();
        assert_eq!(c.reason.as_deref(), Some("补充判定依据"));
        let items = c.items.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].text.as_deref(), Some("第二条"));
        let people = c.signatories.unwrap();
        assert_eq!(people[1].name.as_deref(), Some("周九"));
        // A line without a role comes back as a problem naming it, not a guess.
        f.insert("signatories".to_owned(), "周九".to_owned());
        let json = supplement_from_form(&f).unwrap();
        let problems = crate::domain::SupplementContent::parse_valid(&json).unwrap_err();
        assert!(
            problems
                .0
                .iter()
                .any(|p| p.pointer == "/signatories/0/role"),
            "{problems:?}"
        );
    }

    #[test]
    fn r_5_2_1_a_draft_tag_binds_purpose_number_and_every_byte() {
        let a = tag_input(b"s", Purpose::Revise, "N-1", b"{}");
        assert_ne!(a, tag_input(b"s", Purpose::Supplement, "N-1", b"{}"));
        assert_ne!(a, tag_input(b"s", Purpose::Revise, "N-12", b"{}"));
        assert_ne!(a, tag_input(b"s", Purpose::Revise, "N-1", b"{ }"));
        assert_ne!(a, tag_input(b"t", Purpose::Revise, "N-1", b"{}"));
        // (lengths first: moving a byte from the number into the content changes the input)
        assert_ne!(
            tag_input(b"s", Purpose::Revise, "N-1", b"2{}"),
            tag_input(b"s", Purpose::Revise, "N-12", b"{}")
        );
    }
}
