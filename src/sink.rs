//! Where the encoded bytes go: a one-method trait that works without `std`.

use alloc::vec::Vec;
use core::convert::Infallible;

/// A destination for encoded bytes.
///
/// The encoder writes in large pieces (whole IDAT chunks), so an unbuffered
/// sink costs little. Implemented for `Vec<u8>`, for `&mut` of any sink and,
/// with the `std` feature, for any [`std::io::Write`] through [`IoSink`].
pub trait Sink {
    /// The sink's own error, passed through as [`Error::Sink`](crate::Error::Sink).
    type Error;

    /// Writes all of `buf` or fails.
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error>;

    /// Pushes buffered bytes to their destination; called once by
    /// [`StreamingWriter::finish`](crate::StreamingWriter::finish). The default
    /// does nothing.
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl Sink for Vec<u8> {
    type Error = Infallible;

    fn write_all(&mut self, buf: &[u8]) -> Result<(), Infallible> {
        self.extend_from_slice(buf);
        Ok(())
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    type Error = S::Error;

    fn write_all(&mut self, buf: &[u8]) -> Result<(), S::Error> {
        (**self).write_all(buf)
    }

    fn flush(&mut self) -> Result<(), S::Error> {
        (**self).flush()
    }
}

/// Adapts any [`std::io::Write`] (a `File`, a `BufWriter`, a socket) into a [`Sink`].
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
#[derive(Debug)]
pub struct IoSink<W>(pub W);

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<W: std::io::Write> Sink for IoSink<W> {
    type Error = std::io::Error;

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
