//! Named network namespaces, as `ip netns` keeps them (a file under
//! `/run/netns` bind-mounted on the namespace), and work inside one: a
//! netlink connection, a sysctl, a socket. Namespaces are per thread, so
//! each of these runs on a short-lived thread that entered the namespace;
//! what it creates (a socket) stays in that namespace afterwards. No fork.

use std::fs::File;
use std::path::PathBuf;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, setns, unshare};
use rtnetlink::Handle;

use super::{NetError, NetResult};

/// Where named namespaces live.
pub const NETNS_DIR: &str = "/run/netns";

/// The file of namespace `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(name)
}

/// True when namespace `name` exists.
pub fn exists(name: &str) -> bool {
    path(name).exists()
}

/// Names of the namespaces that start with `prefix`, sorted.
pub fn list(prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(NETNS_DIR)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Creates namespace `name` (an error if it exists).
pub fn create(name: &str) -> NetResult<()> {
    let what = format!("create network namespace {name}");
    std::fs::create_dir_all(NETNS_DIR).map_err(|e| NetError::new(&what, e))?;
    let file = path(name);
    File::options()
        .write(true)
        .create_new(true)
        .open(&file)
        .map_err(|e| NetError::new(&what, e))?;
    let made = std::thread::spawn(move || -> nix::Result<()> {
        // Only this thread moves to the new namespace; the bind mount keeps
        // the namespace alive after the thread ends. `thread-self`, not
        // `self`: the latter is the main thread's.
        unshare(CloneFlags::CLONE_NEWNET)?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &file,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
    })
    .join();
    match made {
        Ok(Ok(())) => Ok(()),
        failed => {
            let _ = std::fs::remove_file(path(name));
            Err(match failed {
                Ok(Err(e)) => NetError::new(&what, e),
                _ => NetError::msg(format!("{what}: the thread panicked")),
            })
        }
    }
}

/// Deletes namespace `name` (its interfaces go with it once nothing uses
/// it); a no-op when it does not exist.
pub fn delete(name: &str) -> NetResult<()> {
    let file = path(name);
    if !file.exists() {
        return Ok(());
    }
    // EINVAL: not a mount point (a half-made namespace); remove the file anyway.
    match umount2(&file, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(NetError::new(format!("unmount {}", file.display()), e)),
    }
    std::fs::remove_file(&file).map_err(|e| NetError::new(format!("remove {}", file.display()), e))
}

/// Runs `f` on a thread inside namespace `name` (`None`: this process's
/// namespace).
pub fn run_in<T: Send + 'static>(
    name: Option<&str>,
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> NetResult<T> {
    let Some(name) = name else {
        return f().map_err(|e| NetError::msg(e.to_string()));
    };
    let ns = name.to_owned();
    let file = File::open(path(name))
        .map_err(|e| NetError::new(format!("network namespace {name}"), e))?;
    std::thread::spawn(move || {
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(|e| NetError::new(format!("enter network namespace {ns}"), e))?;
        f().map_err(|e| NetError::new(format!("in network namespace {ns}"), e))
    })
    .join()
    .map_err(|_| NetError::msg(format!("in network namespace {name}: the thread panicked")))?
}

/// A netlink connection inside namespace `name` (`None`: this process's),
/// driven by a task on the current tokio runtime. Strict checking is on:
/// the kernel refuses attributes it does not know instead of ignoring
/// them, and dumps filter by table and protocol.
pub fn connect(name: Option<&str>) -> NetResult<Handle> {
    let runtime = tokio::runtime::Handle::current();
    let (connection, handle) = run_in(name, move || {
        let _entered = runtime.enter();
        let (connection, handle, _) = rtnetlink::new_connection_with_strict_check()?;
        Ok((connection, handle))
    })?;
    tokio::spawn(connection);
    Ok(handle)
}

/// Writes a sysctl (`net.ipv6.conf.all.forwarding`) inside namespace `name`.
pub fn sysctl(name: Option<&str>, key: &str, value: &str) -> NetResult<()> {
    let file = format!("/proc/sys/{}", key.replace('.', "/"));
    let value = value.to_owned();
    run_in(name, move || std::fs::write(file, value))
        .map_err(|e| NetError::msg(format!("sysctl {key}: {e}")))
}
