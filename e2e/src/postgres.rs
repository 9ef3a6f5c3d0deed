//! A fresh, randomly named database per test on the real server, dropped afterwards.

use sqlx::{Connection, Executor, PgConnection};

pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

pub async fn fresh_database(admin_url: &str) -> TestDatabase {
    let name = polygate_kit::testing::unique_name("e2e");
    let mut admin = PgConnection::connect(admin_url).await.expect("postgres");
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(admin_url).expect("postgres url");
    url.set_path(&name);
    TestDatabase {
        admin_url: admin_url.to_owned(),
        name,
        url: url.to_string(),
    }
}

impl TestDatabase {
    pub async fn drop(self) {
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
                .await;
        }
    }
}
