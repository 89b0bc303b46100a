//! Which customer a certificate belongs to: the binding of each certificate to the
//! contact the business system gave (`customer.uscc`, `customer.mobile`, `customer.email` of
//! the content) and to the preset download password (`customer.downloadPassword`, R-6.2f),
//! made in the same transaction as the issue or revision, or afterwards with
//! `ecert customer bind` for certificates issued before.
//!
//! The download password is taken out of the content before anything else sees it
//! ([`Content::take_download_password`]): it reaches neither the laid-out file, nor the stored
//! content, nor the audit chain (the API's exchange log redacts it too), nor an answer. It is
//! kept only as an argon2id hash with the `[portal] password` parameters.

use ecert_store::{Binding, CertificateRecord, CustomerContact, NewBinding};
use zeroize::Zeroizing;

use super::{Actor, Error, Instance, Record, Result, StaffRole, internal};
use crate::domain::Content;
use crate::domain::content::{Customer, download_password_problem};

/// What `ecert customer bind` changes: each field given replaces the stored one; the others
/// are kept.
#[derive(Debug, Default)]
pub struct BindRequest {
    /// Unified social credit code.
    pub uscc: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// A new preset download password (R-6.2f), hashed here.
    pub download_password: Option<Zeroizing<String>>,
}

/// The contact fields of a content's customer (empty ones left out).
pub(crate) fn contact_of(customer: Option<&Customer>) -> CustomerContact {
    let pick = |v: Option<&String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    CustomerContact {
        uscc: pick(customer.and_then(|c| c.uscc.as_ref())),
        mobile: pick(customer.and_then(|c| c.mobile.as_ref())),
        email: pick(customer.and_then(|c| c.email.as_ref())),
    }
}

impl Instance {
    /// The customer binding of the certificate numbered `number`.
    pub async fn binding_of_number(&self, number: &str) -> Result<Option<Binding>> {
        let record = self
            .store
            .certificate_by_number(number)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: Record::Certificate,
                key: number.to_owned(),
            })?;
        Ok(self
            .store
            .binding_of(&self.customer_keys, &record.id)
            .await?)
    }

    /// argon2id hash of a download password, with the configured parameters (on a blocking
    /// thread: it takes tens of milliseconds by design).
    async fn hash_download_password(&self, password: Zeroizing<String>) -> Result<String> {
        if let Some(problem) = download_password_problem(&password) {
            return Err(Error::content(
                "/customer/downloadPassword",
                crate::domain::Rule::Required,
                problem,
            ));
        }
        let params = self.config.portal.password;
        super::cpu(move || {
            super::password::hash_password(&params, &password)
                .map_err(internal("下载密码哈希 (download password hash)"))
        })
        .await
    }

    /// The binding a new certificate (or revision of `revises`) gets from its content (R-5.2.3,
    /// R-6.2f). A revision whose content names no contact keeps its original's contact, and
    /// one without a download password keeps its original's. `None`: nothing to bind.
    pub(crate) async fn binding_for_issue(
        &self,
        content: &mut Content,
        revises: Option<&CertificateRecord>,
    ) -> Result<Option<NewBinding>> {
        let password = content.take_download_password();
        let mut contact = contact_of(content.customer.as_ref());
        let previous = match revises {
            Some(old) => self.store.binding_of(&self.customer_keys, &old.id).await?,
            None => None,
        };
        let hash = match password {
            Some(p) => Some(self.hash_download_password(p).await?),
            None => previous
                .as_ref()
                .and_then(|b| b.download_password_hash.clone()),
        };
        if contact.is_empty()
            && let Some(prev) = &previous
        {
            contact = prev.contact.clone();
        }
        if contact.is_empty() && hash.is_none() {
            return Ok(None);
        }
        Ok(Some(NewBinding {
            keys: self.customer_keys.clone(),
            contact,
            download_password_hash: hash,
        }))
    }

    /// `ecert customer bind`: binds (or rebinds) the certificate or supplement's original
    /// numbered `number` to a customer contact and/or a download password; fields not given
    /// keep their stored values. Audited as `customer.bind` (which fields, never their values).
    pub async fn bind_customer(
        &self,
        number: &str,
        req: BindRequest,
        actor: &Actor,
    ) -> Result<Binding> {
        self.authorize(
            actor,
            &[StaffRole::Admin],
            "绑定证书与客户 (bind a certificate)",
        )
        .await?;
        let actor = actor.name.as_str();
        let record = match self.store.certificate_by_number(number).await? {
            Some(r) => r,
            None => match self.find_supplement(number).await {
                Ok((_, original)) => original,
                Err(Error::NotFound { .. }) => {
                    return Err(Error::NotFound {
                        what: Record::Certificate,
                        key: number.to_owned(),
                    });
                }
                Err(e) => return Err(e),
            },
        };
        if req.uscc.is_none()
            && req.mobile.is_none()
            && req.email.is_none()
            && req.download_password.is_none()
        {
            return Err(Error::Invalid {
                field: "binding",
                problem: "未给出任何要绑定的内容：请给出 --mobile、--email、--uscc 或 \
                          --download-password-file (nothing to bind: give --mobile, --email, \
                          --uscc or --download-password-file)"
                    .into(),
            });
        }
        let customer = Customer {
            uscc: req.uscc,
            mobile: req.mobile,
            email: req.email,
            ..Customer::default()
        };
        check_contact(&customer)?;
        let previous = self
            .store
            .binding_of(&self.customer_keys, &record.id)
            .await?;
        let (mut contact, mut hash) = match previous {
            Some(b) => (b.contact, b.download_password_hash),
            None => (CustomerContact::default(), None),
        };
        let given = contact_of(Some(&customer));
        contact.uscc = given.uscc.or(contact.uscc);
        contact.mobile = given.mobile.or(contact.mobile);
        contact.email = given.email.or(contact.email);
        if let Some(p) = req.download_password {
            hash = Some(self.hash_download_password(p).await?);
        }
        let binding = NewBinding {
            keys: self.customer_keys.clone(),
            contact,
            download_password_hash: hash,
        };
        Ok(self
            .store
            .bind_certificate(&binding, &record.id, actor)
            .await?)
    }
}

/// The contact fields of `ecert customer bind`, checked as the content's rules check them.
fn check_contact(customer: &Customer) -> Result<()> {
    let probe = Content {
        customer: Some(Customer {
            name: Some("-".into()),
            ..customer.clone()
        }),
        ..Content::default()
    };
    // Only the problems of the customer's contact fields count here (the probe has no other
    // content).
    match probe.validate() {
        Ok(()) => Ok(()),
        Err(errs) => {
            let own: Vec<_> = errs
                .0
                .into_iter()
                .filter(|p| {
                    ["/customer/uscc", "/customer/mobile", "/customer/email"]
                        .iter()
                        .any(|f| p.pointer == *f)
                })
                .collect();
            if own.is_empty() {
                Ok(())
            } else {
                Err(Error::ContentInvalid(
                    crate::domain::content::ContentErrors(own),
                ))
            }
        }
    }
}
