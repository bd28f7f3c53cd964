//! Placing an imported event that has no usable coordinates by the administrative codes and
//! names its row gives: P-codes first, then names folded as the gazetteer folds them (case,
//! accents, hyphens, apostrophes and words like "province" ignored; alternative names
//! included), each level searched
//! inside the level above when that is known. A name that matches more than one locality
//! where it is looked for places nothing at that level: a wrong place is worse than none.

use std::collections::HashMap;
use usalama_domain::{AdminLevel, Locality, LocalityId};
use usalama_ingest::gazetteer::fold as fold_name;
use usalama_ingest::PlaceHints;

/// Codes and folded names of a set of localities.
pub(crate) struct PlaceIndex {
    by_code: HashMap<String, LocalityId>,
    /// Folded name → localities with that name or alternative name: (id, level, parent).
    by_name: HashMap<String, Vec<(LocalityId, AdminLevel, Option<LocalityId>)>>,
    parent: HashMap<LocalityId, Option<LocalityId>>,
}

impl PlaceIndex {
    /// Indexes `localities`.
    pub fn new(localities: &[Locality]) -> Self {
        let mut by_code = HashMap::with_capacity(localities.len());
        let mut by_name: HashMap<String, Vec<_>> = HashMap::with_capacity(localities.len());
        let mut parent = HashMap::with_capacity(localities.len());
        for l in localities {
            by_code.insert(l.code.as_str().to_ascii_lowercase(), l.id);
            parent.insert(l.id, l.parent);
            let mut names: Vec<String> = std::iter::once(&l.name)
                .chain(&l.alt_names)
                .map(|n| fold_name(n))
                .filter(|n| !n.is_empty())
                .collect();
            names.sort();
            names.dedup();
            for n in names {
                by_name
                    .entry(n)
                    .or_default()
                    .push((l.id, l.level, l.parent));
            }
        }
        Self {
            by_code,
            by_name,
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

    /// The one locality of `level` named `name` inside `under` (anywhere when `None`).
    fn name(
        &self,
        name: Option<&String>,
        level: AdminLevel,
        under: Option<LocalityId>,
    ) -> Option<LocalityId> {
        let folded = fold_name(name?);
        let mut found = self
            .by_name
            .get(&folded)?
            .iter()
            .filter(|(id, l, _)| *l == level && under.is_none_or(|u| self.within(*id, u)))
            .map(|(id, ..)| *id);
        let first = found.next()?;
        found.next().is_none().then_some(first)
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
}
