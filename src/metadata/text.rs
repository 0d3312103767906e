//! Keywords and the three text chunks: tEXt (Latin-1), zTXt (Latin-1,
//! compressed) and iTXt (UTF-8, optionally compressed, with a language tag).

use alloc::vec::Vec;

use super::MetadataError;
use crate::chunk::MAX_CHUNK_LEN;
use crate::level::Compression;
use crate::zlib::ZlibEncoder;

/// Longest keyword PNG allows, in (Latin-1) characters.
const MAX_KEYWORD: usize = 79;

/// Checks a keyword against PNG's rules (1–79 printable Latin-1 characters,
/// no leading, trailing or double space) and returns its Latin-1 bytes.
pub(crate) fn keyword(kw: &str) -> Result<Vec<u8>, MetadataError> {
    let len = kw.chars().count();
    if len == 0 {
        return Err(MetadataError::EmptyKeyword);
    }
    if len > MAX_KEYWORD {
        return Err(MetadataError::KeywordTooLong { len });
    }
    let mut out = Vec::with_capacity(len);
    let mut prev_space = true; // a leading space counts as following one
    for ch in kw.chars() {
        let c = ch as u32;
        // 160, the non-breaking space, is refused: it looks like a space.
        if !(32..=126).contains(&c) && !(161..=255).contains(&c) {
            return Err(MetadataError::KeywordCharacter { ch });
        }
        if c == 32 && prev_space {
            return Err(MetadataError::KeywordSpacing);
        }
        prev_space = c == 32;
        out.push(c as u8);
    }
    if prev_space {
        return Err(MetadataError::KeywordSpacing);
    }
    Ok(out)
}

/// Appends `text` as Latin-1, refusing NUL and characters beyond U+00FF.
fn push_latin1(out: &mut Vec<u8>, text: &str) -> Result<(), MetadataError> {
    for ch in text.chars() {
        match u8::try_from(ch as u32) {
            Ok(b) if b != 0 => out.push(b),
            _ => return Err(MetadataError::TextCharacter { ch }),
        }
    }
    Ok(())
}

/// Refuses NUL, the separator of the chunk's fields.
fn no_nul(text: &str) -> Result<(), MetadataError> {
    match text.contains('\0') {
        true => Err(MetadataError::TextCharacter { ch: '\0' }),
        false => Ok(()),
    }
}

/// BCP 47 shape, as PNG asks of the iTXt language tag: empty, or words of 1
/// to 8 ASCII letters or digits joined by hyphens ("en", "en-GB", "x-klingon").
fn language_tag(tag: &str) -> Result<(), MetadataError> {
    let ok = tag.is_empty()
        || tag
            .split('-')
            .all(|w| (1..=8).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_alphanumeric()));
    if ok {
        Ok(())
    } else {
        Err(MetadataError::InvalidLanguageTag)
    }
}

/// Compresses `data` as one zlib stream with the crate's own deflate.
pub(crate) fn compress(data: &[u8]) -> Result<Vec<u8>, MetadataError> {
    let mut z = ZlibEncoder::new(Compression::Default)
        .map_err(|e| MetadataError::OutOfMemory { bytes: e.bytes })?;
    z.write(data);
    z.finish();
    Ok(core::mem::take(z.output()))
}

/// Refuses chunk data longer than PNG allows.
pub(crate) fn fits(kind: [u8; 4], data: Vec<u8>) -> Result<Vec<u8>, MetadataError> {
    fits_len(kind, data.len())?;
    Ok(data)
}

/// A copy of `data` as a chunk's data, refused before it is copied when it
/// is longer than PNG allows.
pub(crate) fn fits_copy(kind: [u8; 4], data: &[u8]) -> Result<Vec<u8>, MetadataError> {
    fits_len(kind, data.len())?;
    Ok(data.to_vec())
}

fn fits_len(kind: [u8; 4], len: usize) -> Result<(), MetadataError> {
    if len > MAX_CHUNK_LEN as usize {
        return Err(MetadataError::ChunkTooLarge { kind, len });
    }
    Ok(())
}

/// A text chunk: a keyword ("Title", "Author", "Description", "Software",
/// "Creation Time", … or your own) and its text.
///
/// The chunk is encoded, and compressed where asked, when the value is made.
/// Text chunks may be repeated, and go before the image data (through
/// [`Options::metadata`](crate::Options::metadata)) or after it (through
/// [`StreamingWriter::finish_with`](crate::StreamingWriter::finish_with)).
///
/// ```
/// use pngstream::Text;
/// let title = Text::new("Title", "Mandelbrot set").unwrap();
/// let note = Text::international("Comment", "Zoom ×10⁶", false).unwrap();
/// assert!(Text::new(" Title", "x").is_err()); // leading space
/// # let _ = (title, note);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    pub(crate) kind: [u8; 4],
    /// The chunk's data, ready to write.
    pub(crate) data: Vec<u8>,
}

impl Text {
    /// A tEXt chunk: Latin-1 text, uncompressed. Fails if the keyword breaks
    /// PNG's rules or the text has NUL or characters beyond Latin-1.
    pub fn new(keyword: &str, text: &str) -> Result<Text, MetadataError> {
        let mut data = self::keyword(keyword)?;
        data.push(0);
        push_latin1(&mut data, text)?;
        Ok(Text {
            kind: *b"tEXt",
            data: fits(*b"tEXt", data)?,
        })
    }

    /// A zTXt chunk: Latin-1 text compressed with the crate's deflate, for
    /// long texts.
    pub fn compressed(keyword: &str, text: &str) -> Result<Text, MetadataError> {
        let mut data = self::keyword(keyword)?;
        data.extend_from_slice(&[0, 0]); // separator, compression method 0
        let mut latin1 = Vec::new();
        push_latin1(&mut latin1, text)?;
        data.extend_from_slice(&compress(&latin1)?);
        Ok(Text {
            kind: *b"zTXt",
            data: fits(*b"zTXt", data)?,
        })
    }

    /// An iTXt chunk: UTF-8 text, compressed when `compress` is true, with no
    /// language tag.
    pub fn international(keyword: &str, text: &str, compress: bool) -> Result<Text, MetadataError> {
        Text::translated(keyword, "", "", text, compress)
    }

    /// An iTXt chunk with a language tag (BCP 47, e.g. `"fr"`, `"en-GB"`; may
    /// be empty) and the keyword translated into that language (may be empty).
    pub fn translated(
        keyword: &str,
        language: &str,
        translated_keyword: &str,
        text: &str,
        compress: bool,
    ) -> Result<Text, MetadataError> {
        let mut data = self::keyword(keyword)?;
        language_tag(language)?;
        no_nul(translated_keyword)?;
        no_nul(text)?;
        data.extend_from_slice(&[0, compress as u8, 0]);
        data.extend_from_slice(language.as_bytes());
        data.push(0);
        data.extend_from_slice(translated_keyword.as_bytes());
        data.push(0);
        if compress {
            data.extend_from_slice(&self::compress(text.as_bytes())?);
        } else {
            data.extend_from_slice(text.as_bytes());
        }
        Ok(Text {
            kind: *b"iTXt",
            data: fits(*b"iTXt", data)?,
        })
    }

    /// The chunk type: `tEXt`, `zTXt` or `iTXt`.
    pub fn chunk_type(&self) -> [u8; 4] {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    #[test]
    fn keyword_rules() {
        assert_eq!(keyword("Title").unwrap(), b"Title");
        assert_eq!(keyword("Caf\u{e9} au lait").unwrap(), b"Caf\xe9 au lait");
        assert_eq!(keyword(""), Err(MetadataError::EmptyKeyword));
        let long: String = core::iter::repeat_n('k', 80).collect();
        assert_eq!(
            keyword(&long),
            Err(MetadataError::KeywordTooLong { len: 80 })
        );
        assert!(keyword(&long[..79]).is_ok());
        // 79 characters but more than 79 UTF-8 bytes is still fine: it is Latin-1.
        let latin: String = core::iter::repeat_n('\u{e9}', 79).collect();
        assert_eq!(keyword(&latin).unwrap().len(), 79);
        for bad in [" Title", "Title ", "Ti  tle", " "] {
            assert_eq!(keyword(bad), Err(MetadataError::KeywordSpacing), "{bad:?}");
        }
        for (bad, ch) in [
            ("Ti\ttle", '\t'),
            ("Ti\u{7f}", '\u{7f}'),
            ("nbsp\u{a0}x", '\u{a0}'),
            ("Ti\u{100}", '\u{100}'),
            ("a\0b", '\0'),
            ("\u{9f}", '\u{9f}'),
        ] {
            assert_eq!(
                keyword(bad),
                Err(MetadataError::KeywordCharacter { ch }),
                "{bad:?}"
            );
        }
        assert!(keyword("\u{a1}\u{ff}~ !").is_ok());
    }

    #[test]
    fn text_rules() {
        let t = Text::new("Title", "caf\u{e9}\nbar").unwrap();
        assert_eq!(t.data, b"Title\0caf\xe9\nbar");
        assert_eq!(
            Text::new("Title", "\u{20ac}"),
            Err(MetadataError::TextCharacter { ch: '\u{20ac}' })
        );
        assert_eq!(
            Text::compressed("Title", "a\0b"),
            Err(MetadataError::TextCharacter { ch: '\0' })
        );
        assert!(Text::international("Title", "\u{20ac}", true).is_ok());
        assert_eq!(
            Text::international("Title", "a\0", false),
            Err(MetadataError::TextCharacter { ch: '\0' })
        );
        let t = Text::translated("Title", "fr", "Titre", "\u{e9}t\u{e9}", false).unwrap();
        assert_eq!(t.data, "Title\0\0\0fr\0Titre\0\u{e9}t\u{e9}".as_bytes());
    }

    #[test]
    fn language_tags() {
        for ok in ["", "en", "en-GB", "x-klingon", "zh-Hant-TW", "abcdefgh"] {
            assert!(language_tag(ok).is_ok(), "{ok:?}");
        }
        for bad in ["-", "en-", "-en", "abcdefghi", "en_GB", "en GB", "\u{e9}n"] {
            assert_eq!(
                language_tag(bad),
                Err(MetadataError::InvalidLanguageTag),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn compressed_text_inflates() {
        let text: String = core::iter::repeat_n("lorem ipsum ", 200).collect();
        let t = Text::compressed("Description", &text).unwrap();
        let (head, z) = t.data.split_at(b"Description\0\0".len());
        assert_eq!(head, b"Description\0\0");
        let back = miniz_oxide::inflate::decompress_to_vec_zlib(z).unwrap();
        assert_eq!(back, text.as_bytes());
        assert!(z.len() < text.len() / 4);
    }
}
