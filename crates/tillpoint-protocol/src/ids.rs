//! Typed identifiers. Every id is a UUID (v7 when made by Tillpoint, so ids sort by creation
//! time); the type says what it names, so a user id can never be passed where an
//! organisation id is wanted. Making a new id reads a clock, so that happens on each side,
//! never here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[cfg_attr(feature = "contract", derive(specta::Type))]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organisation: the tenant every record belongs to.
    OrgId
);
id_type!(
    /// A person who signs in.
    UserId
);
id_type!(
    /// A role: a named set of permissions within one organisation.
    RoleId
);
id_type!(
    /// A till or laptop, named by the id it made for itself on first start.
    DeviceId
);
id_type!(
    /// A product of an organisation's catalog.
    ProductId
);
