# The project's floor for the SCIM load benchmark (bench/scim_load.py serves it beside
# scimgate and scim2-server). Kept as written: the header below is its own description.
# floor_plus: the physical floor for every operation the SCIM load benchmark sends.
# Raw ASGI + sqlite3 (autocommit, WAL, synchronous=NORMAL) + orjson, no validation, no auth,
# no audit. Users, list pages (count + LIMIT/OFFSET), PUT (replace doc), PATCH of top-level
# attributes, DELETE, and Groups with a membership table (add / remove by filter / remove by
# value / GET with or without members). Serve it under the same uvicorn as scimgate and run the
# same load against both in one run: scimgate's server CPU per request over this one's is the
# ratio to the floor. FLOOR_DB names its SQLite file.
import os, re, sqlite3, uuid, orjson, urllib.parse
DB = os.environ.get("FLOOR_DB", "floorplus.db")
db = sqlite3.connect(DB, check_same_thread=False, isolation_level=None)
db.execute("pragma journal_mode=wal"); db.execute("pragma synchronous=normal")
db.execute("create table if not exists users(id text primary key, tenant text, un_lower text, doc blob)")
db.execute("create unique index if not exists u_un on users(tenant, un_lower)")
db.execute("create index if not exists u_t on users(tenant)")  # (tenant, rowid): pages without a sort
db.execute("create table if not exists groups(id text primary key, tenant text, doc blob)")
db.execute("create table if not exists members(gid text, uid text, primary key(gid, uid)) without rowid")
db.execute("create index if not exists m_uid on members(uid)")
BASE = os.environ.get("FLOOR_BASE", "http://127.0.0.1:18300/v2")
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERR = "urn:ietf:params:scim:api:messages:2.0:Error"
MEMBER_EQ = re.compile(r'members\[value eq "(.*)"\]')
def out(doc, uid, rt="User"):
    d = orjson.loads(doc); d["id"] = uid; d["meta"] = {"resourceType": rt, "location": f"{BASE}/{rt}s/{uid}", "version": 'W/"1"'}; return d
NF = (404, {"schemas": [ERR], "status": "404", "detail": "nf"})
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        m = await receive(); body += m.get("body", b"")
        if not m.get("more_body"): break
    path, method = scope["path"], scope["method"]
    status, payload = NF
    if path == "/v2/Users" and method == "POST":
        d = orjson.loads(body); uid = uuid.uuid4().hex
        try:
            db.execute("insert into users values(?,?,?,?)", (uid, "t", d["userName"].lower(), body)); status, payload = 201, out(body, uid)
        except sqlite3.IntegrityError:
            status, payload = 409, {"schemas": [ERR], "status": "409", "scimType": "uniqueness", "detail": "dup"}
    elif path.startswith("/v2/Users/") and method == "GET":
        uid = path[10:]; r = db.execute("select doc from users where tenant='t' and id=?", (uid,)).fetchone()
        if r: status, payload = 200, out(r[0], uid)
    elif path == "/v2/Users" and method == "GET":
        q = urllib.parse.parse_qs(scope["query_string"].decode()); f = q.get("filter", [""])[0]
        m = re.match(r'userName eq "(.*)"', f)
        if m:
            rows = db.execute("select id, doc from users where tenant='t' and un_lower=?", (m.group(1).lower(),)).fetchall()
            status, payload = 200, {"schemas": [LIST], "totalResults": len(rows), "startIndex": 1, "itemsPerPage": len(rows), "Resources": [out(d, i) for i, d in rows]}
        else:
            start = int(q.get("startIndex", ["1"])[0]); count = int(q.get("count", ["100"])[0])
            total = db.execute("select count(*) from users where tenant='t'").fetchone()[0]
            rows = db.execute("select id, doc from users where rowid in (select rowid from users where tenant='t' order by rowid limit ? offset ?) order by rowid", (count, max(0, start - 1))).fetchall()
            status, payload = 200, {"schemas": [LIST], "totalResults": total, "startIndex": start, "itemsPerPage": len(rows), "Resources": [out(d, i) for i, d in rows]}
    elif path.startswith("/v2/Users/") and method == "PUT":
        uid = path[10:]; d = orjson.loads(body); d.pop("id", None); doc = orjson.dumps(d)
        cur = db.execute("update users set un_lower=?, doc=? where tenant='t' and id=?", (d["userName"].lower(), doc, uid))
        if cur.rowcount: status, payload = 200, out(doc, uid)
    elif path.startswith("/v2/Users/") and method == "PATCH":
        uid = path[10:]; ops = orjson.loads(body)["Operations"]
        db.execute("begin immediate")
        r = db.execute("select doc from users where tenant='t' and id=?", (uid,)).fetchone()
        if r:
            d = orjson.loads(r[0])
            for op in ops:
                if op["op"].lower() == "replace":
                    if op.get("path"): d[op["path"]] = op["value"]
                    else: d.update(op["value"])
            doc = orjson.dumps(d); db.execute("update users set doc=? where tenant='t' and id=?", (doc, uid))
            status, payload = 200, out(doc, uid)
        db.execute("commit")
    elif path.startswith("/v2/Users/") and method == "DELETE":
        uid = path[10:]
        db.execute("begin immediate")
        n = db.execute("delete from users where tenant='t' and id=?", (uid,)).rowcount
        db.execute("delete from members where uid=?", (uid,))
        db.execute("commit")
        if n: status, payload = 204, None
    elif path == "/v2/Groups" and method == "POST":
        gid = uuid.uuid4().hex; d = orjson.loads(body); d.pop("members", None); doc = orjson.dumps(d)
        db.execute("insert into groups values(?,?,?)", (gid, "t", doc)); status, payload = 201, out(doc, gid, "Group")
    elif path.startswith("/v2/Groups/") and method == "PATCH":
        gid = path[11:]; ops = orjson.loads(body)["Operations"]
        db.execute("begin immediate")
        if db.execute("select 1 from groups where tenant='t' and id=?", (gid,)).fetchone():
            for op in ops:
                kind, p = op["op"].lower(), op.get("path") or ""
                if kind == "add" and p == "members":
                    db.executemany("insert or ignore into members values(?,?)", [(gid, v["value"]) for v in op["value"]])
                elif kind == "remove" and p == "members":
                    db.executemany("delete from members where gid=? and uid=?", [(gid, v["value"]) for v in op["value"]])
                elif kind == "remove" and (m := MEMBER_EQ.fullmatch(p)):
                    db.execute("delete from members where gid=? and uid=?", (gid, m.group(1)))
            status, payload = 204, None
        db.execute("commit")
    elif path.startswith("/v2/Groups/") and method == "GET":
        gid = path[11:]; r = db.execute("select doc from groups where tenant='t' and id=?", (gid,)).fetchone()
        if r:
            d = out(r[0], gid, "Group")
            if b"excludedAttributes=members" not in scope["query_string"]:
                d["members"] = [{"value": u} for (u,) in db.execute("select uid from members where gid=?", (gid,))]
            status, payload = 200, d
    elif path.startswith("/v2/Groups/") and method == "DELETE":
        gid = path[11:]
        db.execute("begin immediate"); db.execute("delete from members where gid=?", (gid,))
        n = db.execute("delete from groups where tenant='t' and id=?", (gid,)).rowcount; db.execute("commit")
        if n: status, payload = 204, None
    elif path == "/v2/ServiceProviderConfig":
        status, payload = 200, {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], "patch": {"supported": True}}
    b = b"" if payload is None else orjson.dumps(payload)
    headers = [(b"content-type", b"application/scim+json")]
    if status != 204: headers.append((b"content-length", str(len(b)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b})
