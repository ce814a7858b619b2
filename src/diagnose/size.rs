//! How much of a binary over Lambda's size limits is debug info, and what removes it: a debug
//! build's DWARF is often most of its size (a 17-member workspace's 283 MiB debug binary is
//! a fraction of that in release).

use std::path::Path;

use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use object::{Endianness, ReadCache, ReadRef};

use crate::progress::human_size;

/// The bytes of an ELF file's debug-info sections (`.debug_*`, `.zdebug_*`); `None` for
/// anything that is not a 64-bit ELF file.
pub fn debug_info<'a, R: ReadRef<'a>>(data: R) -> Option<u64> {
    let header = elf::FileHeader64::<Endianness>::parse(data).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, data).ok()?;
    let mut total = 0u64;
    for section in sections.iter() {
        let name = sections.section_name(endian, section).ok()?;
        if name.starts_with(b".debug_") || name.starts_with(b".zdebug_") {
            total = total.saturating_add(section.sh_size(endian));
        }
    }
    Some(total)
}

/// [`debug_info`] of a file, reading only its headers (the file may be far larger than what
/// lambda-build reads into memory).
pub fn debug_info_of(path: &Path) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    debug_info(&ReadCache::new(file))
}

/// The hint for a binary of `size` bytes holding `debug` bytes of debug info built with
/// `profile`, in an output of `total` bytes (unzipped) over a limit; `None` when debug info is
/// not what makes the output large (under a tenth of it: an include is, say).
pub fn hint(debug: u64, size: u64, total: u64, profile: &str) -> Option<String> {
    if debug == 0 || debug.saturating_mul(10) < total {
        return None;
    }
    let release = match profile {
        "dev" | "test" => "build with --release, or ",
        _ => "",
    };
    Some(format!(
        "hint: {} of the binary's {} is debug info; {release}set `debug = false` or `strip = \"debuginfo\"` under [profile.{profile}] in the workspace Cargo.toml",
        human_size(debug),
        human_size(size)
    ))
}

/// The hint for the binary at `path` (read from its headers) in an output of `total` bytes.
pub fn hint_for(path: &Path, total: u64, profile: &str) -> Option<String> {
    let size = std::fs::metadata(path).ok()?.len();
    hint(debug_info_of(path)?, size, total, profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debug_binary_counts_its_dwarf_and_the_hint_names_the_fixes() {
        // This test binary is a debug build: it carries DWARF.
        let exe = std::env::current_exe().unwrap();
        let debug = debug_info_of(&exe).unwrap();
        let size = std::fs::metadata(&exe).unwrap().len();
        assert!(debug > 0 && debug < size, "{debug} of {size}");
        assert_eq!(debug_info(std::fs::read(&exe).unwrap().as_slice()), Some(debug));
        let hint = hint(200 << 20, 280 << 20, 281 << 20, "dev").unwrap();
        assert_eq!(
            hint,
            "hint: 200.0 MiB of the binary's 280.0 MiB is debug info; build with --release, or set `debug = false` or `strip = \"debuginfo\"` under [profile.dev] in the workspace Cargo.toml"
        );
        // A large include, not the binary's debug info, is what makes this one large.
        assert!(super::hint(3 << 20, 4 << 20, 260 << 20, "dev").is_none());
        assert!(
            super::hint(100 << 20, 280 << 20, 280 << 20, "release")
                .unwrap()
                .contains("; set `debug = false`")
        );
        assert_eq!(debug_info(&b"not an elf file"[..]), None);
    }
}
