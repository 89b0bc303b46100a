//! Who acts, with which roles: every service call that changes something takes an
//! [`Actor`] and checks its roles itself ([`Instance::authorize`]), whichever interface it came
//! through, so that the console, the API and the command line obey one rule and a page only
//! hides what the service would refuse anyway.
//!
//! | actor | name in the audit chain | roles |
//! |---|---|---|
//! | a staff member in the console ([`Actor::staff`]) | `staff:NAME` | those of the account |
//! | a business system through the API ([`Actor::api_client`]) | `api:NAME` | 签发员 only: issue, revise, supplement |
//! | the command line on the server ([`Actor::local`]) | `cli:USER` or the `--by` name | every role: whoever runs it owns the instance's files and master key, so refusing them in the service would protect nothing; the two-person rules still compare names |
//! | the server's own jobs ([`Actor::system`]) | `serve` | 系统管理员 (scrub, housekeeping) |
//!
//! A refusal answers 403 ([`Error::Forbidden`]) and is audited as `staff.refused` with the
//! role it needed.

use ecert_store::StaffAccount;
use serde_json::json;

use super::{Error, Instance, Result};

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StaffRole {
    /// 签发员: issue, revise, supplement.
    Operator,
    /// 批准人: approve disposal, seal creation and retirement.
    Approver,
    /// 印章管理员: prepare seals, import keys.
    SealAdmin,
    /// 审计员: read everything, change nothing.
    Auditor,
    /// 系统管理员: staff accounts, API clients, customer accounts.
    Admin,
}

impl StaffRole {
    /// Every role.
    pub const ALL: [StaffRole; 5] = [
        StaffRole::Operator,
        StaffRole::Approver,
        StaffRole::SealAdmin,
        StaffRole::Auditor,
        StaffRole::Admin,
    ];

    /// The stored and command-line name.
    pub fn name(self) -> &'static str {
        match self {
            StaffRole::Operator => "operator",
            StaffRole::Approver => "approver",
            StaffRole::SealAdmin => "seal_admin",
            StaffRole::Auditor => "auditor",
            StaffRole::Admin => "admin",
        }
    }

    /// The Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            StaffRole::Operator => "签发员",
            StaffRole::Approver => "批准人",
            StaffRole::SealAdmin => "印章管理员",
            StaffRole::Auditor => "审计员",
            StaffRole::Admin => "系统管理员",
        }
    }

    /// By its name (`operator`, `approver`, `seal_admin`, `auditor`, `admin`).
    pub fn parse(s: &str) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.name() == s.trim())
    }

    /// Whether the role needs a TOTP second factor.
    pub fn needs_totp(self) -> bool {
        matches!(
            self,
            StaffRole::Approver | StaffRole::SealAdmin | StaffRole::Admin
        )
    }
}

/// Who acts: a staff member, an API client, the local command line or the server itself, with
/// its roles (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The name written into the audit chain (`staff:NAME`, `api:NAME`, `cli:USER`, `serve`).
    pub name: String,
    /// Its roles.
    pub roles: Vec<StaffRole>,
}

impl Actor {
    /// A staff member, with the roles of the account.
    pub fn staff(account: &StaffAccount) -> Actor {
        Actor {
            name: format!("staff:{}", account.name),
            roles: account
                .roles
                .iter()
                .filter_map(|r| StaffRole::parse(r))
                .collect(),
        }
    }

    /// A business system through the signed API (`api:NAME`): it issues, revises and
    /// supplements, nothing else.
    pub fn api_client(name: &str) -> Actor {
        Actor {
            name: format!("api:{name}"),
            roles: vec![StaffRole::Operator],
        }
    }

    /// The command line on the server, under `name` as the audit chain records it
    /// (`cli:USER`, or the name given with `--by`): every role.
    pub fn local(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            roles: StaffRole::ALL.to_vec(),
        }
    }

    /// The server's own scheduled work (scrub, housekeeping) under `name`: 系统管理员.
    pub fn system(name: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            roles: vec![StaffRole::Admin],
        }
    }

    /// Whether the actor has `role`.
    pub fn has(&self, role: StaffRole) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the actor has any of `roles`.
    pub fn has_any(&self, roles: &[StaffRole]) -> bool {
        roles.iter().any(|r| self.has(*r))
    }
}

impl Instance {
    /// Refuses ([`Error::Forbidden`], 403, audited as `staff.refused`) an actor that has none
    /// of `any_of`; `what` names the action in the refusal (Chinese, English in brackets).
    pub async fn authorize(&self, actor: &Actor, any_of: &[StaffRole], what: &str) -> Result<()> {
        if actor.has_any(any_of) {
            return Ok(());
        }
        let needs: Vec<&str> = any_of.iter().map(|r| r.name()).collect();
        let _ = self
            .audit(
                &actor.name,
                "staff.refused",
                what,
                &json!({ "needs": needs }),
            )
            .await;
        Err(Error::Forbidden {
            what: what.to_owned(),
            roles: any_of.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_5_2_2_roles_have_names_and_the_approving_ones_need_totp() {
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.name()), Some(r));
            assert!(!r.zh().is_empty());
        }
        assert_eq!(StaffRole::parse("root"), None);
        assert!(StaffRole::Approver.needs_totp());
        assert!(StaffRole::SealAdmin.needs_totp());
        assert!(StaffRole::Admin.needs_totp());
        assert!(!StaffRole::Operator.needs_totp());
        assert!(!StaffRole::Auditor.needs_totp());
    }

    #[test]
    fn r_5_2_2_each_kind_of_actor_has_its_roles() {
        let api = Actor::api_client("lims");
        assert_eq!(api.name, "api:lims");
        assert!(api.has(StaffRole::Operator));
        for r in [
            StaffRole::Approver,
            StaffRole::SealAdmin,
            StaffRole::Auditor,
            StaffRole::Admin,
        ] {
            assert!(!api.has(r), "an API client must not be {r:?}");
        }
        let cli = Actor::local("cli:root");
        assert!(StaffRole::ALL.iter().all(|r| cli.has(*r)));
        let serve = Actor::system("serve");
        assert!(serve.has(StaffRole::Admin) && !serve.has(StaffRole::Operator));
        assert!(serve.has_any(&[StaffRole::Operator, StaffRole::Admin]));
        assert!(!api.has_any(&[StaffRole::Approver, StaffRole::Admin]));
    }
}
