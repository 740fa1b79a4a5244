//! AWS KMS keys and aliases.
