//! The router agent (`cpn-router`): serves the southbound protocol of
//! `proto/cpn/v1/router.proto` for one or more routers. Back ends: `mock`
//! keeps everything in memory (tests, demos); real data planes come as
//! further back ends.

pub mod mock;
pub mod server;
