//! The key store against a real NATS server: keys are created once, read back in batches, and
//! forgetting erases the wrapped key's bytes from the server's files.

use std::time::{Duration, Instant};

use samskab_privacy::master::WrappedKey;
use samskab_privacy::{DataSubject, KeyStoreConfig, MasterKeys, Vault, VaultError};
use samskab_testkit::NatsServer;

async fn vault(server: &NatsServer, master: MasterKeys) -> anyhow::Result<Vault> {
    let client = async_nats::connect(server.url()).await?;
    let js = async_nats::jetstream::new(client);
    Ok(Vault::create_or_update(js, KeyStoreConfig::default(), master).await?)
}

fn subject(id: &str) -> anyhow::Result<DataSubject> {
    Ok(DataSubject::new("rodovre", "volunteer", id)?)
}

/// The wrapped key as the store holds it (base64 text in the message body).
async fn stored_wrapped_key(server: &NatsServer, subject: &DataSubject) -> anyhow::Result<String> {
    let client = async_nats::connect(server.url()).await?;
    let stream = async_nats::jetstream::new(client)
        .get_stream("SAMSKAB_KEYS")
        .await?;
    let message = stream
        .direct_get_last_for_subject(format!("samskab.key.{subject}"))
        .await?;
    let wrapped: WrappedKey = serde_json::from_slice(&message.payload)?;
    Ok(wrapped.wrapped)
}

#[tokio::test]
async fn forgetting_erases_the_wrapped_key_from_the_servers_files() -> anyhow::Result<()> {
    let mut server = NatsServer::start()?;
    let master = MasterKeys::generate("k1");
    let vault = vault(&server, master.clone()).await?;
    let soeren = subject("soeren")?;
    // Neighbours in the same block, so the erase has to pick out one record.
    for n in 0..200 {
        vault
            .key_for_sealing(&subject(&format!("other-{n}"))?, true)
            .await?;
    }
    let key = vault.key_for_sealing(&soeren, true).await?;
    assert_eq!(vault.fetch(&soeren).await?, Some(key));
    let wrapped = stored_wrapped_key(&server, &soeren).await?;
    let before = server
        .wait_for_files_containing(wrapped.as_bytes(), true)
        .await?;
    assert!(
        !before.is_empty(),
        "the wrapped key must first be found on disk, or the search proves nothing"
    );

    assert!(vault.forget(&soeren).await?);
    assert_eq!(vault.fetch(&soeren).await?, None);
    let after = server
        .wait_for_files_containing(wrapped.as_bytes(), false)
        .await?;
    assert_eq!(
        after,
        Vec::<std::path::PathBuf>::new(),
        "erased bytes still on disk"
    );

    // Nor does a restart bring it back (the server rebuilds its state from the files).
    server.restart()?;
    let vault = vault_after_restart(&server, master).await?;
    assert_eq!(vault.fetch(&soeren).await?, None);
    assert!(server.files_containing(wrapped.as_bytes())?.is_empty());
    assert!(vault.fetch(&subject("other-7")?).await?.is_some());
    assert!(
        !vault.forget(&soeren).await?,
        "forgetting twice is harmless"
    );
    Ok(())
}

async fn vault_after_restart(server: &NatsServer, master: MasterKeys) -> anyhow::Result<Vault> {
    // The client reconnects; a fresh vault has an empty cache, so it reads from the server.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match async_nats::connect(server.url()).await {
            Ok(client) => {
                let js = async_nats::jetstream::new(client);
                match Vault::connect(js, KeyStoreConfig::default(), master.clone()).await {
                    Ok(vault) => return Ok(vault),
                    Err(e) if Instant::now() > deadline => return Err(e.into()),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
            Err(e) if Instant::now() > deadline => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test]
async fn a_key_is_created_once_and_read_back_in_batches() -> anyhow::Result<()> {
    let server = NatsServer::start()?;
    let master = MasterKeys::generate("k1");
    let first = vault(&server, master.clone()).await?;
    let second = vault(&server, master.clone()).await?;
    let soeren = subject("soeren")?;
    // Two writers (a retried create, two processes) race for the same subject: one key wins.
    let (a, b) = tokio::join!(
        first.key_for_sealing(&soeren, true),
        second.key_for_sealing(&soeren, true)
    );
    assert_eq!(a?, b?);

    let mut subjects = vec![soeren.clone(), subject("never-had-data")?];
    for n in 0..1500 {
        let s = subject(&format!("v-{n}"))?;
        first.key_for_sealing(&s, true).await?;
        subjects.push(s);
    }
    // A fresh process (empty cache) reads all of them with a few requests.
    let third = vault(&server, MasterKeys::parse(&master.to_setting())?).await?;
    let keys = third.fetch_many(&subjects).await?;
    assert_eq!(keys.len(), 1501, "every subject with a key, none without");
    assert!(!keys.contains_key(&subject("never-had-data")?));
    assert_eq!(keys.get(&soeren), first.fetch(&soeren).await?.as_ref());
    Ok(())
}

#[tokio::test]
async fn a_store_without_its_stream_or_with_the_wrong_master_key_is_refused() -> anyhow::Result<()>
{
    let server = NatsServer::start()?;
    let client = async_nats::connect(server.url()).await?;
    let js = async_nats::jetstream::new(client);
    let missing = Vault::connect(
        js.clone(),
        KeyStoreConfig::default(),
        MasterKeys::generate("k1"),
    )
    .await
    .err();
    assert!(
        matches!(missing, Some(VaultError::Missing { .. })),
        "{missing:?}"
    );

    let writer = vault(&server, MasterKeys::generate("k1")).await?;
    writer.key_for_sealing(&subject("soeren")?, true).await?;
    let stranger =
        Vault::connect(js, KeyStoreConfig::default(), MasterKeys::generate("k1")).await?;
    let refused = stranger.fetch(&subject("soeren")?).await.err();
    assert!(
        matches!(refused, Some(VaultError::Unwrap { .. })),
        "{refused:?}"
    );
    Ok(())
}
