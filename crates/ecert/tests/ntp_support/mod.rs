//! Real NTP servers for tests (R-7.2.2a): Debian's chronyd on a loopback port with `-x` (it never
//! touches the machine's clock), optionally under libfaketime.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chronyd serving NTP on a loopback port, killed when dropped.
pub struct Chrony {
    child: Child,
    /// The UDP port it serves on.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Chrony {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

/// Starts chronyd (under `faketime OFFSET` when given) and waits until it answers.
pub fn chrony(faketime: Option<&str>) -> Chrony {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_udp_port();
    let conf = dir.path().join("chrony.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 3\ncmdport 0\n\
             pidfile {pid}\ndriftfile {drift}\n",
            pid = dir.path().join("chronyd.pid").display(),
            drift = dir.path().join("drift").display(),
        ),
    )
    .expect("write chrony.conf");
    let mut cmd = match faketime {
        Some(offset) => {
            let mut c = Command::new("faketime");
            c.args(["-f", offset, "chronyd"]);
            c
        }
        None => Command::new("chronyd"),
    };
    // -x: never adjust the system clock; -d: stay in the foreground; -u root: no privilege drop
    // (the test's folder belongs to root).
    cmd.args(["-x", "-d", "-u", "root", "-f"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().unwrap_or_else(|e| {
        panic!("this test needs chrony and faketime (Debian packages chrony, faketime): {e}")
    });
    let server = Chrony {
        child,
        port,
        _dir: dir,
    };
    // Wait for the first answer (a bare client request, mode 3).
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut request = [0u8; 48];
    request[0] = 0x23;
    loop {
        let _ = sock.send_to(&request, ("127.0.0.1", port));
        let mut buf = [0u8; 128];
        if sock.recv_from(&mut buf).is_ok() {
            return server;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "chronyd did not answer on port {port}"
        );
    }
}
