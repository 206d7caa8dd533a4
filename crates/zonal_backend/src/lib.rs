//! zonal_backend
