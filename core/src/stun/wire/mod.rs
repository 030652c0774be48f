//! STUN wire format: the header, the bounded reader, and one file per attribute family.

pub(crate) mod address;
pub(crate) mod attribute;
pub(crate) mod attribute_type;
pub(crate) mod error_code;
mod getters;
pub(crate) mod header;
pub(crate) mod nat;
pub(crate) mod password_algorithms;
pub(crate) mod reader;
pub(crate) mod text;
pub(crate) mod turn;
