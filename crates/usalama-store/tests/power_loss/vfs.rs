//! A SQLite VFS that simulates power loss. Files live in memory as two images: what the
//! "disk" holds (`durable`) and what the page cache holds (`current`). Writes and truncations
//! reach only the cache and are queued; `xSync` makes the file's queue durable. A power cut
//! makes every later write and sync fail (the machine is dead: nothing more can be
//! acknowledged); the reboot then keeps, per file, either a random prefix or a random subset
//! of the queued operations (write-back caches flush in any order), drops the rest, and
//! forgets locks and shared memory, as a real reboot does.
//!
//! Files are grouped into "disks" by their directory, so tests running in parallel each cut
//! the power of their own disk only. Locks (`xLock`, `xShmLock`) are kept in process, which is
//! enough: every connection of a test lives in this process.

use rusqlite::ffi;
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The name the VFS is registered under.
pub const NAME: &str = "usalama-powercut";

/// A queued, not yet durable operation.
enum Op {
    Write { offset: usize, data: Vec<u8> },
    Truncate(usize),
}

fn apply(image: &mut Vec<u8>, op: &Op) {
    match op {
        Op::Write { offset, data } => {
            if image.len() < offset + data.len() {
                image.resize(offset + data.len(), 0);
            }
            image[*offset..offset + data.len()].copy_from_slice(data);
        }
        Op::Truncate(n) => image.resize(*n, 0),
    }
}

const SHM_SLOTS: usize = 8;

/// One file.
#[derive(Default)]
struct Node {
    durable: Vec<u8>,
    current: Vec<u8>,
    queued: Vec<Op>,
    // File locks: shared holders, and who (handle id) holds reserved, pending, exclusive.
    shared: u32,
    reserved: Option<u64>,
    pending: Option<u64>,
    exclusive: Option<u64>,
    // Shared memory (the WAL index): regions, and per slot the shared count or -1 when
    // held exclusively.
    shm: Vec<usize>,
    shm_locks: [i32; SHM_SLOTS],
}

/// One directory's files and power state.
#[derive(Default)]
struct Disk {
    files: HashMap<String, Node>,
    dead: bool,
    epoch: u64,
    writes: u64,
    cut_after: Option<u64>,
    syncs: u64,
}

#[derive(Default)]
struct State {
    disks: HashMap<String, Disk>,
    next_handle: u64,
}

fn state() -> MutexGuard<'static, State> {
    static STATE: OnceLock<Mutex<State>> = OnceLock::new();
    STATE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// Splits a path into its disk (directory) and file name.
fn disk_of(path: &str) -> (String, String) {
    match path.rfind('/') {
        Some(i) => (path[..i].to_string(), path.to_string()),
        None => (String::new(), path.to_string()),
    }
}

/// What SQLite's file object points at.
struct Handle {
    id: u64,
    disk: String,
    name: String,
    epoch: u64,
    lock: c_int,
    delete_on_close: bool,
    shm_mapped: bool,
    shm_held: [u8; SHM_SLOTS],
}

#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    handle: *mut Handle,
}

/// The handle of a file object.
unsafe fn handle<'a>(f: *mut ffi::sqlite3_file) -> &'a mut Handle {
    &mut *(*(f as *mut File)).handle
}

/// Runs `f` on the handle's node, or fails with `stale` when the handle belongs to a
/// previous power epoch or its file is gone.
unsafe fn with_node(
    f: *mut ffi::sqlite3_file,
    stale: c_int,
    op: impl FnOnce(&mut Handle, &mut Disk) -> c_int,
) -> c_int {
    let h = handle(f);
    let mut st = state();
    let Some(disk) = st.disks.get_mut(&h.disk) else {
        return stale;
    };
    if disk.epoch != h.epoch || !disk.files.contains_key(&h.name) {
        return stale;
    }
    op(h, disk)
}

fn node<'a>(disk: &'a mut Disk, name: &str) -> &'a mut Node {
    disk.files.get_mut(name).expect("checked by with_node")
}

unsafe extern "C" fn x_close(f: *mut ffi::sqlite3_file) -> c_int {
    let p = (*(f as *mut File)).handle;
    if p.is_null() {
        return ffi::SQLITE_OK;
    }
    with_node(f, ffi::SQLITE_OK, |h, disk| {
        release_shm(h, disk);
        let id = h.id;
        let n = node(disk, &h.name);
        if h.lock >= ffi::SQLITE_LOCK_SHARED {
            n.shared = n.shared.saturating_sub(1);
        }
        for holder in [&mut n.reserved, &mut n.pending, &mut n.exclusive] {
            if *holder == Some(id) {
                *holder = None;
            }
        }
        if h.delete_on_close && !disk.dead {
            disk.files.remove(&h.name);
        }
        ffi::SQLITE_OK
    });
    drop(Box::from_raw(p));
    (*(f as *mut File)).handle = std::ptr::null_mut();
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_read(
    f: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    amt: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let out = std::slice::from_raw_parts_mut(buf as *mut u8, amt as usize);
    with_node(f, ffi::SQLITE_IOERR_READ, |h, disk| {
        let data = &node(disk, &h.name).current;
        let start = (offset as usize).min(data.len());
        let end = (offset as usize + out.len()).min(data.len());
        let n = end - start;
        out[..n].copy_from_slice(&data[start..end]);
        if n < out.len() {
            out[n..].fill(0);
            return ffi::SQLITE_IOERR_SHORT_READ;
        }
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_write(
    f: *mut ffi::sqlite3_file,
    buf: *const c_void,
    amt: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    let data = std::slice::from_raw_parts(buf as *const u8, amt as usize).to_vec();
    with_node(f, ffi::SQLITE_IOERR_WRITE, |h, disk| {
        if disk.dead {
            return ffi::SQLITE_IOERR_WRITE;
        }
        disk.writes += 1;
        if disk.cut_after.is_some_and(|k| disk.writes >= k) {
            // The power goes at this write: it never reaches even the cache.
            disk.dead = true;
            return ffi::SQLITE_IOERR_WRITE;
        }
        let op = Op::Write {
            offset: offset as usize,
            data,
        };
        let n = node(disk, &h.name);
        apply(&mut n.current, &op);
        n.queued.push(op);
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    with_node(f, ffi::SQLITE_IOERR_TRUNCATE, |h, disk| {
        if disk.dead {
            return ffi::SQLITE_IOERR_TRUNCATE;
        }
        let op = Op::Truncate(size as usize);
        let n = node(disk, &h.name);
        apply(&mut n.current, &op);
        n.queued.push(op);
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, _flags: c_int) -> c_int {
    with_node(f, ffi::SQLITE_IOERR_FSYNC, |h, disk| {
        if disk.dead {
            return ffi::SQLITE_IOERR_FSYNC;
        }
        disk.syncs += 1;
        let n = node(disk, &h.name);
        for op in n.queued.drain(..) {
            apply(&mut n.durable, &op);
        }
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_file_size(
    f: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    with_node(f, ffi::SQLITE_IOERR_FSTAT, |h, disk| {
        *size = node(disk, &h.name).current.len() as ffi::sqlite3_int64;
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    with_node(f, ffi::SQLITE_IOERR_LOCK, |h, disk| {
        let id = h.id;
        let n = node(disk, &h.name);
        if h.lock >= level {
            return ffi::SQLITE_OK;
        }
        let other = |x: Option<u64>| x.is_some_and(|o| o != id);
        if level == ffi::SQLITE_LOCK_SHARED {
            if other(n.pending) || other(n.exclusive) {
                return ffi::SQLITE_BUSY;
            }
            n.shared += 1;
            h.lock = level;
            return ffi::SQLITE_OK;
        }
        if level == ffi::SQLITE_LOCK_RESERVED {
            if other(n.reserved) || other(n.pending) || other(n.exclusive) {
                return ffi::SQLITE_BUSY;
            }
            n.reserved = Some(id);
            h.lock = level;
            return ffi::SQLITE_OK;
        }
        // PENDING then EXCLUSIVE: no new readers, wait for the others to leave.
        if other(n.pending) || other(n.exclusive) {
            return ffi::SQLITE_BUSY;
        }
        n.pending = Some(id);
        h.lock = ffi::SQLITE_LOCK_PENDING;
        if level == ffi::SQLITE_LOCK_EXCLUSIVE {
            if n.shared > 1 {
                return ffi::SQLITE_BUSY;
            }
            n.exclusive = Some(id);
            h.lock = level;
        }
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    with_node(f, ffi::SQLITE_OK, |h, disk| {
        let id = h.id;
        let n = node(disk, &h.name);
        if h.lock <= level {
            return ffi::SQLITE_OK;
        }
        for holder in [&mut n.reserved, &mut n.pending, &mut n.exclusive] {
            if *holder == Some(id) {
                *holder = None;
            }
        }
        if level < ffi::SQLITE_LOCK_SHARED && h.lock >= ffi::SQLITE_LOCK_SHARED {
            n.shared = n.shared.saturating_sub(1);
        }
        h.lock = level;
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_check_reserved(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    *out = 0;
    with_node(f, ffi::SQLITE_IOERR_CHECKRESERVEDLOCK, |h, disk| {
        let n = node(disk, &h.name);
        *out = c_int::from(n.reserved.is_some() || n.pending.is_some() || n.exclusive.is_some());
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_file_control(_: *mut ffi::sqlite3_file, _: c_int, _: *mut c_void) -> c_int {
    ffi::SQLITE_NOTFOUND
}

unsafe extern "C" fn x_sector_size(_: *mut ffi::sqlite3_file) -> c_int {
    4096
}

unsafe extern "C" fn x_device_characteristics(_: *mut ffi::sqlite3_file) -> c_int {
    // No atomic writes, no safe overwrite, no sequential ordering: the worst disk.
    0
}

unsafe extern "C" fn x_shm_map(
    f: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    *out = std::ptr::null_mut();
    with_node(f, ffi::SQLITE_IOERR_SHMMAP, |h, disk| {
        let n = node(disk, &h.name);
        let region = region as usize;
        if n.shm.len() <= region {
            if extend == 0 {
                return ffi::SQLITE_OK;
            }
            while n.shm.len() <= region {
                // Leaked on purpose: a stale connection may still point at old regions.
                let mem = vec![0u8; size as usize].leak();
                n.shm.push(mem.as_mut_ptr() as usize);
            }
        }
        h.shm_mapped = true;
        *out = n.shm[region] as *mut c_void;
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_shm_lock(
    f: *mut ffi::sqlite3_file,
    offset: c_int,
    count: c_int,
    flags: c_int,
) -> c_int {
    with_node(f, ffi::SQLITE_IOERR_SHMLOCK, |h, disk| {
        let n = node(disk, &h.name);
        let slots = offset as usize..(offset + count) as usize;
        if flags & ffi::SQLITE_SHM_UNLOCK != 0 {
            for i in slots {
                match h.shm_held[i] {
                    1 => n.shm_locks[i] -= 1,
                    2 => n.shm_locks[i] = 0,
                    _ => {}
                }
                h.shm_held[i] = 0;
            }
            return ffi::SQLITE_OK;
        }
        if flags & ffi::SQLITE_SHM_SHARED != 0 {
            for i in slots.clone() {
                if h.shm_held[i] == 0 && n.shm_locks[i] < 0 {
                    return ffi::SQLITE_BUSY;
                }
            }
            for i in slots {
                if h.shm_held[i] == 0 {
                    n.shm_locks[i] += 1;
                    h.shm_held[i] = 1;
                }
            }
            return ffi::SQLITE_OK;
        }
        for i in slots.clone() {
            let mine = i32::from(h.shm_held[i] == 1);
            if h.shm_held[i] != 2 && n.shm_locks[i] - mine != 0 {
                return ffi::SQLITE_BUSY;
            }
        }
        for i in slots {
            n.shm_locks[i] = -1;
            h.shm_held[i] = 2;
        }
        ffi::SQLITE_OK
    })
}

unsafe extern "C" fn x_shm_barrier(_: *mut ffi::sqlite3_file) {
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    drop(state());
}

/// Releases the shm locks a handle holds.
fn release_shm(h: &mut Handle, disk: &mut Disk) {
    if let Some(n) = disk.files.get_mut(&h.name) {
        for i in 0..SHM_SLOTS {
            match h.shm_held[i] {
                1 => n.shm_locks[i] -= 1,
                2 => n.shm_locks[i] = 0,
                _ => {}
            }
        }
    }
    h.shm_held = [0; SHM_SLOTS];
    h.shm_mapped = false;
}

unsafe extern "C" fn x_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    with_node(f, ffi::SQLITE_OK, |h, disk| {
        release_shm(h, disk);
        if delete != 0 {
            let n = node(disk, &h.name);
            n.shm.clear();
            n.shm_locks = [0; SHM_SLOTS];
        }
        ffi::SQLITE_OK
    })
}

static IO_METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

unsafe fn name_of(z: *const c_char) -> Option<String> {
    (!z.is_null()).then(|| CStr::from_ptr(z).to_string_lossy().into_owned())
}

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    z: ffi::sqlite3_filename,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let file = f as *mut File;
    (*file).base.pMethods = std::ptr::null();
    (*file).handle = std::ptr::null_mut();
    let mut st = state();
    st.next_handle += 1;
    let id = st.next_handle;
    let path = name_of(z).unwrap_or_else(|| format!("/temporary/{id}"));
    let (disk_name, name) = disk_of(&path);
    let disk = st.disks.entry(disk_name.clone()).or_default();
    if !disk.files.contains_key(&name) {
        if flags & ffi::SQLITE_OPEN_CREATE == 0 {
            return ffi::SQLITE_CANTOPEN;
        }
        disk.files.insert(name.clone(), Node::default());
    }
    let h = Box::new(Handle {
        id,
        disk: disk_name,
        name,
        epoch: disk.epoch,
        lock: ffi::SQLITE_LOCK_NONE,
        delete_on_close: flags & ffi::SQLITE_OPEN_DELETEONCLOSE != 0 || z.is_null(),
        shm_mapped: false,
        shm_held: [0; SHM_SLOTS],
    });
    (*file).handle = Box::into_raw(h);
    (*file).base.pMethods = &IO_METHODS;
    if !out_flags.is_null() {
        *out_flags = flags;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(_: *mut ffi::sqlite3_vfs, z: *const c_char, _sync: c_int) -> c_int {
    let Some(path) = name_of(z) else {
        return ffi::SQLITE_OK;
    };
    let (disk_name, name) = disk_of(&path);
    let mut st = state();
    if let Some(disk) = st.disks.get_mut(&disk_name) {
        if disk.dead {
            return ffi::SQLITE_IOERR_DELETE;
        }
        disk.files.remove(&name);
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_access(
    _: *mut ffi::sqlite3_vfs,
    z: *const c_char,
    _flags: c_int,
    out: *mut c_int,
) -> c_int {
    let path = name_of(z).unwrap_or_default();
    let (disk_name, name) = disk_of(&path);
    let st = state();
    // Like the unix VFS: an empty file does not count as existing.
    *out = c_int::from(
        st.disks
            .get(&disk_name)
            .and_then(|d| d.files.get(&name))
            .is_some_and(|n| !n.current.is_empty()),
    );
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_full_pathname(
    _: *mut ffi::sqlite3_vfs,
    z: *const c_char,
    n_out: c_int,
    out: *mut c_char,
) -> c_int {
    let bytes = CStr::from_ptr(z).to_bytes_with_nul();
    if bytes.len() > n_out as usize {
        return ffi::SQLITE_CANTOPEN;
    }
    std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const c_char, out, bytes.len());
    ffi::SQLITE_OK
}

/// The default VFS, for randomness, sleep and time.
fn default_vfs() -> *mut ffi::sqlite3_vfs {
    unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) }
}

unsafe extern "C" fn x_randomness(_: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    let d = default_vfs();
    ((*d).xRandomness.expect("default randomness"))(d, n, out)
}

unsafe extern "C" fn x_sleep(_: *mut ffi::sqlite3_vfs, us: c_int) -> c_int {
    let d = default_vfs();
    ((*d).xSleep.expect("default sleep"))(d, us)
}

unsafe extern "C" fn x_current_time(_: *mut ffi::sqlite3_vfs, t: *mut f64) -> c_int {
    let d = default_vfs();
    ((*d).xCurrentTime.expect("default time"))(d, t)
}

unsafe extern "C" fn x_current_time_i64(
    _: *mut ffi::sqlite3_vfs,
    t: *mut ffi::sqlite3_int64,
) -> c_int {
    let d = default_vfs();
    ((*d).xCurrentTimeInt64.expect("default time"))(d, t)
}

unsafe extern "C" fn x_last_error(_: *mut ffi::sqlite3_vfs, _: c_int, _: *mut c_char) -> c_int {
    0
}

/// Registers the VFS (once per process).
pub fn register() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| unsafe {
        ffi::sqlite3_initialize();
        let name = std::ffi::CString::new(NAME).unwrap().into_raw();
        let vfs = Box::new(ffi::sqlite3_vfs {
            iVersion: 2,
            szOsFile: std::mem::size_of::<File>() as c_int,
            mxPathname: 1024,
            pNext: std::ptr::null_mut(),
            zName: name,
            pAppData: std::ptr::null_mut(),
            xOpen: Some(x_open),
            xDelete: Some(x_delete),
            xAccess: Some(x_access),
            xFullPathname: Some(x_full_pathname),
            xDlOpen: None,
            xDlError: None,
            xDlSym: None,
            xDlClose: None,
            xRandomness: Some(x_randomness),
            xSleep: Some(x_sleep),
            xCurrentTime: Some(x_current_time),
            xGetLastError: Some(x_last_error),
            xCurrentTimeInt64: Some(x_current_time_i64),
            xSetSystemCall: None,
            xGetSystemCall: None,
            xNextSystemCall: None,
        });
        let rc = ffi::sqlite3_vfs_register(Box::into_raw(vfs), 0);
        assert_eq!(rc, ffi::SQLITE_OK, "registering the VFS");
    });
}

/// The disk name of a directory.
fn key(dir: &std::path::Path) -> String {
    dir.to_str()
        .expect("UTF-8 path")
        .trim_end_matches('/')
        .to_string()
}

/// Arms the power cut: it happens at the `after`-th write from now on the disk.
pub fn arm(dir: &std::path::Path, after: u64) {
    let mut st = state();
    let d = st.disks.entry(key(dir)).or_default();
    d.cut_after = Some(d.writes + after);
}

/// Whether the power of the disk is off.
pub fn is_dead(dir: &std::path::Path) -> bool {
    state().disks.get(&key(dir)).is_some_and(|d| d.dead)
}

/// Cuts the power now.
pub fn cut(dir: &std::path::Path) {
    state().disks.entry(key(dir)).or_default().dead = true;
}

/// Syncs done on the disk so far.
pub fn syncs(dir: &std::path::Path) -> u64 {
    state().disks.get(&key(dir)).map_or(0, |d| d.syncs)
}

/// Reboots after a cut: per file, what reached the disk is the durable image plus a random
/// prefix or random subset (chosen by `rng`) of the operations queued since its last sync.
pub fn reboot(dir: &std::path::Path, rng: &mut impl FnMut() -> u64) {
    let mut st = state();
    let d = st.disks.entry(key(dir)).or_default();
    let mut names: Vec<String> = d.files.keys().cloned().collect();
    names.sort();
    for name in names {
        let n = d.files.get_mut(&name).expect("listed");
        let queued = std::mem::take(&mut n.queued);
        if rng() % 2 == 0 {
            let keep = (rng() % (queued.len() as u64 + 1)) as usize;
            for op in &queued[..keep] {
                apply(&mut n.durable, op);
            }
        } else {
            for op in &queued {
                if rng() % 2 == 0 {
                    apply(&mut n.durable, op);
                }
            }
        }
        n.current = n.durable.clone();
        n.shared = 0;
        n.reserved = None;
        n.pending = None;
        n.exclusive = None;
        n.shm = Vec::new();
        n.shm_locks = [0; SHM_SLOTS];
    }
    d.dead = false;
    d.cut_after = None;
    d.epoch += 1;
}

/// Removes every file of the disk (a new, empty disk).
pub fn wipe(dir: &std::path::Path) {
    let mut st = state();
    let d = st.disks.entry(key(dir)).or_default();
    d.files.clear();
    d.epoch += 1;
}
