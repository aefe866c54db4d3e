//! Permissions: `module:resource:action`, e.g. `pos:sales:refund`. A granted permission may
//! use `*` for a whole segment (`stock:*:view`); a required permission never does.
//!
//! Both the server (endpoint checks, offline-grant scoping) and the till (offline
//! enforcement) decide with [`Permission::covers`], so the two can never disagree.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Permission(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionError {
    #[error("a permission is module:resource:action, got {0:?}")]
    Shape(String),
    #[error("permission segment {segment:?} in {permission:?} must be `*` or lower-case letters, digits, `_` or `-`, starting with a letter")]
    Segment { permission: String, segment: String },
}

impl Permission {
    pub fn parse(text: &str) -> Result<Self, PermissionError> {
        let segments: Vec<&str> = text.split(':').collect();
        if segments.len() != 3 {
            return Err(PermissionError::Shape(text.to_owned()));
        }
        for segment in segments {
            if !is_valid_segment(segment) {
                return Err(PermissionError::Segment {
                    permission: text.to_owned(),
                    segment: segment.to_owned(),
                });
            }
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split(':')
    }

    /// Whether holding `self` allows an action that requires `required`. A `*` held matches
    /// any one segment; a `*` in `required` is only matched by a `*` held, so a wildcard can
    /// never be used to ask for more than was given.
    pub fn covers(&self, required: &Permission) -> bool {
        self.segments()
            .zip(required.segments())
            .all(|(held, wanted)| held == "*" || held == wanted)
    }
}

fn is_valid_segment(segment: &str) -> bool {
    if segment == "*" {
        return true;
    }
    let mut bytes = segment.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && segment.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
}

/// Whether any of `held` covers `required`.
pub fn any_covers<'a>(
    held: impl IntoIterator<Item = &'a Permission>,
    required: &Permission,
) -> bool {
    held.into_iter().any(|p| p.covers(required))
}

impl TryFrom<String> for Permission {
    type Error = PermissionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Permission> for String {
    fn from(value: Permission) -> Self {
        value.0
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Permission {
        Permission::parse(text).unwrap()
    }

    #[test]
    fn exact_permission_covers_only_itself() {
        assert!(p("pos:sales:refund").covers(&p("pos:sales:refund")));
        assert!(!p("pos:sales:create").covers(&p("pos:sales:refund")));
    }

    #[test]
    fn a_star_matches_exactly_one_segment() {
        assert!(p("stock:*:view").covers(&p("stock:inventory:view")));
        assert!(!p("stock:*:view").covers(&p("stock:inventory:adjust")));
        assert!(!p("stock:*:view").covers(&p("pos:inventory:view")));
        assert!(p("*:*:*").covers(&p("admin:users:manage")));
    }

    #[test]
    fn a_required_star_is_not_satisfied_by_a_concrete_permission() {
        assert!(!p("pos:sales:create").covers(&p("pos:sales:*")));
        assert!(p("pos:sales:*").covers(&p("pos:sales:*")));
    }

    #[test]
    fn malformed_permissions_are_refused() {
        for bad in [
            "",
            "pos",
            "pos:sales",
            "pos:sales:create:extra",
            "POS:sales:create",
            "pos::create",
            "pos:sa les:create",
            "pos:sales:cre*",
            "1pos:sales:create",
        ] {
            assert!(Permission::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn any_covers_checks_the_whole_set() {
        let held = [p("pos:sales:create"), p("stock:*:view")];
        assert!(any_covers(&held, &p("stock:transfers:view")));
        assert!(!any_covers(&held, &p("pos:sales:refund")));
    }
}
