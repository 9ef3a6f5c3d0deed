//! Readiness of a subgraph that runs as its own service: its `/ready` must answer 200.

use async_trait::async_trait;
use polygate_kit::Probe;

pub struct RemoteSubgraphProbe {
    name: String,
    ready_url: String,
    client: reqwest::Client,
}

impl RemoteSubgraphProbe {
    /// `graphql_url` is the subgraph's GraphQL endpoint; `/ready` is looked up beside it.
    pub fn new(name: &str, graphql_url: &str) -> Self {
        let ready_url = match url::Url::parse(graphql_url).and_then(|u| u.join("/ready")) {
            Ok(u) => u.to_string(),
            Err(_) => graphql_url.to_owned(),
        };
        Self {
            name: format!("{name} (remote)"),
            ready_url,
            client: reqwest::Client::new(),
        }
    }
}

#[async_trait]
impl Probe for RemoteSubgraphProbe {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn check(&self) -> Result<(), String> {
        let response = self
            .client
            .get(&self.ready_url)
            .send()
            .await
            .map_err(|e| format!("{}: {e}", self.ready_url))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{} answered {}", self.ready_url, response.status()))
        }
    }
}
