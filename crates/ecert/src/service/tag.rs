//! Our custom tags: `Certificate.xml` and `Supplement.xml`.

use crate::domain::Identifier;

/// The namespace of ecert's custom tag.
pub const TAG_NAMESPACE: &str = "urn:ecert:certificate:1";

fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The custom tag file that carries the identifier.
pub fn identifier_tag_xml(identifier: &Identifier, number: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ecert:Certificate xmlns:ecert=\"{TAG_NAMESPACE}\">\
         <ecert:Identifier>{}</ecert:Identifier><ecert:CertificateNo>{}</ecert:CertificateNo>\
         <ecert:TypeCode>{}</ecert:TypeCode><ecert:Revision>{}</ecert:Revision></ecert:Certificate>\n",
        xml_text(&identifier.to_string()),
        xml_text(number),
        identifier.kind().code(),
        identifier.revision()
    )
}

/// The custom tag of a supplement: its number and the original's identifier and number
///
pub fn supplement_tag_xml(number: &str, original: &Identifier, original_number: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ecert:Supplement xmlns:ecert=\"{TAG_NAMESPACE}\">\
         <ecert:SupplementNo>{}</ecert:SupplementNo><ecert:Supplements>\
         <ecert:Identifier>{}</ecert:Identifier><ecert:CertificateNo>{}</ecert:CertificateNo>\
         </ecert:Supplements></ecert:Supplement>\n",
        xml_text(number),
        xml_text(&original.to_string()),
        xml_text(original_number),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_4_5_2_identifier_tag_is_well_formed() {
        let id: Identifier = "1.3.6.1.4.1.32473.1·7·123456788·L<1>&·JZ-1·0"
            .parse()
            .expect("valid");
        let xml = identifier_tag_xml(&id, "JZ-1");
        assert!(xml.contains("L&lt;1&gt;&amp;"));
        assert!(xml.contains(TAG_NAMESPACE));
    }
}
