use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;

/// A fresh database with a random name on the server named by `DATABASE_URL`, so tests never
/// share read models. It is left behind after the test, for a post-mortem; `deploy/local/test.sh`
/// drops the leftovers of earlier runs before it starts.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
}

pub const TEST_DATABASE_PREFIX: &str = "samskab_test_";

impl TestDatabase {
    pub async fn create() -> anyhow::Result<Self> {
        let base = crate::env_or_dotdata("DATABASE_URL")
            .context("DATABASE_URL is not set: run `bash deploy/local/services.sh up` or set it")?;
        let name = format!("{TEST_DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let admin = PgConnectOptions::from_str(&base)?.database("postgres");
        let mut conn = admin.connect().await.context("connecting to PostgreSQL")?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let url = PgConnectOptions::from_str(&base)?
            .database(&name)
            .to_url_lossy()
            .to_string();
        Ok(Self { url, name })
    }

    pub async fn pool(&self) -> anyhow::Result<PgPool> {
        Ok(PgPoolOptions::new()
            .max_connections(10)
            .connect(&self.url)
            .await?)
    }
}
