//! The text tables the binary prints: `sessionlab-emulator profiles` and the device
//! table at start. Columns are aligned by `comfy-table`, without borders, two spaces
//! apart, and carry the vendors' wire names (`bigip`, not the Rust type's `Bigip`).

use comfy_table::{presets::NOTHING, Table};

use crate::fleet::RunningDevice;
use crate::profile::{Profile, EMBEDDED};

/// A table without borders, its columns two spaces apart, no trailing spaces.
fn render(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(NOTHING).set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = table.trim_fmt();
    out.push('\n');
    out
}

/// `sessionlab-emulator profiles`: each embedded profile, its vendor's wire name and
/// its description. A profile that does not load says why in the description column.
pub fn profiles() -> String {
    let rows = EMBEDDED
        .iter()
        .map(|(name, _)| match Profile::embedded(name) {
            Ok(p) => vec![name.to_string(), p.vendor.as_str().to_string(), p.description],
            Err(e) => vec![name.to_string(), "-".to_string(), format!("broken: {e}")],
        })
        .collect();
    render(&["PROFILE", "VENDOR", "DESCRIPTION"], rows)
}

/// One line of the device table printed at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    /// The device's name in the fleet.
    pub device: String,
    /// Its profile.
    pub profile: String,
    /// Where its wire protocol answers.
    pub url: String,
    /// Where its SSH service answers (address and port), when it serves SSH.
    pub ssh: Option<std::net::SocketAddr>,
    /// The default account's user name.
    pub user: String,
    /// And its password.
    pub password: String,
}

impl DeviceRow {
    /// The row for a running device.
    pub fn of(d: &RunningDevice) -> DeviceRow {
        let account = d.device.profile().default_account();
        DeviceRow {
            device: d.device.name().to_string(),
            profile: d.device.profile().name.clone(),
            url: d.url(),
            ssh: d.ssh_addr,
            user: account.user.clone(),
            password: account.password.clone(),
        }
    }
}

/// The device table: device, profile, URL, SSH address (a column only when some device
/// serves SSH; `-` for those that do not), user, password.
pub fn devices(rows: &[DeviceRow]) -> String {
    let any_ssh = rows.iter().any(|r| r.ssh.is_some());
    let mut header = vec!["DEVICE", "PROFILE", "URL", "SSH", "USER", "PASSWORD"];
    if !any_ssh {
        header.remove(3);
    }
    let cells = rows
        .iter()
        .map(|r| {
            let mut row = vec![r.device.clone(), r.profile.clone(), r.url.clone()];
            if any_ssh {
                row.push(r.ssh.map_or_else(|| "-".to_string(), |a| a.to_string()));
            }
            row.extend([r.user.clone(), r.password.clone()]);
            row
        })
        .collect();
    render(&header, cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(device: &str, url: &str, ssh: Option<&str>) -> DeviceRow {
        DeviceRow {
            device: device.to_string(),
            profile: device.to_string(),
            url: url.to_string(),
            ssh: ssh.map(|a| a.parse().expect("a socket address")),
            user: "admin".to_string(),
            password: "password".to_string(),
        }
    }

    /// Columns line up whatever the widths, and the SSH column shows only when needed.
    #[test]
    fn device_table_aligns_and_drops_an_unused_ssh_column() {
        let rows = [
            row("redfish", "http://127.0.0.1:8000", None),
            row("idrac9", "https://127.0.0.1:8001", Some("127.0.0.1:2222")),
        ];
        insta::assert_snapshot!(devices(&rows), @r"
        DEVICE   PROFILE  URL                     SSH             USER   PASSWORD
        redfish  redfish  http://127.0.0.1:8000   -               admin  password
        idrac9   idrac9   https://127.0.0.1:8001  127.0.0.1:2222  admin  password
        ");
        insta::assert_snapshot!(devices(&rows[..1]), @r"
        DEVICE   PROFILE  URL                    USER   PASSWORD
        redfish  redfish  http://127.0.0.1:8000  admin  password
        ");
    }
}
