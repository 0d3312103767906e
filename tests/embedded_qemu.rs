//! The encoder on a microcontroller: `embedded/` built for a Cortex-M3
//! (`thumbv7m-none-eabi`) and run under QEMU's `lm3s6965evb` board, 64 KiB
//! of RAM of which 32 KiB are the heap. The program streams the article's
//! 1024 × 1024 RGB gradient through `StreamingWriter` into a file on the
//! host (semihosting), then prints its heap and stack peaks.
//!
//! The program asks for its level with `Options::memory_limit(32 * 1024)`.
//! Each run must exit with success, print a heap peak within the 32 KiB and
//! no failed allocation, use the level asked for or a cheaper one (the
//! one-level build, `Default`, exactly its own), and leave a file that
//! passes the strict decode with every pixel equal to the formula of
//! `examples/common/gradient.rs`. A stack overflow hits an MPU guard and
//! fails the run, and every run must leave [`STACK_MARGIN`] of the stack
//! untouched.
//! The flash of the one-level build and of the build that links every
//! level (`.text`, `.rodata`, `.data`'s initial values and the vector
//! table: every section the ELF loads) is read from the ELF's section
//! headers and printed.
//!
//! Needs `qemu-system-arm` and the `thumbv7m-none-eabi` target
//! (`rustup target add thumbv7m-none-eabi`). Where either is missing the
//! tests print a notice and pass, unless `PNGSTREAM_STRICT=1` makes them
//! fail. The embedded crate builds in `<target dir>/embedded` (about a
//! minute the first time); `cargo test --test embedded_qemu -- --nocapture`
//! shows the figures.

mod common;

#[path = "../examples/common/gradient.rs"]
mod gradient;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pngstream::Compression;

const TARGET: &str = "thumbv7m-none-eabi";
const QEMU: &str = "qemu-system-arm";
/// The program's image.
const WIDTH: u32 = 1024;
const HEIGHT: u32 = 1024;
/// The program's heap: everything the encoder allocates must fit.
const HEAP: u64 = 32 * 1024;
/// The LM3S6965's flash.
const CHIP_FLASH: u64 = 256 * 1024;
/// The flash the build with every level should fit in.
const FLASH_GOAL: u64 = 64 * 1024;
/// Stack every run must leave untouched, of the about 32 KiB beside the
/// heap.
const STACK_MARGIN: u64 = 8 * 1024;
/// A run that takes longer is killed and fails.
const TIMEOUT: Duration = Duration::from_secs(300);
/// The level of the one-level build (embedded/src/main.rs, `LEVEL`).
const ONE_LEVEL: Compression = Compression::Default;
/// The levels the all-levels build is run at; `Fastest` has a test of its
/// own (`fastest_runs_within_the_stack`), as its run once needed 34 KiB of
/// stack.
const RUN_LEVELS: &[Compression] = &[
    Compression::Stored,
    Compression::Fast,
    Compression::Default,
    Compression::Best,
];

/// The two builds of the embedded program.
struct Builds {
    one_level: PathBuf,
    all_levels: PathBuf,
    /// The one-level build that overflows its stack on purpose.
    overflow: PathBuf,
    /// Where the runs leave their files.
    dir: PathBuf,
}

/// Builds the embedded program once for all the tests, or `None` (with a
/// notice) when QEMU or the target is missing and `PNGSTREAM_STRICT=1` is
/// not set.
fn builds() -> Option<&'static Builds> {
    static BUILDS: OnceLock<Option<Builds>> = OnceLock::new();
    BUILDS.get_or_init(build).as_ref()
}

fn missing(what: String) -> Option<Builds> {
    assert!(
        !common::strict(),
        "{what}, and PNGSTREAM_STRICT=1: the embedded test cannot run"
    );
    eprintln!("note: {what}; the embedded (QEMU) test is skipped");
    None
}

fn build() -> Option<Builds> {
    match Command::new(QEMU).arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => return missing(format!("{QEMU} --version failed: {}", out.status)),
        Err(e) => return missing(format!("{QEMU} could not be run ({e})")),
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    match sysroot {
        Some(s) if s.join("lib/rustlib").join(TARGET).is_dir() => {}
        _ => {
            return missing(format!(
                "the {TARGET} target is not installed (rustup target add {TARGET})"
            ));
        }
    }

    // <target dir>/tmp is where Cargo lets integration tests write.
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target_dir = tmp.parent().unwrap_or(tmp).join("embedded");
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("embedded");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let elf = |features: &[&str], name: &str| -> PathBuf {
        let start = Instant::now();
        let mut cmd = Command::new(&cargo);
        cmd.args(["build", "--release"])
            .args(features)
            .current_dir(&crate_dir)
            .env("CARGO_TARGET_DIR", &target_dir);
        // The host's flags would replace embedded/.cargo/config.toml's.
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
        ] {
            cmd.env_remove(var);
        }
        let out = cmd.output().expect("cargo could not be run");
        assert!(
            out.status.success(),
            "building embedded/ {features:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let built = target_dir.join(TARGET).join("release/pngstream-embedded");
        let copy = target_dir.join(name);
        std::fs::copy(&built, &copy).expect("copying the ELF");
        eprintln!(
            "built {} in {:.1} s",
            copy.display(),
            start.elapsed().as_secs_f64()
        );
        copy
    };
    let one_level = elf(&[], "one-level.elf");
    let all_levels = elf(&["--features", "all-levels"], "all-levels.elf");
    let overflow = elf(&["--features", "overflow-demo"], "overflow-demo.elf");
    let dir = target_dir.join("runs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Some(Builds {
        one_level,
        all_levels,
        overflow,
        dir,
    })
}

/// What a run printed.
#[derive(Debug)]
struct Run {
    stdout: String,
    secs: f64,
    png: Vec<u8>,
}

impl Run {
    /// The first number on the line that starts with `key`.
    fn figure(&self, key: &str) -> u64 {
        let line = self
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no `{key}` line in:\n{}", self.stdout));
        line.split(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .and_then(|w| w.parse().ok())
            .unwrap_or_else(|| panic!("no number after `{key}` in:\n{}", self.stdout))
    }
}

/// Runs `elf` under QEMU in a directory of its own, naming `level` and the
/// output file on the semihosting command line, and returns its output and
/// file; fails on a failed exit or after [`TIMEOUT`].
fn run(elf: &Path, dir: &Path, level: Compression) -> Run {
    let (exit, run, stderr, file) = qemu(elf, dir, level);
    assert!(
        exit.success(),
        "{}: QEMU exited with {exit}\nstdout:\n{}\nstderr:\n{stderr}",
        file.display(),
        run.stdout
    );
    let png = std::fs::read(&file)
        .unwrap_or_else(|e| panic!("no {} ({e}); stdout:\n{}", file.display(), run.stdout));
    Run { png, ..run }
}

/// Runs `elf` as [`run`] does and returns its exit status, its output (no
/// file yet), its stderr and the file's path.
fn qemu(elf: &Path, dir: &Path, level: Compression) -> (ExitStatus, Run, String, PathBuf) {
    let name = format!("{}-{level}", elf.file_stem().unwrap().to_string_lossy());
    let cwd = dir.join(&name);
    let _ = std::fs::remove_dir_all(&cwd);
    std::fs::create_dir_all(&cwd).unwrap();
    let file = format!("{name}.png");
    let start = Instant::now();
    let mut child = Command::new(QEMU)
        .args(["-cpu", "cortex-m3", "-M", "lm3s6965evb", "-nographic"])
        .args(["-monitor", "none", "-serial", "none"])
        .arg("-semihosting-config")
        .arg(format!(
            "enable=on,target=native,arg=pngstream-embedded,arg={level},arg={file}"
        ))
        .arg("-kernel")
        .arg(elf)
        .current_dir(&cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{QEMU} could not be started: {e}"));
    // Drain both pipes while waiting, so that QEMU never blocks on them.
    let mut pipe_out = child.stdout.take().unwrap();
    let mut pipe_err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe_out.read_to_string(&mut s);
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe_err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name}: QEMU still running after {} s, killed; output so far:\n{}",
                TIMEOUT.as_secs(),
                out_thread.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    let run = Run {
        stdout,
        secs,
        png: Vec::new(),
    };
    (status, run, stderr, cwd.join(file))
}

/// Checks one run: its figures, and every pixel of its file. Returns the
/// level the writer used, which the memory limit may have made cheaper than
/// the one asked for.
fn check(run: &Run, what: &str, level: Compression) -> Compression {
    let asked = format!("level asked: {level}");
    assert!(
        run.stdout.lines().any(|l| l == asked),
        "{what}: expected `{asked}` in:\n{}",
        run.stdout
    );
    let used: Compression = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("level: "))
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no `level: ` line in:\n{}", run.stdout));
    let rank = |l: Compression| Compression::ALL.iter().position(|&a| a == l);
    assert!(
        rank(used) <= rank(level),
        "{what}: used {used}, dearer than {level}"
    );
    assert_eq!(run.figure("rows: "), u64::from(HEIGHT), "{what}: rows");
    assert_eq!(
        run.figure("bytes written: "),
        run.png.len() as u64,
        "{what}: bytes written against the file's size"
    );
    let heap = run.figure("heap peak: ");
    assert!(heap <= HEAP, "{what}: heap peak {heap} over {HEAP}");
    assert_eq!(
        run.figure("heap failures: "),
        0,
        "{what}: failed allocations"
    );
    let stack = run.figure("stack peak: ");
    let stack_size = run.figure(&format!("stack peak: {stack} bytes of "));
    assert!(
        stack + STACK_MARGIN <= stack_size,
        "{what}: stack peak {stack} of {stack_size}, less than {STACK_MARGIN} to spare"
    );

    let decoded = common::decode_png(&run.png).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!((decoded.width, decoded.height), (WIDTH, HEIGHT), "{what}");
    assert_eq!((decoded.color_code, decoded.bits), (2, 8), "{what}: RGB8");
    let row_len = WIDTH as usize * 3;
    for (y, row) in (0..HEIGHT).zip(decoded.data.chunks_exact(row_len)) {
        for (x, px) in (0..WIDTH).zip(row.chunks_exact(3)) {
            assert_eq!(
                px,
                gradient::article_rgb(x, y, WIDTH, HEIGHT),
                "{what}: pixel ({x}, {y})"
            );
        }
    }
    eprintln!(
        "{what}: used {used} (window {} B, IDAT chunks {} B), {} bytes ({:.3} % of raw), heap peak {heap} B of {HEAP}, stack peak {stack} B, {:.2} s in QEMU",
        run.figure("window: "),
        run.figure("idat chunk: "),
        run.png.len(),
        run.png.len() as f64 * 100.0 / (f64::from(WIDTH) * f64::from(HEIGHT) * 3.0),
        run.secs
    );
    used
}

#[test]
fn the_gradient_encodes_on_a_cortex_m3_within_a_32_kib_heap() {
    let Some(b) = builds() else { return };
    // The one-level build: its level must fit whole in the 32 KiB heap.
    let r = run(&b.one_level, &b.dir, ONE_LEVEL);
    let used = check(&r, &format!("one-level build, {ONE_LEVEL}"), ONE_LEVEL);
    assert_eq!(used, ONE_LEVEL, "the one-level build fell back to {used}");
    for &level in RUN_LEVELS {
        let r = run(&b.all_levels, &b.dir, level);
        check(&r, &format!("all-levels build, {level}"), level);
    }
}

#[test]
fn fastest_runs_within_the_stack() {
    let Some(b) = builds() else { return };
    let r = run(&b.all_levels, &b.dir, Compression::Fastest);
    check(&r, "all-levels build, fastest", Compression::Fastest);
}

/// The MPU guard below the stack turns an overflow into a failed run.
#[test]
fn a_stack_overflow_fails_the_run() {
    let Some(b) = builds() else { return };
    let (exit, run, stderr, _) = qemu(&b.overflow, &b.dir, ONE_LEVEL);
    assert!(
        !exit.success() && run.stdout.contains("hard fault"),
        "expected a hard fault and a failed exit, got {exit}\nstdout:\n{}\nstderr:\n{stderr}",
        run.stdout
    );
}

/// Bytes of flash an ELF32 (little-endian) takes: the sizes of the sections
/// that are loaded (`SHF_ALLOC`) and have contents (not `SHT_NOBITS`), with
/// their names.
fn flash(elf: &Path) -> (u64, Vec<(String, u64)>) {
    let f = std::fs::read(elf).unwrap();
    assert_eq!(&f[..4], b"\x7fELF", "{}: not an ELF", elf.display());
    assert_eq!((f[4], f[5]), (1, 1), "expected ELF32, little-endian");
    let u16_at = |o: usize| u16::from_le_bytes([f[o], f[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(f[o..o + 4].try_into().unwrap()) as usize;
    let (shoff, shentsize, shnum, shstrndx) =
        (u32_at(0x20), u16_at(0x2e), u16_at(0x30), u16_at(0x32));
    let header = |i: usize| shoff + i * shentsize;
    let names = u32_at(header(shstrndx) + 0x10);
    let name = |off: usize| {
        let s = &f[names + off..];
        String::from_utf8_lossy(&s[..s.iter().position(|&b| b == 0).unwrap()]).into_owned()
    };
    const SHF_ALLOC: usize = 2;
    const SHT_NOBITS: usize = 8;
    let mut total = 0;
    let mut sections = Vec::new();
    for i in 0..shnum {
        let h = header(i);
        let (kind, flags, size) = (u32_at(h + 4), u32_at(h + 8), u32_at(h + 0x14));
        if flags & SHF_ALLOC != 0 && kind != SHT_NOBITS && size > 0 {
            total += size as u64;
            sections.push((name(u32_at(h)), size as u64));
        }
    }
    (total, sections)
}

fn describe(sections: &[(String, u64)]) -> String {
    sections
        .iter()
        .map(|(n, s)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn flash_of_one_level_and_of_every_level_fits_the_chip() {
    let Some(b) = builds() else { return };
    let (one, one_sections) = flash(&b.one_level);
    let (all, all_sections) = flash(&b.all_levels);
    eprintln!(
        "flash, one level ({ONE_LEVEL}): {one} bytes ({:.1} KiB): {}",
        one as f64 / 1024.0,
        describe(&one_sections)
    );
    eprintln!(
        "flash, all levels: {all} bytes ({:.1} KiB): {}",
        all as f64 / 1024.0,
        describe(&all_sections)
    );
    assert!(one <= all, "one level {one} > all levels {all}");
    assert!(
        all <= CHIP_FLASH,
        "all levels {all} > the chip's {CHIP_FLASH}"
    );
}

#[test]
fn every_level_fits_in_64_kib_of_flash() {
    let Some(b) = builds() else { return };
    let (all, sections) = flash(&b.all_levels);
    assert!(
        all <= FLASH_GOAL,
        "all levels take {all} bytes of flash, over {FLASH_GOAL}: {}",
        describe(&sections)
    );
}
