//! Placing an imported event that has no usable coordinates by the administrative codes and
//! names its row gives: P-codes first, then names folded as the gazetteer folds them (case,
//! accents, hyphens, apostrophes and words like "province" ignored; alternative names
//! included; a name that is the locality's very name, ignoring only case, accents and
//! punctuation, taken before names equal only once "province" and the like are dropped, so
//! "Lima Province" is the area of that name and not Lima), each level searched
//! inside the level above when that is known, and last by the key other transliterations
//! of the name share ([`sound`]: "Al Jazirah" finds "Gezira"). A name that matches more
//! than one locality where it is looked for places nothing at that level: a wrong place is
//! worse than none.

use std::collections::HashMap;
use usalama_domain::{AdminLevel, Locality, LocalityId};
use usalama_ingest::gazetteer::{fold as fold_name, fold_plain, is_placeholder, sound};
use usalama_ingest::PlaceHints;

/// Folded name → localities with that name or alternative name: (id, level, parent).
type NameIndex = HashMap<String, Vec<(LocalityId, AdminLevel, Option<LocalityId>)>>;

/// Codes and folded names of a set of localities.
pub(crate) struct PlaceIndex {
    by_code: HashMap<String, LocalityId>,
    /// Names folded as the gazetteer folds them.
    by_name: NameIndex,
    /// The same by names folded without dropping designators ([`fold_plain`]).
    by_plain: NameIndex,
    /// The same by transliteration key ([`sound`]).
    by_sound: NameIndex,
    parent: HashMap<LocalityId, Option<LocalityId>>,
}

impl PlaceIndex {
    /// Indexes `localities`.
    pub fn new(localities: &[Locality]) -> Self {
        let mut by_code = HashMap::with_capacity(localities.len());
        let mut by_name: NameIndex = HashMap::with_capacity(localities.len());
        let mut by_plain: NameIndex = HashMap::with_capacity(localities.len());
        let mut by_sound: NameIndex = HashMap::with_capacity(localities.len());
        let mut parent = HashMap::with_capacity(localities.len());
        for l in localities {
            by_code.insert(l.code.as_str().to_ascii_lowercase(), l.id);
            parent.insert(l.id, l.parent);
            for (index, fold) in [
                (&mut by_name, fold_name as fn(&str) -> String),
                (&mut by_plain, fold_plain),
                (&mut by_sound, sound),
            ] {
                let mut names: Vec<String> = std::iter::once(&l.name)
                    .chain(&l.alt_names)
                    .filter(|n| !is_placeholder(n))
                    .map(|n| fold(n))
                    .filter(|n| !n.is_empty())
                    .collect();
                names.sort();
                names.dedup();
                for n in names {
                    index.entry(n).or_default().push((l.id, l.level, l.parent));
                }
            }
        }
        Self {
            by_code,
            by_name,
            by_plain,
            by_sound,
            parent,
        }
    }

    fn code(&self, code: Option<&String>) -> Option<LocalityId> {
        code.and_then(|c| self.by_code.get(&c.trim().to_ascii_lowercase()).copied())
    }

    /// Whether `id` is `ancestor` or lies below it.
    fn within(&self, id: LocalityId, ancestor: LocalityId) -> bool {
        let mut cur = Some(id);
        for _ in 0..5 {
            match cur {
                Some(c) if c == ancestor => return true,
                Some(c) => cur = self.parent.get(&c).copied().flatten(),
                None => return false,
            }
        }
        false
    }

    /// The one locality of `level` named `name` inside `under` (anywhere when `None`):
    /// by its very name (case, accents and punctuation aside) when some locality there has
    /// it, else by the name folded with designators dropped, else by its transliteration
    /// key.
    fn name(
        &self,
        name: Option<&String>,
        level: AdminLevel,
        under: Option<LocalityId>,
    ) -> Option<LocalityId> {
        let name = name?;
        if is_placeholder(name) {
            return None;
        }
        let one = |index: &NameIndex, key: String| -> Option<Option<LocalityId>> {
            let mut found = index
                .get(&key)?
                .iter()
                .filter(|(id, l, _)| *l == level && under.is_none_or(|u| self.within(*id, u)))
                .map(|(id, ..)| *id);
            let first = found.next()?;
            Some(found.next().is_none().then_some(first))
        };
        [
            (&self.by_plain, fold_plain as fn(&str) -> String),
            (&self.by_name, fold_name),
            (&self.by_sound, sound),
        ]
        .into_iter()
        .find_map(|(index, fold)| one(index, fold(name)))
        .flatten()
    }

    /// The deepest locality the hints lead to.
    pub fn resolve(&self, h: &PlaceHints) -> Option<LocalityId> {
        let mut deepest: Option<LocalityId> = None;
        for (level, code, name) in [
            (AdminLevel::Adm1, &h.adm1_code, &h.adm1_name),
            (AdminLevel::Adm2, &h.adm2_code, &h.adm2_name),
            (AdminLevel::Adm3, &h.adm3_code, &h.adm3_name),
        ] {
            if let Some(id) = self
                .code(code.as_ref())
                .or_else(|| self.name(name.as_ref(), level, deepest))
            {
                deepest = Some(id);
            }
        }
        if let Some(id) = [AdminLevel::Adm3, AdminLevel::Adm2]
            .into_iter()
            .find_map(|l| self.name(h.place_name.as_ref(), l, deepest))
        {
            deepest = Some(id);
        }
        deepest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use usalama_domain::LocalityCode;

    fn loc(code: &str, name: &str, level: AdminLevel, parent: Option<LocalityId>) -> Locality {
        Locality::new(
            LocalityCode::new(code).unwrap(),
            name,
            level,
            parent,
            None,
            None,
        )
        .unwrap()
    }

    #[test]
    fn codes_then_names_within_parents() {
        let a = loc("XA01", "Haute-Rivière", AdminLevel::Adm1, None);
        let b = loc("XA02", "Plaine", AdminLevel::Adm1, None);
        let a1 = loc("XA0101", "Centre", AdminLevel::Adm2, Some(a.id));
        let b1 = loc("XA0201", "Centre", AdminLevel::Adm2, Some(b.id));
        let b11 = loc("XA020101", "Village N'Goa", AdminLevel::Adm3, Some(b1.id))
            .with_alt_names(["Ngoa".to_string()]);
        let idx = PlaceIndex::new(&[a.clone(), b.clone(), a1.clone(), b1.clone(), b11.clone()]);
        let h = |f: &dyn Fn(&mut PlaceHints)| {
            let mut x = PlaceHints::default();
            f(&mut x);
            idx.resolve(&x)
        };
        assert_eq!(h(&|x| x.adm2_code = Some("xa0101".into())), Some(a1.id));
        assert_eq!(
            h(&|x| x.adm1_name = Some("HAUTE RIVIERE".into())),
            Some(a.id)
        );
        // "Centre" is ambiguous alone, not inside its province.
        assert_eq!(h(&|x| x.adm2_name = Some("Centre".into())), None);
        assert_eq!(
            h(&|x| {
                x.adm1_name = Some("Plaine".into());
                x.adm2_name = Some("centre".into());
            }),
            Some(b1.id)
        );
        assert_eq!(h(&|x| x.place_name = Some("ngoa".into())), Some(b11.id));
        assert_eq!(
            h(&|x| {
                x.adm1_code = Some("XA01".into());
                x.place_name = Some("Village N'Goa".into());
            }),
            Some(a.id),
            "a place outside the given province is not taken"
        );
        assert_eq!(h(&|x| x.adm1_code = Some("nope".into())), None);
    }

    #[test]
    fn other_transliterations_find_the_one_locality_of_their_key() {
        let jazirah = loc("SD15", "Aj Jazirah", AdminLevel::Adm1, None);
        let gedaref = loc("SD12", "Gedaref", AdminLevel::Adm1, None);
        let managil = loc("SD15106", "Al Manaqil", AdminLevel::Adm2, Some(jazirah.id));
        let other = loc("SD12101", "Al Fashaga", AdminLevel::Adm2, Some(gedaref.id));
        let twin = loc("SD12102", "Managil", AdminLevel::Adm2, Some(gedaref.id));
        let idx = PlaceIndex::new(&[
            jazirah.clone(),
            gedaref.clone(),
            managil.clone(),
            other,
            twin.clone(),
        ]);
        let hints = |adm1: &str, adm2: Option<&str>| PlaceHints {
            adm1_name: Some(adm1.into()),
            adm2_name: adm2.map(Into::into),
            ..Default::default()
        };
        // ACLED's and UCDP's spellings of OCHA's names.
        assert_eq!(idx.resolve(&hints("Al Jazirah", None)), Some(jazirah.id));
        assert_eq!(idx.resolve(&hints("Gezira state", None)), Some(jazirah.id));
        assert_eq!(idx.resolve(&hints("Al Qadarif", None)), Some(gedaref.id));
        // Inside the state named: "Al Managil" is the district of Aj Jazirah, not the
        // one of Gedaref that shares its key.
        assert_eq!(
            idx.resolve(&hints("Al Jazirah", Some("Al Managil"))),
            Some(managil.id)
        );
        assert_eq!(
            idx.resolve(&hints("Gedaref", Some("Managil"))),
            Some(twin.id),
            "the very name first"
        );
        // Anywhere, two districts share the key: no guess.
        assert_eq!(
            idx.resolve(&PlaceHints {
                adm2_name: Some("Al Manageel".into()),
                ..Default::default()
            }),
            None
        );
    }

    #[test]
    fn the_very_name_wins_and_placeholders_name_nothing() {
        let lima = loc("PE-LIM", "Lima", AdminLevel::Adm1, None);
        let province = loc("PE-LMA", "Lima Province", AdminLevel::Adm1, None);
        let kidal = loc("ML-4", "Kidal", AdminLevel::Adm1, None).with_alt_names(["NA".into()]);
        let oblast =
            loc("UA32", "Kyivska", AdminLevel::Adm1, None).with_alt_names(["Київська".into()]);
        let idx = PlaceIndex::new(&[lima.clone(), province.clone(), kidal, oblast.clone()]);
        let adm1 = |name: &str| {
            idx.resolve(&PlaceHints {
                adm1_name: Some(name.into()),
                ..PlaceHints::default()
            })
        };
        assert_eq!(adm1("Lima Province"), Some(province.id));
        assert_eq!(adm1("LIMA PROVINCE"), Some(province.id));
        assert_eq!(adm1("Lima"), Some(lima.id));
        assert_eq!(adm1("Province of Lima"), None, "both fit: ambiguous");
        assert_eq!(adm1("NA"), None);
        assert_eq!(adm1("Київська область"), Some(oblast.id));
        assert_eq!(adm1("Kyivska oblast"), Some(oblast.id));
    }
}
