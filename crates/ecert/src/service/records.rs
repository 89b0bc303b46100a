//! Reading the records and keeping the libraries: what the pages, the API's reads and the CLI
//! look at (a certificate and its status, a scanned token, number + check code, files,
//! lists), the seal library, API clients, disposal (R-6.5h) and the audit chain. Every
//! interface goes through these, not through the store.

use bytes::Bytes;
use ecert_store::{
    Access, ApiClient, AuditEntry, AuditReport, CertificateQuery, CertificateRecord,
    CertificateStatus, ClientCredential, DisposalRecord, DisposalState, SealRecord, StatusView,
    SupplementRecord,
};

use super::{Actor, Error, Instance, Record, Result, StaffRole, internal};
use crate::domain::{CheckCode, VerifyToken};

/// What a scanned token leads to (R-6.3c): a certificate, or one of its supplements (R-6.4.2: a
/// supplement carries a 2D code of its own), with the certificate's status either way.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The certificate (the supplemented one for a supplement's token) and its status.
    pub view: StatusView,
    /// The supplement whose own token it was.
    pub supplement: Option<SupplementRecord>,
}

/// Which stored file.
#[derive(Debug, Clone, Copy)]
pub enum StoredFile<'a> {
    /// A certificate's sealed OFD.
    Certificate(&'a CertificateRecord),
    /// A supplementary file.
    Supplement(&'a SupplementRecord),
}

impl StoredFile<'_> {
    /// The file's SM3 as recorded.
    pub fn sm3(&self) -> [u8; 32] {
        match self {
            StoredFile::Certificate(c) => c.file_sm3,
            StoredFile::Supplement(s) => s.file_sm3,
        }
    }
    /// The file's name.
    pub fn name(&self) -> &str {
        match self {
            StoredFile::Certificate(c) => &c.file_name,
            StoredFile::Supplement(s) => &s.file_name,
        }
    }
}

impl Instance {
    /// True when the database answers (`/healthz`).
    pub async fn check_database(&self) -> Result<()> {
        self.store.certificate_by_number("").await?;
        Ok(())
    }

    /// The certificate with this number, or `None`.
    pub async fn certificate_by_number(&self, number: &str) -> Result<Option<CertificateRecord>> {
        Ok(self.store.certificate_by_number(number).await?)
    }

    /// The status of the certificate with this number (API): revision, supplements.
    pub async fn status_by_number(&self, number: &str) -> Result<StatusView> {
        let c = self
            .store
            .certificate_by_number(number)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: Record::Certificate,
                key: number.to_owned(),
            })?;
        Ok(self.store.status_view(c).await?)
    }

    /// The status of the certificate with this number or identifier (`ecert show`).
    pub async fn status_of(&self, what: &str) -> Result<StatusView> {
        let c = self.find_certificate(what).await?;
        Ok(self.store.status_view(c).await?)
    }

    /// What a scanned token leads to: certificate tokens first, then supplement tokens; `None`
    /// for an unknown token.
    pub async fn scan(&self, token: &VerifyToken) -> Result<Option<Scanned>> {
        if let Some(view) = self.store.status_by_token(token.as_str()).await? {
            return Ok(Some(Scanned {
                view,
                supplement: None,
            }));
        }
        Ok(self
            .store
            .supplement_by_token(token.as_str())
            .await?
            .map(|(s, view)| Scanned {
                view,
                supplement: Some(s),
            }))
    }

    /// The certificate with this number and check code (lookup without the 2D code), or `None`
    /// when either is wrong.
    pub async fn look_up(&self, number: &str, code: &CheckCode) -> Result<Option<StatusView>> {
        Ok(self
            .store
            .status_by_number_and_check_code(number, code.as_str())
            .await?)
    }

    /// A stored file's bytes, checked against its SM3, without logging a download (previews).
    pub async fn file(&self, which: StoredFile<'_>) -> Result<Bytes> {
        let f = match which {
            StoredFile::Certificate(c) => self.store.certificate_file(&c.id).await?,
            StoredFile::Supplement(s) => self.store.supplement_file(&s.id).await?,
        };
        Ok(f.bytes)
    }

    /// A stored file for someone to take away, logged in the download log (R-7.2.3b). The
    /// files of a disposed certificate are destroyed (R-6.5h): [`Error::FileDestroyed`].
    pub async fn download(
        &self,
        certificate: &CertificateRecord,
        which: StoredFile<'_>,
        access: &Access,
    ) -> Result<Bytes> {
        if certificate.status == CertificateStatus::Disposed {
            return Err(Error::FileDestroyed {
                number: certificate.number.clone(),
            });
        }
        let f = match which {
            StoredFile::Certificate(c) => self.store.download_certificate(&c.id, access).await?,
            StoredFile::Supplement(s) => self.store.download_supplement(&s.id, access).await?,
        };
        Ok(f.bytes)
    }

    /// Certificates matching `query` (API list, keyset-paginated).
    pub async fn list_certificates(
        &self,
        query: &CertificateQuery,
    ) -> Result<Vec<CertificateRecord>> {
        Ok(self.store.list_certificates(query).await?)
    }

    /// The seal library, in name order (`ecert seal list`).
    pub async fn seals(&self) -> Result<Vec<SealRecord>> {
        Ok(self.store.list_seals().await?)
    }

    /// Retires the seal `id`: it seals nothing more; what it sealed still verifies.
    /// `by` is recorded in the audit log.
    pub async fn retire_seal(&self, id: &str, by: &Actor) -> Result<SealRecord> {
        self.authorize(by, &[StaffRole::Approver], "停用印章 (retire a seal)")
            .await?;
        let seal = self
            .store
            .list_seals()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Error::NotFound {
                what: Record::Seal,
                key: id.to_owned(),
            })?;
        if !seal.active {
            return Err(Error::SealRetired { name: seal.name });
        }
        self.store.retire_seal(&seal.id, &by.name).await?;
        Ok(seal)
    }

    /// The API clients (`ecert api-client list`).
    pub async fn api_clients(&self) -> Result<Vec<ApiClient>> {
        Ok(self.store.api_clients().await?)
    }

    /// Registers an API client with a shared secret (kept encrypted under the master key,
    /// R-7.2.3d) or with its SM2 public key.
    pub async fn add_api_client(
        &self,
        name: &str,
        credential: ClientCredential<'_>,
        actor: &Actor,
    ) -> Result<ApiClient> {
        self.authorize(
            actor,
            &[StaffRole::Admin],
            "添加接口客户端 (add an API client)",
        )
        .await?;
        let key = match credential {
            ClientCredential::SharedSecret(_) => Some(&self.master_key),
            _ => None,
        };
        Ok(self
            .store
            .add_api_client(name, credential, key, &actor.name)
            .await?)
    }

    /// Registers an API client with a new random shared secret (`ecs_` and 64 hex digits),
    /// returned once: only its ciphertext under the master key is kept (R-7.2.3d).
    pub async fn add_api_client_with_new_secret(
        &self,
        name: &str,
        actor: &Actor,
    ) -> Result<(ApiClient, zeroize::Zeroizing<String>)> {
        let mut raw = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(raw.as_mut()).map_err(internal("系统随机数 (random source)"))?;
        let secret = zeroize::Zeroizing::new(format!("ecs_{}", ecert_store::hex(raw.as_ref())));
        let client = self
            .add_api_client(
                name,
                ClientCredential::SharedSecret(secret.as_bytes()),
                actor,
            )
            .await?;
        Ok((client, secret))
    }

    /// Enables or disables the API client `name` (effective from its next request); `by` is
    /// recorded in the audit log.
    pub async fn set_api_client_enabled(
        &self,
        name: &str,
        enabled: bool,
        by: &Actor,
    ) -> Result<ApiClient> {
        self.authorize(
            by,
            &[StaffRole::Admin],
            "停用或启用接口客户端 (disable or enable an API client)",
        )
        .await?;
        let client = self
            .store
            .api_client_by_name(name)
            .await?
            .ok_or_else(|| Error::NotFound {
                what: Record::ApiClient,
                key: name.to_owned(),
            })?;
        self.store
            .set_api_client_enabled(&client.id, enabled, &by.name)
            .await?;
        Ok(client)
    }

    /// Whether the audit chain is intact (`ecert audit verify`).
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        Ok(self.store.verify_audit_chain().await?)
    }

    /// The audit entries about `subject` (a certificate number, …), oldest first.
    pub async fn audit_trail(&self, subject: &str) -> Result<Vec<AuditEntry>> {
        Ok(self.store.audit_entries_for(subject).await?)
    }

    /// Writes an audit entry (R-7.2.2d: what the interfaces do besides issuing, e.g. an
    /// upload judged) and returns once it is committed.
    ///
    /// Concurrent calls share a commit ([`AuditGroup`]): an entry that arrives while another
    /// commit is on its way waits for it, then is written with every entry that arrived
    /// meanwhile, each still an entry of its own in the chain (sequence number, hash, MAC), in
    /// one transaction (`Store::append_audit_batch`). A lone call writes its entry at once.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        details: &serde_json::Value,
    ) -> Result<()> {
        self.audit_group
            .append(
                &self.store,
                PendingEntry {
                    actor: actor.to_owned(),
                    action: action.to_owned(),
                    subject: subject.to_owned(),
                    details: details.clone(),
                },
            )
            .await
    }

    /// Returns once every entry handed to [`Instance::audit`] so far is committed (or its
    /// commit failed), also those whose callers went away: `ecert serve` waits for this before
    /// its last checkpoint and before the runtime, with the tasks on it, is dropped.
    pub async fn audit_settled(&self) {
        self.audit_group.settled().await;
    }

    /// The certificates past retention on `as_of` (R-6.5c: never less than six years).
    pub async fn disposal_candidates(&self, as_of: &str) -> Result<Vec<CertificateRecord>> {
        let years = self.config.instance.retention_years;
        Ok(self.store.disposal_candidates(as_of, years).await?)
    }

    /// Proposes the disposal of `certificate` (R-6.5h, first of two people).
    pub async fn propose_disposal(
        &self,
        certificate: &CertificateRecord,
        by: &Actor,
        as_of: &str,
    ) -> Result<DisposalRecord> {
        self.authorize(
            by,
            &[StaffRole::Operator, StaffRole::Approver],
            "提出销毁 (propose a disposal)",
        )
        .await?;
        let years = self.config.instance.retention_years;
        Ok(self
            .store
            .propose_disposal(&certificate.id, &by.name, as_of, years)
            .await?)
    }

    /// Approves the proposed disposal of the certificate with this number or identifier (a
    /// person other than the proposer).
    pub async fn approve_disposal(&self, what: &str, by: &Actor) -> Result<DisposalRecord> {
        self.authorize(by, &[StaffRole::Approver], "批准销毁 (approve a disposal)")
            .await?;
        let c = self.find_certificate(what).await?;
        Ok(self.store.approve_disposal(&c.id, &by.name).await?)
    }

    /// Disposals, all or in one state.
    pub async fn disposals(&self, state: Option<DisposalState>) -> Result<Vec<DisposalRecord>> {
        Ok(self.store.disposals(state).await?)
    }

    /// Executes an approved disposal: the files destroyed on every replica (R-6.5i), the
    /// record kept and marked disposed.
    pub async fn execute_disposal(
        &self,
        disposal: &DisposalRecord,
        by: &Actor,
    ) -> Result<DisposalRecord> {
        self.authorize(by, &[StaffRole::Approver], "执行销毁 (execute a disposal)")
            .await?;
        Ok(self
            .store
            .execute_disposal(&disposal.certificate_id, &by.name)
            .await?)
    }
}

/// The text of the Grid Matrix code on page 1 of a sealed file: the verification
/// URL. The store keeps only a hash of the token in it, so the file is where the URL is read
/// back from. The code is the page-1 path made of the most filled squares.
pub fn code_text(file: &[u8]) -> Option<String> {
    let f = ofd::OfdFile::read(file).ok()?;
    let page = f.ofd.docs.first()?.document.pages.first()?;
    let path = page
        .layers
        .iter()
        .flat_map(|l| &l.objects)
        .filter_map(|o| match o {
            ofd::GraphicObject::Path(p) => Some(p),
            _ => None,
        })
        .max_by_key(|p| p.data.len())?;
    let mut rects = Vec::new();
    let mut points: Vec<(f64, f64)> = Vec::new();
    for op in &path.data {
        match *op {
            ofd::PathOp::Move(x, y) | ofd::PathOp::Start(x, y) | ofd::PathOp::Line(x, y) => {
                points.push((x, y))
            }
            ofd::PathOp::Close => {
                let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for &(x, y) in &points {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
                rects.push((x0, y0, x1 - x0, y1 - y0));
                points.clear();
            }
            _ => return None,
        }
    }
    let module = rects.iter().map(|r| r.3.min(r.2)).fold(f64::MAX, f64::min);
    if rects.is_empty() || module <= 0.0 {
        return None;
    }
    let (ox, oy) = rects
        .iter()
        .fold((f64::MAX, f64::MAX), |(a, b), r| (a.min(r.0), b.min(r.1)));
    let extent = rects
        .iter()
        .fold(0.0f64, |m, r| m.max(r.0 + r.2 - ox).max(r.1 + r.3 - oy));
    let n = (extent / module).round() as usize;
    if n == 0 || n > 200 {
        return None;
    }
    let mut modules = vec![false; n * n];
    for (x, y, w, h) in rects {
        let (c0, r0) = (
            ((x - ox) / module).round() as usize,
            ((y - oy) / module).round() as usize,
        );
        let (cw, rh) = ((w / module).round() as usize, (h / module).round() as usize);
        for r in r0..(r0 + rh).min(n) {
            for c in c0..(c0 + cw).min(n) {
                modules[r * n + c] = true;
            }
        }
    }
    gridmatrix::decode::decode_modules(n, &modules, &Default::default())
        .ok()?
        .text()
        .ok()
}

/// An audit entry waiting for its commit.
struct PendingEntry {
    actor: String,
    action: String,
    subject: String,
    details: serde_json::Value,
}

type Waiter = tokio::sync::oneshot::Sender<std::result::Result<(), String>>;

/// Group commit of the audit entries written through [`Instance::audit`] (docs/architecture.md,
/// "Audit tamper evidence beyond the database"): the fsync of a commit, not the entry, is what
/// bounds a busy `POST /verify`, so entries arriving together share one.
///
/// Each append runs on a task of its own, so a caller that goes away (a client that
/// disconnects while its upload is logged) takes neither its own entry nor the entries of a
/// commit it carries with it; [`AuditGroup::settled`] waits for those tasks. On it, whoever
/// holds `writer` commits everything queued in `pending` at that moment: an append queues its
/// entry, waits for `writer`, writes what is queued (its own entry, unless the previous writer
/// already took it) and then waits for the result of the commit that carried its entry. Nothing
/// is answered before its entry is committed, and the chain, the MACs and the checkpoints are
/// those of single appends.
#[derive(Default)]
pub(crate) struct AuditGroup {
    pending: std::sync::Mutex<Vec<(PendingEntry, Waiter)>>,
    writer: tokio::sync::Mutex<()>,
    /// Appends handed to their own task and not finished ([`AuditGroup::settled`]).
    in_flight: std::sync::atomic::AtomicUsize,
    /// Told when `in_flight` drops to zero.
    idle: tokio::sync::Notify,
}

/// One append counted in [`AuditGroup::in_flight`] from before its task is spawned until the
/// task ends (or is dropped with the runtime); it holds the group for the task.
struct InFlight(std::sync::Arc<AuditGroup>);

impl InFlight {
    fn start(group: &std::sync::Arc<AuditGroup>) -> InFlight {
        group
            .in_flight
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        InFlight(std::sync::Arc::clone(group))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if self
            .0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel)
            == 1
        {
            self.0.idle.notify_waiters();
        }
    }
}

/// Most entries committed together (bounds the transaction and the wait of the first).
const AUDIT_GROUP_MAX: usize = 256;

impl AuditGroup {
    /// Appends `entry` on a task of its own ([`AuditGroup::join`]) and returns once it is
    /// committed.
    async fn append(
        self: &std::sync::Arc<Self>,
        store: &ecert_store::Store,
        entry: PendingEntry,
    ) -> Result<()> {
        let in_flight = InFlight::start(self);
        let store = store.clone();
        tokio::spawn(async move { in_flight.0.join(&store, entry).await })
            .await
            .map_err(|e| Error::Internal {
                what: "审计日志 (the audit log)",
                source: Box::new(e),
            })?
    }

    /// Returns once no append is in flight.
    async fn settled(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.in_flight.load(std::sync::atomic::Ordering::Acquire) == 0 {
                return;
            }
            idle.await;
        }
    }

    /// Queues `entry` and commits the queue when it is this append's turn, or waits for the
    /// commit that carried it.
    async fn join(&self, store: &ecert_store::Store, entry: PendingEntry) -> Result<()> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.pending
            .lock()
            .map_err(|_| poisoned())?
            .push((entry, tx));
        let failed = |why: String| Error::Internal {
            what: "审计日志 (the audit log)",
            source: Box::new(super::error::Message(why)),
        };
        let answer = |r: std::result::Result<(), String>| r.map_err(failed);
        let abandoned = || failed("the commit carrying the entry was abandoned".into());
        {
            let _writer = self.writer.lock().await;
            // The previous writer may have committed this entry already.
            match rx.try_recv() {
                Ok(r) => return answer(r),
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => return Err(abandoned()),
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<(PendingEntry, Waiter)> = {
                let mut pending = self.pending.lock().map_err(|_| poisoned())?;
                let n = pending.len().min(AUDIT_GROUP_MAX);
                pending.drain(..n).collect()
            };
            // The writer lock is held until this commit is done: the next batch follows it.
            if !batch.is_empty() {
                let (entries, waiters): (Vec<PendingEntry>, Vec<Waiter>) =
                    batch.into_iter().unzip();
                let events: Vec<ecert_store::AuditEvent<'_>> = entries
                    .iter()
                    .map(|e| ecert_store::AuditEvent {
                        actor: &e.actor,
                        action: &e.action,
                        subject: &e.subject,
                        details: &e.details,
                    })
                    .collect();
                let result = store
                    .append_audit_batch(&events)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string());
                for w in waiters {
                    let _ = w.send(result.clone());
                }
            }
        }
        match rx.await {
            Ok(r) => answer(r),
            Err(_) => Err(abandoned()),
        }
    }
}

fn poisoned() -> Error {
    Error::Internal {
        what: "审计日志队列 (the audit queue)",
        source: Box::new(super::error::Message("lock poisoned".into())),
    }
}
