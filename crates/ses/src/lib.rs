//! Electronic seals and signatures (GB/T 38540-2020, GM/T 0031-2014) on OFD packages.
#![forbid(unsafe_code)]
