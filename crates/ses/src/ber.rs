//! A minimal, bounded BER reader (X.690) for the containers that arrive in BER rather than DER:
//! PKCS#12 files written by Java/BouncyCastle use indefinite lengths and constructed OCTET STRINGs.
//!
//! Defends against: lengths past the end of input, nesting deeper than [`MAX_DEPTH`], multi-byte
//! tags (never used by the structures we read), and unterminated indefinite-length values.

use crate::error::Asn1Error;

/// Deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;

/// Universal tags used by the readers in this crate.
pub mod tag {
    /// INTEGER
    pub const INTEGER: u8 = 0x02;
    /// OCTET STRING
    pub const OCTET_STRING: u8 = 0x04;
    /// OBJECT IDENTIFIER
    pub const OID: u8 = 0x06;
    /// SEQUENCE (constructed)
    pub const SEQUENCE: u8 = 0x30;
}

/// One BER value: its identifier octet and content octets (without end-of-contents for
/// indefinite-length values). `raw` spans the whole encoding (header + content).
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    /// Identifier octet (class, constructed bit, tag number < 31).
    pub tag: u8,
    /// Content octets.
    pub body: &'a [u8],
    /// Whole encoding including the header.
    pub raw: &'a [u8],
    /// Offset of this value in the outermost input.
    pub offset: usize,
    /// Length of the identifier and length octets.
    pub header: usize,
}

/// Reads the next value from `input` (whose first byte sits at `base` in the outermost input).
pub fn read(input: &[u8], base: usize, depth: usize) -> Result<(Tlv<'_>, &[u8]), Asn1Error> {
    if depth > MAX_DEPTH {
        return Err(Asn1Error::at(base, "nesting too deep"));
    }
    let (&tag, rest) = input
        .split_first()
        .ok_or_else(|| Asn1Error::at(base, "unexpected end of data (tag)"))?;
    if tag & 0x1f == 0x1f {
        return Err(Asn1Error::at(base, "multi-byte tag not supported"));
    }
    let (&l0, mut rest) = rest
        .split_first()
        .ok_or_else(|| Asn1Error::at(base + 1, "unexpected end of data (length)"))?;
    let header_len;
    let body: &[u8];
    let after: &[u8];
    if l0 == 0x80 {
        if tag & 0x20 == 0 {
            return Err(Asn1Error::at(
                base,
                "indefinite length on a primitive value",
            ));
        }
        // Indefinite: walk children until end-of-contents (00 00).
        header_len = 2;
        let mut cur = rest;
        loop {
            if cur.len() >= 2 && cur[0] == 0 && cur[1] == 0 {
                let used = rest.len() - cur.len();
                body = &rest[..used];
                after = &cur[2..];
                break;
            }
            let pos = base + header_len + (rest.len() - cur.len());
            let (_, next) = read(cur, pos, depth + 1)?;
            cur = next;
        }
        let total = header_len + body.len() + 2;
        let raw = &input[..total];
        return Ok((
            Tlv {
                tag,
                body,
                raw,
                offset: base,
                header: header_len,
            },
            after,
        ));
    }
    let len: usize = if l0 < 0x80 {
        header_len = 2;
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n > 4 {
            return Err(Asn1Error::at(base + 1, "length of length too large"));
        }
        if rest.len() < n {
            return Err(Asn1Error::at(
                base + 1,
                "unexpected end of data (long length)",
            ));
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | usize::from(b);
        }
        rest = &rest[n..];
        header_len = 2 + n;
        len
    };
    if rest.len() < len {
        return Err(Asn1Error::at(
            base,
            "value length runs past the end of the data",
        ));
    }
    body = &rest[..len];
    after = &rest[len..];
    Ok((
        Tlv {
            tag,
            body,
            raw: &input[..header_len + len],
            offset: base,
            header: header_len,
        },
        after,
    ))
}

/// Parses exactly one value spanning all of `input`.
pub fn parse(input: &[u8]) -> Result<Tlv<'_>, Asn1Error> {
    let (tlv, rest) = read(input, 0, 0)?;
    if !rest.is_empty() {
        return Err(Asn1Error::at(
            tlv.raw.len(),
            "trailing data after the value",
        ));
    }
    Ok(tlv)
}

impl<'a> Tlv<'a> {
    /// True for constructed encodings.
    pub fn constructed(&self) -> bool {
        self.tag & 0x20 != 0
    }

    /// Checks the identifier octet.
    pub fn expect(self, tag: u8, what: &'static str) -> Result<Self, Asn1Error> {
        if self.tag == tag {
            Ok(self)
        } else {
            Err(Asn1Error::at(self.offset, what))
        }
    }

    /// Children of a constructed value.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, Asn1Error> {
        if !self.constructed() {
            return Err(Asn1Error::at(self.offset, "expected a constructed value"));
        }
        let mut out = Vec::new();
        let mut cur = self.body;
        let start = self.offset + self.header;
        while !cur.is_empty() {
            let pos = start + (self.body.len() - cur.len());
            let (t, next) = read(cur, pos, 1)?;
            out.push(t);
            cur = next;
        }
        Ok(out)
    }

    /// The content of an OCTET STRING (or an implicitly tagged one), joining the segments of a
    /// constructed encoding.
    pub fn octets(&self) -> Result<Vec<u8>, Asn1Error> {
        if !self.constructed() {
            return Ok(self.body.to_vec());
        }
        let mut out = Vec::new();
        for c in self.children()? {
            if c.tag & 0x1f != tag::OCTET_STRING {
                return Err(Asn1Error::at(
                    c.offset,
                    "constructed string segment is not an OCTET STRING",
                ));
            }
            out.extend_from_slice(&c.octets()?);
        }
        Ok(out)
    }

    /// The value of a small non-negative INTEGER.
    pub fn uint(&self) -> Result<u64, Asn1Error> {
        if self.tag != tag::INTEGER || self.body.is_empty() || self.body.len() > 9 {
            return Err(Asn1Error::at(self.offset, "expected a small INTEGER"));
        }
        if self.body[0] & 0x80 != 0 {
            return Err(Asn1Error::at(self.offset, "negative INTEGER"));
        }
        let mut v: u64 = 0;
        for &b in self.body {
            v = v
                .checked_shl(8)
                .ok_or_else(|| Asn1Error::at(self.offset, "INTEGER too large"))?
                | u64::from(b);
        }
        Ok(v)
    }

    /// The value of an OBJECT IDENTIFIER.
    pub fn oid(&self) -> Result<der::oid::ObjectIdentifier, Asn1Error> {
        if self.tag != tag::OID {
            return Err(Asn1Error::at(self.offset, "expected an OBJECT IDENTIFIER"));
        }
        der::oid::ObjectIdentifier::from_bytes(self.body)
            .map_err(|_| Asn1Error::at(self.offset, "malformed OBJECT IDENTIFIER"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_constructed_octets() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { 04 01 aa, 04 02 bb cc } }
        let data = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x01, 0xaa, 0x04, 0x02, 0xbb, 0xcc, 0, 0, 0, 0,
        ];
        let t = parse(&data).unwrap();
        let kids = t.children().unwrap();
        assert_eq!(kids.len(), 1);
        assert_eq!(kids[0].octets().unwrap(), vec![0xaa, 0xbb, 0xcc]);
    }

    #[test]
    fn rejects_overlong_and_unterminated() {
        assert!(parse(&[0x04, 0x05, 1, 2]).is_err());
        assert!(parse(&[0x30, 0x80, 0x04, 0x00]).is_err());
        assert!(parse(&[0x04, 0x80, 0, 0]).is_err());
        let mut deep = vec![];
        for _ in 0..100 {
            deep.extend_from_slice(&[0x30, 0x80]);
        }
        assert!(parse(&deep).is_err());
    }
}
