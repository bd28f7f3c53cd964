//! Integration tests of the `usalama` binary, in one test binary.

mod access;
mod architecture;
mod browser;
mod cli;
mod common;
mod crash;
mod durability;
mod plaintext;
