//! `ecert id check`: parse and validate a certificate identifier.

use clap::Args;
use ecert::domain::Identifier;

/// `ecert id check IDENTIFIER [--json]`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// 以 JSON 输出各部分（错误也是 JSON）(print the parts as JSON, errors included).
    #[arg(long)]
    pub json: bool,
    /// 电子证书标识，各部分以“·”(U+00B7) 连接 (the identifier, parts joined by "·").
    pub identifier: String,
}

/// Runs `ecert id check`.
pub fn check(args: &CheckArgs) -> anyhow::Result<()> {
    let id: Identifier = args.identifier.parse()?;
    if args.json {
        let value = serde_json::json!({
            "identifier": id.to_string(),
            "rootOid": id.root_oid(),
            "typeCode": id.kind().code(),
            "type": id.kind().name_zh(),
            "issuerCode": id.issuer_code(),
            "accreditation": id.accreditation(),
            "serial": id.serial(),
            "revision": id.revision(),
            "demoRoot": id.uses_demo_root(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("电子证书标识有效 (valid identifier): {id}");
        println!("  根代码 (root code):             {}", id.root_oid());
        println!(
            "  证书类型 (type):                {} {}",
            id.kind().code(),
            id.kind().name_zh()
        );
        println!("  发布机构代码 (issuer code):     {}", id.issuer_code());
        println!("  认可/授权标识 (accreditation):  {}", id.accreditation());
        println!("  流水号 (serial):                {}", id.serial());
        println!("  修改次数 (revision):            {}", id.revision());
        if id.uses_demo_root() {
            println!(
                "  注意：根代码为演示用文档 OID，仅限演示模式 (note: documentation root, demo mode only)"
            );
        }
    }
    Ok(())
}
