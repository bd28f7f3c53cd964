//! `usalama report`: the monthly situation report as one printable HTML file, the same
//! page as `/reports/sitrep/{month}` with the stylesheet included.

use crate::cli::ConfigError;
use usalama_app::analytics::period::{Granularity, Period};
use usalama_app::App;
use usalama_web::ui::i18n::Lang;
use usalama_web::{AppState, WebConfig};

/// The report for `period` (`YYYY-MM`); `level` may only make places coarser than the
/// privacy level in force.
pub fn sitrep(
    app: &App,
    period: &str,
    level: Option<&str>,
    source: Option<&str>,
    lang: &str,
) -> anyhow::Result<String> {
    let month: Period = period
        .parse()
        .ok()
        .filter(|p: &Period| p.granularity() == Granularity::Month)
        .ok_or_else(|| ConfigError(format!("--period: '{period}' is not a month like 2022-06")))?;
    let lang = Lang::from_tag(lang)
        .ok_or_else(|| ConfigError(format!("--lang: '{lang}' is not en or fr")))?;
    if let Some(l) = level {
        let l: usalama_domain::AdminLevel = l
            .parse()
            .map_err(|_| ConfigError(format!("--level: '{l}' is not adm1, adm2 or adm3")))?;
        let mut p = app.privacy();
        if l < p.level {
            p.level = l;
        } else if l > p.level {
            return Err(ConfigError(format!(
                "--level: public figures go no finer than {}",
                p.level.as_str()
            ))
            .into());
        }
        app.set_privacy(p)?;
    }
    let state = AppState::new(app.clone(), WebConfig::default());
    Ok(usalama_web::sitrep_html(&state, month, source, lang)?)
}
