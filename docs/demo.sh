# Shell helpers for the examples in README.md and docs/*.md: `. docs/demo.sh` from the repository's root
# after `make run`. They need only bash, curl and python3.

# Where `make run` serves the API (NUANXIN_BIND, default 127.0.0.1:8000).
BASE=http://${NUANXIN_BIND:-127.0.0.1:8000}
API=$BASE/api/v1

# password NAME: a demo person's password, as `make run` printed it (kept in var/demo-logins.txt).
password() { grep "^$1 " "${NUANXIN_DATA_DIR:-var}/demo-logins.txt" | cut -d' ' -f2; }

# login NAME: sign in as a demo person and print the access token.
login() {
  curl -s $API/auth/token -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$(password "$1")\"}" | field access_token
}

# field NAME: one field of the JSON answer read from stdin (e.g. `... | field id`); nothing for null.
field() { python3 -c 'import json, sys; v = json.load(sys.stdin)[sys.argv[1]]; print("" if v is None else v)' "$1"; }

# pick NAME: the id of the entry called NAME (its name, title, Chinese or English title, or display name) in the list answer read from
# stdin, e.g. `curl -s $API/grids -H "$AUTH" | pick 第7微网格`; entries' `children` are searched too.
pick() {
  python3 -c '
import json, sys
def walk(items):
    for item in items:
        yield item
        yield from walk(item.get("children") or [])
answer = json.load(sys.stdin)
found = [i for i in walk(answer["items"] if isinstance(answer, dict) else answer)
         if sys.argv[1] in (i.get("name"), i.get("title"), i.get("title_zh"), i.get("title_en"), i.get("display_name"))]
if not found:
    sys.exit("nothing called " + sys.argv[1])
print(found[0].get("id", found[0].get("volunteer_id", found[0].get("user_id"))))' "$1"
}
