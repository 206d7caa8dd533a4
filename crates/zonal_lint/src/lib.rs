//! zonal_lint
