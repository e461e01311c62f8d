//! Partner Center roles and how they are read from a token.

use crate::claims::Claims;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The roles the Partner Center rules name. Agent roles come from the partner
/// tenant's security groups (or app roles); admin roles from `wids`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// A member of the partner tenant's AdminAgents group.
    AdminAgent,
    /// A member of the partner tenant's SalesAgents group.
    SalesAgent,
    /// A member of the partner tenant's HelpdeskAgents group.
    HelpdeskAgent,
    /// The partner tenant's Global Administrator directory role (`wids`).
    GlobalAdmin,
    /// The partner tenant's Billing Administrator directory role (`wids`).
    BillingAdmin,
    /// The partner tenant's Security Administrator directory role (`wids`),
    /// which the 2025 rules put in place of Global Administrator on Billing.
    SecurityAdmin,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 6] = [
        Role::AdminAgent,
        Role::SalesAgent,
        Role::HelpdeskAgent,
        Role::GlobalAdmin,
        Role::BillingAdmin,
        Role::SecurityAdmin,
    ];

    /// The snake_case name policies and decisions use.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::AdminAgent => "admin_agent",
            Role::SalesAgent => "sales_agent",
            Role::HelpdeskAgent => "helpdesk_agent",
            Role::GlobalAdmin => "global_admin",
            Role::BillingAdmin => "billing_admin",
            Role::SecurityAdmin => "security_admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A small set of roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RoleSet(u8);

impl RoleSet {
    /// No role: what a token gets when its `tid` is not a partner tenant,
    /// since roles are read only from those.
    pub const EMPTY: RoleSet = RoleSet(0);

    /// Adds `r`.
    pub fn insert(&mut self, r: Role) {
        self.0 |= r.bit();
    }
    /// Whether `r` is in the set.
    pub fn contains(self, r: Role) -> bool {
        self.0 & r.bit() != 0
    }
    /// The roles of either set.
    pub fn union(self, o: RoleSet) -> RoleSet {
        RoleSet(self.0 | o.0)
    }
    /// Whether the sets share a role: how a route's roles are checked (any
    /// one suffices).
    pub fn intersects(self, o: RoleSet) -> bool {
        self.0 & o.0 != 0
    }
    /// True when there is no role.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The roles in the set, in [`Role::ALL`] order (the order decisions
    /// list them in).
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut s = RoleSet::EMPTY;
        for r in iter {
            s.insert(r);
        }
        s
    }
}

impl Serialize for RoleSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Lookup tables from claim values to roles, built once per policy.
#[derive(Debug, Default, Clone)]
pub(crate) struct RoleMap {
    /// `wids` directory-role template IDs (lower-case).
    pub(crate) directory: HashMap<String, RoleSet>,
    /// `groups` object IDs (lower-case).
    pub(crate) groups: HashMap<String, RoleSet>,
    /// `roles` app-role values (case-sensitive, as Entra emits them).
    pub(crate) app_roles: HashMap<String, RoleSet>,
}

/// The roles read from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResolvedRoles {
    pub(crate) roles: RoleSet,
    /// True when `groups` was replaced by an overage marker: group-based roles
    /// are then unknown.
    pub(crate) groups_unavailable: bool,
}

fn lookup(map: &HashMap<String, RoleSet>, v: &str, fold: bool) -> RoleSet {
    if map.is_empty() {
        return RoleSet::EMPTY;
    }
    let hit = if fold && v.bytes().any(|b| b.is_ascii_uppercase()) {
        map.get(&v.to_ascii_lowercase())
    } else {
        map.get(v)
    };
    hit.copied().unwrap_or_default()
}

impl RoleMap {
    pub(crate) fn resolve(&self, c: &Claims<'_>) -> ResolvedRoles {
        let mut roles = RoleSet::EMPTY;
        for w in c.wids.iter().flatten() {
            roles = roles.union(lookup(&self.directory, w, true));
        }
        for g in c.groups.iter().flatten() {
            roles = roles.union(lookup(&self.groups, g, true));
        }
        for r in c.roles.iter().flatten() {
            roles = roles.union(lookup(&self.app_roles, r, false));
        }
        ResolvedRoles {
            roles,
            groups_unavailable: c.groups_overage() && c.groups.is_none(),
        }
    }

    /// The roles that can only come from groups (so an overage hides them).
    pub(crate) fn group_roles(&self) -> RoleSet {
        self.groups
            .values()
            .fold(RoleSet::EMPTY, |a, b| a.union(*b))
    }
}
