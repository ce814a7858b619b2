//! Reproducible zips: the same inputs give the same bytes on any machine, whatever the files'
//! mtimes or the umask. Entries are sorted, timestamps fixed (`SOURCE_DATE_EPOCH` or
//! 1980-01-01), modes fixed (0755 or 0644), deflate at a fixed level, no extra fields.

use std::io::{Cursor, Read, Write};

use anyhow::Context;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// One file in a zip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// `/`-separated path inside the zip.
    pub name: String,
    /// File contents.
    pub data: Vec<u8>,
    /// Unix mode: 0o755 or 0o644.
    pub mode: u32,
}

/// The fixed timestamp every entry gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Year (1980–2107).
    pub year: u16,
    /// Month (1–12).
    pub month: u8,
    /// Day (1–31).
    pub day: u8,
    /// Hour, minute, second.
    pub hms: (u8, u8, u8),
}

impl Stamp {
    /// 1980-01-01 00:00:00, the earliest time a zip can hold.
    pub const EPOCH: Stamp = Stamp {
        year: 1980,
        month: 1,
        day: 1,
        hms: (0, 0, 0),
    };

    /// A Unix time (`SOURCE_DATE_EPOCH`) as a zip time in UTC, clamped to what zip can hold.
    pub fn from_unix(seconds: u64) -> Stamp {
        const MIN: u64 = 315_532_800; // 1980-01-01
        const MAX: u64 = 4_354_819_198; // 2107-12-31 23:59:58
        let seconds = seconds.clamp(MIN, MAX);
        let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
        let rem = seconds % 86_400;
        Stamp {
            year: year as u16,
            month,
            day,
            hms: ((rem / 3600) as u8, (rem / 60 % 60) as u8, (rem % 60) as u8),
        }
    }

    fn to_zip(self) -> DateTime {
        let (h, m, s) = self.hms;
        DateTime::from_date_and_time(self.year, self.month, self.day, h, m, s).unwrap_or_default()
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes `entries` (in name order) as a zip and returns its bytes.
pub fn write(mut entries: Vec<Entry>, stamp: Stamp) -> anyhow::Result<Vec<u8>> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = entries.windows(2).find(|p| p[0].name == p[1].name) {
        anyhow::bail!(
            "two files would be stored as {} in one zip; rename one --include",
            pair[0].name
        );
    }
    let capacity = entries.iter().map(|e| e.data.len()).sum::<usize>() / 2 + 1024;
    let mut zip = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
    let time = stamp.to_zip();
    for entry in &entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(time)
            .unix_permissions(entry.mode)
            .large_file(false);
        zip.start_file(entry.name.as_str(), options)
            .with_context(|| format!("adding {} to the zip", entry.name))?;
        zip.write_all(&entry.data)
            .with_context(|| format!("writing {} into the zip", entry.name))?;
    }
    Ok(zip.finish().context("finishing the zip")?.into_inner())
}

/// Whether `bytes` is a zip holding exactly `entries` (names, modes, contents) stamped with
/// `stamp` and nothing else: how a file an earlier run left is checked before it is kept.
pub fn holds(bytes: &[u8], entries: &[Entry], stamp: Stamp) -> bool {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return false;
    };
    if archive.len() != entries.len() || !archive.comment().is_empty() {
        return false;
    }
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    sorted.iter().enumerate().all(|(index, entry)| {
        let Ok(file) = archive.by_index(index) else {
            return false;
        };
        let same_header = file.name().is_ok_and(|name| name == entry.name.as_str())
            && file.unix_mode().map(|m| m & 0o7777) == Some(entry.mode)
            && file.last_modified() == Some(stamp.to_zip())
            && file.size() == entry.data.len() as u64;
        let mut data = Vec::with_capacity(entry.data.len());
        same_header && file.take(entry.data.len() as u64 + 1).read_to_end(&mut data).is_ok() && data == entry.data
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn unix_times_become_utc_calendar_times() {
        assert_eq!(Stamp::from_unix(0), Stamp::EPOCH);
        assert_eq!(Stamp::from_unix(315_532_800), Stamp::EPOCH);
        // 2024-02-29T12:34:56Z
        assert_eq!(
            Stamp::from_unix(1_709_210_096),
            Stamp {
                year: 2024,
                month: 2,
                day: 29,
                hms: (12, 34, 56)
            }
        );
        assert_eq!(Stamp::from_unix(u64::MAX).year, 2107);
    }

    #[test]
    fn same_entries_in_any_order_give_the_same_bytes_with_fixed_metadata() {
        let a = Entry {
            name: "bootstrap".into(),
            data: b"\x7fELF binary".repeat(100),
            mode: 0o755,
        };
        let b = Entry {
            name: "conf/app.json".into(),
            data: b"{}".to_vec(),
            mode: 0o644,
        };
        let one = write(vec![a.clone(), b.clone()], Stamp::EPOCH).unwrap();
        let two = write(vec![b, a], Stamp::EPOCH).unwrap();
        assert_eq!(one, two);
        let mut archive = zip::ZipArchive::new(Cursor::new(one)).unwrap();
        let names: Vec<_> = archive.file_names().map(|n| n.unwrap().into_owned()).collect();
        assert_eq!(names, ["bootstrap", "conf/app.json"]);
        let mut first = archive.by_index(0).unwrap();
        assert_eq!(first.unix_mode().unwrap() & 0o7777, 0o755);
        assert_eq!(first.compression(), CompressionMethod::Deflated);
        assert!(first.extra_data().is_none_or(|d| d.is_empty()));
        let mut data = Vec::new();
        first.read_to_end(&mut data).unwrap();
        assert_eq!(data.len(), 1100);
    }

    #[test]
    fn a_zip_holds_its_entries_and_nothing_else() {
        let entry = |name: &str, data: &[u8]| Entry {
            name: name.into(),
            data: data.to_vec(),
            mode: 0o644,
        };
        let entries = vec![entry("bootstrap", b"elf"), entry("static/a.json", b"{}")];
        let bytes = write(entries.clone(), Stamp::EPOCH).unwrap();
        assert!(holds(&bytes, &entries, Stamp::EPOCH));
        assert!(!holds(&bytes, &entries, Stamp::from_unix(1_709_210_096)));
        assert!(!holds(&bytes, &entries[..1], Stamp::EPOCH));
        let other = vec![entry("bootstrap", b"elf"), entry("static/a.json", b"{ }")];
        assert!(!holds(&bytes, &other, Stamp::EPOCH));
        assert!(!holds(b"not a zip", &entries, Stamp::EPOCH));
    }

    #[test]
    fn duplicate_names_are_refused() {
        let e = Entry {
            name: "bootstrap".into(),
            data: vec![],
            mode: 0o644,
        };
        assert!(
            write(vec![e.clone(), e], Stamp::EPOCH)
                .unwrap_err()
                .to_string()
                .contains("two files")
        );
    }
}
