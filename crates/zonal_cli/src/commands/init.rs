//! `zonal init DIR`: a commented policy directory to start from (a policy,
//! a `zonal.toml` and a deployment binding) that `zonal check` accepts.

use anyhow::{Context as _, bail};

use crate::ExitStatus;
use crate::args::InitArgs;
use crate::fs::Staged;
use crate::printer;

/// The files written, with their text.
const FILES: [(&str, &str); 3] = [
    ("policy.zonal", include_str!("init/policy.zonal")),
    ("zonal.toml", include_str!("init/zonal.toml")),
    ("deploy.yaml", include_str!("init/deploy.yaml")),
];

pub(crate) fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let dir = &args.dir;
    if dir.exists() && !dir.is_dir() {
        bail!("`{}` exists and is not a directory", dir.display());
    }
    for (name, _) in FILES {
        if dir.join(name).exists() {
            bail!(
                "`{}` already exists: nothing was written (zonal init never overwrites)",
                dir.join(name).display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut staged = Staged::default();
    for (name, text) in FILES {
        staged.stage(&dir.join(name), text.as_bytes())?;
    }
    staged.commit()?;
    for (name, _) in FILES {
        printer::outln(&format!("wrote {}", dir.join(name).display()));
    }
    printer::outln(&format!(
        "next: edit {0}/policy.zonal, then `zonal check {0}`",
        dir.display()
    ));
    Ok(ExitStatus::Success)
}
