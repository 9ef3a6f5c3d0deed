//! Reviews: one per signed-in user per product, rated 1 to 5, and the rating summary the product
//! document keeps in step with them.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{InvalidInput, Sku, bounded_text};

/// 1 to 5 stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rating(u8);

impl Rating {
    pub fn new(stars: i64) -> Result<Self, InvalidInput> {
        match u8::try_from(stars) {
            Ok(s @ 1..=5) => Ok(Self(s)),
            _ => Err(InvalidInput::new("rating", "must be 1 to 5")),
        }
    }

    pub fn stars(self) -> u8 {
        self.0
    }
}

/// The commerce user who wrote a review (`User @key(fields: "id")`), as the gateway vouched for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserRef(pub String);

/// A review's id: derived from the product and the author, so "one per user per product" is the
/// primary key itself and a retried `addReview` finds its first attempt.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReviewId(String);

impl ReviewId {
    pub fn of(sku: &Sku, author: &UserRef) -> Self {
        let digest = Sha256::digest(format!("{}\u{0}{}", sku.as_str(), author.0).as_bytes());
        Self(format!("r{}", hex::encode(&digest[..12])))
    }

    /// A stored id, as is.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A review as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: ReviewId,
    pub sku: Sku,
    pub author: UserRef,
    pub rating: Rating,
    pub title: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A review to add, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview(pub Review);

impl NewReview {
    pub const TITLE: usize = 120;
    pub const BODY: usize = 4_000;

    pub fn new(
        sku: Sku,
        author: UserRef,
        rating: i64,
        title: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, InvalidInput> {
        let rating = Rating::new(rating)?;
        let title = bounded_text("title", title, Self::TITLE, false)?;
        let body = bounded_text("body", body, Self::BODY, true)?;
        // Stored at millisecond precision; truncate now so a read returns what was written.
        let created_at = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        Ok(Self(Review {
            id: ReviewId::of(&sku, &author),
            sku,
            author,
            rating,
            title,
            body,
            created_at,
        }))
    }

    /// Whether `existing` is this same review (a retry), as opposed to another one by the same
    /// author: everything but the time matches.
    pub fn repeats(&self, existing: &Review) -> bool {
        let new = &self.0;
        new.id == existing.id
            && new.rating == existing.rating
            && new.title == existing.title
            && new.body == existing.body
    }
}

/// What `add_review` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Added(Review),
    /// The same review was added before (a retry): nothing changed.
    AlreadyAdded(Review),
}

impl ReviewOutcome {
    pub fn review(&self) -> &Review {
        match self {
            ReviewOutcome::Added(r) | ReviewOutcome::AlreadyAdded(r) => r,
        }
    }
}

/// The rating summary kept in the product document: updated with every review in the same
/// write, so a product page never aggregates the reviews collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RatingSummary {
    pub count: i64,
    pub sum: i64,
    /// Reviews by stars: `histogram[0]` counts 1-star reviews.
    pub histogram: [i64; 5],
}

impl RatingSummary {
    /// How many of the latest reviews the product document embeds.
    pub const RECENT: usize = 5;

    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    pub fn with(mut self, rating: Rating) -> Self {
        self.count += 1;
        self.sum += i64::from(rating.stars());
        self.histogram[usize::from(rating.stars() - 1)] += 1;
        self
    }
}

/// Where a page of reviews (newest first) continues: after this review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCursor {
    pub created_at_ms: i64,
    pub id: ReviewId,
}

impl ReviewCursor {
    pub fn of(review: &Review) -> Self {
        Self {
            created_at_ms: review.created_at.timestamp_millis(),
            id: review.id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        format!("{}:{}", self.created_at_ms, self.id.as_str())
    }

    pub fn decode(raw: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::new("after", "not a cursor this field returned");
        let (ms, id) = raw.split_once(':').ok_or_else(bad)?;
        let created_at_ms = ms.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad());
        }
        Ok(Self {
            created_at_ms,
            id: ReviewId(id.to_owned()),
        })
    }

    /// Whether `review` comes after this cursor, newest first.
    pub fn precedes(&self, review: &Review) -> bool {
        let ms = review.created_at.timestamp_millis();
        ms < self.created_at_ms || (ms == self.created_at_ms && review.id < self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).unwrap()
    }

    #[test]
    fn ratings_outside_one_to_five_are_refused() {
        assert!(Rating::new(0).is_err());
        assert!(Rating::new(6).is_err());
        assert_eq!(Rating::new(5).unwrap().stars(), 5);
    }

    #[test]
    fn a_review_id_is_the_same_for_the_same_author_and_product() {
        let sku = Sku::parse("MUG-01").unwrap();
        let a = ReviewId::of(&sku, &UserRef("1".into()));
        assert_eq!(a, ReviewId::of(&sku, &UserRef("1".into())));
        assert_ne!(a, ReviewId::of(&sku, &UserRef("2".into())));
    }

    #[test]
    fn long_titles_and_bodies_are_refused() {
        let sku = Sku::parse("MUG-01").unwrap();
        let u = UserRef("1".into());
        let title = "x".repeat(NewReview::TITLE + 1);
        let err = NewReview::new(sku.clone(), u.clone(), 4, &title, "", at(0)).unwrap_err();
        assert_eq!(err.field, "title");
        let body = "x".repeat(NewReview::BODY + 1);
        let err = NewReview::new(sku, u, 4, "ok", &body, at(0)).unwrap_err();
        assert_eq!(err.field, "body");
    }

    #[test]
    fn the_summary_counts_by_stars() {
        let s = RatingSummary::default()
            .with(Rating::new(5).unwrap())
            .with(Rating::new(4).unwrap());
        assert_eq!(s.count, 2);
        assert_eq!(s.histogram, [0, 0, 0, 1, 1]);
        assert_eq!(s.average(), Some(4.5));
    }

    #[test]
    fn a_cursor_round_trips_and_orders_newest_first() {
        let c = ReviewCursor {
            created_at_ms: 1_000,
            id: ReviewId("rb".into()),
        };
        assert_eq!(ReviewCursor::decode(&c.encode()).unwrap(), c);
        assert!(ReviewCursor::decode("x").is_err());
        let review = |ms, id: &str| Review {
            id: ReviewId(id.into()),
            sku: Sku::parse("A").unwrap(),
            author: UserRef("u".into()),
            rating: Rating::new(3).unwrap(),
            title: "t".into(),
            body: String::new(),
            created_at: at(ms),
        };
        assert!(c.precedes(&review(999, "rz")));
        assert!(c.precedes(&review(1_000, "ra")));
        assert!(!c.precedes(&review(1_000, "rc")));
        assert!(!c.precedes(&review(1_001, "ra")));
    }
}
