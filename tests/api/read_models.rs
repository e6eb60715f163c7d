//! Every statement the API runs on the read models is valid against the migrated schema:
//! PostgreSQL prepares it (tables, columns, operators and parameter types all resolve), so a
//! migration that renames a column fails here, not in a case worker's request.

use samskab_e2e::migrated_database as migrated;

#[tokio::test]
async fn every_read_model_statement_prepares_against_the_migrated_schema() {
    let (_database, pool) = migrated().await;
    let statements = samskab_api::read_model_sql();
    assert!(statements.len() >= 6, "every query route is listed");
    for (route, sql) in statements {
        let prepared = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "PREPARE read_model_check AS {sql}; DEALLOCATE read_model_check;"
        )))
        .execute(&pool)
        .await;
        assert!(prepared.is_ok(), "{route}: {:?}\n{sql}", prepared.err());
    }
}

#[tokio::test]
async fn a_statement_on_a_missing_column_is_caught() {
    // The check above can fail: the same preparation refuses a column that is not there.
    let (_database, pool) = migrated().await;
    let prepared = sqlx::raw_sql(sqlx::AssertSqlSafe(
        "PREPARE read_model_check AS SELECT no_such_column FROM directory.volunteer WHERE tenant = $1",
    ))
    .execute(&pool)
    .await;
    assert!(prepared.is_err());
}
