//! `ecert export NUMBER… [-o DIR]`: the stored files of certificates and supplements, read
//! back through the service (each checked against its SM3 by the store, logged as a download,
//! R-7.2.3b) and written into a folder.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use ecert::service::{Error, Instance, Record, StoredFile};
use ecert_store::Access;

/// `ecert export NUMBER… [-o DIR]`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// 证书编号、电子证书标识或补充文件编号 (certificate numbers, identifiers or supplement
    /// numbers).
    #[arg(required = true, num_args = 1.., value_name = "NUMBER")]
    pub numbers: Vec<String>,
    /// 写入此目录 (write the files into this folder).
    #[arg(short = 'o', long, default_value = ".", value_name = "DIR")]
    pub out: PathBuf,
}

/// Writes `bytes` as `out/name`; a different file of that name already there is kept and the
/// copy refused.
fn write_new(out: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let path = out.join(name);
    if let Ok(existing) = std::fs::read(&path) {
        if existing == bytes {
            return Ok(path);
        }
        bail!(
            "{} 已存在且内容不同，未覆盖 (a different file of that name exists; not overwritten)",
            path.display()
        );
    }
    super::instance::write_copy(out, name, bytes)
}

/// The stored file of one number: a certificate (by number or identifier), else a supplement;
/// the download is logged as made by `who`.
pub(crate) async fn export_one(
    instance: &Instance,
    what: &str,
    out: &Path,
    who: &str,
) -> anyhow::Result<PathBuf> {
    let access = Access {
        who: who.into(),
        channel: "cli".into(),
        remote: None,
    };
    match instance.find_certificate(what).await {
        Ok(c) => {
            let bytes = instance
                .download(&c, StoredFile::Certificate(&c), &access)
                .await?;
            return write_new(out, &c.file_name, &bytes);
        }
        Err(Error::NotFound {
            what: Record::Certificate,
            ..
        }) => {}
        Err(e) => return Err(e.into()),
    }
    let (s, c) = instance.find_supplement(what).await.map_err(|e| match e {
        Error::NotFound { .. } => anyhow::anyhow!(Error::NotFound {
            what: Record::Certificate,
            key: what.to_owned(),
        }),
        e => e.into(),
    })?;
    let bytes = instance
        .download(&c, StoredFile::Supplement(&s), &access)
        .await?;
    write_new(out, &s.file_name, &bytes)
}

/// Runs `ecert export`: every number on its own; fails if any failed.
pub fn run(dir: &Path, args: &ExportArgs) -> anyhow::Result<()> {
    super::instance::runtime()?.block_on(async {
        let instance = Instance::open(dir).await?;
        let mut failed = 0;
        for what in &args.numbers {
            match export_one(&instance, what, &args.out, "ecert export").await {
                Ok(path) => println!("{what}: {}", path.display()),
                Err(e) => {
                    failed += 1;
                    eprintln!("错误 (error): {what}: {e:#}");
                }
            }
        }
        if failed > 0 {
            bail!(
                "{failed}/{} 个文件未导出 (not exported)",
                args.numbers.len()
            );
        }
        Ok(())
    })
}
