//! What SIGINT, SIGTERM and SIGHUP undo before the process exits: the
//! temporary files of a write that is not finished, and the network
//! namespaces of a running `zonal verify`. The process then exits with
//! status 130.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `zonal verify` has started building namespaces.
static VERIFYING: AtomicBool = AtomicBool::new(false);

/// Whether a signal arrived: the handler is cleaning up and will exit.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the handler (once, at start-up).
pub(crate) fn install() {
    // Without a handler the default action (exit) still applies; the
    // temporaries then stay, named `.<file>.zonal-tmp-<pid>-<n>`.
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        crate::fs::remove_temporaries();
        if VERIFYING.load(Ordering::SeqCst) {
            let _ = zonal_verify::remove_own();
            // An `ip netns add` started just before the signal may finish
            // after the first sweep: sweep once more after it.
            std::thread::sleep(std::time::Duration::from_millis(200));
            let _ = zonal_verify::remove_own();
        }
        std::process::exit(130);
    });
}

/// Marks that this process now owns network namespaces.
pub(crate) fn verifying() {
    VERIFYING.store(true, Ordering::SeqCst);
}

/// Called before the process exits normally: when a signal arrived, the
/// handler owns the exit (after its cleanup), so wait for it.
pub(crate) fn wait_if_interrupted() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
