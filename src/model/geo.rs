//! Where routers and data centers are on the globe (optional): degrees of
//! latitude and longitude, checked for range. Only pictures use them (the
//! console's map); no path computation does.

use std::fmt;

/// A point on the globe, in degrees (WGS 84): latitude -90..=90 (north
/// positive), longitude -180..=180 (east positive).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coordinates {
    /// Degrees north of the equator (negative: south).
    pub lat: f64,
    /// Degrees east of Greenwich (negative: west).
    pub lon: f64,
}

impl fmt::Display for Coordinates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.lat, self.lon)
    }
}

/// What is wrong with a `lat`/`lon` pair as written: the field at fault and
/// the rule it breaks.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum GeoProblem {
    /// One of the two without the other: (given, missing).
    Unpaired(&'static str, &'static str),
    /// A value outside its range: (field, value, rule).
    OutOfRange(&'static str, f64, &'static str),
}

/// The coordinates of a `lat`/`lon` pair as written: none, both (in range),
/// or every problem with them.
pub(super) fn coordinates(
    lat: Option<f64>,
    lon: Option<f64>,
) -> Result<Option<Coordinates>, Vec<GeoProblem>> {
    let (lat, lon) = match (lat, lon) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(vec![GeoProblem::Unpaired("lat", "lon")]),
        (None, Some(_)) => return Err(vec![GeoProblem::Unpaired("lon", "lat")]),
        (Some(lat), Some(lon)) => (lat, lon),
    };
    let mut problems = Vec::new();
    if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
        problems.push(GeoProblem::OutOfRange(
            "lat",
            lat,
            "must be in -90..=90 (degrees)",
        ));
    }
    if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
        problems.push(GeoProblem::OutOfRange(
            "lon",
            lon,
            "must be in -180..=180 (degrees)",
        ));
    }
    if problems.is_empty() {
        Ok(Some(Coordinates { lat, lon }))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_or_neither_and_in_range() {
        assert_eq!(coordinates(None, None), Ok(None));
        assert_eq!(
            coordinates(Some(39.9), Some(116.4)),
            Ok(Some(Coordinates {
                lat: 39.9,
                lon: 116.4
            }))
        );
        assert_eq!(
            coordinates(Some(1.0), None),
            Err(vec![GeoProblem::Unpaired("lat", "lon")])
        );
        assert_eq!(
            coordinates(None, Some(1.0)),
            Err(vec![GeoProblem::Unpaired("lon", "lat")])
        );
        let e = coordinates(Some(91.0), Some(-181.0)).unwrap_err();
        assert_eq!(e.len(), 2);
        assert!(coordinates(Some(f64::NAN), Some(0.0)).is_err());
        assert!(coordinates(Some(-90.0), Some(180.0)).is_ok());
    }
}
