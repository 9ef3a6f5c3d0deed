//! GraphiQL at `/`, served entirely by the gateway: the page and the pinned production bundles of
//! GraphiQL and React at `/graphiql/<package>-<version>/<file>`, which `build.rs` fetched from the
//! npm registry at build time. Nothing is downloaded at run time, so the IDE works on an offline
//! or firewalled network; the version in each path lets browsers cache the files for good.

const GRAPHIQL: &str = env!("POLYGATE_GRAPHIQL_VERSION");
const REACT: &str = env!("POLYGATE_REACT_VERSION");
const REACT_DOM: &str = env!("POLYGATE_REACT_DOM_VERSION");

/// The page, with the asset paths of the pinned versions.
pub fn page() -> String {
    include_str!("graphiql.html")
        .replace("{{graphiql}}", GRAPHIQL)
        .replace("{{react}}", REACT)
        .replace("{{react_dom}}", REACT_DOM)
}

/// A bundled file: its content type and bytes.
pub struct Asset {
    pub content_type: &'static str,
    pub body: &'static [u8],
}

macro_rules! bundled {
    ($file:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $file)).as_slice()
    };
}

/// The asset at `path` (`/graphiql/…`), if it is one of ours.
pub fn asset(path: &str) -> Option<Asset> {
    let rest = path.strip_prefix("/graphiql/")?;
    let (folder, file) = rest.split_once('/')?;
    let (content_type, body) = match (folder, file) {
        (f, "graphiql.min.js") if f == format!("graphiql-{GRAPHIQL}") => {
            ("application/javascript", bundled!("graphiql.min.js"))
        }
        (f, "graphiql.min.css") if f == format!("graphiql-{GRAPHIQL}") => {
            ("text/css", bundled!("graphiql.min.css"))
        }
        (f, "react.production.min.js") if f == format!("react-{REACT}") => (
            "application/javascript",
            bundled!("react.production.min.js"),
        ),
        (f, "react-dom.production.min.js") if f == format!("react-dom-{REACT_DOM}") => (
            "application/javascript",
            bundled!("react-dom.production.min.js"),
        ),
        _ => return None,
    };
    Some(Asset { content_type, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `src` and `href` of the page that is a path.
    fn local_references(page: &str) -> Vec<String> {
        page.split(['"', '\''])
            .filter(|part| part.starts_with("/graphiql/"))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_file_the_page_loads_is_served_from_the_binary() {
        let page = page();
        let references = local_references(&page);
        assert_eq!(references.len(), 4, "{references:?}");
        for path in references {
            let asset = asset(&path).unwrap_or_else(|| panic!("{path} is not served"));
            assert!(asset.body.len() > 1_000, "{path} is nearly empty");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_another_origin_and_no_development_build() {
        let page = page();
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{page}"
        );
        assert!(
            !page.contains("//unpkg") && !page.contains("development"),
            "{page}"
        );
    }

    #[test]
    fn an_unknown_or_unversioned_path_is_not_an_asset() {
        assert!(asset("/graphiql/graphiql.min.js").is_none());
        assert!(asset("/graphiql/graphiql-0.0.1/graphiql.min.js").is_none());
        assert!(asset("/graphiql/react-18.3.1/../../etc/passwd").is_none());
    }
}
