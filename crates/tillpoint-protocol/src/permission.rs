//! Permissions: `module:resource:action`, e.g. `pos:sales:refund`. A granted permission may
//! use `*` for a whole segment (`stock:*:view`); a required permission never does.
//!
//! Both the server (endpoint checks, offline-grant scoping) and the till (offline
//! enforcement) decide with [`Permission::covers`], so the two can never disagree. The names
//! the code uses are constants in [`names`]; what a till's [`Operation`] requires is
//! [`Operation::required_permission`].

pub mod names;
mod operation;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use operation::Operation;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(
        value_type = String,
        pattern = "^(\\*|[a-z][a-z0-9_-]{0,63}):(\\*|[a-z][a-z0-9_-]{0,63}):(\\*|[a-z][a-z0-9_-]{0,63})$"
    )
)]
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

impl Permission {
    /// What holding both `self` and `other` allows: the most specific permission both
    /// cover, segment by segment (`pos:*:*` ∩ `pos:sales:create` = `pos:sales:create`), or
    /// `None` when they share nothing. This is how an offline grant narrows a user's
    /// permissions to the organisation's offline-allowed set.
    pub fn intersect(&self, other: &Permission) -> Option<Permission> {
        let mut segments = Vec::with_capacity(3);
        for (a, b) in self.segments().zip(other.segments()) {
            segments.push(match (a, b) {
                ("*", b) => b,
                (a, "*") => a,
                (a, b) if a == b => a,
                _ => return None,
            });
        }
        Some(Self(segments.join(":")))
    }
}

/// Every permission in `held` narrowed to `allowed`, without duplicates, sorted.
pub fn intersect_sets(held: &[Permission], allowed: &[Permission]) -> Vec<Permission> {
    let mut out: Vec<Permission> = held
        .iter()
        .flat_map(|h| allowed.iter().filter_map(move |a| h.intersect(a)))
        .collect();
    out.sort();
    out.dedup();
    // Drop what another member already covers, so the set stays minimal.
    let covered = |p: &Permission, all: &[Permission]| all.iter().any(|q| q != p && q.covers(p));
    let snapshot = out.clone();
    out.retain(|p| !covered(p, &snapshot));
    out
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
    fn intersection_keeps_only_what_both_allow() {
        assert_eq!(
            p("pos:*:*").intersect(&p("pos:sales:create")),
            Some(p("pos:sales:create"))
        );
        assert_eq!(
            p("pos:sales:create").intersect(&p("pos:*:*")),
            Some(p("pos:sales:create"))
        );
        assert_eq!(
            p("*:*:view").intersect(&p("stock:*:*")),
            Some(p("stock:*:view"))
        );
        assert_eq!(
            p("pos:sales:create").intersect(&p("pos:sales:refund")),
            None
        );
        assert_eq!(p("admin:users:manage").intersect(&p("pos:*:*")), None);
    }

    #[test]
    fn set_intersection_narrows_a_role_to_the_offline_set() {
        let held = [p("pos:*:*"), p("stock:*:*"), p("admin:users:manage")];
        let allowed = [
            p("pos:sales:create"),
            p("pos:sales:refund"),
            p("stock:inventory:view"),
            p("reports:*:view"),
        ];
        assert_eq!(
            intersect_sets(&held, &allowed),
            vec![
                p("pos:sales:create"),
                p("pos:sales:refund"),
                p("stock:inventory:view")
            ]
        );
        // A super-administrator offline still gets only the offline set.
        assert_eq!(intersect_sets(&[p("*:*:*")], &allowed), {
            let mut a = allowed.to_vec();
            a.sort();
            a
        });
        assert!(intersect_sets(&held, &[]).is_empty());
    }

    #[test]
    fn any_covers_checks_the_whole_set() {
        let held = [p("pos:sales:create"), p("stock:*:view")];
        assert!(any_covers(&held, &p("stock:transfers:view")));
        assert!(!any_covers(&held, &p("pos:sales:refund")));
    }
}
