//! The exact statements every look at a certificate must make (R-6.4.1, R-6.4.2, R-6.5h).

/// What every look at a certificate must say besides "genuine": the exact statements of
/// R-6.4.1 (revised), R-6.4.2 (supplemented) and R-6.5h (disposed).
pub fn status_messages(view: &ecert_store::StatusView) -> Vec<String> {
    use ecert_store::CertificateStatus;
    let mut out = Vec::new();
    match view.certificate.status {
        CertificateStatus::Disposed => out.push(MSG_DISPOSED.to_owned()),
        CertificateStatus::Revised => {
            if let Some(new) = &view.replaced_by {
                out.push(revised_message(&new.number));
            }
        }
        CertificateStatus::Valid | CertificateStatus::Supplemented => {}
    }
    if view.certificate.status != CertificateStatus::Disposed && !view.supplements.is_empty() {
        out.push(supplement_message(&view.certificate.number));
    }
    out
}

/// R-6.5h: shown for a disposed certificate.
pub const MSG_DISPOSED: &str = "超过存储期限，不提供真伪验证";

/// "该证书作废，按照证书修改处置要求，修改后的证书号为{new number}".
pub fn revised_message(new_number: &str) -> String {
    format!("该证书作废，按照证书修改处置要求，修改后的证书号为{new_number}")
}

/// "对序号为{number}的证书/报告的补充文件".
pub fn supplement_message(number: &str) -> String {
    format!("对序号为{number}的证书/报告的补充文件")
}

/// A certificate's status as a person reads it (pages, `ecert verify --records`), in Chinese
/// (`english`: in English; R-6.5h's statement stays Chinese).
pub fn status_text(status: ecert_store::CertificateStatus, english: bool) -> &'static str {
    use ecert_store::CertificateStatus;
    let (zh, en) = match status {
        CertificateStatus::Valid => ("真实有效", "Genuine and current"),
        CertificateStatus::Revised => ("真实，但已作废（已修改）", "Genuine, but void (revised)"),
        CertificateStatus::Supplemented => (
            "真实有效，有补充文件",
            "Genuine and current, with supplements",
        ),
        CertificateStatus::Disposed => (MSG_DISPOSED, MSG_DISPOSED),
    };
    if english { en } else { zh }
}
