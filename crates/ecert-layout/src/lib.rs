//! ecert layout: certificate templates (Typst) laid out into pages and written as OFD objects.
#![forbid(unsafe_code)]
