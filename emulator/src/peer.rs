//! Which local process is on the other end of a connection.
//!
//! Hygiene mode runs the client's command on the emulator's own host, and many clients
//! send the same `User-Agent` (`python-requests/2.32.3`), so the report names the
//! process instead. On Linux, while the client's connection is open, its address as the
//! server sees it (the peer address of the accepted socket) is the *local* address of
//! the client's socket in `/proc/net/tcp` or `/proc/net/tcp6`; that line gives the
//! socket's inode, and the process whose `/proc/PID/fd` holds `socket:[INODE]` is the
//! client. Its name and command line come from `/proc/PID/comm` and `/proc/PID/cmdline`.
//!
//! It is opt-in per listener ([`ClientProcesses`] in the connection a request came on; a
//! normal emulator pays nothing), never fails a request (no answer is `None`), and its cost is
//! bounded: one read of the TCP tables per call, a scan of at most [`MAX_PROCESSES`]
//! processes and [`MAX_FDS`] descriptors only for a socket not seen before, and a
//! bounded cache by socket inode. Elsewhere than Linux it finds nothing, silently.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use crate::session::ClientProcess;

/// Most processes one lookup looks into.
pub const MAX_PROCESSES: usize = 4096;
/// Most file descriptors one lookup reads.
pub const MAX_FDS: usize = 65_536;
/// Most sockets remembered; past it the cache starts over.
const CACHE_SIZE: usize = 1024;
/// Longest command line kept, in bytes.
const MAX_CMDLINE: u64 = 4096;

/// Names the local process behind a client's connection. A listener that should do so
/// puts one in each connection it serves ([`crate::vendors::http::Connection`]); cloning
/// shares its cache.
#[derive(Clone, Debug, Default)]
pub struct ClientProcesses {
    /// Socket inode -> what a scan found for it (`None`: nobody we may look at).
    cache: Arc<Mutex<HashMap<u64, Option<ClientProcess>>>>,
}

impl ClientProcesses {
    /// A lookup with an empty cache.
    pub fn new() -> ClientProcesses {
        ClientProcesses::default()
    }

    /// The process that holds the client end of the open connection whose client
    /// address (as the server sees it) is `peer`; `None` when it cannot be told.
    pub fn find(&self, peer: SocketAddr) -> Option<ClientProcess> {
        #[cfg(target_os = "linux")]
        {
            self.find_linux(peer)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (peer, &self.cache);
            None
        }
    }

    #[cfg(target_os = "linux")]
    fn find_linux(&self, peer: SocketAddr) -> Option<ClientProcess> {
        let inode = ["/proc/net/tcp", "/proc/net/tcp6"].iter().find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            socket_inode(&text, peer)
        })?;
        if let Some(known) = self.cache.lock().ok()?.get(&inode) {
            return known.clone();
        }
        let found = owner_of(inode).and_then(process);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
            cache.insert(inode, found.clone());
        }
        found
    }
}

/// One line of `/proc/net/tcp` or `/proc/net/tcp6`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpEntry {
    /// The socket's own address.
    pub local: SocketAddr,
    /// The address it is connected to (`0.0.0.0:0` for a listener).
    pub remote: SocketAddr,
    /// The kernel's TCP state (`0x01` established, `0x0A` listen, ...).
    pub state: u8,
    /// The socket's inode (0 once no process holds it, e.g. in TIME_WAIT).
    pub inode: u64,
}

/// The entries of a `/proc/net/tcp` or `/proc/net/tcp6` table; the heading and lines
/// that do not parse are skipped.
pub fn parse_tcp_table(text: &str) -> Vec<TcpEntry> {
    text.lines().filter_map(parse_tcp_line).collect()
}

/// One table line: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_tcp_line(line: &str) -> Option<TcpEntry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 10 || !fields[0].ends_with(':') {
        return None;
    }
    Some(TcpEntry {
        local: parse_socket_addr(fields[1])?,
        remote: parse_socket_addr(fields[2])?,
        state: u8::from_str_radix(fields[3], 16).ok()?,
        inode: fields[9].parse().ok()?,
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6). The kernel prints each
/// 32-bit word of the address as the host reads it from memory in network order, so the
/// bytes come back with the host's own byte order; the port is a plain number.
fn parse_socket_addr(text: &str) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |hex: &str| u32::from_str_radix(hex, 16).ok().map(u32::to_ne_bytes);
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(addr)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for (i, chunk) in bytes.chunks_mut(4).enumerate() {
                chunk.copy_from_slice(&word(addr.get(i * 8..i * 8 + 8)?)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The inode of the socket whose local address is `peer` (an IPv4 address and its
/// IPv4-mapped IPv6 form are the same), if a process still holds it.
pub fn socket_inode(table: &str, peer: SocketAddr) -> Option<u64> {
    let wanted = (peer.ip().to_canonical(), peer.port());
    parse_tcp_table(table)
        .into_iter()
        .find(|e| e.inode != 0 && (e.local.ip().to_canonical(), e.local.port()) == wanted)
        .map(|e| e.inode)
}

/// `socket:[INODE]`, as `/proc/PID/fd/N` links read.
pub fn is_socket_link(link: &str, inode: u64) -> bool {
    link.strip_prefix("socket:[")
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|n| n.parse() == Ok(inode))
}

/// The process that holds socket `inode`, newest first (a client just started has one
/// of the highest pids), within the bounds.
#[cfg(target_os = "linux")]
fn owner_of(inode: u64) -> Option<u32> {
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable_by(|a, b| b.cmp(a));
    let mut fds_read = 0usize;
    for pid in pids.into_iter().take(MAX_PROCESSES) {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue; // gone, or not ours to read
        };
        for fd in fds.flatten() {
            fds_read += 1;
            if fds_read > MAX_FDS {
                return None;
            }
            if let Ok(link) = std::fs::read_link(fd.path()) {
                if link.to_str().is_some_and(|l| is_socket_link(l, inode)) {
                    return Some(pid);
                }
            }
        }
    }
    None
}

/// Name and command line of `pid`.
#[cfg(target_os = "linux")]
fn process(pid: u32) -> Option<ClientProcess> {
    use std::io::Read as _;
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim_end().to_string();
    let mut raw = Vec::new();
    if let Ok(file) = std::fs::File::open(format!("/proc/{pid}/cmdline")) {
        let _ = file.take(MAX_CMDLINE).read_to_end(&mut raw);
    }
    Some(ClientProcess { pid, name, cmdline: parse_cmdline(&raw) })
}

/// `/proc/PID/cmdline`: arguments each ended by NUL. A process that rewrote its title
/// in place (ilorest writes one string over its argv) leaves NUL padding: trailing empty
/// arguments are dropped.
pub fn parse_cmdline(raw: &[u8]) -> Vec<String> {
    let end = raw.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let raw = &raw[..end];
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|b| *b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `/proc/net/tcp` as Linux prints it on a little-endian host: a listener on
    /// 127.0.0.1:7780, a client 127.0.0.1:51234 connected to it, the server's accepted
    /// end, and a TIME_WAIT line whose socket nobody holds.
    #[cfg(target_endian = "little")]
    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1E64 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 30196 1 00000000b29dc0a9 100 0 0 10 0
   1: 0100007F:C822 0100007F:1E64 01 00000000:00000000 00:00000000 00000000  1000        0 41001 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1E64 0100007F:C822 01 00000000:00000000 00:00000000 00000000     0        0 41002 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:C823 0100007F:1E64 06 00000000:00000000 03:00000ABC 00000000     0        0 0 3 0000000000000000
";

    /// The same for IPv6: a client [::1]:40000 and one on an IPv4-mapped address
    /// ::ffff:127.0.0.1:40001.
    #[cfg(target_endian = "little")]
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:9C40 00000000000000000000000001000000:1E64 01 00000000:00000000 00:00000000 00000000     0        0 52001 1 0000000000000000 20 4 30 10 -1
   1: 0000000000000000FFFF00000100007F:9C41 0000000000000000FFFF00000100007F:1E64 01 00000000:00000000 00:00000000 00000000     0        0 52002 1 0000000000000000 20 4 30 10 -1
";

    /// /proc/net/tcp lines parse into addresses, state and inode; the heading does not
    /// (name the process that opened each leaked session: the table gives the inode).
    #[cfg(target_endian = "little")]
    #[test]
    fn tcp_table_lines_parse() {
        let entries = parse_tcp_table(TCP);
        assert_eq!(entries.len(), 4);
        assert_eq!(
            entries[1],
            TcpEntry {
                local: "127.0.0.1:51234".parse().unwrap(),
                remote: "127.0.0.1:7780".parse().unwrap(),
                state: 0x01,
                inode: 41001,
            }
        );
        assert_eq!(entries[0].state, 0x0A);
        assert_eq!(entries[3].inode, 0);
        let six = parse_tcp_table(TCP6);
        assert_eq!(six[0].local, "[::1]:40000".parse().unwrap());
        assert_eq!(six[1].local, "[::ffff:127.0.0.1]:40001".parse().unwrap());
    }

    /// The client's socket is the line whose *local* address is the server's peer
    /// address, never the server's own accepted end; a socket nobody holds (inode 0) and
    /// an unknown address give nothing; IPv4-mapped and plain IPv4 match each other
    /// (name the process that opened each leaked session).
    #[cfg(target_endian = "little")]
    #[test]
    fn the_client_socket_is_found_by_its_local_address() {
        assert_eq!(socket_inode(TCP, "127.0.0.1:51234".parse().unwrap()), Some(41001));
        assert_eq!(socket_inode(TCP, "[::ffff:127.0.0.1]:51234".parse().unwrap()), Some(41001));
        assert_eq!(socket_inode(TCP, "127.0.0.1:51235".parse().unwrap()), None);
        assert_eq!(socket_inode(TCP, "127.0.0.2:51234".parse().unwrap()), None);
        assert_eq!(socket_inode(TCP6, "[::1]:40000".parse().unwrap()), Some(52001));
        assert_eq!(socket_inode(TCP6, "127.0.0.1:40001".parse().unwrap()), Some(52002));
    }

    /// Lines that are not table rows are skipped, not guessed at.
    #[test]
    fn malformed_lines_are_skipped() {
        for bad in [
            "",
            "  sl  local_address rem_address   st",
            "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 0 0 1",
            "   0: 0100007F:XYZ 00000000:0000 0A 0:0 0:0 0 0 0 1",
            "   0: 01007F:1E64 00000000:0000 0A 0:0 0:0 0 0 0 1",
            "   0: 0100007F:1E64 00000000:0000 0A 0:0 0:0 0 0 0 inode",
        ] {
            assert!(parse_tcp_table(bad).is_empty(), "{bad:?}");
        }
    }

    /// `socket:[N]` links match their inode only; command lines split on NUL.
    #[test]
    fn fd_links_and_command_lines() {
        assert!(is_socket_link("socket:[41001]", 41001));
        assert!(!is_socket_link("socket:[410011]", 41001));
        assert!(!is_socket_link("pipe:[41001]", 41001));
        assert!(!is_socket_link("/dev/null", 41001));
        assert_eq!(parse_cmdline(b"python3\0my_test.py\0"), ["python3", "my_test.py"]);
        assert_eq!(parse_cmdline(b"sh\0-c\0curl -s x\0"), ["sh", "-c", "curl -s x"]);
        assert_eq!(parse_cmdline(b""), Vec::<String>::new());
        // A title written over argv, NUL-padded (as ilorest 7.4 does).
        assert_eq!(
            parse_cmdline(b"python3 ilorest --nocache login\0\0\0"),
            ["python3 ilorest --nocache login"]
        );
        assert_eq!(parse_cmdline(b"a\0\0b\0"), ["a", "", "b"]);
    }

    /// A real connection from this process to a listener of its own is named: pid,
    /// `comm` and command line are this test binary's (Linux only).
    #[cfg(target_os = "linux")]
    #[test]
    fn own_connection_names_this_process() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_accepted, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        let lookup = ClientProcesses::new();
        let found = lookup.find(peer).expect("this process holds the client end");
        assert_eq!(found.pid, std::process::id());
        let comm = std::fs::read_to_string("/proc/self/comm").unwrap();
        assert_eq!(found.name, comm.trim_end());
        assert!(!found.cmdline.is_empty());
        // Asked again, the cache answers the same.
        assert_eq!(lookup.find(peer), Some(found));
        drop(client);
    }
}
