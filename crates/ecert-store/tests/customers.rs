//! The customer portal's records (R-5.2.3, R-6.2, R-7.2.3) on both backends: accounts and
//! verified channels, organisations, members and invitations, sessions, one-time codes,
//! certificate bindings and who sees what, the portal's download log; customer data encrypted at
//! rest and surviving a master key rotation.

#![allow(clippy::unwrap_used)]
#[macro_use]
mod common;

use common::{Backend, Env, cert, file};
use ecert_store::{
    AccountKind, AccountState, CodeCheck, CodePurpose, CustomerContact, CustomerKeys, IndexKind,
    MasterKey, NewBinding, NewCode, OrgState, PackageItem, PortalQuery, Role, StoreError, sm3,
};
use serde_json::json;
use sqlx::Row;

both_backends!(
    r_5_2_3_an_account_is_active_only_after_a_channel_is_verified,
    r_5_2_3_customer_data_are_stored_only_encrypted_and_indexed,
    r_5_2_3_a_verified_address_belongs_to_one_account,
    r_5_2_3_organisations_members_and_invitations,
    r_5_2_3_sessions_are_stored_as_hashes_and_end_everywhere,
    r_6_2_codes_are_single_use_expire_and_lock_after_five_tries,
    r_5_2_3_customers_see_only_their_own_certificates,
    r_6_2f_binding_keeps_only_the_download_password_hash,
    r_7_2_3b_portal_downloads_are_logged_and_audited,
    r_5_2_3_lockout_counts_failed_logins,
    r_7_2_3d_master_key_rotation_re_encrypts_customer_data,
    r_5_2_3_issue_and_revision_bind_in_their_own_transaction,
    r_5_2_3_unfinished_registrations_and_old_codes_are_purged,
);

fn nb(keys: &CustomerKeys, contact: &CustomerContact, hash: Option<&str>) -> NewBinding {
    NewBinding {
        keys: keys.clone(),
        contact: contact.clone(),
        download_password_hash: hash.map(str::to_owned),
    }
}

fn master() -> MasterKey {
    MasterKey::from_hex("00112233445566778899aabbccddeeff").unwrap()
}

async fn issue(env: &Env, n: u32) -> String {
    env.store
        .issue_certificate(&cert(n), file(n, 512), "test", &json!({}))
        .await
        .unwrap()
        .id
}

async fn prepared(env: &Env) {
    // The master key check value is written by the application's init; the store refuses an
    // instance secret without it, so set it as `ecert init` does.
    env.store.check_master_key(&master()).await.unwrap();
}

async fn r_5_2_3_an_account_is_active_only_after_a_channel_is_verified(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (acc, chans) = s
        .create_account(
            &keys,
            AccountKind::Person,
            Some("张三"),
            &[
                (IndexKind::Email, "Zhang.San@Example.cn"),
                (IndexKind::Mobile, "+86 138 0013 8000"),
            ],
            Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"),
        )
        .await
        .unwrap();
    assert_eq!(acc.state, AccountState::Pending);
    assert_eq!(acc.name.as_deref(), Some("张三"));
    assert_eq!(chans.len(), 2);
    assert_eq!(chans[0].value, "zhang.san@example.cn");
    assert_eq!(chans[1].value, "13800138000");
    // Not found by address while unverified.
    assert!(
        s.customer_by_address(&keys, IndexKind::Email, "zhang.san@example.cn")
            .await
            .unwrap()
            .is_none()
    );
    s.verify_channel(&acc.id, &chans[0].id).await.unwrap();
    // Idempotent.
    s.verify_channel(&acc.id, &chans[0].id).await.unwrap();
    let (found, ch) = s
        .customer_by_address(&keys, IndexKind::Email, " ZHANG.SAN@example.CN")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, acc.id);
    assert_eq!(found.state, AccountState::Active);
    assert_eq!(ch.id, chans[0].id);
    // The mobile is still unverified.
    assert!(
        s.customer_by_address(&keys, IndexKind::Mobile, "13800138000")
            .await
            .unwrap()
            .is_none()
    );
    // Another account's channel cannot be verified through this one.
    let (other, other_ch) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Mobile, "13900139000")],
            None,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.verify_channel(&acc.id, &other_ch[0].id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(
        s.customer_account(&keys, &other.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        AccountState::Pending
    );
    // No channel: refused.
    assert!(matches!(
        s.create_account(&keys, AccountKind::Person, None, &[], None)
            .await,
        Err(StoreError::Invalid { .. })
    ));
    let actions: Vec<String> = s
        .audit_entries(1, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"customer.register".to_owned()));
    assert!(actions.contains(&"customer.channel_verified".to_owned()));
}

async fn r_5_2_3_customer_data_are_stored_only_encrypted_and_indexed(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (acc, _) = s
        .create_account(
            &keys,
            AccountKind::Person,
            Some("李四保密姓名"),
            &[(IndexKind::Email, "secret.person@example.cn")],
            None,
        )
        .await
        .unwrap();
    let org = s
        .create_org(&keys, "91330106MA2B3C4D5E", "杭州保密仪器有限公司", &acc.id)
        .await
        .unwrap();
    assert_eq!(org.name, "杭州保密仪器有限公司");
    assert_eq!(org.state, OrgState::Pending);
    let id = issue(&env, 1).await;
    s.bind_certificate(
        &nb(
            &keys,
            &CustomerContact {
                uscc: Some("91330106MA2B3C4D5E".into()),
                mobile: Some("13712345678".into()),
                email: Some("contact.secret@example.cn".into()),
            },
            None,
        ),
        &id,
        "test",
    )
    .await
    .unwrap();
    // No customer value appears in clear anywhere in the portal's tables or the audit chain.
    let secrets: [&[u8]; 6] = [
        "李四保密姓名".as_bytes(),
        b"secret.person@example.cn",
        b"91330106MA2B3C4D5E",
        "杭州保密仪器有限公司".as_bytes(),
        b"13712345678",
        b"contact.secret@example.cn",
    ];
    for table in [
        "customer_accounts",
        "customer_channels",
        "customer_orgs",
        "customer_bindings",
        "audit_log",
        "settings",
    ] {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {table}")))
            .fetch_all(s.pool())
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table} is empty");
        for row in &rows {
            for i in 0..row.len() {
                let bytes: Vec<u8> = row
                    .try_get::<Vec<u8>, _>(i)
                    .or_else(|_| row.try_get::<String, _>(i).map(String::into_bytes))
                    .unwrap_or_default();
                for secret in secrets {
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret),
                        "{table} column {i} holds a customer value in clear"
                    );
                }
            }
        }
    }
    // The index is keyed: not the plain SM3 of the value.
    let row = sqlx::query("SELECT value_index FROM customer_channels")
        .fetch_one(s.pool())
        .await
        .unwrap();
    let index: Vec<u8> = row.try_get("value_index").unwrap();
    assert_eq!(index.len(), 32);
    assert_ne!(index, sm3(b"secret.person@example.cn").to_vec());
    assert_eq!(
        index,
        keys.index(IndexKind::Email, "secret.person@example.cn")
            .unwrap()
            .to_vec()
    );
    // The index key itself is in settings only encrypted, and the same on every open.
    let again = s.customer_keys(&master()).await.unwrap();
    assert_eq!(
        again
            .index(IndexKind::Email, "secret.person@example.cn")
            .unwrap(),
        keys.index(IndexKind::Email, "secret.person@example.cn")
            .unwrap()
    );
    // A wrong master key is refused.
    let wrong = MasterKey::generate().unwrap();
    assert!(matches!(
        s.customer_keys(&wrong).await,
        Err(StoreError::WrongMasterKey)
    ));
}

async fn r_5_2_3_a_verified_address_belongs_to_one_account(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (a, ca) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Mobile, "13800138000")],
            None,
        )
        .await
        .unwrap();
    // Registering the same address again is stored (the answer must not tell it is known)…
    let (b, cb) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Mobile, "138-0013-8000")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&a.id, &ca[0].id).await.unwrap();
    // …but cannot be verified a second time.
    assert!(matches!(
        s.verify_channel(&b.id, &cb[0].id).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        s.customer_account(&keys, &b.id)
            .await
            .unwrap()
            .unwrap()
            .state,
        AccountState::Pending
    );
    // The same address twice in one registration.
    assert!(matches!(
        s.create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "a@b.cn"), (IndexKind::Email, "A@B.cn")],
            None
        )
        .await,
        Err(StoreError::Invalid { .. })
    ));
}

async fn r_5_2_3_organisations_members_and_invitations(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (admin, ac) = s
        .create_account(
            &keys,
            AccountKind::Member,
            Some("管理员"),
            &[(IndexKind::Email, "admin@org.cn")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&admin.id, &ac[0].id).await.unwrap();
    let org = s
        .create_org(&keys, "91330106ma2b3c4d5e", "某某仪器有限公司", &admin.id)
        .await
        .unwrap();
    assert_eq!(org.uscc, "91330106MA2B3C4D5E");
    assert!(
        s.active_org_by_uscc(&keys, "91330106MA2B3C4D5E")
            .await
            .unwrap()
            .is_none()
    );
    s.activate_org(&org.id, &admin.id).await.unwrap();
    let active = s
        .active_org_by_uscc(&keys, "91330106MA2B3C4D5E")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.id, org.id);
    assert_eq!(active.state, OrgState::Active);
    assert_eq!(
        s.members_of(&org.id).await.unwrap(),
        vec![(admin.id.clone(), Role::Admin)]
    );
    // A second registration of the same code cannot become active too.
    let second = s
        .create_org(&keys, "91330106MA2B3C4D5E", "冒名公司", &admin.id)
        .await
        .unwrap();
    assert!(matches!(
        s.activate_org(&second.id, &admin.id).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    // Activating twice is refused.
    assert!(matches!(
        s.activate_org(&org.id, &admin.id).await,
        Err(StoreError::NotFound { .. })
    ));
    // Invitation to a mobile; only an account that verified it can accept.
    let inv = s
        .invite_member(
            &keys,
            &org.id,
            Role::Member,
            IndexKind::Mobile,
            "13900139000",
            &admin.id,
            86_400_000,
        )
        .await
        .unwrap();
    let (stranger, sc) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Mobile, "13700137000")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&stranger.id, &sc[0].id).await.unwrap();
    assert!(
        s.invitations_for(&keys, &stranger.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        s.accept_invitation(&keys, &inv.id, &stranger.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let (member, mc) = s
        .create_account(
            &keys,
            AccountKind::Member,
            None,
            &[(IndexKind::Mobile, "+86 139 0013 9000")],
            None,
        )
        .await
        .unwrap();
    // Not yet verified: the invitation is not theirs yet.
    assert!(
        s.invitations_for(&keys, &member.id)
            .await
            .unwrap()
            .is_empty()
    );
    s.verify_channel(&member.id, &mc[0].id).await.unwrap();
    let open = s.invitations_for(&keys, &member.id).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].target, "13900139000");
    s.accept_invitation(&keys, &inv.id, &member.id)
        .await
        .unwrap();
    assert!(
        s.invitations_for(&keys, &member.id)
            .await
            .unwrap()
            .is_empty()
    );
    let orgs = s.orgs_of(&keys, &member.id).await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].0.name, "某某仪器有限公司");
    assert_eq!(orgs[0].1, Role::Member);
    // An expired invitation cannot be accepted.
    let old = s
        .invite_member(
            &keys,
            &org.id,
            Role::Member,
            IndexKind::Mobile,
            "13700137000",
            &admin.id,
            -1,
        )
        .await
        .unwrap();
    assert!(matches!(
        s.accept_invitation(&keys, &old.id, &stranger.id).await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn r_5_2_3_sessions_are_stored_as_hashes_and_end_everywhere(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (acc, _) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "s@x.cn")],
            None,
        )
        .await
        .unwrap();
    let far = i64::MAX / 2;
    s.create_session("sid-one", Some(&acc.id), b"csrf-1", far, Some("127.0.0.1"))
        .await
        .unwrap();
    s.create_session("sid-two", Some(&acc.id), b"csrf-2", far, None)
        .await
        .unwrap();
    s.create_session("visitor", None, b"csrf-3", far, None)
        .await
        .unwrap();
    let one = s.session("sid-one").await.unwrap().unwrap();
    assert_eq!(one.account_id.as_deref(), Some(acc.id.as_str()));
    assert_eq!(one.csrf_secret, b"csrf-1");
    assert!(s.session("sid-unknown").await.unwrap().is_none());
    // Only the SM3 of the id is stored.
    let ids: Vec<Vec<u8>> = sqlx::query("SELECT id_hash FROM customer_sessions")
        .fetch_all(s.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("id_hash"))
        .collect();
    assert!(ids.contains(&sm3(b"sid-one").to_vec()));
    assert!(!ids.iter().any(|i| i == b"sid-one"));
    s.touch_session("sid-one").await.unwrap();
    assert!(s.session("sid-one").await.unwrap().unwrap().last_seen_ms >= one.last_seen_ms);
    // Log out everywhere: both of the account's sessions, not the visitor's.
    assert_eq!(s.delete_sessions_of(&acc.id).await.unwrap(), 2);
    assert!(s.session("sid-one").await.unwrap().is_none());
    assert!(s.session("sid-two").await.unwrap().is_none());
    assert!(s.session("visitor").await.unwrap().is_some());
    s.delete_session("visitor").await.unwrap();
    assert!(s.session("visitor").await.unwrap().is_none());
    // Purge: past absolute expiry or idle.
    s.create_session("expired", None, b"c", 1, None)
        .await
        .unwrap();
    s.create_session("fresh", None, b"c", far, None)
        .await
        .unwrap();
    assert_eq!(s.purge_sessions(0).await.unwrap(), 1);
    assert!(s.session("fresh").await.unwrap().is_some());
}

async fn r_6_2_codes_are_single_use_expire_and_lock_after_five_tries(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let target = keys.index(IndexKind::Mobile, "13800138000").unwrap();
    let code = |subject: &'static str, code: &'static str, ttl_ms: i64| NewCode {
        purpose: CodePurpose::Download,
        target_index: target,
        subject,
        code,
        ttl_ms,
        remote: Some("192.0.2.7"),
    };
    // Fewer than 6 digits, or not digits: refused.
    assert!(
        s.store_code(&keys, &code("x", "12345", 600_000))
            .await
            .is_err()
    );
    assert!(
        s.store_code(&keys, &code("x", "12345a", 600_000))
            .await
            .is_err()
    );
    // Right once, then used.
    s.store_code(&keys, &code("req-1", "123456", 600_000))
        .await
        .unwrap();
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-1", "654321", 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 }
    );
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-1", "123456", 5)
            .await
            .unwrap(),
        CodeCheck::Accepted {
            target_index: target
        }
    );
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-1", "123456", 5)
            .await
            .unwrap(),
        CodeCheck::Used
    );
    // Another purpose or subject does not see it.
    assert_eq!(
        s.check_code(&keys, CodePurpose::Login, "req-1", "123456", 5)
            .await
            .unwrap(),
        CodeCheck::Unknown
    );
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-2", "123456", 5)
            .await
            .unwrap(),
        CodeCheck::Unknown
    );
    // Five wrong tries lock it; the right code then no longer helps.
    s.store_code(&keys, &code("req-3", "777777", 600_000))
        .await
        .unwrap();
    for left in [4, 3, 2, 1] {
        assert_eq!(
            s.check_code(&keys, CodePurpose::Download, "req-3", "000000", 5)
                .await
                .unwrap(),
            CodeCheck::Wrong { tries_left: left }
        );
    }
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-3", "000001", 5)
            .await
            .unwrap(),
        CodeCheck::Locked
    );
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-3", "777777", 5)
            .await
            .unwrap(),
        CodeCheck::Locked
    );
    // Expired.
    s.store_code(&keys, &code("req-4", "888888", -1))
        .await
        .unwrap();
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-4", "888888", 5)
            .await
            .unwrap(),
        CodeCheck::Expired
    );
    // Only the newest code of a subject counts.
    s.store_code(&keys, &code("req-5", "111111", 600_000))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    s.store_code(&keys, &code("req-5", "222222", 600_000))
        .await
        .unwrap();
    assert_eq!(
        s.check_code(&keys, CodePurpose::Download, "req-5", "111111", 5)
            .await
            .unwrap(),
        CodeCheck::Wrong { tries_left: 4 }
    );
    assert!(matches!(
        s.check_code(&keys, CodePurpose::Download, "req-5", "222222", 5)
            .await
            .unwrap(),
        CodeCheck::Accepted { .. }
    ));
    // Counting for rate limits, by destination and by requester.
    assert_eq!(s.codes_sent_to(&target, 0).await.unwrap(), 5);
    assert_eq!(s.codes_requested_from("192.0.2.7", 0).await.unwrap(), 5);
    assert_eq!(s.codes_requested_from("192.0.2.8", 0).await.unwrap(), 0);
    // Codes are stored only as keyed hashes.
    let rows = sqlx::query("SELECT code_hash FROM customer_codes")
        .fetch_all(s.pool())
        .await
        .unwrap();
    for r in rows {
        let h: Vec<u8> = r.get("code_hash");
        assert_eq!(h.len(), 32);
        assert_ne!(h, sm3(b"123456").to_vec());
    }
}

async fn r_5_2_3_customers_see_only_their_own_certificates(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let c_person = issue(&env, 1).await;
    let c_org = issue(&env, 2).await;
    let c_other = issue(&env, 3).await;
    let c_unbound = issue(&env, 4).await;
    let bind = |uscc: Option<&str>, mobile: Option<&str>, email: Option<&str>| CustomerContact {
        uscc: uscc.map(Into::into),
        mobile: mobile.map(Into::into),
        email: email.map(Into::into),
    };
    s.bind_certificate(
        &nb(&keys, &bind(None, Some("13800138000"), None), None),
        &c_person,
        "t",
    )
    .await
    .unwrap();
    s.bind_certificate(
        &nb(
            &keys,
            &bind(Some("91330106MA2B3C4D5E"), None, Some("lab@org.cn")),
            None,
        ),
        &c_org,
        "t",
    )
    .await
    .unwrap();
    s.bind_certificate(
        &nb(
            &keys,
            &bind(None, Some("13900139000"), Some("other@x.cn")),
            None,
        ),
        &c_other,
        "t",
    )
    .await
    .unwrap();
    // Binding a certificate that does not exist.
    assert!(matches!(
        s.bind_certificate(
            &nb(&keys, &bind(None, Some("1"), None), None),
            "no-such-id",
            "t"
        )
        .await,
        Err(StoreError::NotFound { .. })
    ));
    // A person with a verified mobile.
    let (p, pc) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[
                (IndexKind::Mobile, "+86 138 0013 8000"),
                (IndexKind::Email, "other@x.cn"),
            ],
            None,
        )
        .await
        .unwrap();
    // Nothing before verification.
    assert!(
        s.visible_certificates(&p.id, &PortalQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    s.verify_channel(&p.id, &pc[0].id).await.unwrap();
    let seen: Vec<String> = s
        .visible_certificates(&p.id, &PortalQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    // Only the mobile is verified: the other certificate's e-mail is not theirs yet.
    assert_eq!(seen, vec![c_person.clone()]);
    assert!(s.may_see(&p.id, &c_person).await.unwrap());
    for other in [&c_org, &c_other, &c_unbound] {
        assert!(!s.may_see(&p.id, other).await.unwrap());
    }
    assert!(!s.may_see(&p.id, "guessed-id").await.unwrap());
    // A member of the organisation sees the organisation's certificate, only once active.
    let (m, mc) = s
        .create_account(
            &keys,
            AccountKind::Member,
            None,
            &[(IndexKind::Email, "m@org.cn")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&m.id, &mc[0].id).await.unwrap();
    let org = s
        .create_org(&keys, "91330106MA2B3C4D5E", "某某有限公司", &m.id)
        .await
        .unwrap();
    assert!(!s.may_see(&m.id, &c_org).await.unwrap());
    s.activate_org(&org.id, &m.id).await.unwrap();
    assert!(s.may_see(&m.id, &c_org).await.unwrap());
    assert!(!s.may_see(&m.id, &c_person).await.unwrap());
    // Search by number, instrument and date, with LIKE's wildcards taken literally.
    let q = |number: Option<&str>, instrument: Option<&str>, from: Option<&str>| PortalQuery {
        number: number.map(Into::into),
        instrument: instrument.map(Into::into),
        issued_from: from.map(Into::into),
        ..PortalQuery::default()
    };
    assert_eq!(
        s.visible_certificates(&m.id, &q(Some("jz2026-00002"), None, None))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.visible_certificates(&m.id, &q(Some("%"), None, None))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        s.visible_certificates(&m.id, &q(Some("_"), None, None))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        s.visible_certificates(&m.id, &q(None, Some("压力"), None))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.visible_certificates(&m.id, &q(None, None, Some("2027-01-01")))
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(matches!(
        s.visible_certificates(&m.id, &q(None, None, Some("2027-1-1")))
            .await,
        Err(StoreError::Invalid { .. })
    ));
    // The organisation's activation contacts come from the bindings.
    let contacts = s
        .contacts_for_uscc(&keys, "91330106MA2B3C4D5E")
        .await
        .unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].email.as_deref(), Some("lab@org.cn"));
}

async fn r_6_2f_binding_keeps_only_the_download_password_hash(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let id = issue(&env, 1).await;
    assert!(s.binding_of(&keys, &id).await.unwrap().is_none());
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
    let b = s
        .bind_certificate(
            &nb(
                &keys,
                &CustomerContact {
                    uscc: None,
                    mobile: Some("138 0013 8000".into()),
                    email: None,
                },
                Some(hash),
            ),
            &id,
            "business",
        )
        .await
        .unwrap();
    assert_eq!(b.contact.mobile.as_deref(), Some("13800138000"));
    let read = s.binding_of(&keys, &id).await.unwrap().unwrap();
    assert_eq!(read.download_password_hash.as_deref(), Some(hash));
    assert_eq!(read.contact, b.contact);
    // Rebinding replaces (one binding per certificate).
    s.bind_certificate(
        &nb(
            &keys,
            &CustomerContact {
                uscc: None,
                mobile: None,
                email: Some("new@x.cn".into()),
            },
            None,
        ),
        &id,
        "admin",
    )
    .await
    .unwrap();
    let read = s.binding_of(&keys, &id).await.unwrap().unwrap();
    assert_eq!(read.contact.mobile, None);
    assert_eq!(read.contact.email.as_deref(), Some("new@x.cn"));
    assert_eq!(read.download_password_hash, None);
    assert_eq!(common::count(s, "customer_bindings").await, 1);
    // The audit entries say which fields were given, never their values.
    let entries = s.audit_entries_for(&id).await.unwrap();
    let binds: Vec<_> = entries
        .iter()
        .filter(|e| e.action == "customer.bind")
        .collect();
    assert_eq!(binds.len(), 2);
    assert!(binds[0].details.contains("\"download_password\":true"));
    assert!(!binds[0].details.contains("13800138000"));
    assert!(!binds[1].details.contains("new@x.cn"));
}

async fn r_7_2_3b_portal_downloads_are_logged_and_audited(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let c1 = issue(&env, 1).await;
    let c2 = issue(&env, 2).await;
    let (acc, _) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "d@x.cn")],
            None,
        )
        .await
        .unwrap();
    let sent = sm3(b"zip bytes");
    let items = vec![
        PackageItem {
            certificate_id: c1.clone(),
            supplement_id: None,
            number: "JZ2026-00001".into(),
        },
        PackageItem {
            certificate_id: c2.clone(),
            supplement_id: None,
            number: "JZ2026-00002".into(),
        },
    ];
    assert!(
        s.record_portal_download(&acc.id, Some("192.0.2.1"), "email-code", &[], &sent)
            .await
            .is_err()
    );
    let package = s
        .record_portal_download(&acc.id, Some("192.0.2.1"), "email-code", &items, &sent)
        .await
        .unwrap();
    let mine = s.downloads_by_account(&acc.id, 50).await.unwrap();
    assert_eq!(mine.len(), 2);
    assert!(
        mine.iter()
            .all(|d| d.package_id == package && d.sent_sm3 == Some(sent))
    );
    let ids: Vec<&str> = mine.iter().map(|d| d.certificate_id.as_str()).collect();
    assert!(ids.contains(&c1.as_str()) && ids.contains(&c2.as_str()));
    // Another account has no history.
    assert!(
        s.downloads_by_account("someone-else", 50)
            .await
            .unwrap()
            .is_empty()
    );
    // The certificate's own download log has them too, with the audit entry.
    let log = s.downloads_of(&c1).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].channel, "portal");
    assert_eq!(log[0].who, format!("customer:{}", acc.id));
    let seq = log[0].audit_seq.unwrap();
    let entry = &s.audit_entries(seq, seq).await.unwrap()[0];
    assert_eq!(entry.action, "portal.download");
    assert_eq!(entry.subject, "JZ2026-00001,JZ2026-00002");
    assert!(entry.details.contains(&ecert_store::hex(&sent)));
    assert!(entry.details.contains("192.0.2.1"));
    assert!(s.verify_audit_chain().await.unwrap().is_ok());
}

async fn r_5_2_3_lockout_counts_failed_logins(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (acc, _) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "l@x.cn")],
            None,
        )
        .await
        .unwrap();
    for i in 1..5 {
        assert_eq!(
            s.record_login_failure(&acc.id, 5, 900_000).await.unwrap(),
            (i, None)
        );
    }
    let (n, until) = s.record_login_failure(&acc.id, 5, 900_000).await.unwrap();
    assert_eq!(n, 5);
    assert!(until.unwrap() > 0);
    let a = s.customer_account(&keys, &acc.id).await.unwrap().unwrap();
    assert_eq!(a.failed_logins, 5);
    assert_eq!(a.locked_until_ms, until);
    s.record_login_success(&acc.id).await.unwrap();
    let a = s.customer_account(&keys, &acc.id).await.unwrap().unwrap();
    assert_eq!((a.failed_logins, a.locked_until_ms), (0, None));
    s.set_customer_password(&acc.id, "$argon2id$new")
        .await
        .unwrap();
    assert_eq!(
        s.customer_account(&keys, &acc.id)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .as_deref(),
        Some("$argon2id$new")
    );
    assert!(matches!(
        s.set_customer_password("nobody", "x").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn r_7_2_3d_master_key_rotation_re_encrypts_customer_data(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let old = master();
    let keys = s.customer_keys(&old).await.unwrap();
    let (acc, ch) = s
        .create_account(
            &keys,
            AccountKind::Person,
            Some("王五"),
            &[(IndexKind::Email, "w@x.cn")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&acc.id, &ch[0].id).await.unwrap();
    let org = s
        .create_org(&keys, "91330106MA2B3C4D5E", "某公司", &acc.id)
        .await
        .unwrap();
    s.invite_member(
        &keys,
        &org.id,
        Role::Member,
        IndexKind::Email,
        "i@x.cn",
        &acc.id,
        1_000_000,
    )
    .await
    .unwrap();
    let id = issue(&env, 1).await;
    s.bind_certificate(
        &nb(
            &keys,
            &CustomerContact {
                uscc: None,
                mobile: Some("13800138000".into()),
                email: None,
            },
            None,
        ),
        &id,
        "t",
    )
    .await
    .unwrap();
    let new = MasterKey::generate().unwrap();
    s.rotate_master_key(&old, &new, "admin").await.unwrap();
    let keys2 = s.customer_keys(&new).await.unwrap();
    // Same index key (lookups still work), data readable under the new key only.
    let (found, _) = s
        .customer_by_address(&keys2, IndexKind::Email, "w@x.cn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.name.as_deref(), Some("王五"));
    assert_eq!(
        s.customer_org(&keys2, &org.id).await.unwrap().unwrap().name,
        "某公司"
    );
    assert_eq!(
        s.binding_of(&keys2, &id)
            .await
            .unwrap()
            .unwrap()
            .contact
            .mobile
            .as_deref(),
        Some("13800138000")
    );
    assert!(matches!(
        s.customer_account(&keys, &acc.id).await,
        Err(StoreError::Decrypt { .. })
    ));
    let _ = Backend::Sqlite;
}

async fn r_5_2_3_issue_and_revision_bind_in_their_own_transaction(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let contact = CustomerContact {
        uscc: None,
        mobile: Some("13800138000".into()),
        email: Some("c@x.cn".into()),
    };
    let first = s
        .issue_certificate_bound(
            &cert(1),
            file(1, 256),
            "test",
            &json!({}),
            Some(&nb(&keys, &contact, Some("$argon2id$h"))),
        )
        .await
        .unwrap();
    let b = s.binding_of(&keys, &first.id).await.unwrap().unwrap();
    assert_eq!(b.contact, contact);
    // The issue's own audit entry says what was bound (no separate entry, no values).
    let entries = s.audit_entries_for(&first.number).await.unwrap();
    let issue = entries
        .iter()
        .find(|e| e.action == "certificate.issue")
        .unwrap();
    assert!(
        issue.details.contains(
            r#""customer":{"download_password":true,"email":true,"mobile":true,"uscc":false}"#
        ),
        "{}",
        issue.details
    );
    assert!(!issue.details.contains("13800138000"));
    // A revision bound to another contact.
    let mut rev = cert(2);
    rev.revision = 1;
    let other = CustomerContact {
        uscc: Some("91330106MA2B3C4D5E".into()),
        mobile: None,
        email: None,
    };
    let second = s
        .revise_certificate_bound(
            &first.id,
            &rev,
            file(2, 256),
            "test",
            &json!({}),
            Some(&nb(&keys, &other, None)),
        )
        .await
        .unwrap();
    assert_eq!(
        s.binding_of(&keys, &second.id)
            .await
            .unwrap()
            .unwrap()
            .contact,
        other
    );
    // A refused issue (number taken) leaves no binding behind.
    let before = common::count(s, "customer_bindings").await;
    assert!(
        s.issue_certificate_bound(
            &cert(1),
            file(3, 256),
            "test",
            &json!({}),
            Some(&nb(&keys, &contact, None))
        )
        .await
        .is_err()
    );
    assert_eq!(common::count(s, "customer_bindings").await, before);
}

/// What unauthenticated callers leave (pending registrations, codes) does not stay: the purge
/// removes pending accounts made before the cut-off with their channels, and codes made before
/// theirs; active accounts and newer rows stay. Tags are keyed and label-separated.
async fn r_5_2_3_unfinished_registrations_and_old_codes_are_purged(env: Env) {
    prepared(&env).await;
    let s = &env.store;
    let keys = s.customer_keys(&master()).await.unwrap();
    let (pending, _) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "p@example.cn")],
            None,
        )
        .await
        .unwrap();
    let (active, chans) = s
        .create_account(
            &keys,
            AccountKind::Person,
            None,
            &[(IndexKind::Email, "a@example.cn")],
            None,
        )
        .await
        .unwrap();
    s.verify_channel(&active.id, &chans[0].id).await.unwrap();
    let target = keys.index(IndexKind::Email, "p@example.cn").unwrap();
    s.store_code(
        &keys,
        &NewCode {
            purpose: CodePurpose::Register,
            target_index: target,
            subject: &pending.id,
            code: "123456",
            ttl_ms: 600_000,
            remote: Some("192.0.2.1"),
        },
    )
    .await
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(s.codes_created_since(now - 60_000).await.unwrap(), 1);
    // A cut-off before they were made removes nothing.
    assert_eq!(
        s.purge_customer_leftovers(now - 60_000, now - 60_000)
            .await
            .unwrap(),
        (0, 0)
    );
    assert!(
        s.customer_account(&keys, &pending.id)
            .await
            .unwrap()
            .is_some()
    );
    // After it: the pending account, its channel and the code go; the active account stays.
    assert_eq!(
        s.purge_customer_leftovers(now + 60_000, now + 60_000)
            .await
            .unwrap(),
        (1, 1)
    );
    assert!(
        s.customer_account(&keys, &pending.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.customer_channels(&keys, &pending.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.customer_account(&keys, &active.id)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(s.codes_created_since(0).await.unwrap(), 0);
    // Tags: the same for the same label and data, different otherwise.
    let t = keys.tag("form", b"x");
    assert!(keys.check_tag("form", b"x", &t));
    assert!(!keys.check_tag("other", b"x", &t));
    assert!(!keys.check_tag("form", b"y", &t));
    assert!(!keys.check_tag("form", b"x", &t[..31]));
}
