//! IAM roles, inline policies and managed policy attachments.
