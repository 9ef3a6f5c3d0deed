//! Addresses in GraphQL: the `Address` book entry, the `ShippingAddress` an order keeps, the
//! `addAddress` mutation, and choosing where a new order ships.
//!
//! Non-obvious: `placeOrder` reads the buyer's book from the primary (through the store's
//! `addresses`) and copies the chosen entry into the order, so an address added a moment ago is
//! the one used, and editing the book later never rewrites an order.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::SecondsFormat;
use polygate_kit::{ErrorCode, api_error};

use super::{bad_input, parse_id, signed_in, store, store_failed};
use crate::domain::{AddAddressOutcome, Address, AddressParts, NewAddress, PostalAddress};
use crate::ids::{AddressId, UserId};

/// An entry of a user's address book.
pub struct AddressNode(Address);

impl AddressNode {
    pub fn new(address: Address) -> Self {
        Self(address)
    }
}

#[Object(name = "Address")]
impl AddressNode {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// What the user calls it, e.g. `Home`.
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }

    /// Where parcels sent to this address go.
    async fn address(&self) -> ShippingAddress {
        ShippingAddress::from(&self.0.address)
    }

    /// When it was added, RFC 3339 in UTC.
    async fn created_at(&self) -> String {
        self.0
            .created_at
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// A postal address as an order keeps it: a copy taken when the order was placed.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct ShippingAddress {
    pub recipient: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

impl From<&PostalAddress> for ShippingAddress {
    fn from(a: &PostalAddress) -> Self {
        Self {
            recipient: a.recipient.clone(),
            line1: a.line1.clone(),
            line2: a.line2.clone(),
            city: a.city.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: a.country.clone(),
        }
    }
}

/// An address to add to the signed-in user's book.
#[derive(InputObject)]
pub struct AddressInput {
    /// What the user calls it, at most 50 characters.
    pub label: Option<String>,
    /// 1 to 200 characters.
    pub recipient: String,
    /// 1 to 200 characters.
    pub line1: String,
    pub line2: Option<String>,
    /// 1 to 100 characters.
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    pub country: String,
}

/// `addAddress`: the signed-in user's new entry. `CONFLICT` when the book is full.
pub(crate) async fn add(ctx: &Context<'_>, input: AddressInput) -> Result<AddressNode> {
    let (_, user) = signed_in(ctx)?;
    let address = PostalAddress::parse(&AddressParts {
        recipient: &input.recipient,
        line1: &input.line1,
        line2: input.line2.as_deref(),
        city: &input.city,
        region: input.region.as_deref(),
        postal_code: input.postal_code.as_deref(),
        country: &input.country,
    })
    .map_err(bad_input)?;
    let new = NewAddress::new(user, input.label.as_deref(), address).map_err(bad_input)?;
    match store(ctx).add_address(&new).await.map_err(store_failed)? {
        AddAddressOutcome::Added(address) => Ok(AddressNode::new(address)),
        AddAddressOutcome::BookFull => Err(api_error(
            ErrorCode::Conflict,
            format!(
                "the address book is full ({} addresses)",
                crate::domain::MAX_ADDRESSES_PER_USER
            ),
        )),
        AddAddressOutcome::UnknownUser => Err(api_error(
            ErrorCode::NotFound,
            "the signed-in user no longer exists",
        )),
    }
}

/// `User.addresses`, newest first; the caller checked the viewer may see them.
pub(crate) async fn book(ctx: &Context<'_>, user: UserId) -> Result<Vec<AddressNode>> {
    let found = store(ctx).addresses(user).await.map_err(store_failed)?;
    Ok(found.into_iter().map(AddressNode::new).collect())
}

/// Where `buyer`'s new order ships: the entry `chosen` (`shipTo`), or the newest one.
/// `BAD_USER_INPUT` naming `shipTo` when there is none.
pub(crate) async fn ship_to(
    ctx: &Context<'_>,
    buyer: UserId,
    chosen: Option<&ID>,
) -> Result<PostalAddress> {
    let chosen = chosen
        .map(|id| parse_id::<AddressId>(id, "shipTo", "address"))
        .transpose()?;
    let book = store(ctx).addresses(buyer).await.map_err(store_failed)?;
    let entry = match chosen {
        Some(id) => book.into_iter().find(|a| a.id == id).ok_or_else(|| {
            api_error(
                ErrorCode::BadUserInput,
                "shipTo: not an address in your address book",
            )
        })?,
        None => book.into_iter().next().ok_or_else(|| {
            api_error(
                ErrorCode::BadUserInput,
                "shipTo: your address book is empty; add an address first (addAddress)",
            )
        })?,
    };
    Ok(entry.address)
}
