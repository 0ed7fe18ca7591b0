//! Region names: shape validation and the partition a region belongs to.

/// Directions that appear in AWS region names (`us-east-1`, `ap-southeast-4`, `eu-central-2`).
const DIRECTIONS: &[&str] = &[
    "central",
    "east",
    "north",
    "northeast",
    "northwest",
    "south",
    "southeast",
    "southwest",
    "west",
];

/// The partition of a well-formed region name, or `None` when the name is not shaped like an
/// AWS region: `cc-direction-N` (`eu-central-2`), with an optional partition infix
/// (`us-gov-west-1`, `us-iso-east-1`, `us-isob-east-1`) or the European Sovereign Cloud prefix
/// (`eusc-de-east-1`). Only the shape is checked, so future regions are accepted.
pub(crate) fn region_partition(region: &str) -> Option<&'static str> {
    let parts: Vec<&str> = region.split('-').collect();
    let (prefix, country, infix, direction, number) = match parts.as_slice() {
        [country, direction, number] => (None, *country, None, *direction, *number),
        ["eusc", country, direction, number] => (Some("eusc"), *country, None, *direction, *number),
        [country, infix, direction, number] => (None, *country, Some(*infix), *direction, *number),
        _ => return None,
    };
    let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_lowercase());
    let number_ok = !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
        && !number.starts_with('0');
    if !country_ok || !number_ok || !DIRECTIONS.contains(&direction) {
        return None;
    }
    match (prefix, infix) {
        (Some(_), _) => Some("aws-eusc"),
        (None, None) if country == "cn" => Some("aws-cn"),
        (None, None) => Some("aws"),
        (None, Some("gov")) => Some("aws-us-gov"),
        (None, Some("iso")) => Some("aws-iso"),
        (None, Some("isob")) => Some("aws-iso-b"),
        (None, Some("isoe")) => Some("aws-iso-e"),
        (None, Some("isof")) => Some("aws-iso-f"),
        (None, Some(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-central-2", "aws"),
            ("ap-southeast-4", "aws"),
            ("ap-northeast-3", "aws"),
            ("il-central-1", "aws"),
            ("ca-west-1", "aws"),
            ("me-south-1", "aws"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-gov-east-1", "aws-us-gov"),
            ("cn-north-1", "aws-cn"),
            ("cn-northwest-1", "aws-cn"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
            ("ap-east-12", "aws"),
        ] {
            assert_eq!(region_partition(region), Some(partition), "{region}");
        }
        for bad in [
            "",
            "us-east",
            "us-east-0",
            "us-east-01",
            "us-east-123",
            "US-EAST-1",
            "us-east-1 ",
            " us-east-1",
            "useast1",
            "us-middle-1",
            "usa-east-1",
            "u-east-1",
            "us-foo-east-1",
            "us-gov-west-1-extra",
            "us_east_1",
            "us-east-1a",
            "global",
            "aws-global",
            "*",
            "us-east-*",
            "ü-east-1",
        ] {
            assert_eq!(region_partition(bad), None, "{bad:?}");
        }
    }
}
