//! zonal_model
