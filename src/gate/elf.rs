//! What the Lambda runtime gate needs to know about a binary, read with the `object` crate:
//! its machine, the shared libraries it needs, and the highest glibc symbol version it requires.

use anyhow::{Context, anyhow};
use object::elf;
use object::read::elf::{FileHeader, Sym};
use object::{Endianness, FileKind};

use super::GlibcVersion;
use crate::config::Arch;

/// Facts about one ELF binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfFacts {
    /// The CPU it is for; `Err(e_machine)` for anything but x86_64 and aarch64.
    pub machine: Result<Arch, u16>,
    /// `DT_NEEDED` libraries, in file order; empty for a static binary.
    pub needed: Vec<String>,
    /// The highest `GLIBC_x.y` version it requires, with a symbol that needs it when one does
    /// (the version may also be required without a symbol, by the version-needs table alone).
    pub glibc: Option<(GlibcVersion, Option<String>)>,
}

impl ElfFacts {
    /// Statically linked: needs no shared library at all.
    pub fn is_static(&self) -> bool {
        self.needed.is_empty()
    }
}

/// Reads the facts from a 64-bit ELF file.
pub fn inspect(data: &[u8]) -> anyhow::Result<ElfFacts> {
    match FileKind::parse(data) {
        Ok(FileKind::Elf64) => {}
        Ok(other) => return Err(anyhow!("not a 64-bit ELF executable ({other:?})")),
        Err(_) => return Err(anyhow!("not an ELF executable")),
    }
    let header = elf::FileHeader64::<Endianness>::parse(data).context("reading the ELF header")?;
    let endian = header.endian().context("reading the ELF header")?;
    let machine = match header.e_machine(endian) {
        elf::EM_X86_64 => Ok(Arch::X86_64),
        elf::EM_AARCH64 => Ok(Arch::Arm64),
        other => Err(other.0),
    };
    let sections = header.sections(endian, data).context("reading ELF sections")?;

    let dynamic = sections
        .dynamic_table(endian, data)
        .context("reading the dynamic section")?;
    let mut needed = Vec::new();
    for entry in dynamic.iter().filter(|d| d.tag == elf::DT_NEEDED) {
        let name = dynamic.string(entry).context("reading a DT_NEEDED name")?;
        needed.push(String::from_utf8_lossy(name).into_owned());
    }

    let mut highest: Option<GlibcVersion> = None;
    if let Some((mut needs, link)) = sections.gnu_verneed(endian, data).context("reading version needs")? {
        let strings = sections.strings(endian, data, link).context("reading version names")?;
        while let Some((_, mut aux)) = needs.next().context("reading version needs")? {
            while let Some(entry) = aux.next().context("reading version needs")? {
                let name = entry.name(endian, strings).context("reading a version name")?;
                if let Some(version) = GlibcVersion::from_symbol_version(&String::from_utf8_lossy(name)) {
                    highest = highest.max(Some(version));
                }
            }
        }
    }
    let glibc = match highest {
        None => None,
        Some(version) => Some((version, symbol_needing(&sections, endian, data, version)?)),
    };
    Ok(ElfFacts { machine, needed, glibc })
}

/// An undefined dynamic symbol bound to `GLIBC_<version>`, to name in messages.
fn symbol_needing(
    sections: &object::read::elf::SectionTable<'_, elf::FileHeader64<Endianness>>,
    endian: Endianness,
    data: &[u8],
    version: GlibcVersion,
) -> anyhow::Result<Option<String>> {
    let Some(versions) = sections.versions(endian, data).context("reading symbol versions")? else {
        return Ok(None);
    };
    let symbols = sections
        .symbols(endian, data, elf::SHT_DYNSYM)
        .context("reading dynamic symbols")?;
    for (index, symbol) in symbols.enumerate() {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let Ok(Some(named)) = versions.version(versions.version_index(endian, index).index()) else {
            continue;
        };
        if GlibcVersion::from_symbol_version(&String::from_utf8_lossy(named.name())) == Some(version) {
            let name = symbol
                .name(endian, symbols.strings())
                .context("reading a symbol name")?;
            return Ok(Some(String::from_utf8_lossy(name).into_owned()));
        }
    }
    Ok(None)
}
