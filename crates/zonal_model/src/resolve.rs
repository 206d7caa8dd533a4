//! Resolution: syntax trees → [`crate::ir::Policy`].

use zonal_diagnostics::{Diagnostics, SourceDb};

use crate::load::{Loaded, Options, SourceLoader};

pub(crate) fn load(loader: &dyn SourceLoader, path: &str, options: &Options) -> Loaded {
    let _ = (loader, path, options);
    Loaded { db: SourceDb::new(), files: Vec::new(), policy: None, diagnostics: Diagnostics::new() }
}
