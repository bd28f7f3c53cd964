//! The memory allocator's settings for this process.
//!
//! glibc's malloc gives threads up to eight arenas per core; the server's blocking threads
//! (one per request that reads the store) each keep freed memory in their own arena, which
//! at 1,000,000 events raised the server's peak from about 250 to 340 MiB under load
//! (BENCHMARKS.md, "Seventh session"). Four arenas kept the throughput on two cores.
//!
//! Only the commands that serve are capped. Other commands keep glibc's default: capped,
//! an import's reading thread shared an arena with its writing thread (the connection
//! pool's three worker threads had taken the other three), and the two contended for that
//! arena's lock on every allocation (530,000 futex calls in the first 25 s of a
//! 1,000,000-event import, which took 20 % longer: 53 s against 44 s; BENCHMARKS.md,
//! "Tenth session").
//!
//! Imports turn glibc's fastbins off ([`no_fastbins`]): an import's reading thread frees
//! and allocates many small blocks (a UCDP row's two dozen source codes, its flattened row)
//! among larger ones, and each larger request made glibc consolidate the fastbins first
//! (`malloc_consolidate` was 9 % of that thread's samples). Without fastbins, freed small
//! blocks go to the per-thread cache or straight to the bins: a 1,000,000-event import
//! took 5 % less time (BENCHMARKS.md, "Fourteenth session").

/// The most arenas glibc's malloc may create in this process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const ARENAS: libc::c_int = 4;

/// Caps glibc's malloc arenas at [`ARENAS`], unless the operator set `MALLOC_ARENA_MAX`
/// (glibc reads it itself). Call in `main` before any thread starts, for the commands that
/// serve. Does nothing on other platforms or C libraries.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: `mallopt` only sets one of malloc's tuning parameters; it is called
        // before this process starts any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Turns glibc's fastbins off (`mallopt(M_MXFAST, 0)`). Call in `main` before any thread
/// starts, for the commands that import. Does nothing on other platforms or C libraries.
pub fn no_fastbins() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets one of malloc's tuning parameters; it is called before
    // this process starts any other thread.
    unsafe {
        libc::mallopt(libc::M_MXFAST, 0);
    }
}
