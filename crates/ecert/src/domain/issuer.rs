//! The issuer a certificate names is the instance's own institute ("another issuer
//! sealed as ours").
//!
//! A certificate is sealed with the institute's seal and its public page says 真实有效, so what
//! it says about its issuer must be what the institute configured (`[institute]` in
//! `ecert.toml`), never what the content claims. The content may leave any issuer field out
//! (it is filled from the configuration) or repeat the configured value; anything else is
//! refused at the field's pointer (`/issuer/name`, `/issuer/orgCode`, …), naming the configured
//! value. Values are compared after Unicode NFC normalisation and trimming white space at both
//! ends (so a decomposed "é" or a trailing space is not a different institute), and the
//! certificate always carries the configured bytes, not the content's.
//!
//! The fields: name, address, organisation code, telephone (`[institute]`), website (the
//! verification site, `[instance] base_url`), and the accreditation. An institute may hold
//! several accreditations or authorisations (a CNAS number for calibrations, a 计量授权证书
//! number for legal verifications): the content picks one of the configured ones by value —
//! it becomes part 4 of the identifier — and gets the first when it names none. A
//! field the institute did not configure (an empty address or telephone) cannot be given by
//! the content either. A revision keeps the accreditation of the certificate it replaces
//! (its identifier does, R-6.4.1).

use unicode_normalization::UnicodeNormalization;

use super::content::{ContentErrors, Issuer, Problem, Rule};

/// The institute's configured issuer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institute {
    /// 发证机构名称
    pub name: String,
    /// 地址 (empty: not configured)
    pub address: String,
    /// 组织机构代码 / 统一社会信用代码
    pub org_code: String,
    /// 认可/授权标识: at least one; the first is the default.
    pub accreditations: Vec<String>,
    /// 电话 (empty: not configured)
    pub phone: String,
    /// 网址: where certificates are verified.
    pub website: String,
}

impl Institute {
    /// The institute of a configuration (`[institute]`, and `base_url` as its website).
    pub fn from_config(config: &crate::config::Config) -> Institute {
        let i = &config.institute;
        Institute {
            name: i.name.clone(),
            address: i.address.clone(),
            org_code: i.org_code.clone(),
            accreditations: i.accreditations(),
            phone: i.phone.clone(),
            website: config.instance.base_url.clone(),
        }
    }

    /// The issuer of a certificate whose content names `given`: every field from the
    /// configuration, the accreditation the content picked (or `keep`, for a revision; or the
    /// first configured). Every field of `given` that is not the configured value is a
    /// problem at its pointer.
    pub fn resolve(
        &self,
        given: Option<&Issuer>,
        keep_accreditation: Option<&str>,
    ) -> Result<Issuer, ContentErrors> {
        let empty = Issuer::default();
        let given = given.unwrap_or(&empty);
        let mut problems = Vec::new();
        let mut field = |name: &str, zh: &str, en: &str, given: &Option<String>, own: &str| {
            let own = own.trim();
            if let Some(g) = given
                && norm(g) != norm(own)
            {
                let message = if own.is_empty() {
                    format!(
                        "本机构未配置{zh}，内容中不能给出“{g}”；请省略此项 (no {en} is configured for this institute; leave /issuer/{name} out)"
                    )
                } else {
                    format!(
                        "{zh}应为本机构配置的“{own}”，不能为“{g}”；可省略此项，由配置填写 (the {en} must be the institute's configured {own:?}, not {g:?}; leave it out to use the configured value)"
                    )
                };
                problems.push(Problem {
                    pointer: format!("/issuer/{name}"),
                    message,
                    rule: Rule::Issuer,
                });
            }
            (!own.is_empty()).then(|| own.to_owned())
        };
        let name = field(
            "name",
            "发证机构名称",
            "issuer name",
            &given.name,
            &self.name,
        );
        let address = field(
            "address",
            "发证机构地址",
            "issuer address",
            &given.address,
            &self.address,
        );
        let org_code = field(
            "orgCode",
            "组织机构代码",
            "organisation code",
            &given.org_code,
            &self.org_code,
        );
        let phone = field(
            "phone",
            "发证机构电话",
            "telephone",
            &given.phone,
            &self.phone,
        );
        let website = field(
            "website",
            "发证机构网址",
            "website",
            &given.website,
            &self.website,
        );
        let allowed: Vec<&str> = match keep_accreditation {
            Some(kept) => vec![kept],
            None => self.accreditations.iter().map(String::as_str).collect(),
        };
        let accreditation = match &given.accreditation {
            None => allowed.first().map(|a| (*a).to_owned()),
            Some(g) => match allowed.iter().find(|a| norm(a) == norm(g)) {
                Some(a) => Some((*a).to_owned()),
                None => {
                    let list = allowed
                        .iter()
                        .map(|a| format!("“{a}”"))
                        .collect::<Vec<_>>()
                        .join("、");
                    let message = match keep_accreditation {
                        Some(kept) => format!(
                            "修改后的证书沿用原证书的认可/授权标识“{kept}”，不能为“{g}” (a revision keeps the accreditation of the certificate it replaces, {kept:?}, not {g:?})"
                        ),
                        None => format!(
                            "认可/授权标识“{g}”不是本机构配置的，应为 {list} 之一；省略时用第一个 (accreditation {g:?} is not one of the institute's configured ones, {list}; leave it out for the first)"
                        ),
                    };
                    problems.push(Problem {
                        pointer: "/issuer/accreditation".into(),
                        message,
                        rule: Rule::Issuer,
                    });
                    None
                }
            },
        };
        if problems.is_empty() {
            Ok(Issuer {
                name,
                address,
                org_code,
                accreditation,
                phone,
                website,
            })
        } else {
            Err(ContentErrors(problems))
        }
    }
}

/// NFC, trimmed at both ends.
fn norm(s: &str) -> String {
    s.nfc().collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn institute() -> Institute {
        Institute {
            name: "示例市计量测试研究院".into(),
            address: "江苏省苏州市示例区计量路1号".into(),
            org_code: "123456788".into(),
            accreditations: vec!["CNAS L12345".into(), "（苏）法计（2023）00001".into()],
            phone: String::new(),
            website: "https://cert.example.cn".into(),
        }
    }

    #[test]
    fn absent_fields_come_from_the_configuration() {
        let filled = institute().resolve(None, None).expect("nothing named");
        assert_eq!(filled.name.as_deref(), Some("示例市计量测试研究院"));
        assert_eq!(filled.org_code.as_deref(), Some("123456788"));
        assert_eq!(filled.accreditation.as_deref(), Some("CNAS L12345"));
        assert_eq!(filled.website.as_deref(), Some("https://cert.example.cn"));
        assert_eq!(filled.phone, None, "no telephone configured");
    }

    /// Repeating the configured values is fine, after NFC and trimming; the configured bytes
    /// are kept. The second accreditation can be picked by value.
    #[test]
    fn repeated_values_and_a_chosen_accreditation() {
        let mut i = institute();
        i.name = "Café 计量院".into();
        let given = Issuer {
            name: Some(" Cafe\u{301} 计量院 ".into()),
            org_code: Some("123456788".into()),
            accreditation: Some("（苏）法计（2023）00001 ".into()),
            ..Default::default()
        };
        let filled = i.resolve(Some(&given), None).expect("the same institute");
        assert_eq!(filled.name.as_deref(), Some("Café 计量院"));
        assert_eq!(
            filled.accreditation.as_deref(),
            Some("（苏）法计（2023）00001")
        );
    }

    /// Another institute's name, code or accreditation, or a telephone the institute did not
    /// configure: each refused at its pointer, naming the configured value.
    #[test]
    fn another_issuer_is_refused_field_by_field() {
        let given = Issuer {
            name: Some("别的计量院".into()),
            address: Some("江苏省苏州市示例区计量路1号".into()),
            org_code: Some("12345678X".into()),
            accreditation: Some("CNAS L99999".into()),
            phone: Some("0512-1".into()),
            website: Some("https://evil.example".into()),
        };
        let err = institute()
            .resolve(Some(&given), None)
            .expect_err("another issuer");
        for p in [
            "/issuer/name",
            "/issuer/orgCode",
            "/issuer/accreditation",
            "/issuer/phone",
            "/issuer/website",
        ] {
            assert!(err.has(p, Rule::Issuer), "{p}: {err}");
        }
        assert!(!err.0.iter().any(|p| p.pointer == "/issuer/address"));
        let name = err
            .0
            .iter()
            .find(|p| p.pointer == "/issuer/name")
            .expect("name");
        assert!(
            name.message.contains("示例市计量测试研究院"),
            "{}",
            name.message
        );
        let acc = err
            .0
            .iter()
            .find(|p| p.pointer == "/issuer/accreditation")
            .expect("accreditation");
        assert!(
            acc.message.contains("CNAS L12345") && acc.message.contains("（苏）法计（2023）00001"),
            "{}",
            acc.message
        );
    }

    #[test]
    fn a_revision_keeps_its_accreditation() {
        let given = Issuer {
            accreditation: Some("CNAS L12345".into()),
            ..Default::default()
        };
        let err = institute()
            .resolve(Some(&given), Some("（苏）法计（2023）00001"))
            .expect_err("another accreditation than the original's");
        assert!(err.has("/issuer/accreditation", Rule::Issuer));
        let kept = institute()
            .resolve(None, Some("（苏）法计（2023）00001"))
            .expect("kept");
        assert_eq!(
            kept.accreditation.as_deref(),
            Some("（苏）法计（2023）00001")
        );
    }
}
